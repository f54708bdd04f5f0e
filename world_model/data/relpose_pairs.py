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
"""Frame pairs for the relative-pose head (numpy only: training and evaluate draw them alike).

At run time the head compares a stored keyframe with a query view that are nearest in latent
space: similar position AND heading. So most pairs are drawn near each other by odometry (within
near_distance and near_yaw) inside one episode; the rest are any two frames of one episode, so
that the predicted uncertainty learns to grow when the views do not overlap. Labels come from
odometry only: geometry.relative(pose_a, pose_b), view b in view a's frame.
"""

import math

import numpy as np

from world_model import geometry

NEAR_DISTANCE = 1.5  # m
NEAR_YAW = math.pi / 2  # rad
NEAR_FRACTION = 0.8


def sample_pairs(poses: np.ndarray, starts: np.ndarray, ends: np.ndarray, count: int,
                 rng: np.random.Generator, near_fraction: float = NEAR_FRACTION,
                 near_distance: float = NEAR_DISTANCE, near_yaw: float = NEAR_YAW):
    """(a [M], b [M], labels float32 [M, 3]) of pairs inside one episode each, M <= count.

    poses [N, 3] odometry of all frames; episode e spans [starts[e], ends[e]).
    """
    lengths = np.asarray(ends) - np.asarray(starts)
    usable = np.flatnonzero(lengths >= 2)
    if count <= 0 or usable.size == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros((0, 3), np.float32)
    # episodes drawn in proportion to their length: every frame is an anchor equally often
    weights = lengths[usable] / lengths[usable].sum()
    episode = usable[rng.choice(usable.size, size=count, p=weights)]
    a = starts[episode] + (rng.random(count) * lengths[episode]).astype(np.int64)
    b = starts[episode] + (rng.random(count) * lengths[episode]).astype(np.int64)
    near = rng.random(count) < near_fraction
    for i in np.flatnonzero(near):
        lo, hi = starts[episode[i]], ends[episode[i]]
        rel = geometry.relative(poses[a[i]], poses[lo:hi])
        close = np.flatnonzero((np.hypot(rel[:, 0], rel[:, 1]) <= near_distance)
                               & (np.abs(rel[:, 2]) <= near_yaw))
        if close.size:  # always holds a itself
            b[i] = lo + close[rng.integers(close.size)]
    labels = geometry.relative(poses[a], poses[b]).astype(np.float32)
    ok = np.isfinite(labels).all(axis=1)
    return a[ok], b[ok], labels[ok]
