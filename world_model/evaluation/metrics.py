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

from world_model import geometry


def reference_poses(episode) -> np.ndarray:
    """[T, 3] ground truth where present and finite, else odometry (as training labels it)."""
    poses = np.asarray(episode.odom_pose, dtype=np.float64)
    if episode.ground_truth is not None:
        truth = np.asarray(episode.ground_truth, dtype=np.float64)
        ok = np.all(np.isfinite(truth), axis=1)
        poses = np.where(ok[:, None], truth, poses)
    return poses


DISTANCE_BINS_M = (0.0, 0.25, 0.5, 1.0, 2.0)
HEADING_BINS_DEG = (0.0, 15.0, 45.0, 90.0, 180.0)


def relpose_bins(pred, sigma, labels) -> list:
    """Relative-pose errors binned by the pair's true distance and heading difference.

    pred / labels [N, 3] (dx, dy, dyaw), sigma [N, 3] predicted std. One dict per (distance,
    heading) bin: median position error [m], heading error [deg], predicted position sigma [m]
    (norm of the x, y stds) and heading sigma [deg], count. Pairs beyond the last distance bin
    are left out.
    """
    pred, sigma, labels = (np.asarray(a, np.float64) for a in (pred, sigma, labels))
    distance = np.hypot(labels[:, 0], labels[:, 1])
    heading = np.degrees(np.abs(geometry.wrap_angle(labels[:, 2])))
    position_error = np.hypot(*(pred[:, :2] - labels[:, :2]).T)
    heading_error = np.degrees(np.abs(geometry.wrap_angle(pred[:, 2] - labels[:, 2])))
    out = []
    for d_lo, d_hi in zip(DISTANCE_BINS_M[:-1], DISTANCE_BINS_M[1:]):
        for h_lo, h_hi in zip(HEADING_BINS_DEG[:-1], HEADING_BINS_DEG[1:]):
            inside = ((distance >= d_lo) & (distance < d_hi) & (heading >= h_lo)
                      & (heading <= h_hi if h_hi == HEADING_BINS_DEG[-1] else heading < h_hi))
            n = int(inside.sum())

            def median(values, keep=inside, n=n):
                return float(np.median(values[keep])) if n else float('nan')

            out.append({'distance_m': [d_lo, d_hi], 'heading_deg': [h_lo, h_hi], 'count': n,
                        'position_error_median_m': median(position_error),
                        'heading_error_median_deg': median(heading_error),
                        'sigma_position_median_m': median(np.hypot(sigma[:, 0], sigma[:, 1])),
                        'sigma_heading_median_deg': median(np.degrees(sigma[:, 2]))})
    return out


def relpose_table(bins: list) -> str:
    """The bins of relpose_bins as a printed table."""
    lines = ['relative pose (held-out pairs of one episode, odometry labels):',
             f'{"distance m":>11} {"heading deg":>11} {"count":>6} {"pos err m":>9} '
             f'{"yaw err deg":>11} {"sigma m":>8} {"sigma deg":>9}']
    for b in bins:
        d, h = b['distance_m'], b['heading_deg']
        lines.append(f'{d[0]:>5.2f}-{d[1]:<5.2f} {h[0]:>5.0f}-{h[1]:<5.0f} {b["count"]:>6d} '
                     f'{b["position_error_median_m"]:>9.3f} '
                     f'{b["heading_error_median_deg"]:>11.1f} '
                     f'{b["sigma_position_median_m"]:>8.3f} {b["sigma_heading_median_deg"]:>9.1f}')
    return '\n'.join(lines)


def r2_score(pred, target) -> np.ndarray:
    """Coefficient of determination per column of [N, C] arrays (NaN for a constant target)."""
    pred, target = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    ss_res = np.sum((target - pred) ** 2, axis=0)
    ss_tot = np.sum((target - target.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide='ignore', invalid='ignore'):
        return np.where(ss_tot > 0, 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, 1.0), np.nan)


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
