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
"""Stall detection: the robot commands translation but its odometry does not move.

A wheel caught on a door jamb or a wall the predicted futures did not foresee: the planner keeps
choosing the same blocked motion. Like Nav2's progress checker handing over to its back-up
recovery, a stall is declared when every command of the last time_s asked for translation and
the odometry moved less than distance_m; the planner then backs off (Recovery, used by
world_model.planning.decision). A planner that keeps choosing to stand still while it drives
(its target square to the side, where its 1 s horizon sees no gain in turning first; an
exploration point beyond a wall) makes no progress either: standstill_time_s of such plans
is a stall too.
"""

from collections import deque
import math

IDLE_SPEED = 0.02  # [m/s] a planned command slower than this ...
IDLE_TURN = 0.1  # [rad/s] ... and turning slower than this stands still


def idle_command(command) -> bool:
    """A planned (v, omega) that stands still."""
    return abs(command[0]) < IDLE_SPEED and abs(command[1]) < IDLE_TURN


class StallDetector:
    """No progress over a window of commands that asked for translation."""

    def __init__(self, min_speed: float = 0.05):
        self.min_speed = min_speed  # [m/s] a command below this does not ask for translation
        self.samples = deque()  # (t, x, y) while the command asks for translation

    def reset(self):
        self.samples.clear()

    def update(self, t: float, pose, commanded_v: float, time_s: float,
               distance_m: float) -> bool:
        """One odometry pose at robot time t (its stamp) under the last v; True: stalled."""
        if abs(commanded_v) < self.min_speed:
            self.samples.clear()  # turning on the spot or standing is not a stall
            return False
        samples = self.samples
        samples.append((t, float(pose[0]), float(pose[1])))
        while len(samples) > 1 and t - samples[1][0] >= time_s:
            samples.popleft()  # the oldest kept sample is the newest one time_s old
        t0, x0, y0 = samples[0]
        return t - t0 >= time_s and math.hypot(pose[0] - x0, pose[1] - y0) < distance_m


class Recovery:
    """A stall starts a back-off of recovery_time_s; config: the planner's DecisionConfig."""

    def __init__(self):
        self.detector = StallDetector()
        self.until = None  # robot time the back-off ends
        self.count = 0  # back-offs so far
        self.idle_since = None  # (t, x, y) when the plans began to stand still
        self.cause = ''  # why the last back-off started, for the log

    def observe(self, t: float, pose, commanded_v: float, config, idle: bool = False) -> bool:
        """Feed one odometry pose while driving (idle: the last plan stood still); True when
        it starts a back-off."""
        if not config.recovery:
            return False
        if self.detector.update(t, pose, commanded_v, config.stall_time_s,
                                config.stall_distance_m):
            self.cause = f'stalled: no progress for {config.stall_time_s:g} s of driving'
        elif self._standing(t, pose, idle, config):
            self.cause = f'stalled: planned to stand still for {config.standstill_time_s:g} s'
        else:
            return False
        self.until, self.count, self.idle_since = t + config.recovery_time_s, self.count + 1, None
        return True

    def _standing(self, t: float, pose, idle: bool, config) -> bool:
        if not idle or self.idle_since is not None and t < self.idle_since[0]:
            self.idle_since = (t, float(pose[0]), float(pose[1])) if idle else None
            return False
        if self.idle_since is None:
            self.idle_since = (t, float(pose[0]), float(pose[1]))
        t0, x0, y0 = self.idle_since
        if t - t0 < config.standstill_time_s:
            return False
        if math.hypot(pose[0] - x0, pose[1] - y0) < config.stall_distance_m:
            return True
        self.idle_since = (t, float(pose[0]), float(pose[1]))  # it coasted: count from here
        return False

    def active(self, now: float | None) -> bool:
        return self.until is not None and now is not None and now < self.until

    def end(self):
        self.until = self.idle_since = None
        self.detector.reset()

    def command(self, config) -> tuple[float, float]:
        """(v, omega): back up, turning left and right on alternate stalls."""
        turn = config.recovery_turn * (1.0 if self.count % 2 else -1.0)
        return -config.recovery_speed, turn
