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
"""Benchmark the world model: torch eager vs ORT FP32 vs ORT INT8, rollouts, planning cycles.

    python scripts/bench_models.py [--run RUN_DIR] [--threads 2] [--budget 1.5]

Without --run it benchmarks a randomly initialised model of the default ModelConfig (latency
does not depend on the weights). All timings are medians at the given thread count.
"""

import argparse
import os
import pathlib
import platform
import shlex
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
# torch's OpenMP workers must not busy-wait either (set before torch loads), or on a shared
# 2-core machine the eager baseline measures contention instead of compute
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from bench_common import machine  # noqa: E402  (scripts/ is on sys.path)
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

from world_model.export import metadata as meta  # noqa: E402
from world_model.export.export_cmd import parity_inputs  # noqa: E402
from world_model.export.manifest import write_manifest  # noqa: E402
from world_model.export.onnx_export import PredictorStep, export_model  # noqa: E402
from world_model.models import ModelConfig, build_model  # noqa: E402
from world_model.models.jepa import load_model  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402
from world_model.runtime.providers import session_options  # noqa: E402


def interleaved_ms(fns: dict, budget_s: float, min_runs: int = 15,
                   max_runs: int = 2000) -> dict:
    """{name: (median ms, runs)}: the variants run in turn, so a load spike on this shared
    machine hits all of them alike and the ratios stay fair."""
    for fn in fns.values():
        for _ in range(3):
            fn()
    samples = {name: [] for name in fns}
    start = time.perf_counter()
    runs = 0
    while runs < max_runs and (runs < min_runs or time.perf_counter() - start < budget_s):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
        runs += 1
    return {name: (float(np.median(v) * 1e3), len(v)) for name, v in samples.items()}


def report_group(row, title: str, results: dict, ratio: bool = True):
    base = next(iter(results.values()))[0]
    for i, (name, (ms, runs)) in enumerate(results.items()):
        note = f'x{base / ms:.2f} vs {next(iter(results))}' if ratio and i else ''
        row(f'{title}: {name}', ms, runs, note)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--run', default=None, help='training run directory (default: random '
                                                    'weights, default ModelConfig)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--budget', type=float, default=1.5,
                        help='seconds of timing per row (after warm-up)')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = load_model(args.run) if args.run else build_model(ModelConfig())
    model.eval()
    cfg = model.config
    if not args.run:  # a zero last layer would make the predictor trivially cheap to fuse
        torch.nn.init.normal_(model.predictor.out.weight, std=0.02)
    rng = np.random.default_rng(0)
    s, d, hh = cfg.image_size, cfg.latent_dim, cfg.history_length
    rows = []

    def row(what, ms, runs, note=''):
        rows.append((what, ms, runs, note))
        print(f'  {what:<80} {ms:9.3f} ms  ({runs} runs) {note}', file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = pathlib.Path(tmp) / 'model'
        export_model(model, model_dir, meta.build_metadata(cfg, 'bench', 'bench'),
                     parity_inputs(s), int8=True)
        write_manifest(model_dir)
        options = session_options(args.threads)
        sessions = {name: ort.InferenceSession(str(model_dir / name), options,
                                               providers=['CPUExecutionProvider'])
                    for name in ('encoder.onnx', 'encoder.int8.onnx', 'predictor.onnx',
                                 'predictor.int8.onnx')}
        params = model.num_parameters()
        frame = rng.integers(0, 256, (1, s, s, 3), dtype=np.uint8)
        t_frame = torch.from_numpy(frame)
        step = PredictorStep(model)
        b = 256
        hist = rng.normal(size=(b, hh, d)).astype(np.float32)
        proprio = rng.uniform(-0.5, 0.5, (b, 2)).astype(np.float32)
        action = rng.uniform(-0.5, 0.5, (b, 2)).astype(np.float32)
        feeds = {'latent_history': hist, 'proprio': proprio, 'action': action}
        t_args = tuple(torch.from_numpy(a) for a in (hist, proprio, action))

        with torch.inference_mode():
            res = interleaved_ms({
                'torch eager': lambda: model.encoder(t_frame),
                'ORT FP32': lambda: sessions['encoder.onnx'].run(None, {'images': frame}),
                'ORT INT8': lambda: sessions['encoder.int8.onnx'].run(None, {'images': frame}),
            }, args.budget)
            report_group(row, 'encoder B=1', res)
            res = interleaved_ms({
                'torch eager': lambda: step(*t_args),
                'ORT FP32': lambda: sessions['predictor.onnx'].run(None, feeds),
                'ORT INT8': lambda: sessions['predictor.int8.onnx'].run(None, feeds),
            }, args.budget)
            report_group(row, 'predictor step (+pose/collision probes) B=256', res)

        z_hist = rng.normal(size=(hh, d)).astype(np.float32)
        odom = np.array([0.2, 0.1], np.float32)
        t_hist = torch.from_numpy(np.repeat(z_hist[None], 256, axis=0))
        t_odom = torch.from_numpy(np.tile(odom, (256, 1)))
        actions = rng.uniform(-0.5, 0.5, (256, 10, 2)).astype(np.float32)
        t_actions = torch.from_numpy(actions)

        def torch_rollout():
            with torch.inference_mode():
                latents = model.rollout(t_hist, t_odom, t_actions)
                model.rollout_poses(t_hist[:, -1], latents)
                torch.sigmoid(model.collision_probe(latents.flatten(0, 1)))

        runtimes = {}
        for int8 in (False, True):
            for binding in (True, False):
                runtimes[(int8, binding)] = OnnxWorldModel(
                    model_dir, providers=('cpu',), threads=args.threads, int8=int8,
                    io_binding=binding)
        fns = {'torch eager': torch_rollout}
        for (int8, binding), wm in runtimes.items():
            name = f'OnnxWorldModel {"INT8" if int8 else "FP32"} io_binding={binding}'
            fns[name] = lambda wm=wm: wm.rollout(z_hist, odom, actions)
        report_group(row, 'rollout K=256 x H=10 (latents, poses, collision)',
                     interleaved_ms(fns, args.budget * 2))

        camera = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
        fp32, int8 = runtimes[(False, True)], runtimes[(True, True)]
        res = interleaved_ms({'FP32': lambda: fp32.encode(camera),
                              'INT8': lambda: int8.encode(camera)}, args.budget)
        report_group(row, 'encode one 640x480 camera frame (INTER_AREA resize incl.)', res)
        for k in (64, 128, 256):
            for h in (8, 10):
                acts = rng.uniform(-0.5, 0.5, (k, h, 2)).astype(np.float32)

                def cycle(wm, a=acts):
                    z = wm.encode(frame)
                    wm.rollout(np.concatenate([z_hist[1:], z]), odom, a)

                res = interleaved_ms({'FP32': lambda: cycle(fp32), 'INT8': lambda: cycle(int8)},
                                     args.budget)
                report_group(row, f'planning cycle: encode 1 frame + rollout K={k} x H={h}',
                             res, ratio=False)

        # measured alone: a spinning pool would also slow whatever runs after it in turn
        spinner = OnnxWorldModel(model_dir, providers=('cpu',), threads=args.threads,
                                 spinning=True)
        res = interleaved_ms({'OnnxWorldModel FP32, ORT spinning on': lambda: spinner.rollout(
            z_hist, odom, actions)}, args.budget)
        report_group(row, 'rollout K=256 x H=10 (latents, poses, collision)', res)

    command = shlex.join([pathlib.Path(sys.executable).name, *sys.argv])
    print(f'Machine: {machine()}; threads {args.threads}; torch {torch.__version__}, '
          f'onnxruntime {ort.__version__}, Python {platform.python_version()}')
    print(f'Command: `{command}`')
    print(f'Model: {"run " + args.run if args.run else "default ModelConfig, random weights"}; '
          f'image {s}px, latent {d}, history {hh}; parameters {params}')
    print()
    print('| what | median ms | runs | note |')
    print('| --- | ---: | ---: | --- |')
    for what, ms, runs, note in rows:
        print(f'| {what} | {ms:.3f} | {runs} | {note} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
