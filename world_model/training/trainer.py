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
"""Trainer: optimisation loop, validation, collapse check and run-directory bookkeeping.

Works in one process or under torch.distributed (DDP; gloo on CPU, nccl on CUDA): every
process trains on its DistributedSampler share, rank 0 validates and writes the run directory,
and the validation verdict (including a collapse) is broadcast so all processes stop together.
Sampling is seeded by (seed, epoch) and SIGReg by the step, so a resumed run continues exactly
as an uninterrupted one would.
"""

import collections
import csv
import dataclasses
import hashlib
import json
import math
import os
import pathlib
import time

import numpy as np
from safetensors.torch import load_file
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler
from tqdm import tqdm

from world_model.config import from_dict, to_dict
from world_model.data.relpose_pairs import sample_training_pairs
from world_model.models.jepa import CHECKPOINT_FILE, JEPAWorldModel, save_model
from world_model.training.collapse import CollapseError, raise_if_collapsed
from world_model.training.dataset import FrameArrays, WindowDataset
from world_model.training.losses import JEPAObjective, cosine_lr
from world_model.training.probe_refit import refit_probes
from world_model.training.train_config import TrainConfig
from world_model.training.validation import validate

TRAIN_CONFIG_FILE = 'train_config.json'
STATE_FILE = 'training_state.pt'
METRICS_FILE = 'metrics.csv'
WARMUP_FRACTION = 10  # warm-up is at most 1/10 of the run's steps


@dataclasses.dataclass
class DistContext:
    """This process's place in a torch.distributed job (rank 0 of 1 without one)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def broadcast(self, obj):
        """rank 0's obj on every process."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def mean(self, values: dict) -> dict:
        if not self.active or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
        dist.all_reduce(t)
        return {k: float(v) / self.world_size for k, v in zip(keys, t.tolist())}


def load_train_config(run_dir) -> TrainConfig:
    path = pathlib.Path(run_dir) / TRAIN_CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f'{path} not found: {run_dir} is not a training run directory')
    return from_dict(TrainConfig, json.loads(path.read_text()), where=f'{path}: ')


def parameter_digest(module: torch.nn.Module) -> str:
    """sha256 of all parameters and buffers (identical across DDP ranks after every step)."""
    digest = hashlib.sha256()
    for name, value in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


class Trainer:
    """Fits a JEPAWorldModel on training windows; validates on held-out frames each epoch."""

    def __init__(self, model: JEPAWorldModel, cfg: TrainConfig, train: FrameArrays,
                 val: FrameArrays | None, run_dir, device: str = 'cpu',
                 ctx: DistContext | None = None, log=print):
        self.model, self.cfg, self.train, self.val = model, cfg, train, val
        self.run_dir = pathlib.Path(run_dir)
        self.device, self.ctx, self.log = device, ctx or DistContext(), log
        self.objective = JEPAObjective(model, cfg).to(device)
        self.window = model.config.history_length + cfg.rollout_steps
        self.dataset = WindowDataset(train, self.window, cfg.window_stride or self.window,
                                     cfg.seed)
        self.sampler = DistributedSampler(self.dataset, num_replicas=self.ctx.world_size,
                                          rank=self.ctx.rank, shuffle=True, seed=cfg.seed)
        self.module = self.objective
        if self.ctx.active:
            ids = [self.ctx.local_rank] if device.startswith('cuda') else None
            self.module = DistributedDataParallel(self.objective, device_ids=ids)
        params = [p for p in self.objective.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.epoch, self.step, self.elapsed = 0, 0, 0.0
        self.first_terms = None  # epoch-1 loss terms: the reference of the printed terms

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.sampler) / self.cfg.batch_size)

    # -- persistence -------------------------------------------------------------------------

    def resume(self):
        """Continue from the run directory's checkpoint and training state."""
        state_path = self.run_dir / STATE_FILE
        if not state_path.is_file():
            raise FileNotFoundError(f'{state_path} not found: nothing to resume in '
                                    f'{self.run_dir} (train without --resume first)')
        self.model.load_state_dict(load_file(str(self.run_dir / CHECKPOINT_FILE),
                                             device=self.device))
        state = torch.load(state_path, map_location=self.device, weights_only=False)
        self.optimizer.load_state_dict(state['optimizer'])
        self.objective.load_extra_state(state['extra'])
        self.epoch, self.step = int(state['epoch']), int(state['step'])
        self.elapsed = float(state.get('elapsed', 0.0))

    def _save(self):
        self.run_dir.mkdir(parents=True, exist_ok=True)
        save_model(self.model, self.run_dir)
        (self.run_dir / TRAIN_CONFIG_FILE).write_text(
            json.dumps(to_dict(self.cfg), indent=2) + '\n')
        state = {'optimizer': self.optimizer.state_dict(), 'extra': self.objective.extra_state(),
                 'epoch': self.epoch, 'step': self.step, 'elapsed': self.elapsed}
        tmp = self.run_dir / (STATE_FILE + '.tmp')
        torch.save(state, tmp)
        os.replace(tmp, self.run_dir / STATE_FILE)

    def _append_metrics(self, row: dict):
        path = self.run_dir / METRICS_FILE
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fields = list(row)
        if path.is_file() and path.stat().st_size:
            with open(path, newline='') as f:
                fields = next(csv.reader(f))
            fields += [k for k in row if k not in fields]
            with open(path, newline='') as f:
                rows = list(csv.DictReader(f))
        else:
            rows = []
        with open(path, 'w', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=fields, restval='')
            writer.writeheader()
            writer.writerows(rows + [{k: _fmt(v) for k, v in row.items()}])

    # -- training ----------------------------------------------------------------------------

    def fit(self, epochs: int | None = None) -> list[dict]:
        """Train until `epochs` (default cfg.epochs) epochs are done; returns the metric rows."""
        cfg, ctx = self.cfg, self.ctx
        epochs = cfg.epochs if epochs is None else epochs
        total_steps = epochs * self.steps_per_epoch
        self.log(f'[rank {ctx.rank}/{ctx.world_size}] {len(self.dataset)} training windows of '
                 f'{self.window} frames, {self.steps_per_epoch} steps per epoch, device '
                 f'{self.device}, threads {torch.get_num_threads()}')
        rows = []
        while self.epoch < epochs:
            start = time.perf_counter()
            train_stats = self._train_epoch(epochs, total_steps)
            self.epoch += 1
            if self.epoch == epochs and self.cfg.probe_refit_epochs > 0:
                self._refit_probes()
            metrics = self._validate()
            self.elapsed += time.perf_counter() - start
            row = {'epoch': self.epoch, 'step': self.step, 'time_s': self.elapsed,
                   'lr': self.optimizer.param_groups[0]['lr'],
                   **{f'train_{k}': v for k, v in train_stats.items()},
                   **{f'val_{k}': v for k, v in metrics.items() if k != 'collapse'}}
            rows.append(row)
            if ctx.is_main:
                self._append_metrics(row)
                self.log(_summary(row, epochs))
                self.log(self._terms(train_stats))
            if metrics.get('collapse'):
                raise CollapseError(metrics['collapse'])
            if ctx.is_main:
                self._save()
        self.log(f'[rank {ctx.rank}/{ctx.world_size}] parameter digest '
                 f'{parameter_digest(self.model)}')
        return rows

    def _train_epoch(self, epochs: int, total_steps: int) -> dict:
        cfg = self.cfg
        self.objective.train()
        self.dataset.set_epoch(self.epoch)
        self.sampler.set_epoch(self.epoch)
        # a short run (small data, few epochs) must not spend itself warming up
        warmup = min(cfg.warmup_steps, total_steps // WARMUP_FRACTION)
        order = list(self.sampler)
        batches = [order[i:i + cfg.batch_size] for i in range(0, len(order), cfg.batch_size)]
        pairs = self._epoch_pairs(len(batches))
        sums, count = collections.defaultdict(float), 0
        bar = tqdm(batches, desc=f'epoch {self.epoch + 1}/{epochs}', unit='step',
                   disable=not self.ctx.is_main, leave=False, dynamic_ncols=True)
        for number, indices in enumerate(bar):
            starts = np.array([self.dataset[i] for i in indices])
            batch = self.train.windows(starts, self.window)
            if pairs is not None:
                batch.update(self.train.pairs(*pairs[:, number]))
            batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
            lr = cfg.lr * cosine_lr(self.step, total_steps, warmup, cfg.min_lr_ratio)
            for group in self.optimizer.param_groups:
                group['lr'] = lr
            loss, stats = self.module(batch, self.step)
            if not torch.isfinite(loss):
                raise FloatingPointError(f'training loss is {float(loss)} at step {self.step} '
                                         f'(epoch {self.epoch + 1}): lower lr or grad_clip')
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.objective.parameters(), cfg.grad_clip)
            self.optimizer.step()
            self.objective.update_target()
            self.step += 1
            for k, v in stats.items():
                sums[k] += float(v)
            count += 1
            bar.set_postfix(loss=f'{loss.item():.4f}')
        bar.close()
        return self.ctx.mean({k: v / max(1, count) for k, v in sums.items()})

    def _epoch_pairs(self, steps: int) -> np.ndarray | None:
        """[2, steps, encoder_relpose_pairs] frame indices (a, b) of this epoch's pairs, seeded
        by (seed, epoch, rank) so that a resumed run draws the same; None when off."""
        count = self.cfg.encoder_relpose_pairs
        if count == 0:
            return None
        rng = np.random.default_rng([self.cfg.seed, self.epoch, self.ctx.rank, 31])
        frames = self.train
        a, b, _ = sample_training_pairs(frames.odom_pose.astype(np.float64), frames.starts,
                                        frames.ends, steps * count, rng,
                                        self.cfg.relpose_sideways_boost)
        if len(a) == 0:
            return None
        order = rng.permutation(len(a))  # the boosted draw comes sorted by frame
        return np.resize(np.stack([a[order], b[order]]), (2, steps * count)).reshape(
            2, steps, count)

    def _terms(self, stats: dict) -> str:
        """Each loss term relative to its epoch-1 value, so terms of any scale compare."""
        if self.first_terms is None:
            self.first_terms = _first_metrics_row(self.run_dir / METRICS_FILE) or dict(stats)
        parts = []
        for key in sorted(stats):
            if key.endswith('_loss') and key != 'loss':
                ref = float(self.first_terms.get(key, self.first_terms.get(f'train_{key}', 0)))
                rel = float(stats[key]) / ref if ref > 0 else float('nan')
                parts.append(f'{key[:-5]} {rel:.3g}')
        copy = stats.get('tf_vs_copy')
        head = f'  one-step loss / copy-last {float(copy):.3g}; ' if copy is not None else '  '
        return head + 'terms vs epoch 1: ' + ' '.join(parts)

    def _refit_probes(self):
        """rank 0 refits the probes on frozen latents; the others receive its weights."""
        probes = (self.model.relpose_head, self.model.collision_probe,
                  self.model.pose_delta_probe)
        if self.ctx.is_main:
            started = time.perf_counter()
            refit_probes(self.model, self.train, self.window, self.cfg.probe_refit_epochs,
                         self.cfg.lr, self.cfg.seed, self.device,
                         self.cfg.relpose_sideways_boost)
            self.log(f'refitted the probes on frozen latents for {self.cfg.probe_refit_epochs} '
                     f'epochs ({time.perf_counter() - started:.0f} s)')
        if self.ctx.active:
            for probe in probes:
                for tensor in probe.state_dict().values():
                    dist.broadcast(tensor, src=0)

    def _validate(self) -> dict:
        """rank 0 computes the metrics (and the collapse verdict); every rank receives them."""
        metrics = None
        if self.ctx.is_main:
            cfg = self.cfg
            frames = self.val if self.val is not None and len(self.val) else self.train
            metrics = validate(self.model, frames, cfg.val_horizon, cfg.val_max_windows,
                               cfg.max_val_frames, cfg.seed, self.device)
            self.model.train()
            if cfg.collapse_check:
                try:
                    raise_if_collapsed(metrics, cfg.min_embedding_std, cfg.min_effective_rank,
                                       where=f'after epoch {self.epoch} (validation latents)')
                except CollapseError as exc:
                    metrics['collapse'] = str(exc)
        return self.ctx.broadcast(metrics)


def _first_metrics_row(path: pathlib.Path) -> dict | None:
    """The first row of metrics.csv (a resumed run keeps its epoch-1 reference)."""
    if not path.is_file():
        return None
    with open(path, newline='') as f:
        row = next(csv.DictReader(f), None)
    if not row:
        return None
    out = {}
    for key, value in row.items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _fmt(value):
    if isinstance(value, float):
        return f'{value:.6g}' if math.isfinite(value) else 'nan'
    return value


def _summary(row: dict, epochs: int) -> str:
    keys = (('train_loss', 'loss'), ('val_latent_error_ratio_at_1', 'ratio@1'),
            ('val_latent_error_ratio_at_8', 'ratio@8'), ('val_embedding_std', 'std'),
            ('val_effective_rank', 'rank'),
            ('val_relpose_position_error_median', 'relpose_m'),
            ('val_relpose_heading_error_median_deg', 'relpose_deg'),
            ('val_latent_pose_spearman', 'geo_rho'))
    parts = [f'{name} {row[k]:.4g}' for k, name in keys if k in row]
    return f'epoch {row["epoch"]}/{epochs} ' + ' '.join(parts) + f' ({row["time_s"]:.0f} s)'
