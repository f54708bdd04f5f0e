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
"""ROS-free logic of the relay nodes: the command timeout and which goal estimates reach Nav2."""

import math

import pytest

from world_model.command_timeout import CommandTimeout
from world_model.goal_forwarding import GoalForwarder, GoalForwardingConfig


def test_a_lapsed_moving_command_asks_for_one_zero():
    timeout = CommandTimeout(0.5)
    assert not timeout.expired(10.0)  # nothing received yet: nothing to stop
    timeout.on_command(0.3, 0.1, now=1.0)
    assert not timeout.expired(1.49)
    assert timeout.expired(1.5)
    assert not timeout.expired(2.0) and not timeout.expired(100.0)  # once per lapse
    assert timeout.stops == 1
    timeout.on_command(0.3, 0.0, now=3.0)
    assert timeout.expired(3.6) and timeout.stops == 2


def test_a_lapsed_zero_command_needs_no_stop():
    timeout = CommandTimeout(0.5)
    timeout.on_command(0.0, 0.0, now=1.0)
    assert not timeout.expired(5.0)
    assert timeout.age(5.0) == pytest.approx(4.0)
    assert math.isnan(CommandTimeout(1.0).age(0.0))


def test_the_first_estimate_is_forwarded_then_only_real_changes():
    forwarder = GoalForwarder(GoalForwardingConfig(min_distance_m=0.3, min_turn_rad=0.5,
                                                   min_interval_s=2.0))
    assert forwarder.offer('odom', (1.0, 2.0, 0.0), now=0.0)
    assert not forwarder.offer('odom', (1.1, 2.1, 0.2), now=5.0)  # a refinement: no replan
    assert not forwarder.offer('odom', (2.0, 2.0, 0.0), now=1.0)  # moved, but too soon
    assert forwarder.offer('odom', (2.0, 2.0, 0.0), now=2.5)
    assert forwarder.offer('odom', (2.0, 2.0, 3.0), now=5.0)  # turned
    assert not forwarder.offer('odom', (2.0, 2.0, -3.2), now=8.0)  # the same heading, wrapped
    assert forwarder.offer('map', (2.0, 2.0, -3.2), now=11.0)  # another frame is another goal
    assert forwarder.sent == 4
    assert forwarder.last_sent == ('map', (2.0, 2.0, -3.2))
