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
"""Is a goal image ambiguous? Views far from the goal that look more like it than a near one.

An image goal names a place only as far as its view differs from other views. For one goal, the
views of a dense grid of poses are compared with the goal image in one descriptor space (pixels,
latents) by RMS difference: a grid view at least `far_m` from the goal that is nearer the goal
image than the views `near_m` beside it (which would still count as reaching it) is a
look-alike, and ratio (far / near) says by how much. RMS difference is a crude likeness: a
0.15 m step scales the scene and moves every edge, so a look-alike is a hint that two places
are confusable, not proof that no agent can tell them apart (the closed loop reaches most such
goals; BENCHMARKS.md). The grid is coarse, so the look-alike found is an upper bound on the
nearest one. Evaluation only.
"""

import dataclasses
import math

import numpy as np


@dataclasses.dataclass(frozen=True)
class Ambiguity:
    """One goal's look-alike test in one descriptor space."""

    near: float  # median distance of the goal image to the views near_m beside the goal
    far: float  # smallest distance to a grid view at least far_m from the goal
    far_pose: tuple[float, float, float]  # that grid view's pose
    far_gap_m: float  # its distance from the goal

    @property
    def ratio(self) -> float:
        """far / near: below 1 the goal has a look-alike (0: an identical view)."""
        return self.far / self.near if self.near > 0.0 else math.inf


def view_grid(layout, radius: float, spacing: float, headings: int) -> np.ndarray:
    """Poses [N, 3] on a square grid of the layout's free space, each at `headings` yaws."""
    xmin, xmax, ymin, ymax = layout.bounds
    xs = np.arange(xmin + radius, xmax - radius + 1e-9, spacing)
    ys = np.arange(ymin + radius, ymax - radius + 1e-9, spacing)
    cells = [(x, y) for x in xs for y in ys if layout.is_free(float(x), float(y), radius)]
    yaws = -math.pi + 2.0 * math.pi * np.arange(headings) / headings
    return np.array([(x, y, yaw) for x, y in cells for yaw in yaws], dtype=np.float64)


def near_poses(goal, near_m: float) -> np.ndarray:
    """The goal pose moved near_m forward, back, left and right, heading kept: [4, 3]."""
    x, y, yaw = (float(v) for v in goal)
    c, s = math.cos(yaw), math.sin(yaw)
    steps = ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0))
    return np.array([(x + near_m * (c * a - s * b), y + near_m * (s * a + c * b), yaw)
                     for a, b in steps])


def descriptor_distance(goal: np.ndarray, views: np.ndarray) -> np.ndarray:
    """Root-mean-square difference [N] between one descriptor and N views' (any shape)."""
    diff = views.reshape(len(views), -1).astype(np.float64) - goal.reshape(1, -1)
    return np.sqrt(np.mean(diff * diff, axis=1))


def ambiguity(goal, goal_view: np.ndarray, near_views: np.ndarray, grid: np.ndarray,
              grid_views: np.ndarray, far_m: float) -> Ambiguity:
    """The look-alike test of one goal; views are descriptors in one space (see module)."""
    gap = np.hypot(grid[:, 0] - goal[0], grid[:, 1] - goal[1])
    far = np.flatnonzero(gap >= far_m)
    if far.size == 0:
        raise ValueError(f'no grid view is {far_m} m or more from the goal')
    distances = descriptor_distance(goal_view, grid_views[far])
    best = int(np.argmin(distances))
    pose = grid[far[best]]
    return Ambiguity(near=float(np.median(descriptor_distance(goal_view, near_views))),
                     far=float(distances[best]),
                     far_pose=tuple(round(float(v), 3) for v in pose),
                     far_gap_m=float(gap[far[best]]))
