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
"""Consensus of SE(2) pose candidates: the largest cluster within a box, its weighted mean.

relpose is wrong for views that do not overlap, and its sigma cannot be trusted to say so; a
wrong candidate lands anywhere, right ones agree. So the estimate is the weighted mean of the
largest set of candidates within (tol_m, tol_m, tol_rad) of one of them. A session joins the
map at such a cluster only when no cluster elsewhere nearly matches it (join_cluster: a
look-alike place). A joined session is moved by the same rules when its later views agree on
another place (rejoin_cluster: the join was fooled), else nudged towards its inliers
(refine_target).
"""

from typing import NamedTuple

import numpy as np

from world_model import geometry
from world_model.memory.map_keyframes import Fix


class Cluster(NamedTuple):
    pose: np.ndarray  # (3,) weighted mean
    std: np.ndarray  # (3,) weighted spread of the inliers
    inliers: np.ndarray  # bool [M]


def within(candidates: np.ndarray, centre, tol_m: float, tol_rad: float) -> np.ndarray:
    """bool [M]: candidates [M, 3] within the box around centre (3,)."""
    d = candidates - np.asarray(centre)
    return ((np.abs(d[:, 0]) <= tol_m) & (np.abs(d[:, 1]) <= tol_m)
            & (np.abs(geometry.wrap_angle(d[:, 2])) <= tol_rad))


def weighted_mean(poses: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of poses [M, 3] (the yaw as a circular mean)."""
    w = weights / weights.sum()
    yaw = np.arctan2(w @ np.sin(poses[:, 2]), w @ np.cos(poses[:, 2]))
    return np.array([w @ poses[:, 0], w @ poses[:, 1], yaw])


def view_information(view_yaw, sigma_xy, lateral_scale: float) -> np.ndarray:
    """Information [M, 2, 2] of positions measured from view headings view_yaw [M] with
    (ahead, sideways) std sigma_xy [M, 2] (floored at 1 mm), the sideways std scaled by
    lateral_scale."""
    yaw = np.atleast_1d(np.asarray(view_yaw, np.float64))
    sig = np.maximum(np.asarray(sigma_xy, np.float64).reshape(-1, 2), 1e-3)
    c, s = np.cos(yaw), np.sin(yaw)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # [M, 2, 2]
    info = np.zeros((len(yaw), 2, 2))
    info[:, 0, 0] = 1.0 / sig[:, 0] ** 2
    info[:, 1, 1] = 1.0 / (lateral_scale * sig[:, 1]) ** 2
    return rot @ info @ rot.transpose(0, 2, 1)


def along_view_mean(xy, view_yaw, sigma_xy, lateral_scale: float) -> np.ndarray:
    """Information-weighted mean (2,) of candidate positions xy [M, 2] (view_information). The
    relative-pose head sees an offset along its view's axis but hardly one to the side
    (BENCHMARKS.md, homing), so views from different headings triangulate what one cannot."""
    info = view_information(view_yaw, sigma_xy, lateral_scale)
    return np.linalg.solve(info.sum(0) + 1e-9 * np.eye(2), np.einsum('mij,mj->i', info, xy))


RUNNER_UP_EXCLUSION = 3.0  # candidates within this many tolerances of the best are its own


def runner_up(candidates, weights, best, tol_m: float, tol_rad: float) -> int:
    """Support of the largest cluster of candidates [M, 3] away from the best pose (3,): a
    look-alike place that would explain the views as well (0 if none)."""
    c = np.asarray(candidates, np.float64).reshape(-1, 3)
    far = ~within(c, best, RUNNER_UP_EXCLUSION * tol_m, RUNNER_UP_EXCLUSION * tol_rad)
    found = cluster(c[far], np.asarray(weights, np.float64)[far], tol_m, tol_rad)
    return 0 if found is None else int(found.inliers.sum())


def heading_span(yaws) -> float:
    """The widest heading difference [rad, 0..pi] between any two of yaws [M]."""
    y = np.unique(np.asarray(yaws, np.float64))
    if len(y) < 2:
        return 0.0
    return float(np.abs(geometry.wrap_angle(y[:, None] - y[None, :])).max())


def cluster(candidates, weights, tol_m: float, tol_rad: float) -> Cluster | None:
    """The largest consensus cluster of candidates [M, 3] (weights [M] > 0); None if empty."""
    c = np.asarray(candidates, np.float64).reshape(-1, 3)
    if len(c) == 0:
        return None
    w = np.asarray(weights, np.float64)
    d = c[:, None, :] - c[None, :, :]
    near = ((np.abs(d[..., 0]) <= tol_m) & (np.abs(d[..., 1]) <= tol_m)
            & (np.abs(geometry.wrap_angle(d[..., 2])) <= tol_rad))
    score = near.sum(axis=1) + near @ w / (w.sum() + 1e-12)  # ties go to the heavier
    seed = int(np.argmax(score))
    inliers = near[seed]
    mean = weighted_mean(c[inliers], w[inliers])
    inliers = within(c, mean, tol_m, tol_rad)  # re-centred once
    if not inliers.any():
        inliers = near[seed]
    mean = weighted_mean(c[inliers], w[inliers])
    d = c[inliers] - mean
    d[:, 2] = geometry.wrap_angle(d[:, 2])
    wi = w[inliers] / w[inliers].sum()
    std = np.sqrt(wi @ (d * d))
    return Cluster(mean, std, inliers)


def join_cluster(window, cfg) -> Cluster | None:
    """The cluster a session joins at, or None: window holds (frame, odometry yaw, candidates
    [k, 3], weights [k]) per join attempt, cfg is the MapConfig (join_*)."""
    frames = np.concatenate([np.full(len(c), f) for f, _, c, _ in window])
    yaws = np.concatenate([np.full(len(c), yaw) for _, yaw, c, _ in window])
    candidates = np.concatenate([c for *_, c, _ in window])
    weights = np.concatenate([x for *_, x in window])
    found = cluster(candidates, weights, cfg.join_tolerance_m, cfg.join_tolerance_rad)
    if found is None or found.inliers.sum() < cfg.join_min_support or len(
            np.unique(frames[found.inliers])) < cfg.join_min_frames or \
            heading_span(yaws[found.inliers]) < cfg.join_min_turn_rad:
        return None
    if cfg.join_ambiguity < 1.0 and runner_up(
            candidates, weights, found.pose, cfg.join_tolerance_m,
            cfg.join_tolerance_rad) > cfg.join_ambiguity * found.inliers.sum():
        return None  # another place explains the views nearly as well: look further
    return found


def rejoin_cluster(window, current, cfg) -> Cluster | None:
    """Where a joined session at current (3,) belongs instead, or None: the window's
    candidates (as join_cluster's) agree by the join's rules on a pose away from current."""
    found = join_cluster(window, cfg)
    far = RUNNER_UP_EXCLUSION
    if found is None or within(found.pose[None], current, far * cfg.join_tolerance_m,
                               far * cfg.join_tolerance_rad)[0]:
        return None
    return found


def refine_target(odom, candidates, weights, views, current, cfg) -> np.ndarray | None:
    """Where a joined session's origin should be, from one frame's candidates [M, 3] near its
    pose current (3,); None with fewer than two. views: (robot map poses, keyframe map poses,
    head sigmas) of the candidates; odom (3,): the frame's odometry pose; cfg: MapConfig."""
    here, keyframes, sigma = views
    inl = within(candidates, current, cfg.refine_tolerance_m, cfg.refine_tolerance_rad)
    if inl.sum() < 2:
        return None
    target = weighted_mean(candidates[inl], weights[inl])
    if cfg.fix_lateral_sigma_scale > 1.0:  # the robot placed as a goal fix is (localise)
        robot = geometry.compose(target, odom)
        robot[:2] = along_view_mean(here[inl, :2], keyframes[inl, 2], sigma[inl, :2],
                                    cfg.fix_lateral_sigma_scale)
        target = geometry.compose(robot, geometry.invert(odom))
    return target


def goal_fix(candidates, weights, view_yaws, sigma, ids, cfg) -> Fix | None:
    """Where a goal view is (a Fix), from its candidates [M, 3] through keyframes ids [M] seen
    at view_yaws [M] (head sigmas [M, 3]); None without a cluster of localise_min_support."""
    found = cluster(candidates, weights, cfg.localise_tolerance_m, cfg.localise_tolerance_rad)
    if found is None or found.inliers.sum() < cfg.localise_min_support:
        return None
    inl = found.inliers
    sig = np.asarray(sigma)[inl]
    std = np.sqrt(found.std ** 2 + np.mean(sig ** 2, axis=0) / inl.sum())
    pose = found.pose.copy()
    if cfg.fix_lateral_sigma_scale > 1.0:
        pose[:2] = along_view_mean(np.asarray(candidates)[inl, :2], np.asarray(view_yaws)[inl],
                                   sig[:, :2], cfg.fix_lateral_sigma_scale)
    return Fix(pose, std, tuple(int(v) for v in np.asarray(ids)[inl]), int(inl.sum()))
