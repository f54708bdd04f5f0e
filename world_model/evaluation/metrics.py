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
"""Numpy metrics for world-model evaluation (torch-free, so they run wherever the runtime runs).

embedding_std and effective_rank use the same definitions as world_model.training.collapse.
"""

import numpy as np


def reference_poses(episode) -> np.ndarray:
    """[T, 3] ground truth where present and finite, else odometry (as training labels it)."""
    poses = np.asarray(episode.odom_pose, dtype=np.float64)
    if episode.ground_truth is not None:
        truth = np.asarray(episode.ground_truth, dtype=np.float64)
        ok = np.all(np.isfinite(truth), axis=1)
        poses = np.where(ok[:, None], truth, poses)
    return poses


def r2_score(pred, target) -> np.ndarray:
    """Coefficient of determination per column of [N, C] arrays (NaN for a constant target)."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    ss_res = np.sum((target - pred) ** 2, axis=0)
    ss_tot = np.sum((target - target.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


def pose_r2(pred_pose, true_pose) -> dict:
    """R2 of (x, y, cos yaw, sin yaw) for [N, 3] poses; 'mean' averages the four components."""
    def features(p):
        p = np.asarray(p, np.float64)
        return np.stack([p[:, 0], p[:, 1], np.cos(p[:, 2]), np.sin(p[:, 2])], axis=1)

    scores = r2_score(features(pred_pose), features(true_pose))
    out = {name: float(s) for name, s in zip(('x', 'y', 'cos_yaw', 'sin_yaw'), scores)}
    out['mean'] = float(np.nanmean(scores)) if np.isfinite(scores).any() else float('nan')
    return out


def mean_l2(a, b) -> float:
    """Mean over rows of the Euclidean distance between [N, D] arrays."""
    diff = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    return float(np.mean(np.linalg.norm(diff, axis=-1)))


def error_ratios(model_errors, baseline_errors) -> list:
    """model / baseline per horizon (NaN where the baseline error is zero)."""
    return [float(m / b) if b > 0 else float('nan') for m, b in zip(model_errors, baseline_errors)]


def embedding_std(z) -> float:
    """Mean over dimensions of the per-dimension standard deviation of z [N, D]."""
    z = np.asarray(z, np.float64)
    return float(z.std(axis=0, ddof=1).mean()) if len(z) >= 2 else 0.0


def effective_rank(z, eps: float = 1e-12) -> float:
    """exp(entropy of the normalised singular values) of centred z [N, D] (RankMe), in [1, D]."""
    z = np.asarray(z, np.float64)
    if len(z) < 2:
        return 0.0
    s = np.linalg.svd(z - z.mean(axis=0), compute_uv=False)
    total = s.sum()
    if total <= eps * max(1.0, float(np.abs(z).max())):
        return 0.0
    p = s / total
    return float(np.exp(-(p * np.log(p + eps)).sum()))
