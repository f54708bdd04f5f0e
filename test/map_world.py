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
"""A labelled fake world for the latent map: latents that carry their true pose, a relpose.

A latent is [x, y, cos yaw, sin yaw, MAGIC, features...]: random Fourier features of the pose
(and of the room side, weakly, so rooms either side of a wall stay latent-near) plus noise. The
fake relpose decodes the poses of genuine latents exactly, answers with small noise for views
that overlap (near, similar heading, no wall between them) and with garbage otherwise, with a
sigma that is sometimes small anyway (consensus must catch it). Stateless: a child process
and its parent agree. drifting(): the odometry of a drive whose heading drifts. Used by
test_latent_map.py, test_heading_drift.py and scripts/bench_latent_map.py.
"""

import numpy as np

from world_model import geometry

DIM = 128
MAGIC = 0.25
DOOR = 0.45  # two rooms: the wall is x = 0, the door |y| <= DOOR
_PROJ = np.random.default_rng(1234).normal(size=(5, DIM - 5)) * np.array(
    [[1.6], [1.6], [1.0], [1.0], [0.5]])
_PHASE = np.random.default_rng(4321).uniform(0, 2 * np.pi, DIM - 5)


def embed(true_poses, rng, noise: float = 0.02) -> np.ndarray:
    """float32 latents [N, DIM] of true poses [N, 3]."""
    p = np.asarray(true_poses, np.float64).reshape(-1, 3)
    c, s = np.cos(p[:, 2]), np.sin(p[:, 2])
    side = np.where(np.abs(p[:, 0]) < 0.1, 0.0, np.sign(p[:, 0]))
    feat = np.stack([p[:, 0], p[:, 1], c, s, side], axis=1)
    rff = np.cos(feat @ _PROJ + _PHASE) + rng.normal(0, noise, (len(p), DIM - 5))
    head = np.stack([p[:, 0], p[:, 1], c, s, np.full(len(p), MAGIC)], axis=1)
    return np.hstack([head, rff]).astype(np.float32)


def decode(latents) -> tuple[np.ndarray, np.ndarray]:
    """(true poses [N, 3], genuine bool [N])."""
    z = np.asarray(latents, np.float64)
    genuine = (np.abs(z[:, 4] - MAGIC) < 1e-6) & (np.abs(np.hypot(z[:, 2], z[:, 3]) - 1) < 1e-3)
    return np.stack([z[:, 0], z[:, 1], np.arctan2(z[:, 3], z[:, 2])], axis=1), genuine


def blocked(a, b) -> np.ndarray:
    """bool [N]: the segment a -> b crosses the wall x = 0 outside the door."""
    a, b = np.asarray(a).reshape(-1, 3), np.asarray(b).reshape(-1, 3)
    cross = np.sign(a[:, 0]) * np.sign(b[:, 0]) < 0
    t = a[:, 0] / np.where(cross, a[:, 0] - b[:, 0], 1.0)
    y = a[:, 1] + t * (b[:, 1] - a[:, 1])
    return cross & (np.abs(y) > DOOR)


class FakeRelPose:
    """relpose(za [N, D], zb [N, D]) -> (b in a's frame [N, 3], sigma [N, 3])."""

    def __init__(self, seed: int = 0, wall: bool = False):
        self.rng = np.random.default_rng(seed)
        self.wall = wall
        self.calls = 0

    def __call__(self, za, zb):
        self.calls += 1
        pa, ga = decode(za)
        pb, gb = decode(zb)
        n = len(pa)
        rel = geometry.relative(pa, pb)
        dist = np.hypot(rel[:, 0], rel[:, 1])
        ok = ga & gb & (dist <= 1.5) & (np.abs(rel[:, 2]) <= 1.2)
        if self.wall:
            ok &= ~blocked(pa, pb)
        base = np.array([0.03, 0.03, 0.02])
        out = rel + self.rng.normal(size=(n, 3)) * base
        sigma = base * (1.0 + dist[:, None])
        bad = ~ok
        out[bad] = self.rng.uniform([-3, -3, -np.pi], [3, 3, np.pi], (int(bad.sum()), 3))
        sigma[bad] = self.rng.uniform(0.02, 0.6, (int(bad.sum()), 3))
        out[:, 2] = geometry.wrap_angle(out[:, 2])
        return out, sigma


def drive(waypoints, step: float = 0.05, turn: float = 0.15) -> np.ndarray:
    """True poses [N, 3] driving straight between waypoints [(x, y)], turning in place."""
    pts = np.asarray(waypoints, np.float64)
    out = []
    yaw = float(np.arctan2(*(pts[1] - pts[0])[::-1]))
    for a, b in zip(pts[:-1], pts[1:]):
        want = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
        while abs(geometry.wrap_angle(want - yaw)) > turn:
            yaw = float(geometry.wrap_angle(yaw + turn * np.sign(geometry.wrap_angle(want - yaw))))
            out.append((a[0], a[1], yaw))
        yaw = want
        n = max(1, int(np.ceil(np.hypot(*(b - a)) / step)))
        for t in np.arange(n) / n:
            out.append((*(a + t * (b - a)), yaw))
    out.append((*pts[-1], yaw))
    return np.asarray(out)


def loop(x0, y0, x1, y1, laps: int = 1) -> list:
    """Waypoints of a rectangle, laps times round (counter-clockwise)."""
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)] * laps + [(x0, y0)]


def odometry(true_poses, map_t_odom) -> np.ndarray:
    """Odometry of a session whose origin is map_t_odom in the map (true) frame."""
    return geometry.compose(geometry.invert(np.asarray(map_t_odom, np.float64)), true_poses)


def drifting(true_poses, rate: float, start=None, dt: float = 0.1) -> np.ndarray:
    """Odometry [N, 3] along the true poses' increments (frames dt apart) whose heading gains
    rate rad/s (a gyro's bias), from start (default: the first true pose)."""
    true_poses = np.asarray(true_poses, np.float64)
    rel = geometry.relative(true_poses[:-1], true_poses[1:])
    rel[:, 2] += rate * dt
    out = [np.asarray(true_poses[0] if start is None else start, np.float64)]
    for r in rel:
        out.append(geometry.compose(out[-1], r))
    return np.asarray(out)
