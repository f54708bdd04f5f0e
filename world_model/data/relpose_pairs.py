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
_CHUNK_ELEMENTS = 1 << 22
_MAX_CANDIDATES = 1000  # frames of one episode searched per anchor
_WINDOW = 100  # of a longer episode: +-_WINDOW frames around the anchor, the rest random


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
    for e in np.unique(episode[near]):
        rows = np.flatnonzero(near & (episode == e))
        lo, hi = int(starts[e]), int(ends[e])
        width = min(hi - lo, _MAX_CANDIDATES)
        chunk = max(1, _CHUNK_ELEMENTS // width)  # bounds the [anchors, candidates] arrays
        for c in range(0, rows.size, chunk):
            r = rows[c:c + chunk]
            if width == hi - lo:
                candidates = np.broadcast_to(np.arange(lo, hi), (r.size, width))
            else:  # a long recording: the anchor's time neighbourhood plus random frames
                near_t = np.clip(a[r][:, None] + np.arange(-_WINDOW, _WINDOW + 1), lo, hi - 1)
                anywhere = rng.integers(lo, hi, (r.size, width - near_t.shape[1]))
                candidates = np.concatenate([near_t, anywhere], axis=1)
            rel = geometry.relative(poses[a[r]][:, None], poses[candidates])
            close = ((np.hypot(rel[..., 0], rel[..., 1]) <= near_distance)
                     & (np.abs(rel[..., 2]) <= near_yaw))
            # a uniform draw among the close candidates (the anchor itself is one)
            pick = np.argmax(np.where(close, rng.random(close.shape), -1.0), axis=1)
            b[r] = candidates[np.arange(r.size), pick]
    labels = geometry.relative(poses[a], poses[b]).astype(np.float32)
    ok = np.isfinite(labels).all(axis=1)
    return a[ok], b[ok], labels[ok]
