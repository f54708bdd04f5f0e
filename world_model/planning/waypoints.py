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
"""Which waypoint of a chain the latent MPC drives to next (ROS-free, like Nav2's helpers).

The chain comes from a graph search over the latent map (world_model.memory) and ends at the
goal. The MPC's horizon is short, so it is given a target `lookahead` ahead: far enough to keep
moving, near enough that the straight line to it stays on the traversed path (around the
corner of a door, not through the wall). point_along (the default) takes the point that far
along the path from the robot's foot on it, nearer when the robot is off the path, so that it
rejoins the path first; next_waypoint's vertex rule takes the first waypoint that far, or a
sharp turn of the chain (a door's corner) before it. Beside a door's jamb the vertex ahead can
lie across the jamb's end; the point along the path does not (test_waypoints.py). A route that
runs out to a keyframe beside the robot and comes back past it is joined where it comes back
within detour_reach (foot_past_detours): followed out and back, its target stayed behind the
robot, which stood there for 190 steps of an open-arena episode (BENCHMARKS.md, twelfth
session).
"""

import math

import numpy as np

from world_model import geometry

DETOUR_MIN_M = 0.2  # a detour: the path to a later stretch this much longer than the line


def _feet(chain, position) -> tuple[np.ndarray, np.ndarray]:
    # each segment's point nearest position [S, 2], and its distance from it [S]
    points = np.asarray(chain, dtype=np.float64)[:, :2]
    a, b = points[:-1], points[1:]
    ab = b - a
    length2 = np.maximum((ab ** 2).sum(axis=1), 1e-12)
    t = np.clip(((np.asarray(position[:2]) - a) * ab).sum(axis=1) / length2, 0.0, 1.0)
    closest = a + t[:, None] * ab
    return closest, np.hypot(*(closest - np.asarray(position[:2])).T)


def foot_on_chain(chain: np.ndarray, position) -> tuple[int, np.ndarray]:
    """(i, foot): the chain segment [i, i + 1] nearest to position and the point (2,) of it
    nearest to position ((0, the point) for a single point)."""
    if len(chain) < 2:
        return 0, np.asarray(chain, dtype=np.float64)[0, :2].copy()
    closest, distance = _feet(chain, position)
    i = int(np.argmin(distance))
    return i, closest[i]


def foot_past_detours(chain: np.ndarray, position, reach: float) -> tuple[int, np.ndarray]:
    """foot_on_chain, but where the chain leaves the robot and comes back within reach [m] of
    it, by DETOUR_MIN_M more path than the straight line (a graph route through a keyframe off
    to the side), the foot where it comes back. A reach below the robot's width leaves no room
    for a wall between: a chain that comes back on the far side of a wall is not joined
    (test_waypoints.py)."""
    if len(chain) < 2 or reach <= 0.0:  # 0: never, even on a later stretch exactly
        return foot_on_chain(chain, position)
    closest, distance = _feet(chain, position)
    i = int(np.argmin(distance))
    points = np.asarray(chain, dtype=np.float64)[:, :2]
    start = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])[:-1]
    arc = start + np.hypot(*(closest - points[:-1]).T)  # path length to each segment's foot
    for k in range(len(closest) - 1, i, -1):
        if distance[k] <= reach and arc[k] - arc[i] - np.hypot(
                *(closest[k] - closest[i])) >= DETOUR_MIN_M:
            return k, closest[k]
    return i, closest[i]


def nearest_segment(chain: np.ndarray, position) -> int:
    """Index i of the chain segment [i, i + 1] nearest to position (0 for a single point)."""
    return foot_on_chain(chain, position)[0]


def turns(chain: np.ndarray) -> np.ndarray:
    """[M] how far the chain's direction turns at each pose [rad]; 0 at both ends."""
    xy = np.asarray(chain, dtype=np.float64)[:, :2]
    out = np.zeros(len(xy))
    if len(xy) > 2:
        d = np.diff(xy, axis=0)
        heading = np.arctan2(d[:, 1], d[:, 0])
        out[1:-1] = np.abs(geometry.wrap_angle(np.diff(heading)))
    return out


def point_along(chain, pose, lookahead: float, detour_reach: float = 0.0) -> np.ndarray:
    """The chain point lookahead metres of path past the robot's foot on its nearest segment,
    less the robot's distance off the chain (off the driven path, it rejoins the path before
    it follows it: a robot beside a door's jamb aims into the door, not across the jamb); the
    goal when the chain ends sooner. Its heading is the next chain pose's. detour_reach > 0:
    the foot is taken past a detour (foot_past_detours)."""
    chain = np.asarray(chain, dtype=np.float64)
    if len(chain) < 2:
        return chain[-1].copy()
    i, foot = foot_past_detours(chain, pose, detour_reach)
    left = max(lookahead - float(np.hypot(*(np.asarray(pose[:2], np.float64) - foot))), 0.0)
    point, j = foot, i + 1
    while j < len(chain):
        step = float(np.hypot(*(chain[j, :2] - point)))
        if step >= left:
            xy = point + (chain[j, :2] - point) * (left / max(step, 1e-12))
            return np.array([xy[0], xy[1], chain[j, 2]])
        left -= step
        point, j = chain[j, :2], j + 1
    return chain[-1].copy()


def next_waypoint(chain, pose, lookahead: float, corner_rad: float = math.pi,
                  along_path: bool = False, detour_reach: float = 0.0) -> np.ndarray:
    """The first chain pose after the segment nearest pose that is >= lookahead away, or a
    corner before it (the chain turns >= corner_rad there) more than lookahead / 4 away: a
    door's corner is driven to, not cut across the jamb [3]. along_path: point_along instead
    (with detour_reach).

    The goal (the chain's last pose) when no waypoint is that far.
    """
    chain = np.asarray(chain, dtype=np.float64)
    if chain.ndim != 2 or chain.shape[1] != 3 or not len(chain):
        raise ValueError(f'chain must be [M, 3] with M >= 1, got {list(chain.shape)}')
    if along_path:
        return point_along(chain, pose, lookahead, detour_reach)
    start = nearest_segment(chain, pose) + 1
    position = np.asarray(pose, dtype=np.float64)[:2]
    corner = turns(chain) >= corner_rad if corner_rad < math.pi else np.zeros(len(chain), bool)
    for i in range(start, len(chain)):
        distance = np.hypot(*(chain[i, :2] - position))
        if distance >= lookahead or corner[i] and distance > lookahead / 4:
            return chain[i].copy()
    return chain[-1].copy()
