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

A differential-drive base seldom records a view beside another at the same heading (it cannot
drive sideways), so a head fitted on the plain draw learns that such a view is straight ahead
and misses the sideways offset that homing has to take out. sample_training_pairs oversamples
those pairs (sideways_boost).

Look-alike pairs: a view far from another (another place, or the same place facing away) that
the encoder nonetheless puts near it in latent space. Retrieval hands the head exactly such
pairs when two places look alike, and a head fitted only on the plain draw answers them as
confidently as true neighbours: in the two-room map the look-alike place outvoted the true one
for about one goal image in ten (BENCHMARKS.md, 'look-alike goal views'). sample_lookalike_pairs
draws them inside one episode, with their odometry labels, so the head learns to be unsure of
them (or to tell them apart); `jepa-agent refit-relpose --lookalike-fraction` mixes them in.
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
SIDEWAYS_YAW = 0.4  # rad: a sideways pair differs by less heading than this ...
SIDEWAYS_MIN = 0.08  # m: ... and by more sideways offset than this
SIDEWAYS_BOOST = 50.0  # the default (BENCHMARKS.md 'Relative-pose head: sideways pairs')
_BOOST_DRAW = 4  # plain pairs drawn per pair kept when oversampling
HOMING_REACH_M = 0.6  # m: a homing pair is within this ahead and to the side ...
HOMING_YAW = 0.4  # rad: ... at a heading within this (the robot's last metres to its goal)
LOOKALIKE_FAR_M = 0.8  # m: a look-alike view is at least this far away ...
LOOKALIKE_FAR_RAD = 1.0  # rad: ... or turned at least this much
LOOKALIKE_TOP = 4  # drawn among this many latent-nearest far views


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


def sideways(labels: np.ndarray) -> np.ndarray:
    """bool [M]: view b beside view a at a similar heading (labels [M, 3] as sample_pairs)."""
    return (np.abs(labels[:, 2]) < SIDEWAYS_YAW) & (np.abs(labels[:, 1]) > SIDEWAYS_MIN)


def homing_window(labels: np.ndarray) -> np.ndarray:
    """bool [M]: view b where homing measures the goal from (labels [M, 3] as sample_pairs):
    near the goal view and at nearly its heading, as the robot is in its last metres."""
    return (np.abs(labels[:, 0]) <= HOMING_REACH_M) & (np.abs(labels[:, 1]) <= HOMING_REACH_M) \
        & (np.abs(labels[:, 2]) <= HOMING_YAW)


def sample_training_pairs(poses: np.ndarray, starts: np.ndarray, ends: np.ndarray, count: int,
                          rng: np.random.Generator, sideways_boost: float = 1.0):
    """sample_pairs, with sideways pairs sideways_boost times as likely to be kept (1: the
    plain draw, unchanged)."""
    if sideways_boost == 1.0:
        return sample_pairs(poses, starts, ends, count, rng)
    a, b, labels = sample_pairs(poses, starts, ends, _BOOST_DRAW * count, rng)
    if len(a) <= count:
        return a, b, labels
    weight = np.where(sideways(labels), sideways_boost, 1.0)
    keep = np.sort(rng.choice(len(a), size=count, replace=False, p=weight / weight.sum()))
    return a[keep], b[keep], labels[keep]


def sample_lookalike_pairs(latents: np.ndarray, poses: np.ndarray, starts: np.ndarray,
                           ends: np.ndarray, count: int, rng: np.random.Generator,
                           far_m: float = LOOKALIKE_FAR_M, far_rad: float = LOOKALIKE_FAR_RAD,
                           top: int = LOOKALIKE_TOP):
    """(a [M], b [M], labels float32 [M, 3]) of look-alike pairs inside one episode each, M <=
    count: per anchor a, b is drawn among the top frames of its episode nearest to it in
    latent L2 (latents [N, D]) that lie at least far_m away or far_rad turned (odometry poses
    [N, 3])."""
    lengths = np.asarray(ends) - np.asarray(starts)
    usable = np.flatnonzero(lengths >= 2)
    a_all, b_all = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    if count > 0 and usable.size:
        weights = lengths[usable] / lengths[usable].sum()
        per_episode = np.bincount(rng.choice(usable.size, size=count, p=weights),
                                  minlength=usable.size)
        z = np.asarray(latents, np.float32)
        for e, n in zip(usable, per_episode):
            lo, hi = int(starts[e]), int(ends[e])
            chunk = max(1, _CHUNK_ELEMENTS // (hi - lo))  # bounds the [anchors, frames] arrays
            for c in range(0, n, chunk):
                m = min(n - c, chunk)
                a = rng.integers(lo, hi, m)
                d2 = np.einsum('nd,nd->n', z[lo:hi], z[lo:hi])[None] - 2.0 * z[a] @ z[lo:hi].T
                rel = geometry.relative(poses[a][:, None], poses[lo:hi][None])
                far = (np.hypot(rel[..., 0], rel[..., 1]) >= far_m) | (
                    np.abs(rel[..., 2]) >= far_rad)
                d2 = np.where(far, d2, np.inf)
                k = min(top, hi - lo)
                nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
                pick = nearest[np.arange(m), rng.integers(0, k, m)]
                ok = np.isfinite(d2[np.arange(m), pick])
                a_all.append(a[ok])
                b_all.append(lo + pick[ok])
    a, b = np.concatenate(a_all), np.concatenate(b_all)
    return a, b, geometry.relative(poses[a], poses[b]).astype(np.float32).reshape(-1, 3)
