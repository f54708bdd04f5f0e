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
"""Where the goal view was taken, from the floor both views see: a direct image alignment.

Near the goal the relative-pose head misses sideways offsets where the view barely changes
with them (a plain wall ahead: 0.4 m to the side read as 0.0, BENCHMARKS.md). The floor does
change: a pixel below the horizon is a point on the ground plane, at a distance set by the
camera's height, pitch and field of view. A hypothesis T (the goal pose in the robot's frame)
maps the floor points of one view into the other; the best T makes the two images agree. The
cost is the mean absolute grey-level difference (clipped: walls, people and distractors are
not floor) over the floor points of both views mapped into the other one (symmetric: a goal
ahead sees floor the robot's near floor does not). Search: a grid around the initial guess,
then three finer grids around the best.

An alignment is trusted only if it is unambiguous: no hypothesis sideways of the best by more
than RUNNER_UP_M costs nearly as little (a periodic floor has look-alike shifts). This needs
the camera's geometry (a robot's calibration, not the simulator's truth) and a floor with some
texture; a plain floor gives no unambiguous alignment and the head alone homes.
"""

import dataclasses
import math
from typing import NamedTuple

import numpy as np

WORK_ROWS = 64  # images are block-averaged to about this many rows (the cost is per pixel)
COST_CLIP = 0.1  # grey-level difference [0..1] beyond which a pixel is not the same floor
RUNNER_UP_M = 0.25  # a rival this far to the side of the best...
RUNNER_UP_RATIO = 2.0  # ...must cost this many times the best's, or the alignment is ambiguous
MIN_OVERLAP = 0.3  # share of the floor points both views must see


@dataclasses.dataclass(frozen=True)
class CameraGeometry:
    """A forward camera over flat floor: height [m], pitch [rad, down < 0], vertical FOV [rad]."""

    height_m: float
    pitch_rad: float
    vfov_rad: float
    max_range_m: float = 1.2  # floor points further than this are left out (walls start there)


class Alignment(NamedTuple):
    pose: np.ndarray  # (3,) the goal view's pose in the robot's frame
    cost: float  # mean clipped grey-level difference at pose
    ambiguity: float  # best cost over the best rival's sideways (< 1 / RUNNER_UP_RATIO: trusted)

    @property
    def trusted(self) -> bool:
        return math.isfinite(self.cost) and self.ambiguity * RUNNER_UP_RATIO <= 1.0


class FloorAligner:
    """align(current, goal, init): both views rgb uint8 [H, W, 3] from the same camera."""

    def __init__(self, camera: CameraGeometry, search=(0.2, 0.6, 0.12),
                 step=(0.1, 0.1, 0.06)):
        self.camera, self.search, self.step = camera, np.asarray(search), np.asarray(step)
        self._grids = {}  # (rows, cols, stride) -> (pixel rows, cols, ground points [P, 2])

    def align(self, current: np.ndarray, goal: np.ndarray, init) -> Alignment:
        a, b = _grey(current), _grey(goal)
        if a.shape != b.shape:
            raise ValueError(f'the goal view is {goal.shape[:2]} and the current view '
                             f'{current.shape[:2]}: floor alignment needs one camera')
        init = np.asarray(init, np.float64).reshape(3)
        hypotheses = _grid(init, self.search, self.step)
        cost = self.costs(a, b, hypotheses, stride=2)
        best = hypotheses[np.argmin(cost)]
        sideways = np.abs(_lateral(hypotheses - best, best[2])) > RUNNER_UP_M
        rival = float(cost[sideways].min()) if sideways.any() else math.inf
        step = self.step
        for _ in range(3):
            step = step / 2.0
            hypotheses = _grid(best, step, step)
            cost = self.costs(a, b, hypotheses, stride=1)
            best = hypotheses[np.argmin(cost)]
        best_cost = float(cost.min())
        # no rival seen (too little overlap to the side) or a perfect one: nothing verified
        verified = 0.0 < rival < math.inf
        return Alignment(best, best_cost, best_cost / rival if verified else math.inf)

    def costs(self, a: np.ndarray, b: np.ndarray, hypotheses: np.ndarray, stride: int):
        """[N] symmetric floor cost of hypotheses [N, 3] (goal pose in the robot frame)."""
        s1, n1 = self._one_way(a, b, hypotheses, stride)
        s2, n2 = self._one_way(b, a, _invert(hypotheses), stride)
        count = n1 + n2
        floor_points = 2 * len(self._floor(a.shape, stride)[0])
        return np.where(count > MIN_OVERLAP * floor_points, (s1 + s2) / np.maximum(count, 1),
                        np.inf)

    def _one_way(self, src, dst, hypotheses, stride):
        # floor points of src, moved into dst's frame by hypotheses, sampled in dst
        rows, cols, ground = self._floor(src.shape, stride)
        c, s = np.cos(hypotheses[:, 2])[:, None], np.sin(hypotheses[:, 2])[:, None]
        dx = ground[None, :, 0] - hypotheses[:, 0, None]
        dy = ground[None, :, 1] - hypotheses[:, 1, None]
        u, v = self._project(c * dx + s * dy, -s * dx + c * dy, src.shape)
        h, w = src.shape
        seen = np.isfinite(u) & (u >= 0) & (u <= w - 1) & (v >= 0) & (v <= h - 1)
        u = np.clip(np.nan_to_num(u), 0, w - 1.001)
        v = np.clip(np.nan_to_num(v), 0, h - 1.001)
        u0, v0 = u.astype(np.int64), v.astype(np.int64)
        fu, fv = u - u0, v - v0
        sampled = (dst[v0, u0] * (1 - fu) * (1 - fv) + dst[v0, u0 + 1] * fu * (1 - fv)
                   + dst[v0 + 1, u0] * (1 - fu) * fv + dst[v0 + 1, u0 + 1] * fu * fv)
        diff = np.minimum(np.abs(sampled - src[rows, cols][None]), COST_CLIP)
        return (diff * seen).sum(axis=1), seen.sum(axis=1)

    def _basis(self, shape):
        h, _ = shape
        cam = self.camera
        focal = (h / 2.0) / math.tan(cam.vfov_rad / 2.0)
        cp, sp = math.cos(cam.pitch_rad), math.sin(cam.pitch_rad)
        forward, up = np.array([cp, 0.0, sp]), np.array([-sp, 0.0, cp])
        return focal, forward, up, np.cross(forward, up)

    def _floor(self, shape, stride):
        key = (*shape, stride)
        if key not in self._grids:
            h, w = shape
            focal, forward, up, right = self._basis(shape)
            rows, cols = np.mgrid[0:h:stride, 0:w:stride]
            x = (cols + 0.5 - w / 2.0) / focal
            y = (rows + 0.5 - h / 2.0) / focal
            ray = forward + x[..., None] * right - y[..., None] * up
            down = ray[..., 2] < -1e-3
            t = self.camera.height_m / np.where(down, -ray[..., 2], 1.0)
            ground = t[..., None] * ray[..., :2]
            keep = down & (np.hypot(ground[..., 0], ground[..., 1]) < self.camera.max_range_m)
            self._grids[key] = (rows[keep], cols[keep], ground[keep])
        return self._grids[key]

    def _project(self, gx, gy, shape):
        # ground points (robot frame of the camera) -> pixel coordinates, nan behind the camera
        h, w = shape
        focal, forward, up, right = self._basis(shape)
        d = np.stack([gx, gy, np.full_like(gx, -self.camera.height_m)], axis=-1)
        depth = d @ forward
        depth = np.where(depth > 1e-3, depth, np.nan)
        return (w / 2.0 + focal * (d @ right) / depth - 0.5,
                h / 2.0 - focal * (d @ up) / depth - 0.5)


def _grey(rgb: np.ndarray) -> np.ndarray:
    # float grey [0..1], block-averaged to about WORK_ROWS rows
    grey = np.asarray(rgb, np.float32).mean(axis=-1) / 255.0
    k = max(1, grey.shape[0] // WORK_ROWS)
    if k > 1:
        h, w = grey.shape[0] // k * k, grey.shape[1] // k * k
        grey = grey[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))
    return grey


def _grid(centre, extent, step) -> np.ndarray:
    axes = [np.arange(c - e, c + e + 1e-9, s) for c, e, s in zip(centre, extent, step)]
    return np.stack(np.meshgrid(*axes, indexing='ij'), axis=-1).reshape(-1, 3)


def _invert(poses: np.ndarray) -> np.ndarray:
    c, s = np.cos(poses[:, 2]), np.sin(poses[:, 2])
    return np.stack([-(c * poses[:, 0] + s * poses[:, 1]), s * poses[:, 0] - c * poses[:, 1],
                     -poses[:, 2]], axis=-1)


def _lateral(offsets: np.ndarray, yaw: float) -> np.ndarray:
    # the sideways part of position offsets [N, 3+] in the frame of heading yaw
    return -math.sin(yaw) * offsets[:, 0] + math.cos(yaw) * offsets[:, 1]
