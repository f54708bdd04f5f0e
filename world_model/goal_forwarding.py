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
"""Which world-model goal estimates to pass on to a navigation stack (Nav2's bt_navigator).

The world model re-localises an image goal on every camera frame, a little differently each
time. bt_navigator starts a new NavigateToPose goal for every message on its goal_pose topic,
so forwarding every estimate would replan about ten times a second. GoalForwarder passes the
first estimate, then only one that moved or turned far enough from the last one sent, and not
more often than min_interval_s.
"""

import dataclasses
import math

from world_model import geometry
from world_model.config import param


@dataclasses.dataclass
class GoalForwardingConfig:
    """The Nav2 goal relay: when a refined goal estimate is worth a new navigation goal."""

    min_distance_m: float = param(0.3, lo=0.0, hi=1000.0,
                                  help='forward an estimate only when it is this far from the '
                                       'last goal sent [m]')
    min_turn_rad: float = param(0.5, lo=0.0, hi=math.pi,
                                help='... or when its heading differs by this much [rad]')
    min_interval_s: float = param(2.0, lo=0.0, hi=3600.0,
                                  help='least time between two goals sent: each one makes Nav2 '
                                       'replan [s, steady clock]')
    diagnostics_period_s: float = param(1.0, lo=0.1, hi=60.0,
                                        help='period of /diagnostics [s, steady clock]')


class GoalForwarder:
    """offer(frame, pose, now) -> True when this estimate should be sent as a new goal."""

    def __init__(self, config: GoalForwardingConfig):
        self.config = config
        self.last_sent = None  # (frame_id, (x, y, yaw))
        self.last_sent_time = None
        self.sent = 0

    def offer(self, frame_id: str, pose, now: float) -> bool:
        pose = tuple(float(v) for v in pose)
        if self.last_sent is not None:
            frame, (x, y, yaw) = self.last_sent
            moved = math.hypot(pose[0] - x, pose[1] - y) >= self.config.min_distance_m
            turned = abs(geometry.wrap_angle(pose[2] - yaw)) >= self.config.min_turn_rad
            if frame == frame_id and not (moved or turned):
                return False
            if now - self.last_sent_time < self.config.min_interval_s:
                return False
        self.last_sent, self.last_sent_time = (frame_id, pose), now
        self.sent += 1
        return True
