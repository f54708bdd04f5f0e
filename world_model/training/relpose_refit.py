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
"""Fit a relative-pose head on latents an exported encoder already produced.

The head reads detached latents (models/probes.py), so it can be refit on new recordings without
touching the encoder or the predictor: a robot's own bags of the building it works in, or more
episodes than the training run had. Labels come from odometry inside one episode, as in training
(data/relpose_pairs.py). heldout_errors scores any head on near pairs of held-out episodes,
their look-alike pairs and their pairs in the homing window (where the robot ends near its
goal), so that the head before and after a refit are compared on the same pairs.
"""

import dataclasses

import numpy as np
import torch

from world_model.data.relpose_pairs import (
    SIDEWAYS_BOOST,
    homing_window,
    sample_lookalike_pairs,
    sample_pairs,
    sample_training_pairs,
    sideways,
)
from world_model.models.model_config import ModelConfig
from world_model.models.probes import RelativePoseHead
from world_model.training.losses import relpose_nll
from world_model.training.probe_refit import RELPOSE_PAIRS_PER_FRAME, fit_head

HELDOUT_PAIRS = 20000
HELDOUT_LOOKALIKE_PAIRS = 5000
CONFIDENT_SIGMA_M = 0.3  # MapConfig.max_sigma_m: a pair the map would use
WRONG_M = 0.5  # ... and is misled by
_BATCH = 4096


@dataclasses.dataclass
class Latents:
    """Latents of whole episodes with their odometry; episode e spans [starts[e], ends[e])."""

    z: np.ndarray  # float32 [N, D]
    poses: np.ndarray  # float64 [N, 3] odometry, compared within an episode
    starts: np.ndarray  # int64 [E]
    ends: np.ndarray  # int64 [E]

    def __len__(self) -> int:
        return int(self.z.shape[0])


def fit_relpose_head(cfg: ModelConfig, data: Latents, epochs: int, sideways_boost: float,
                     lr: float = 1e-3, seed: int = 0, lookalike_fraction: float = 0.0,
                     width: int | None = None) -> RelativePoseHead:
    """A new head (hidden width, default cfg.probe_width) trained on pairs of `data`
    (RELPOSE_PAIRS_PER_FRAME per frame, one draw), lookalike_fraction of them look-alike pairs.
    """
    torch.manual_seed(seed)
    if width is not None:
        cfg = dataclasses.replace(cfg, probe_width=width)
    head = RelativePoseHead(cfg)
    rng = np.random.default_rng([seed, 31])
    total = RELPOSE_PAIRS_PER_FRAME * len(data)
    hard = int(round(lookalike_fraction * total))
    a, b, labels = sample_training_pairs(data.poses, data.starts, data.ends, total - hard, rng,
                                         sideways_boost)
    if hard:
        pairs = sample_lookalike_pairs(data.z, data.poses, data.starts, data.ends, hard, rng)
        a, b, labels = (np.concatenate([x, y]) for x, y in zip((a, b, labels), pairs))
    if len(a) == 0:
        raise ValueError('no pairs to fit on: every episode holds fewer than 2 frames')
    z = torch.from_numpy(np.ascontiguousarray(data.z, np.float32))
    fit_head(head, (z[a], z[b]), torch.from_numpy(labels), relpose_nll, epochs, lr,
             torch.Generator().manual_seed(seed))
    return head.eval()


def torch_relpose(head: RelativePoseHead):
    """head as a relpose function: (latents_a, latents_b) numpy -> (poses [N, 3], sigma)."""
    def relpose(za: np.ndarray, zb: np.ndarray):
        with torch.no_grad():
            pose, log_std = head(torch.from_numpy(za), torch.from_numpy(zb))
        return pose.double().numpy(), np.exp(log_std.double().numpy())
    return relpose


def heldout_errors(relpose, data: Latents, seed: int = 7) -> dict:
    """Position error median of near pairs, and of their sideways pairs the error across and
    the shrink (predicted sideways offset over the true one: 1 right, 0 seeing none); of the
    look-alike pairs, the share the head is sure of (sigma within CONFIDENT_SIGMA_M) yet more
    than WRONG_M off: what would mislead the map; of the pairs in the homing window (where the
    robot ends, near the goal view at nearly its heading), the position error, the error
    across and the correlation of the predicted sideways offset with the true one."""
    rng = np.random.default_rng(seed)
    a, b, labels = sample_pairs(data.poses, data.starts, data.ends, HELDOUT_PAIRS, rng,
                                near_fraction=1.0)
    if len(a) == 0:
        raise ValueError('no held-out pairs: every held-out episode holds fewer than 2 frames')
    z = np.ascontiguousarray(data.z, np.float32)
    pred = _run(relpose, z, a, b)[0]
    side = sideways(labels)
    out = {'pairs': int(len(a)), 'sideways_pairs': int(side.sum()),
           'position_error_median_m': float(np.median(_position_errors(pred, labels)))}
    if side.any():
        truth = labels[side, 1].astype(np.float64)
        out['sideways_error_median_m'] = float(np.median(np.abs(pred[side, 1] - truth)))
        out['sideways_shrink'] = float(pred[side, 1] @ truth / (truth @ truth))
    a, b, labels = sample_lookalike_pairs(z, data.poses, data.starts, data.ends,
                                          HELDOUT_LOOKALIKE_PAIRS, rng)
    if len(a):
        pred, sigma = _run(relpose, z, a, b)
        sure = sigma[:, :2].max(axis=1) <= CONFIDENT_SIGMA_M
        wrong = _position_errors(pred, labels) > WRONG_M
        out['lookalike_pairs'] = int(len(a))
        out['lookalike_misleading'] = float((sure & wrong).mean())
    a, b, labels = sample_training_pairs(data.poses, data.starts, data.ends, HELDOUT_PAIRS, rng,
                                         SIDEWAYS_BOOST)
    window = homing_window(labels)
    if window.sum() >= 2:
        a, b, labels = a[window], b[window], labels[window].astype(np.float64)
        pred = _run(relpose, z, a, b)[0]
        out['homing_pairs'] = int(len(a))
        out['homing_position_error_median_m'] = float(np.median(_position_errors(pred, labels)))
        out['homing_sideways_error_median_m'] = float(np.median(np.abs(pred[:, 1] - labels[:, 1])))
        out['homing_sideways_correlation'] = _correlation(pred[:, 1], labels[:, 1])
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def _position_errors(pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    # [M] distance between predicted and true positions
    return np.hypot(*(pred[:, :2] - labels[:, :2]).T)


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    # Pearson's r; 0 where either side does not vary (a head blind to it)
    spread = float(x.std() * y.std())
    return float(np.mean((x - x.mean()) * (y - y.mean())) / spread) if spread > 0 else 0.0


def _run(relpose, z: np.ndarray, a: np.ndarray, b: np.ndarray):
    # (poses, sigma) of pairs (a, b) in batches
    out = [relpose(z[a[i:i + _BATCH]], z[b[i:i + _BATCH]]) for i in range(0, len(a), _BATCH)]
    return np.concatenate([p for p, _ in out]), np.concatenate([s for _, s in out])
