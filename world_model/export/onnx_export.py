# Copyright 2026 jepa_agent developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Export a JEPAWorldModel to ONNX (encoder, predictor step, relative-pose head) and prove parity.

predictor.onnx fuses the predictor with the pose-delta and collision probes, so one onnxruntime
call per rollout step yields the next latent, the motion and the contact logit for all candidates.
Every file carries the metadata of world_model.export.metadata; the FP32 files must match torch
to PARITY_TOLERANCE on real inputs or the export fails.
"""

import dataclasses
import pathlib
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from world_model.export import metadata as meta

OPSET = 17  # LayerNormalization is native from 17; also what TensorRT 8.6 / older ORT accept
PARITY_TOLERANCE = 1e-4
FP32_FILES, INT8_FILES = meta.FP32_FILES, meta.INT8_FILES


class ExportError(RuntimeError):
    """The export cannot produce a trustworthy model (e.g. parity with torch failed)."""


class PredictorStep(nn.Module):
    """One rollout step: next latent, body-frame motion over the step, contact logit."""

    def __init__(self, model):
        super().__init__()
        self.predictor = model.predictor
        self.pose_delta_probe = model.pose_delta_probe
        self.collision_probe = model.collision_probe

    def forward(self, latent_history, proprio, action):
        next_latent = self.predictor(latent_history, proprio, action)
        pose_delta = self.pose_delta_probe(latent_history[:, -1], next_latent)
        return next_latent, pose_delta, self.collision_probe(next_latent)


@dataclasses.dataclass
class ParityInputs:
    """Real inputs for the parity check: consecutive frames with their odometry and commands."""

    images: np.ndarray  # uint8 [N, S, S, 3] at the model input size
    proprio: np.ndarray  # float32 [N, 2], odometry twist at each frame
    actions: np.ndarray  # float32 [N, 2], command after each frame
    source: str  # where the frames came from (reported)


def parity_inputs_from_episodes(episodes, image_size: int, count: int = 32,
                                source: str = 'episodes') -> ParityInputs:
    """Up to `count` consecutive frames from the middle of the longest episode."""
    from world_model.runtime.preprocess import resize_images

    episodes = [e for e in episodes if len(e) > 0]
    if not episodes:
        raise ExportError(f'no frames for the parity check in {source}')
    episode = max(episodes, key=len)
    start = max(0, (len(episode) - count) // 2)
    sl = slice(start, start + count)
    return ParityInputs(resize_images(episode.images[sl], image_size, image_size),
                        np.asarray(episode.odom_twist[sl], dtype=np.float32),
                        np.asarray(episode.actions[sl], dtype=np.float32), source)


def _io_names(role: str) -> tuple[list[str], list[str]]:
    io = meta.expected_io(role, {'input_size': [1, 1], 'latent_dim': 1, 'history_length': 1})
    return list(io['inputs']), list(io['outputs'])


def _export_graph(module: nn.Module, args: tuple, path: pathlib.Path, role: str,
                  metadata: dict):
    inputs, outputs = _io_names(role)
    with warnings.catch_warnings():
        # the TorchScript exporter is deprecated but needs no extra packages and is what the
        # parity check validates; GroupNorm's batch-size sanity check traces as a constant
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes={name: {0: meta.BATCH} for name in inputs + outputs},
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
    model = onnx.load(str(path))
    meta.embed(model, metadata, role, 'fp32')
    model.doc_string = f'jepa_agent {role}'
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _quantize(src: pathlib.Path, dst: pathlib.Path, role: str, metadata: dict):
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = dst.with_name(dst.name + '.prep')
    try:
        quant_pre_process(str(src), str(prepared))  # shape inference + fusions first
        # weights int8, activations quantised on the fly; Conv stays FP32 (ConvInteger is slow
        # on the CPU provider and unsupported on others), MatMul/Gemm carry the predictor's cost
        quantize_dynamic(str(prepared), str(dst), weight_type=QuantType.QInt8,
                         op_types_to_quantize=['MatMul', 'Gemm'])
    finally:
        prepared.unlink(missing_ok=True)
    model = onnx.load(str(dst))
    meta.embed(model, metadata, role, 'int8')
    onnx.save(model, str(dst))


def _history(latents: np.ndarray, length: int) -> np.ndarray:
    """[N, D] consecutive latents -> [N, length, D] windows ending at each frame (edge-padded)."""
    idx = np.arange(len(latents))[:, None] + np.arange(1 - length, 1)[None, :]
    return latents[np.clip(idx, 0, None)]


def torch_reference(model, parity: ParityInputs) -> dict:
    """Inputs and torch outputs of each graph on the parity frames."""
    with torch.no_grad():
        latent = model.encoder(torch.from_numpy(parity.images)).numpy()
        hist = _history(latent, model.config.history_length).astype(np.float32)
        step = PredictorStep(model)(torch.from_numpy(hist), torch.from_numpy(parity.proprio),
                                    torch.from_numpy(parity.actions))
    return {
        'encoder': ({'images': parity.images}, {'latent': latent}),
        'predictor': ({'latent_history': hist, 'proprio': parity.proprio,
                       'action': parity.actions},
                      {'next_latent': step[0].numpy(), 'pose_delta': step[1].numpy(),
                       'collision_logit': step[2].numpy()}),
        'relpose': relpose_reference(model.relpose_head, latent),
    }


def relpose_reference(head, latent: np.ndarray) -> tuple[dict, dict]:
    """Feeds and torch outputs of the relative-pose graph: each view against the one three
    frames later (pairs of different frames)."""
    latent_b = np.roll(latent, -3, axis=0)
    with torch.no_grad():
        relpose, log_std = (t.numpy() for t in head(torch.from_numpy(latent),
                                                    torch.from_numpy(latent_b)))
    return ({'latent_a': latent, 'latent_b': latent_b},
            {'relpose': relpose, 'relpose_log_std': log_std})


def onnx_errors(path: pathlib.Path, feeds: dict, expected: dict) -> dict:
    """Max abs error of each output of the ONNX file at path vs the torch reference."""
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    names = list(expected)
    got = session.run(names, feeds)
    errors = {}
    for name, value in zip(names, got):
        errors[name] = {'max_abs_error': float(np.max(np.abs(value - expected[name]))),
                        'reference_max_abs': float(np.max(np.abs(expected[name])))}
    return errors


def export_model(model, out_dir, metadata: dict, parity: ParityInputs, int8: bool = False,
                 tolerance: float = PARITY_TOLERANCE) -> dict:
    """Write the ONNX files of model into out_dir and check them against torch.

    Returns {'parity': {file: {output: errors}}, 'source': ..., 'frames': N}. Raises ExportError
    when an FP32 output differs from torch by more than tolerance (INT8 errors are reported only).
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval().float().cpu()
    cfg = model.config
    size, dim, hh = cfg.image_size, cfg.latent_dim, cfg.history_length
    if parity.images.shape[1:] != (size, size, 3):
        raise ExportError(f'parity images have shape {parity.images.shape[1:]}, the model '
                          f'expects ({size}, {size}, 3)')
    gen = torch.Generator().manual_seed(0)
    examples = {
        'encoder': (model.encoder, (torch.randint(0, 256, (2, size, size, 3), generator=gen,
                                                  dtype=torch.uint8),)),
        'predictor': (PredictorStep(model), (torch.randn(2, hh, dim, generator=gen),
                                             torch.randn(2, 2, generator=gen),
                                             torch.randn(2, 2, generator=gen))),
        'relpose': (model.relpose_head, (torch.randn(2, dim, generator=gen),
                                         torch.randn(2, dim, generator=gen))),
    }
    with torch.no_grad():
        for role, (module, args) in examples.items():
            _export_graph(module, args, out_dir / FP32_FILES[role], role, metadata)
    reference = torch_reference(model, parity)
    report = {'source': parity.source, 'frames': int(len(parity.images)),
              'tolerance': tolerance, 'parity': {}}
    failures = []
    for role, name in FP32_FILES.items():
        errors = onnx_errors(out_dir / name, *reference[role])
        report['parity'][name] = errors
        failures += [f'{name}:{output} {e["max_abs_error"]:.3g}' for output, e in errors.items()
                     if not e['max_abs_error'] <= tolerance]
    if failures:
        raise ExportError(f'FP32 parity with torch failed (tolerance {tolerance:g}): '
                          f'{", ".join(failures)}')
    if int8:
        for role, name in INT8_FILES.items():
            _quantize(out_dir / FP32_FILES[role], out_dir / name, role, metadata)
            report['parity'][name] = onnx_errors(out_dir / name, *reference[role])
    return report


def max_error(report: dict, name: str) -> float:
    return max(e['max_abs_error'] for e in report['parity'][name].values())


def export_relpose_head(head, out_dir, metadata: dict, latents: np.ndarray, int8: bool = False,
                        tolerance: float = PARITY_TOLERANCE) -> dict:
    """Write relpose.onnx (and relpose.int8.onnx) of a refit head into out_dir, checked
    against torch on real latents [N, D]; returns {file: {output: errors}}.

    Raises ExportError when the FP32 graph differs from torch by more than tolerance.
    """
    out_dir = pathlib.Path(out_dir)
    head = head.eval().float().cpu()
    dim = latents.shape[1]
    gen = torch.Generator().manual_seed(0)
    fp32, quantised = FP32_FILES['relpose'], INT8_FILES['relpose']
    with torch.no_grad():
        _export_graph(head, (torch.randn(2, dim, generator=gen),
                             torch.randn(2, dim, generator=gen)), out_dir / fp32, 'relpose',
                      metadata)
    reference = relpose_reference(head, np.ascontiguousarray(latents, np.float32))
    parity = {fp32: onnx_errors(out_dir / fp32, *reference)}
    worst = max(e['max_abs_error'] for e in parity[fp32].values())
    if not worst <= tolerance:
        raise ExportError(f'FP32 parity with torch failed (tolerance {tolerance:g}): {fp32} '
                          f'{worst:.3g}')
    if int8:
        _quantize(out_dir / fp32, out_dir / quantised, 'relpose', metadata)
        parity[quantised] = onnx_errors(out_dir / quantised, *reference)
    return parity
