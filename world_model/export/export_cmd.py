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
"""`jepa-agent export --run RUN_DIR --out MODEL_DIR [--int8] [--parity-data BAG]`.

Writes encoder.onnx, predictor.onnx, relpose.onnx (and *.int8.onnx with --int8), model_config.json
and manifest.json into MODEL_DIR. The directory only appears once every check passed: FP32
parity with torch on real frames, then a load through the verified runtime.
"""

import json
import os
import pathlib
import shutil
import sys
import time

from world_model.export import manifest as mf
from world_model.export import metadata as meta
from world_model.export.onnx_export import (
    PARITY_TOLERANCE,
    ExportError,
    export_model,
    max_error,
    parity_inputs_from_episodes,
)

PARITY_FRAMES = 32
SIM_PARITY_SEED = 987_654  # a seed no training default uses: frames the model has not seen


def add_arguments(parser):
    parser.add_argument('--run', required=True, metavar='RUN_DIR',
                        help='training run directory (model_config.json, '
                             'checkpoint.safetensors)')
    parser.add_argument('--out', required=True, metavar='MODEL_DIR',
                        help='model directory to write (replaced if it holds an exported model)')
    parser.add_argument('--int8', action='store_true',
                        help='also write dynamically quantised encoder/predictor (*.int8.onnx)')
    parser.add_argument('--parity-data', metavar='BAG', default=None,
                        help='held-out rosbag2 bag for the torch/ONNX parity check (default: '
                             'fresh simulator frames)')


def parity_inputs(image_size: int, parity_data=None):
    """Real frames for the parity check: from the bag if given, else from the simulator."""
    if parity_data is not None:
        from world_model.data.bag_reader import read_bag

        episodes = read_bag(parity_data, image_size=(image_size, image_size))
        return parity_inputs_from_episodes(episodes, image_size, PARITY_FRAMES,
                                           source=f'bag {parity_data}')
    try:
        from world_model.envs import SimConfig, generate_episodes
    except ImportError as exc:
        raise ExportError(f'no --parity-data BAG given and the simulator is unavailable ({exc}); '
                          f'pass a held-out bag with --parity-data') from exc
    config = SimConfig(image_width=image_size, image_height=image_size)
    episodes = generate_episodes(1, PARITY_FRAMES, seed=SIM_PARITY_SEED, sim_config=config)
    return parity_inputs_from_episodes(episodes, image_size, PARITY_FRAMES,
                                       source=f'simulator seed {SIM_PARITY_SEED}')


def replaceable(out_dir: pathlib.Path) -> bool:
    if not out_dir.exists():
        return True
    return out_dir.is_dir() and (not any(out_dir.iterdir())
                                 or (out_dir / mf.MANIFEST_NAME).is_file())


def swap_into_place(staging: pathlib.Path, out_dir: pathlib.Path):
    old = out_dir.with_name(f'.{out_dir.name}.old-{os.getpid()}')
    if out_dir.exists():
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def export_run(run_dir, out_dir, parity_data=None, int8: bool = False, log=print,
               tolerance: float = PARITY_TOLERANCE) -> dict:
    """Export RUN_DIR into MODEL_DIR; returns the export report (also stored in the manifest).

    Raises ExportError (and leaves MODEL_DIR untouched) when FP32 parity exceeds tolerance.
    """
    from world_model.models.jepa import MODEL_CONFIG_FILE, load_model
    from world_model.runtime.onnx_world_model import OnnxWorldModel

    run_dir, out_dir = pathlib.Path(run_dir), pathlib.Path(out_dir)
    if not replaceable(out_dir):
        raise ExportError(f'{out_dir} exists and is not an exported model directory (no '
                          f'{mf.MANIFEST_NAME}); refusing to overwrite it, choose another --out')
    model = load_model(run_dir)
    cfg = model.config
    log(f'[1/4] loaded {run_dir} (image {cfg.image_size}px, latent {cfg.latent_dim}, history '
        f'{cfg.history_length})')
    metadata = meta.build_metadata(cfg, meta.data_fingerprint(run_dir),
                                   settings=meta.data_settings(run_dir),
                                   topics=meta.training_topics(run_dir))
    parity = parity_inputs(cfg.image_size, parity_data)
    log(f'[2/4] parity inputs: {len(parity.images)} frames from {parity.source}')
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f'.{out_dir.name}.partial-{os.getpid()}')
    shutil.rmtree(staging, ignore_errors=True)
    try:
        report = export_model(model, staging, metadata, parity, int8=int8, tolerance=tolerance)
        for name in report['parity']:
            log(f'[3/4] {name}: max abs error vs torch {max_error(report, name):.3g}')
        shutil.copyfile(run_dir / MODEL_CONFIG_FILE, staging / MODEL_CONFIG_FILE)
        mf.write_manifest(staging, extra={'export': report, 'run_dir': str(run_dir.resolve()),
                                          'git_commit': metadata['git_commit'],
                                          'data_fingerprint': metadata['data_fingerprint'],
                                          'data_settings': metadata.get('data_settings'),
                                          'training_topics': metadata.get('training_topics')})
        # the shipped directory must load through the same checks the robot applies
        wm = OnnxWorldModel(staging, providers=('cpu',), threads=1, int8=int8, warmup=False)
        log(f'[4/4] verified through the runtime ({", ".join(wm.providers_in_use)})')
        swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def run(args) -> int:
    start = time.monotonic()
    try:
        report = export_run(args.run, args.out, args.parity_data, args.int8)
    except (ExportError, FileNotFoundError, ValueError, mf.ModelIntegrityError) as exc:
        print(f'jepa-agent export: {exc}', file=sys.stderr)
        return 1
    summary = {name: max_error(report, name) for name in report['parity']}
    print(json.dumps({'model_dir': str(args.out), 'max_abs_error': summary,
                      'seconds': round(time.monotonic() - start, 1)}, indent=2))
    return 0
