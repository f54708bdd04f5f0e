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
"""`jepa-agent train`: train a JEPA world model from rosbag2 bags into a run directory.

One process by default; under `torchrun --nproc_per_node=N` (or python -m torch.distributed.run)
the same command runs DDP: gloo on CPU, nccl on CUDA; rank 0 writes the run directory.

--config YAML holds a `train:` section (TrainConfig fields) and/or a `model:` section
(ModelConfig fields); a file with neither is read as TrainConfig fields at the top level.
"""

import argparse
import datetime
import os
import pathlib
import sys

import torch
import torch.distributed as dist
import yaml

from world_model.config import ConfigError, from_dict
from world_model.models.jepa import CHECKPOINT_FILE, build_model, load_model_config
from world_model.models.model_config import ModelConfig
from world_model.training.collapse import CollapseError
from world_model.training.dataset import frame_arrays, split_episodes
from world_model.training.train_config import TrainConfig
from world_model.training.trainer import DistContext, Trainer, load_train_config

FINGERPRINT_FILE = 'data_fingerprint.txt'


def add_arguments(parser: argparse.ArgumentParser):
    parser.add_argument('--data', nargs='+', required=True, metavar='BAG',
                        help='rosbag2 directories (MCAP or sqlite3) to train on')
    parser.add_argument('--out', required=True, metavar='RUN_DIR',
                        help='run directory for configs, checkpoint and metrics.csv')
    parser.add_argument('--config', metavar='YAML',
                        help='YAML with train: (TrainConfig) and/or model: (ModelConfig)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in RUN_DIR from its checkpoint')
    parser.add_argument('--epochs', type=int, help='total epochs (overrides the config)')
    parser.add_argument('--device', default='auto', choices=('auto', 'cpu', 'cuda'),
                        help='auto: CUDA when available, else CPU')
    parser.add_argument('--seed', type=int, help='seed of split, init and sampling')


def load_configs(path) -> tuple[ModelConfig, TrainConfig]:
    """(ModelConfig, TrainConfig) from a YAML file (sections model: / train:)."""
    with open(path, encoding='utf-8') as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: expected a mapping with model: and/or train: sections')
    if 'model' in data or 'train' in data:
        unknown = sorted(set(data) - {'model', 'train'})
        if unknown:
            raise ConfigError(f'{path}: unknown section(s) {unknown}; allowed: model, train')
        return (from_dict(ModelConfig, data.get('model'), where=f'{path}: model.'),
                from_dict(TrainConfig, data.get('train'), where=f'{path}: train.'))
    return ModelConfig(), from_dict(TrainConfig, data, where=f'{path}: ')


def _configs(args) -> tuple[ModelConfig, TrainConfig]:
    run_dir = pathlib.Path(args.out)
    if args.resume:
        model_cfg, train_cfg = load_model_config(run_dir), load_train_config(run_dir)
    else:
        if (run_dir / CHECKPOINT_FILE).exists():
            raise FileExistsError(f'{run_dir} already holds a checkpoint: pass --resume to '
                                  f'continue it or choose a new --out')
        model_cfg, train_cfg = (load_configs(args.config) if args.config
                                else (ModelConfig(), TrainConfig()))
    overrides = {}
    if args.epochs is not None:
        overrides['epochs'] = args.epochs
    if args.seed is not None and not args.resume:
        overrides['seed'] = args.seed
    if overrides:
        merged = {**train_cfg.__dict__, **overrides}
        train_cfg = from_dict(TrainConfig, merged, where='command line: --')
    return model_cfg, train_cfg


def _device(choice: str, ctx: DistContext) -> str:
    if choice == 'cuda' and not torch.cuda.is_available():
        raise ConfigError("--device cuda requested but torch sees no CUDA device; use 'cpu'")
    if choice == 'cpu' or not torch.cuda.is_available():
        return 'cpu'
    return f'cuda:{ctx.local_rank}'


def _init_distributed(device_choice: str) -> DistContext:
    world = int(os.environ.get('WORLD_SIZE', '1'))
    if world <= 1:
        return DistContext()
    ctx = DistContext(int(os.environ['RANK']), world, int(os.environ.get('LOCAL_RANK', '0')))
    use_cuda = device_choice != 'cpu' and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(ctx.local_rank)
    dist.init_process_group('nccl' if use_cuda else 'gloo',
                            timeout=datetime.timedelta(minutes=30))
    return ctx


def read_episodes(paths, image_size: int) -> list:
    from world_model.data.bag_reader import read_bag  # rosbags is only needed here

    episodes = []
    for path in paths:
        episodes.extend(read_bag(path, image_size=(image_size, image_size)))
    return episodes


def _write_fingerprint(run_dir: pathlib.Path, paths, n_train: int, n_val: int, seed: int):
    try:
        from world_model.data.bag_reader import bag_fingerprint
        digest = bag_fingerprint(paths)
    except (ImportError, AttributeError):
        digest = 'unavailable'
    lines = [f'sha256 {digest}', *(f'bag {pathlib.Path(p).resolve()}' for p in paths),
             f'episodes train {n_train} val {n_val} split_seed {seed}']
    (run_dir / FINGERPRINT_FILE).write_text('\n'.join(lines) + '\n')


def run(args) -> int:
    ctx = DistContext()
    try:
        ctx = _init_distributed(args.device)
        model_cfg, train_cfg = _configs(args)
        device = _device(args.device, ctx)
        threads = train_cfg.threads or max(1, (os.cpu_count() or 1) // ctx.world_size)
        torch.set_num_threads(threads)
        episodes = read_episodes(args.data, model_cfg.image_size)
        train_eps, val_eps = split_episodes(episodes, train_cfg.val_fraction, train_cfg.seed)
        train = frame_arrays(train_eps, model_cfg.image_size)
        val = frame_arrays(val_eps, model_cfg.image_size) if val_eps else None
        if ctx.is_main:
            print(f'{len(episodes)} episodes ({len(train)} train frames in {len(train_eps)} '
                  f'episodes, {0 if val is None else len(val)} validation frames in '
                  f'{len(val_eps)} episodes)', flush=True)
        torch.manual_seed(train_cfg.seed)
        model = build_model(model_cfg).to(device)
        run_dir = pathlib.Path(args.out)
        trainer = Trainer(model, train_cfg, train, val, run_dir, device, ctx,
                          log=lambda msg: print(msg, flush=True))
        if args.resume:
            trainer.resume()
            if ctx.is_main:
                print(f'resuming {run_dir} after epoch {trainer.epoch} (step {trainer.step})',
                      flush=True)
        elif ctx.is_main:
            run_dir.mkdir(parents=True, exist_ok=True)
        if ctx.is_main:
            _write_fingerprint(run_dir, args.data, len(train_eps), len(val_eps),
                               train_cfg.seed)
        trainer.fit()
        if ctx.is_main:
            print(f'trained {run_dir} in {trainer.elapsed:.0f} s', flush=True)
        return 0
    except (ConfigError, FileNotFoundError, FileExistsError, ValueError, CollapseError,
            FloatingPointError) as exc:
        print(f'jepa-agent train: error: {exc}', file=sys.stderr, flush=True)
        return 1
    finally:
        if ctx.active and dist.is_initialized():
            try:
                dist.barrier()  # no rank tears the group down while another still uses it
            finally:
                dist.destroy_process_group()
