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
"""cmd_vel_relay and nav2_goal_relay in their own processes, driven over DDS."""

import math
import signal

from geometry_msgs.msg import PoseStamped, Twist
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from ros_process import NodeProcess, peer_node, spin_until

from agent_node.conversions.outputs import set_pose

pytestmark = [pytest.mark.ros, pytest.mark.slow]

RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


def twist(v, omega=0.0) -> Twist:
    msg = Twist()
    msg.linear.x, msg.angular.z = v, omega
    return msg


def test_cmd_vel_relay_forwards_then_stops_the_base_when_commands_stop():
    relay = NodeProcess('agent_node.cmd_vel_relay_node', params={'timeout_s': 0.3},
                        remaps={'cmd_vel_in': 'planner/cmd_vel', 'cmd_vel_out': 'base/cmd_vel'})
    with relay, peer_node('relay_test') as peer:
        out = []
        peer.create_subscription(Twist, 'base/cmd_vel', out.append, RELIABLE)
        pub = peer.create_publisher(Twist, 'planner/cmd_vel', RELIABLE)
        assert spin_until(peer, lambda: pub.get_subscription_count() > 0 and
                          peer.count_publishers('base/cmd_vel') > 0, 30.0), relay.output()

        def moving():
            pub.publish(twist(0.4, 0.2))
            return any(m.linear.x == pytest.approx(0.4) for m in out)

        assert spin_until(peer, moving, 10.0), relay.output()
        # The planner dies: no more commands. One zero must follow within the timeout.
        count = len(out)
        assert spin_until(peer, lambda: len(out) > count and out[-1].linear.x == 0.0
                          and out[-1].angular.z == 0.0, 5.0), relay.output()
        assert 'zero velocity sent' in relay.output()
        # A non-finite command is never forwarded: zero instead, and the relay keeps serving.
        count = len(out)
        pub.publish(twist(math.nan, 0.1))
        assert spin_until(peer, lambda: len(out) > count, 5.0)
        assert all(math.isfinite(m.linear.x) for m in out) and out[-1].linear.x == 0.0
        assert spin_until(peer, moving, 5.0) and relay.alive()


def test_cmd_vel_relay_stops_the_base_on_shutdown_before_its_timeout():
    # a 30 s timeout: only the exit path can send the zero within this test
    relay = NodeProcess('agent_node.cmd_vel_relay_node', params={'timeout_s': 30.0},
                        remaps={'cmd_vel_in': 'planner/cmd_vel', 'cmd_vel_out': 'base/cmd_vel'})
    with relay, peer_node('relay_exit_test') as peer:
        out = []
        peer.create_subscription(Twist, 'base/cmd_vel', out.append, RELIABLE)
        pub = peer.create_publisher(Twist, 'planner/cmd_vel', RELIABLE)
        assert spin_until(peer, lambda: pub.get_subscription_count() > 0 and
                          peer.count_publishers('base/cmd_vel') > 0, 30.0), relay.output()

        def moving():
            pub.publish(twist(0.4, 0.2))
            return any(m.linear.x == pytest.approx(0.4) for m in out)

        assert spin_until(peer, moving, 10.0), relay.output()
        spin_until(peer, lambda: False, 0.5)  # take what is still in flight
        assert out[-1].linear.x == pytest.approx(0.4)
        # Shutdown (SIGINT, as ros2 launch sends) leaves the base stopped.
        relay.proc.send_signal(signal.SIGINT)
        assert spin_until(peer, lambda: out[-1].linear.x == 0.0, 10.0), relay.output()
        assert relay.proc.wait(15) == 0, relay.output()
        assert out[-1].angular.z == 0.0


def estimate(x, y, yaw, frame='odom') -> PoseStamped:
    msg = PoseStamped()
    msg.header.frame_id = frame
    set_pose(msg.pose, x, y, yaw)
    return msg


def test_nav2_goal_relay_sends_the_goal_estimate_once_and_then_real_changes():
    relay = NodeProcess('agent_node.nav2_goal_relay_node',
                        params={'min_interval_s': 0.0, 'min_distance_m': 0.3})
    with relay, peer_node('goal_relay_test') as peer:
        goals = []
        peer.create_subscription(PoseStamped, 'goal_pose', goals.append, RELIABLE)
        pub = peer.create_publisher(PoseStamped, 'world_model/goal_pose_estimate', RELIABLE)
        assert spin_until(peer, lambda: pub.get_subscription_count() > 0 and
                          peer.count_publishers('goal_pose') > 0, 30.0), relay.output()

        def first_goal():  # until the relay's goal_pose matched us; repeats are the same goal
            pub.publish(estimate(1.0, 2.0, 0.5))
            return len(goals) >= 1

        assert spin_until(peer, first_goal, 10.0), relay.output()
        spin_until(peer, lambda: False, 0.5)
        assert len(goals) == 1, relay.output()
        assert goals[0].header.frame_id == 'odom'  # bt_navigator transforms it with tf
        assert (goals[0].pose.position.x, goals[0].pose.position.y) == (1.0, 2.0)
        for _ in range(5):  # refinements of the same goal: Nav2 must not replan
            pub.publish(estimate(1.05, 2.05, 0.5))
        pub.publish(estimate(math.nan, 0.0, 0.0))  # ignored, counted, node keeps serving
        pub.publish(estimate(3.0, 2.0, 0.5, frame=''))  # no frame: Nav2 could not place it
        pub.publish(estimate(3.0, 2.0, 0.5))
        assert spin_until(peer, lambda: len(goals) == 2, 10.0), relay.output()
        spin_until(peer, lambda: False, 0.5)
        assert len(goals) == 2 and goals[1].pose.position.x == 3.0
        assert 'non-finite' in relay.output() and 'without frame_id' in relay.output()
        assert relay.alive()


def test_nav2_goal_relay_holds_estimates_until_a_navigator_subscribes():
    from diagnostic_msgs.msg import DiagnosticArray

    relay = NodeProcess('agent_node.nav2_goal_relay_node',
                        params={'min_interval_s': 0.0, 'diagnostics_period_s': 0.2})
    with relay, peer_node('goal_relay_late') as peer:
        unheard = []

        def on_diagnostics(msg):
            unheard.extend(int(kv.value) for s in msg.status if 'goal relay' in s.name
                           for kv in s.values if kv.key == 'estimates_without_subscriber')

        peer.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, RELIABLE)
        pub = peer.create_publisher(PoseStamped, 'world_model/goal_pose_estimate', RELIABLE)

        def estimate_unheard():  # the relay took an estimate while no one subscribed goal_pose
            pub.publish(estimate(1.0, 2.0, 0.5))
            return any(n > 0 for n in unheard)

        assert spin_until(peer, estimate_unheard, 30.0), relay.output()
        spin_until(peer, lambda: False, 0.5)  # the relay takes what is still in flight
        assert 'Nav2 goal sent' not in relay.output()
        # bt_navigator comes up late: a refinement within min_distance_m is its first goal
        goals = []
        peer.create_subscription(PoseStamped, 'goal_pose', goals.append, RELIABLE)

        def refined():
            pub.publish(estimate(1.05, 2.0, 0.5))
            return len(goals) >= 1

        assert spin_until(peer, refined, 30.0), relay.output()
        # an estimate still queued at the relay may be the first heard: either is the goal
        assert goals[0].pose.position.x in (1.0, 1.05) and relay.alive()


def test_relays_report_on_diagnostics_as_node_and_task_with_the_host():
    import socket

    from diagnostic_msgs.msg import DiagnosticArray

    names = {'cmd_vel_relay: command relay', 'nav2_goal_relay: goal relay'}
    relays = [NodeProcess('agent_node.cmd_vel_relay_node', params={'diagnostics_period_s': 0.2}),
              NodeProcess('agent_node.nav2_goal_relay_node',
                          params={'diagnostics_period_s': 0.2})]
    with relays[0], relays[1], peer_node('relay_diagnostics') as peer:
        seen = {}

        def on_diagnostics(msg):
            seen.update({s.name: s for s in msg.status if s.name in names})

        peer.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, RELIABLE)
        assert spin_until(peer, lambda: set(seen) == names, 30.0), \
            relays[0].output() + relays[1].output()
        assert all(s.hardware_id == socket.gethostname() for s in seen.values())
