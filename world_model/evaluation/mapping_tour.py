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
"""The mapping tour: a scripted teleoperator that drives the robot around before the episodes.

It stands in for a person driving the robot to build its map, so it steers on the simulator's
ground truth (the agent's nodes never see it). Seeded waypoints on a grid over the free space,
room by room (for 'two_rooms' through the door at x = 0), visited in a serpentine; at some
waypoints the robot turns a full circle on the spot so that keyframes see every heading (goal
images have arbitrary headings). A pure-pursuit controller on the true pose, within the limits.
When the list ends the tour runs it backwards, so any number of steps can be driven.
"""

import dataclasses
import math

import numpy as np

from world_model import geometry
from world_model.config import param, validate
from world_model.envs.exploration import ActionLimits
from world_model.envs.layouts import Layout


@dataclasses.dataclass
class MappingTourConfig:
    """Waypoint grid and controller gains of the mapping tour."""

    spacing: float = param(0.7, lo=0.2, hi=5.0, help='waypoint grid spacing [m]')
    clearance: float = param(0.2, lo=0.0, hi=2.0,
                             help='waypoints clear every block by robot radius + this [m]')
    jitter: float = param(0.08, lo=0.0, hi=1.0, help='seeded waypoint jitter [m]')
    spin_fraction: float = param(0.5, lo=0.0, hi=1.0,
                                 help='share of waypoints with a full turn on the spot')
    speed: float = param(0.7, lo=0.05, hi=1.0, help='cruise speed, fraction of the limit')
    turn_rate: float = param(0.8, lo=0.05, hi=1.0, help='turn rate, fraction of the limit')
    tolerance: float = param(0.12, lo=0.02, hi=1.0, help='a waypoint is reached within this [m]')
    give_up_steps: int = param(150, lo=10, hi=100_000,
                               help='steps before an unreachable waypoint is skipped')


@dataclasses.dataclass(frozen=True)
class Waypoint:
    x: float
    y: float
    spin: bool


def rooms_of(layout: Layout) -> list[tuple[float, float]]:
    """x ranges of the layout's rooms (two for 'two_rooms', split by the wall at x = 0)."""
    if layout.name == 'two_rooms':
        return [(-layout.half, 0.0), (0.0, layout.half)]
    return [(-layout.half, layout.half)]


def plan_tour(layout: Layout, radius: float, seed: int,
              config: MappingTourConfig | None = None) -> list[Waypoint]:
    """Seeded waypoints: serpentine per room, rooms joined through the door (two_rooms)."""
    cfg = validate(config or MappingTourConfig())
    rng = np.random.default_rng([seed, 31])
    keep = radius + cfg.clearance
    rooms = rooms_of(layout)
    if rng.random() < 0.5:
        rooms = rooms[::-1]
    waypoints = []
    for number, (lo, hi) in enumerate(rooms):
        xs = np.arange(lo + keep + 0.1, hi - keep - 0.1 + 1e-9, cfg.spacing)
        xs = xs + (hi - keep - 0.1 - xs[-1]) / 2  # centred in the room
        ys = np.arange(-layout.half + keep + 0.1, layout.half - keep - 0.1 + 1e-9, cfg.spacing)
        ys = ys + (layout.half - keep - 0.1 - ys[-1]) / 2
        columns = list(xs)
        # end the first room at the column nearest the door, start the next one there
        door_last = abs(columns[-1]) < abs(columns[0])
        if (number == 0) != door_last:
            columns = columns[::-1]
        flip = bool(rng.random() < 0.5)
        for i, x in enumerate(columns):
            column = ys if (i % 2 == 0) != flip else ys[::-1]
            for y in column:
                px, py = (float(v + rng.uniform(-cfg.jitter, cfg.jitter)) for v in (x, y))
                if layout.is_free(px, py, keep):
                    waypoints.append(Waypoint(px, py, bool(rng.random() < cfg.spin_fraction)))
        if layout.name == 'two_rooms' and number == 0:
            side = -1.0 if lo < 0 else 1.0  # through the door at x = 0, |y| < 0.45
            waypoints += [Waypoint(side * 0.45, 0.0, False), Waypoint(-side * 0.45, 0.0, False)]
    return _reachable(layout, waypoints, radius)


def _reachable(layout: Layout, waypoints: list[Waypoint], radius: float) -> list[Waypoint]:
    """Drop waypoints that a straight line from the previous kept one cannot reach."""
    kept = waypoints[:1]
    for point in waypoints[1:]:
        if segment_clear(layout, (kept[-1].x, kept[-1].y), (point.x, point.y), radius):
            kept.append(point)
    return kept


def segment_clear(layout: Layout, a, b, radius: float, step: float = 0.05) -> bool:
    n = max(2, int(math.hypot(b[0] - a[0], b[1] - a[1]) / step) + 1)
    return all(layout.is_free(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), radius)
               for t in np.linspace(0.0, 1.0, n))


class MappingTour:
    """Drives the tour: act(true_pose) -> (v, omega), one call per control step.

    tour = MappingTour(layout, sim_config.robot_radius, ActionLimits.from_config(sim_config), 0)
    step = sim.reset(seed=0, pose=tour.start)
    for _ in range(n): step = sim.step(tour.act(step.true_pose))
    """

    def __init__(self, layout: Layout, radius: float, limits: ActionLimits, seed: int,
                 config: MappingTourConfig | None = None):
        self.config = validate(config or MappingTourConfig())
        self.limits = limits
        self.waypoints = plan_tour(layout, radius, seed, self.config)
        if len(self.waypoints) < 2:
            raise ValueError(f'no mapping tour in layout {layout.name!r}: fewer than two free '
                             f'waypoints')
        first, second = self.waypoints[0], self.waypoints[1]
        self.start = (first.x, first.y, math.atan2(second.y - first.y, second.x - first.x))
        self._order = list(range(1, len(self.waypoints)))
        self._target = 0
        self._forward = True
        self._spinning = None  # yaw turned so far in the current full turn
        self._last_yaw = None
        self._since = 0
        self.visited = 0  # waypoints reached
        self.skipped = 0  # waypoints given up on

    @property
    def target(self) -> Waypoint:
        return self.waypoints[self._order[self._target]]

    def act(self, true_pose) -> np.ndarray:
        x, y, yaw = (float(v) for v in true_pose)
        cfg, lim = self.config, self.limits
        turn = cfg.turn_rate * lim.max_angular
        if self._spinning is not None:
            self._spinning += abs(geometry.wrap_angle(yaw - self._last_yaw))
            self._last_yaw = yaw
            if self._spinning < 2 * math.pi:
                return np.array([0.0, turn])
            self._spinning = None
            self._advance()
        target = self.target
        self._since += 1
        dx, dy = target.x - x, target.y - y
        if math.hypot(dx, dy) < cfg.tolerance or self._since > cfg.give_up_steps:
            if self._since > cfg.give_up_steps:
                self.skipped += 1
            else:
                self.visited += 1
            if target.spin and self._since <= cfg.give_up_steps:
                self._spinning, self._last_yaw = 0.0, yaw
                return np.array([0.0, turn])
            self._advance()
            target = self.target
            dx, dy = target.x - x, target.y - y
        error = geometry.wrap_angle(math.atan2(dy, dx) - yaw)
        omega = float(np.clip(2.5 * error, -turn, turn))
        if abs(error) > 0.6:
            return np.array([0.0, omega])  # face the waypoint first, then drive
        v = cfg.speed * lim.max_linear * math.cos(error) * min(1.0, math.hypot(dx, dy) / 0.3)
        return lim.clip([max(v, 0.05), omega])

    def _advance(self):
        self._since = 0
        self._target += 1
        if self._target == len(self._order):
            # back along the same route: every leg was checked clear, both ways
            self._forward = not self._forward
            n = len(self.waypoints)
            self._order = list(range(1, n)) if self._forward else list(range(n - 2, -1, -1))
            self._target = 0
