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
"""Compare training variants (anti-collapse terms, latent sizes) at the same budget.

Generates seeded simulator episodes (open / two_rooms, with and without distractors), trains
each variant for the same number of epochs on the same split, and evaluates every model on
episodes of a NEW seed: latent_error_ratio@1/@8 vs copy-last, effective rank, relative-pose
head errors, latent/pose rank correlation. Prints a markdown table (and writes JSON with --json).

  .venv/bin/python scripts/compare_anti_collapse.py --episodes 80 --epochs 6 --threads 1 \
      --variant sigreg_0.02:anti_collapse=sigreg,sigreg_weight=0.02 \
      --variant sigreg_0.1:anti_collapse=sigreg,sigreg_weight=0.1 \
      --variant vicreg_idm:anti_collapse=vicreg_idm --variant ema:anti_collapse=ema \
      --variant d256:anti_collapse=sigreg,sigreg_weight=0.02,model.latent_dim=256
Variant syntax: NAME:key=value,key=value (TrainConfig keys; model.KEY for ModelConfig keys).
"""

import argparse
import dataclasses
import json
import pathlib
import sys
import tempfile
import time

import torch
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model.config import from_dict  # noqa: E402
from world_model.envs.exploration import generate_episodes  # noqa: E402
from world_model.envs.sim_config import SimConfig  # noqa: E402
from world_model.models import ModelConfig, build_model  # noqa: E402
from world_model.training.dataset import frame_arrays, split_episodes  # noqa: E402
from world_model.training.train_config import TrainConfig  # noqa: E402
from world_model.training.trainer import Trainer  # noqa: E402
from world_model.training.validation import validate  # noqa: E402

SETTINGS = (('open', False), ('two_rooms', False), ('open', True), ('two_rooms', True))
COLUMNS = ('latent_error_ratio_at_1', 'latent_error_ratio_at_8', 'effective_rank',
           'embedding_std', 'relpose_position_error_median',
           'relpose_heading_error_median_deg', 'latent_pose_spearman')


def episodes(n: int, seed: int, steps: int) -> list:
    out = []
    for i, (layout, distractors) in enumerate(SETTINGS):
        out += generate_episodes(n // len(SETTINGS), steps, seed=seed * 10 + i, layout=layout,
                                 sim_config=SimConfig(distractors=distractors))
    return out


def parse_variant(text: str) -> tuple[str, dict, dict]:
    name, _, spec = text.partition(':')
    train, model = {}, {}
    for item in filter(None, spec.split(',')):
        key, _, value = item.partition('=')
        value = yaml.safe_load(value)
        if key.startswith('model.'):
            model[key[len('model.'):]] = value
        else:
            train[key] = value
    return name, train, model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--variant', action='append', required=True)
    parser.add_argument('--episodes', type=int, default=80)
    parser.add_argument('--test-episodes', type=int, default=16)
    parser.add_argument('--steps', type=int, default=200)
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--seed', type=int, default=1, help='seed of the training episodes')
    parser.add_argument('--test-seed', type=int, default=99,
                        help='seed of the evaluation episodes (must differ from --seed)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--base', default='warmup_steps=50,probe_refit_epochs=0',
                        help='settings shared by every variant (same syntax, no NAME:)')
    parser.add_argument('--json', help='write the results here')
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = episodes(args.episodes, args.seed, args.steps)
    test = episodes(args.test_episodes, args.test_seed, args.steps)
    _, base_train, base_model = parse_variant('base:' + args.base)
    results = {}
    for text in args.variant:
        name, train, model = parse_variant(text)
        model_cfg = from_dict(ModelConfig, {**base_model, **model})
        train_cfg = from_dict(TrainConfig, {**base_train, **train, 'epochs': args.epochs})
        tr, va = split_episodes(data, train_cfg.val_fraction, train_cfg.seed)
        torch.manual_seed(train_cfg.seed)
        net = build_model(model_cfg)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as run_dir:
            Trainer(net, train_cfg, frame_arrays(tr, model_cfg.image_size),
                    frame_arrays(va, model_cfg.image_size), run_dir,
                    log=lambda msg: print(msg, file=sys.stderr)).fit()
        metrics = validate(net, frame_arrays(test, model_cfg.image_size), 8)
        metrics['train_seconds'] = time.perf_counter() - started
        results[name] = {'train': dataclasses.asdict(train_cfg), 'metrics': metrics}
        print(name, json.dumps({k: round(v, 4) for k, v in metrics.items()}), flush=True)
    print('| variant | ' + ' | '.join(COLUMNS) + ' |')
    print('|' + ' --- |' * (len(COLUMNS) + 1))
    for name, res in results.items():
        print(f'| {name} | ' + ' | '.join(f'{res["metrics"][c]:.3f}' for c in COLUMNS) + ' |')
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
