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
"""`jepa-agent refit-relpose --model MODEL_DIR --data BAG [BAG ...] --out MODEL_DIR`.

Refits the relative-pose head of an exported model on the latents its own encoder gives the
bags' frames (encoder and predictor files unchanged, byte for byte); optionally with look-alike
pairs among those it is fitted on (--lookalike-fraction) and at another hidden width (--width).
Whole episodes are held out and both heads, the model's and the refit one, are scored on the
same held-out pairs; a refit that scores worse on every measure (position error, sideways
error, look-alike pairs it is sure of and wrong on, sideways error where the robot ends near
its goal) is refused unless --allow-worse, and one worse on any is reported. The new
relpose.onnx (and relpose.int8.onnx when the model ships INT8 files) is checked against torch,
the manifest records the refit (`relpose_refit`), and MODEL_DIR only changes once the result
loads through the verified runtime.
"""

import json
import os
import pathlib
import shutil
import sys
import time

import numpy as np

from world_model.data.relpose_pairs import SIDEWAYS_BOOST
from world_model.export import manifest as mf
from world_model.export import metadata as meta

ENCODE_BATCH = 256


def add_arguments(parser):
    parser.add_argument('--model', required=True, metavar='MODEL_DIR',
                        help='exported model directory whose head is refit')
    parser.add_argument('--data', required=True, nargs='+', metavar='BAG',
                        help='rosbag2 bags of the robot (odometry + camera)')
    parser.add_argument('--out', required=True, metavar='MODEL_DIR',
                        help='model directory to write (may be --model itself)')
    parser.add_argument('--epochs', type=int, default=10, help='passes over the pairs (10)')
    parser.add_argument('--sideways-boost', type=float, default=SIDEWAYS_BOOST,
                        help='keep pairs of views side by side at a similar heading this many '
                             f'times more often (1 = the plain draw; default {SIDEWAYS_BOOST:g})')
    parser.add_argument('--lookalike-fraction', type=float, default=0.0,
                        help='share of look-alike pairs (far apart, near in latent space) in '
                             'the fit (default 0: none; BENCHMARKS.md, "look-alike goal views")')
    parser.add_argument('--width', type=int, default=None,
                        help="hidden width of the refit head (default: the model's probe_width)")
    parser.add_argument('--val-fraction', type=float, default=0.1,
                        help='fraction of whole episodes held out to score the heads (0.1)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--allow-worse', action='store_true',
                        help='write the refit head even when it scores worse held out')


def _check_args(args):
    if args.epochs < 1:
        raise ValueError(f'--epochs must be >= 1 (got {args.epochs})')
    if not 1.0 <= args.sideways_boost <= 1000.0:
        raise ValueError(f'--sideways-boost must be in [1, 1000] (got {args.sideways_boost:g})')
    if not 0.0 <= args.lookalike_fraction < 1.0:
        raise ValueError(f'--lookalike-fraction must be in [0, 1) (got '
                         f'{args.lookalike_fraction:g})')
    if args.width is not None and not 8 <= args.width <= 4096:
        raise ValueError(f'--width must be in [8, 4096] (got {args.width})')
    if not 0.0 < args.val_fraction < 1.0:
        raise ValueError(f'--val-fraction must be in (0, 1) (got {args.val_fraction:g})')


def _latents(model, episodes):
    from world_model.training.dataset import frame_arrays
    from world_model.training.relpose_refit import Latents

    frames = frame_arrays(episodes, model.input_height)
    z = np.concatenate([model.encode(frames.images[i:i + ENCODE_BATCH])
                        for i in range(0, len(frames), ENCODE_BATCH)])
    return Latents(z, frames.odom_pose.astype(np.float64), frames.starts, frames.ends)


def refit(model_dir, data, out_dir, epochs: int = 10, sideways_boost: float = SIDEWAYS_BOOST,
          val_fraction: float = 0.1, seed: int = 0, allow_worse: bool = False,
          log=print, lookalike_fraction: float = 0.0, width: int | None = None) -> dict:
    """Refit MODEL_DIR's head into OUT_DIR; returns the `relpose_refit` manifest entry.

    Raises ValueError (OUT_DIR untouched) when the refit scores worse on every held-out
    measure and not allow_worse.
    """
    from world_model.export.export_cmd import replaceable, swap_into_place
    from world_model.export.onnx_export import export_relpose_head
    from world_model.models.model_config import ModelConfig
    from world_model.runtime.onnx_world_model import OnnxWorldModel
    from world_model.training.dataset import split_episodes
    from world_model.training.relpose_refit import fit_relpose_head, heldout_errors, torch_relpose
    from world_model.training.train_cmd import read_episodes

    model_dir, out_dir = pathlib.Path(model_dir), pathlib.Path(out_dir)
    if not replaceable(out_dir):
        raise ValueError(f'{out_dir} exists and is not an exported model directory (no '
                         f'{mf.MANIFEST_NAME}); refusing to overwrite it, choose another --out')
    manifest = mf.load_manifest(model_dir)
    int8 = meta.INT8_FILES['relpose'] in manifest['files']
    model = OnnxWorldModel(model_dir, providers=('cpu',), threads=os.cpu_count() or 1,
                           warmup=False)
    period = model.metadata.get('control_period')
    episodes = read_episodes(data, model.input_height, period, log)
    train_eps, val_eps = split_episodes(episodes, val_fraction, seed)
    train, val = _latents(model, train_eps), _latents(model, val_eps)
    log(f'[1/4] encoded {len(train)} frames of {len(train_eps)} episodes to fit, {len(val)} of '
        f'{len(val_eps)} held out')
    started = time.monotonic()
    cfg = ModelConfig(**model.metadata['model_config'])
    width = cfg.probe_width if width is None else width
    head = fit_relpose_head(cfg, train, epochs, sideways_boost, seed=seed,
                            lookalike_fraction=lookalike_fraction, width=width)
    before = heldout_errors(model.relative_pose, val)
    after = heldout_errors(torch_relpose(head), val)
    log(f'[2/4] fitted in {time.monotonic() - started:.0f} s; held out: before {before}, '
        f'after {after}')
    measures = [k for k in ('position_error_median_m', 'sideways_error_median_m',
                            'lookalike_misleading', 'homing_sideways_error_median_m')
                if k in before]
    worse = [k for k in measures if after.get(k, float('inf')) > before[k]]
    for key in worse:
        log(f'warning: the refit head is worse held out on {key}: {after.get(key)} against '
            f'{before[key]}')
    if worse and len(worse) == len(measures) and not allow_worse:
        raise ValueError(f'the refit head scores worse held out on every measure '
                         f'({", ".join(worse)}); {out_dir} left as it was (--allow-worse '
                         f'writes it anyway)')
    entry = {'data': [str(pathlib.Path(p).name) for p in data], 'episodes_fit': len(train_eps),
             'episodes_held_out': len(val_eps), 'frames_fit': len(train), 'epochs': epochs,
             'sideways_boost': sideways_boost, 'lookalike_fraction': lookalike_fraction,
             'width': width, 'seed': seed, 'held_out_before': before,
             'held_out_after': after}
    staging = out_dir.with_name(f'.{out_dir.name}.partial-{os.getpid()}')
    shutil.rmtree(staging, ignore_errors=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.mkdir()
        for name in manifest['files']:  # the model's files; the rest (a report) after hashing
            shutil.copy2(model_dir / name, staging / name)
        parity = export_relpose_head(head, staging, model.metadata, val.z[:64], int8=int8)
        log(f'[3/4] relpose graph(s) written: {sorted(parity)}')
        extra = {k: v for k, v in manifest.items() if k not in ('format', 'created', 'files')}
        if isinstance(extra.get('export'), dict):
            extra['export'].setdefault('parity', {}).update(parity)
        entry['parity'] = parity
        extra['relpose_refit'] = entry
        mf.write_manifest(staging, extra)
        for path in model_dir.iterdir():
            if path.is_file() and not (staging / path.name).exists():
                shutil.copy2(path, staging / path.name)
        wm = OnnxWorldModel(staging, providers=('cpu',), threads=1, int8=int8, warmup=False)
        log(f'[4/4] verified through the runtime ({", ".join(wm.providers_in_use)})')
        swap_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return entry


def run(args) -> int:
    from world_model.export.onnx_export import ExportError

    try:
        _check_args(args)
        entry = refit(args.model, args.data, args.out, args.epochs, args.sideways_boost,
                      args.val_fraction, args.seed, args.allow_worse,
                      log=lambda msg: print(msg, flush=True),
                      lookalike_fraction=args.lookalike_fraction, width=args.width)
    except (ValueError, FileNotFoundError, mf.ModelIntegrityError, ExportError) as exc:
        print(f'jepa-agent refit-relpose: error: {exc}', file=sys.stderr, flush=True)
        return 1
    print(json.dumps({'model_dir': str(args.out), 'held_out_before': entry['held_out_before'],
                      'held_out_after': entry['held_out_after']}, indent=2))
    return 0
