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
"""The cmd_vel type check without DDS: which subscribers mismatch, what to switch to, advice."""

from agent_node.ros.cmd_vel_output import TWIST, TWIST_STAMPED, find_mismatch

TOPIC = '/robot/cmd_vel'
CONTROLLER = ('/diff_drive_controller', TWIST_STAMPED)
RECORDER = ('/recorder', TWIST)


def describe(mismatch):
    return mismatch.describe('cmd_vel_stamped', 'cmd_vel_match_subscribers')


def test_matching_or_absent_subscribers_are_fine():
    assert find_mismatch(TOPIC, TWIST, []) is None
    assert find_mismatch(TOPIC, TWIST, [RECORDER, ('/mux', TWIST)]) is None
    assert find_mismatch(TOPIC, TWIST_STAMPED, [CONTROLLER]) is None


def test_a_stamped_controller_on_a_twist_publisher():
    mismatch = find_mismatch(TOPIC, TWIST, [CONTROLLER])
    assert mismatch.subscribers == (CONTROLLER,) and mismatch.wanted == TWIST_STAMPED
    assert describe(mismatch) == (
        '/robot/cmd_vel type mismatch: this node publishes geometry_msgs/msg/Twist but '
        'subscriber(s) /diff_drive_controller (geometry_msgs/msg/TwistStamped) take another '
        'type, so they receive nothing; set cmd_vel_stamped: true '
        '(or cmd_vel_match_subscribers: true)')


def test_a_twist_subscriber_on_a_stamped_publisher():
    mismatch = find_mismatch(TOPIC, TWIST_STAMPED, [RECORDER, ('/smoother', TWIST)])
    assert mismatch.wanted == TWIST and len(mismatch.subscribers) == 2
    assert 'set cmd_vel_stamped: false' in describe(mismatch)


def test_no_switch_when_subscribers_disagree_or_take_an_unknown_type():
    mixed = find_mismatch(TOPIC, TWIST, [RECORDER, CONTROLLER])
    assert mixed.subscribers == (CONTROLLER,) and mixed.matched == 1
    assert mixed.wanted is None  # switching would cut the recorder off
    assert 'no cmd_vel_stamped value serves every subscriber' in describe(mixed)
    both = find_mismatch(TOPIC, 'geometry_msgs/msg/Accel', [RECORDER, CONTROLLER])
    assert both.wanted is None and len(both.subscribers) == 2
    odd = find_mismatch(TOPIC, TWIST, [('/arm', 'std_msgs/msg/Float64')])
    assert odd.wanted is None and 'std_msgs/msg/Float64' in describe(odd)
