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

Before the first epoch the bags are inspected (world_model.data.bag_inspection): v_max,
omega_max and control_period not set in model: or by a flag are derived from the data
(training.data_settings), the frames are resampled onto the control period, and the checks of
training.data_checks print their findings (an error stops the run). The settings, their
sources and the findings go to RUN_DIR/data_settings.json; after the last epoch the
learnability verdict (evaluation.learnability) goes to RUN_DIR/learnability.json.
"""

import argparse
import datetime
import json
import os
import pathlib
import sys

import torch
import torch.distributed as dist
import yaml

from world_model.config import ConfigError, from_dict
from world_model.data.topic_arguments import add_topic_arguments, topics_from_args
from world_model.models.jepa import CHECKPOINT_FILE, build_model, load_model_config
from world_model.models.model_config import ModelConfig
from world_model.training.collapse import CollapseError
from world_model.training.data_settings import KEYS, derive_settings
from world_model.training.dataset import frame_arrays, split_episodes
from world_model.training.train_config import TrainConfig
from world_model.training.trainer import DistContext, Trainer, load_train_config

FINGERPRINT_FILE = 'data_fingerprint.txt'
SETTINGS_FILE = 'data_settings.json'
LEARNABILITY_FILE = 'learnability.json'


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
    parser.add_argument('--threads', type=int, help='torch CPU threads per process')
    parser.add_argument('--v-max', type=float, metavar='M_S',
                        help='speed scale [m/s] (default: derived from the bags)')
    parser.add_argument('--omega-max', type=float, metavar='RAD_S',
                        help='turn-rate scale [rad/s] (default: derived from the bags)')
    parser.add_argument('--control-period', type=float, metavar='S',
                        help='seconds per predictor step (default: the command period)')
    add_topic_arguments(parser)


def explicit_model_keys(path) -> set:
    """The ModelConfig keys a config file sets (those are not derived from the data)."""
    with open(path, encoding='utf-8') as f:
        data = yaml.safe_load(f) or {}
    return set((data.get('model') or {}) if isinstance(data, dict) else ())


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


def _configs(args) -> tuple[ModelConfig, TrainConfig, set]:
    """(model, train, the model keys set explicitly); a resumed run keeps all its settings."""
    run_dir = pathlib.Path(args.out)
    explicit = set(KEYS)
    if args.resume:
        model_cfg, train_cfg = load_model_config(run_dir), load_train_config(run_dir)
    else:
        explicit = explicit_model_keys(args.config) if args.config else set()
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
    if getattr(args, 'threads', None) is not None:
        overrides['threads'] = args.threads
    if overrides:
        merged = {**train_cfg.__dict__, **overrides}
        train_cfg = from_dict(TrainConfig, merged, where='command line: --')
    flags = {k: getattr(args, k) for k in KEYS if getattr(args, k, None) is not None}
    if flags and not args.resume:
        model_cfg = from_dict(ModelConfig, {**model_cfg.__dict__, **flags},
                              where='command line: --')
        explicit |= set(flags)
    return model_cfg, train_cfg, explicit


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


def read_episodes(paths, image_size: int, period_s: float | None = None,
                  log=lambda msg: None, topics=None, used: dict | None = None) -> list:
    """Episodes of all bags, frames resampled onto period_s (None: every frame).

    used: filled with the topics the reader took data from (image, odom, cmd_vel; '' cmd_vel
    when every bag's actions came from the odometry twist), for the model metadata.
    """
    # rosbags is only needed here
    from world_model.data.bag_reader import BagTopics, read_bag_with_stats

    episodes, commands = [], False
    for path in paths:
        found, stats = read_bag_with_stats(path, topics, image_size=(image_size, image_size),
                                           period_s=period_s)
        log(f'bag {path}: {stats.frames_kept} of {stats.images_read} camera frames kept '
            f'({stats.resampled_out} between control ticks, {stats.unpaired_images} without '
            f'odometry, {stats.bad_images} undecodable), {stats.episodes} episodes, actions from '
            f'{stats.action_source}, twist in the {stats.twist_frame} frame')
        episodes.extend(found)
        commands = commands or stats.action_source == 'cmd_vel'
    if used is not None:
        topics = topics or BagTopics()
        used.update(image=topics.image, odom=topics.odom,
                    cmd_vel=topics.cmd_vel if commands else '')
    return episodes


def prepare_data(paths, model_cfg: ModelConfig, explicit, log=print, topics=None):
    """Inspect the bags, derive the settings, run the checks: (model_cfg, report dict).

    Raises ValueError listing the errors when a check fails.
    """
    from world_model.data.bag_inspection import inspect_bags
    from world_model.data.bag_reader import BagTopics
    from world_model.training.data_checks import check_data, errors

    topics = topics or BagTopics()
    inspections = inspect_bags(paths, topics)
    settings = derive_settings(inspections, model_cfg, explicit)
    model_cfg = settings.apply(model_cfg)
    num_params = sum(p.numel() for p in build_model(model_cfg).parameters())
    findings = check_data(inspections, settings, topics, num_params)
    for key in KEYS:
        log(f'setting {key} = {settings.values[key]:g} ({settings.sources[key]}: '
            f'{settings.notes[key]})')
    for finding in findings:
        log(finding.line())
    failed = errors(findings)
    if failed:
        raise ValueError(f'{len(failed)} data check(s) failed:\n'
                         + '\n'.join(f.line() for f in failed))
    report = {**settings.to_dict(), 'num_params': num_params,
              'findings': [f.__dict__ for f in findings],
              'bags': [b.to_dict() for b in inspections]}
    return model_cfg, report


def _data_p99(report: dict) -> tuple[dict, float | None]:
    """({v_max, omega_max}: largest p99 over the bags' commands and odometry, standstill)."""
    out = {}
    for key, fields in (('v_max', ('cmd_speed', 'odom_speed')),
                        ('omega_max', ('cmd_turn', 'odom_turn'))):
        values = [b[f]['p99'] for b in report.get('bags', []) for f in fields if b.get(f)]
        if values:
            out[key] = max(values)
    still = [b['standstill_fraction'] for b in report.get('bags', [])
             if b.get('standstill_fraction') is not None]
    return out, (sum(still) / len(still) if still else None)


def learnability(model, frames, report: dict, train_frames: int, metrics: dict, cfg,
                 device: str, steps: int | None = None):
    """The verdict of the trained model on `frames` (held out when there are any)."""
    from world_model.evaluation.learnability import likely_causes, verdict
    from world_model.training.validation import episode_errors

    model_err, copy_err = episode_errors(model, frames, cfg.val_horizon, cfg.max_val_frames,
                                         device)
    p99, standstill = _data_p99(report)
    causes = likely_causes(report, p99, frames=train_frames,
                           num_params=report.get('num_params'),
                           effective_rank=metrics.get('val_effective_rank'),
                           standstill=standstill, epochs=cfg.epochs, steps=steps)
    return verdict(model_err, copy_err, cfg.val_horizon, causes, cfg.seed)


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
        model_cfg, train_cfg, explicit = _configs(args)
        device = _device(args.device, ctx)
        threads = train_cfg.threads or max(1, (os.cpu_count() or 1) // ctx.world_size)
        torch.set_num_threads(threads)
        log = (lambda msg: print(msg, flush=True)) if ctx.is_main else (lambda msg: None)
        topics = topics_from_args(args)
        model_cfg, report = prepare_data(args.data, model_cfg, explicit, log, topics)
        saved = pathlib.Path(args.out) / SETTINGS_FILE
        if args.resume and saved.is_file():  # where the settings first came from
            report = json.loads(saved.read_text())
        used = {}
        episodes = read_episodes(args.data, model_cfg.image_size, model_cfg.control_period,
                                 log, topics, used)
        report['training_topics'] = used
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
            if not args.resume or not (run_dir / SETTINGS_FILE).exists():
                (run_dir / SETTINGS_FILE).write_text(json.dumps(report, indent=2) + '\n')
        rows = trainer.fit()
        if ctx.is_main:
            print(f'trained {run_dir} in {trainer.elapsed:.0f} s', flush=True)
            found = learnability(model, val if val is not None else train, report, len(train),
                                 rows[-1] if rows else {}, train_cfg, device, trainer.step)
            (run_dir / LEARNABILITY_FILE).write_text(json.dumps(found.to_dict(), indent=2)
                                                     + '\n')
            print(found.line, flush=True)
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
