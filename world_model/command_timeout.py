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
"""A dead-man timer for velocity commands: stop a base that would keep its last command.

Some bases (Gazebo's DiffDrive system among them) apply the last velocity they received until
a new one arrives, so a planner that dies mid-motion leaves the robot driving. A relay between
the planner and the base feeds every command through CommandTimeout and sends one zero command
when none arrived for timeout_s.
"""

import dataclasses
import math

from world_model.config import param


@dataclasses.dataclass
class CommandTimeoutConfig:
    """The cmd_vel relay: how long a command stays valid, how often that is checked."""

    timeout_s: float = param(0.5, lo=0.01, hi=60.0,
                             help='send a zero command when no command arrived for this long '
                                  '[s, steady clock]')
    check_rate_hz: float = param(20.0, lo=1.0, hi=1000.0,
                                 help='how often the timeout is checked [Hz]')
    cmd_vel_stamped: bool = param(False, help='cmd_vel_in and cmd_vel_out are '
                                              'geometry_msgs/TwistStamped instead of Twist')
    diagnostics_period_s: float = param(1.0, lo=0.1, hi=60.0,
                                        help='period of /diagnostics [s, steady clock]')


class CommandTimeout:
    """Tracks the latest command; expired() is true once per lapse, when a zero is due."""

    def __init__(self, timeout_s: float):
        self.timeout_s = float(timeout_s)
        self.last_command_time = None
        self.moving = False  # a non-zero command is in force downstream
        self.stops = 0

    def on_command(self, v: float, omega: float, now: float):
        self.last_command_time = now
        self.moving = (v, omega) != (0.0, 0.0)

    def expired(self, now: float) -> bool:
        """True when a zero command must be sent now (the last command lapsed while moving)."""
        if not self.moving or self.last_command_time is None:
            return False
        if now - self.last_command_time < self.timeout_s:
            return False
        self.moving = False
        self.stops += 1
        return True

    def age(self, now: float) -> float:
        return math.nan if self.last_command_time is None else now - self.last_command_time
