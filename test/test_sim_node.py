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
"""sim_node in its own process, driven over DDS by an rclpy node in the test process."""

import math
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
import numpy as np
import pytest
from rcl_interfaces.srv import SetParameters
from rclpy.parameter import Parameter
from rclpy.qos import (
    DurabilityPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)
from ros_process import NodeProcess, call_service, peer_node, spin_until
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image
from std_srvs.srv import Trigger

pytestmark = [pytest.mark.ros, pytest.mark.slow]

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
BEST_EFFORT = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)


def pose_of(msg: Odometry):
    q = msg.pose.pose.orientation
    return (msg.pose.pose.position.x, msg.pose.pose.position.y,
            2 * math.atan2(q.z, q.w))


def stamp_ns(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


class Listener:
    """Collects what sim_node publishes, with wall arrival times."""

    def __init__(self, node):
        self.node = node
        self.images, self.odom, self.truth, self.goal, self.clock, self.diag = ([] for _ in
                                                                                range(6))
        clock = node.get_clock()

        def keep(store):
            return lambda msg: store.append((clock.now().nanoseconds * 1e-9, msg))

        node.create_subscription(Image, 'camera/image_raw', keep(self.images),
                                 qos_profile_sensor_data)
        node.create_subscription(Odometry, 'odom', keep(self.odom), qos_profile_sensor_data)
        node.create_subscription(Odometry, 'ground_truth/odom', keep(self.truth),
                                 qos_profile_sensor_data)
        node.create_subscription(Image, 'goal_image', keep(self.goal), LATCHED)
        node.create_subscription(Clock, '/clock', keep(self.clock), BEST_EFFORT)
        node.create_subscription(DiagnosticArray, '/diagnostics', keep(self.diag), RELIABLE)

    def wait(self, predicate, timeout=10.0):
        return spin_until(self.node, predicate, timeout)

    def pose(self):
        return pose_of(self.truth[-1][1])

    def diagnostics(self) -> dict:
        for _, array in reversed(self.diag):
            for status in array.status:
                if status.name == 'sim_node: simulator':
                    return {kv.key: kv.value for kv in status.values}
        return {}


def call(node, client, request, timeout=10.0):
    # Parameters are resent while unanswered (idempotent); a reset is sent once.
    resend_after = 2.0 if isinstance(request, SetParameters.Request) else None
    response = call_service(node, client, request, timeout, resend_after)
    assert response is not None, f'{client.srv_name} did not answer'
    return response


def test_timer_mode_publishes_moves_resets_and_survives_bad_commands():
    params = {'image_width': 32, 'image_height': 32, 'layout': 'open', 'seed': 1,
              'start_pose': [0.0, 0.0, 0.0], 'goal_pose': [1.0, 1.0, 0.5],
              'publish_clock': True, 'cmd_timeout': 0.5}
    with NodeProcess('agent_node.sim_node', params=params) as sim, peer_node() as node:
        assert sim.wait_for_output('sim_node ready'), sim.output()
        heard = Listener(node)
        assert heard.wait(lambda: len(heard.images) >= 3 and heard.goal and heard.truth,
                          20.0), sim.output()

        # Rate: 10 Hz at real_time_factor 1 (control_period 0.1 s), within +-30 %: counted over
        # a window, as arrival times bunch up whenever the test process is not scheduled.
        images, odom = len(heard.images), len(heard.odom)
        start = time.monotonic()
        heard.wait(lambda: False, 3.0)
        elapsed = time.monotonic() - start
        rate = (len(heard.images) - images) / elapsed
        assert 7.0 < rate < 13.0, rate
        rate = (len(heard.odom) - odom) / elapsed
        assert 7.0 < rate < 13.0, rate
        image = heard.images[-1][1]
        assert (image.width, image.height, image.encoding) == (32, 32, 'rgb8')
        goal = heard.goal[-1][1]
        assert (goal.width, goal.height) == (32, 32)
        # Simulated clock: consecutive frames are one control period apart, /clock matches.
        stamps = [stamp_ns(m) for _, m in heard.images[-5:]]
        assert set(np.diff(stamps)) == {100_000_000}
        assert heard.wait(lambda: set(stamps) <= {c.clock.sec * 1_000_000_000 + c.clock.nanosec
                                                  for _, c in heard.clock}, 2.0)
        np.testing.assert_allclose(heard.pose(), (0.0, 0.0, 0.0), atol=1e-9)

        # A reliable Twist publisher drives the robot forward (best-effort subscription).
        cmd = node.create_publisher(Twist, 'cmd_vel', RELIABLE)
        # matched first: the drive below is a fixed window
        assert heard.wait(lambda: cmd.get_subscription_count() > 0, 10.0)
        forward = Twist()
        forward.linear.x = 0.4
        for _ in range(15):
            cmd.publish(forward)
            heard.wait(lambda: False, 0.1)
        x, y, yaw = heard.pose()
        assert x > 0.3 and abs(y) < 1e-6 and abs(yaw) < 1e-6, (x, y, yaw)
        # cmd_timeout: without commands the robot stops.
        assert heard.wait(lambda: abs(heard.truth[-1][1].twist.twist.linear.x) < 1e-9, 5.0), \
            heard.truth[-1][1].twist.twist

        # Non-finite commands are ignored and counted; the node keeps publishing.
        bad = Twist()
        bad.linear.x = float('nan')
        for _ in range(5):
            cmd.publish(bad)
            heard.wait(lambda: False, 0.05)
        stopped = heard.pose()
        count = len(heard.images)
        assert heard.wait(lambda: heard.diagnostics().get('bad_cmd_vel') == '5', 5.0), \
            heard.diagnostics()
        # images and diagnostics are separate topics: wait for the next image
        assert heard.wait(lambda: len(heard.images) > count, 5.0) and sim.alive()
        np.testing.assert_allclose(heard.pose(), stopped, atol=1e-9)
        # once per burst: the first line in full; a later summary only quotes 'latest: ...'
        assert sim.output().count('bad_cmd_vel: ignoring non-finite cmd_vel') == 1, sim.output()

        # Set parameters, then sim/reset starts the new episode from them.
        params_client = node.create_client(SetParameters, '/sim_node/set_parameters')
        reset = node.create_client(Trigger, 'sim/reset')
        assert params_client.wait_for_service(timeout_sec=5.0)
        assert reset.wait_for_service(timeout_sec=5.0)
        request = SetParameters.Request(parameters=[
            Parameter('layout', value='two_rooms').to_parameter_msg(),
            Parameter('start_pose', value=[-1.0, 0.5, 1.0]).to_parameter_msg()])
        results = call(node, params_client, request).results
        assert all(r.successful for r in results), [r.reason for r in results]
        rejected = call(node, params_client, SetParameters.Request(parameters=[
            Parameter('fov_deg', value=500.0).to_parameter_msg()])).results[0]
        assert not rejected.successful and 'fov_deg' in rejected.reason
        goals = len(heard.goal)
        result = call(node, reset, Trigger.Request())
        assert result.success and 'two_rooms' in result.message, result.message
        assert heard.wait(lambda: np.allclose(heard.pose(), (-1.0, 0.5, 1.0), atol=1e-6),
                          5.0), heard.pose()
        assert heard.wait(lambda: len(heard.goal) > goals, 5.0)  # goal image republished
        # A start pose inside the dividing wall is refused, naming why.
        call(node, params_client, SetParameters.Request(parameters=[
            Parameter('start_pose', value=[0.0, 1.5, 0.0]).to_parameter_msg()]))
        result = call(node, reset, Trigger.Request())
        assert not result.success and 'collides' in result.message
        assert sim.alive()
    assert sim.proc.returncode == 0, sim.output()


def test_lockstep_steps_once_per_stamped_command():
    params = {'image_width': 16, 'image_height': 16, 'start_pose': [0.0, 0.0, 0.0],
              'step_mode': 'lockstep', 'lockstep_timeout': 30.0, 'cmd_vel_stamped': True}
    with NodeProcess('agent_node.sim_node', params=params) as sim, peer_node() as node:
        assert sim.wait_for_output('sim_node ready'), sim.output()
        heard = Listener(node)
        # A best-effort publisher is accepted too.
        cmd = node.create_publisher(TwistStamped, 'cmd_vel', BEST_EFFORT)
        command = TwistStamped()
        command.twist.linear.x = 0.5
        command.twist.angular.z = 0.5
        assert heard.wait(lambda: cmd.get_subscription_count() > 0, 10.0)
        heard.wait(lambda: False, 0.5)
        assert not heard.images  # no command, no step
        sent = 0
        for _ in range(20):
            before = len(heard.images)
            cmd.publish(command)
            sent += 1
            if not heard.wait(lambda: len(heard.images) > before, 5.0):  # noqa: B023
                break
        assert len(heard.images) == sent, (len(heard.images), sent)
        x, y, yaw = heard.pose()
        assert x > 0.3 and y > 0.05 and yaw > 0.5, (x, y, yaw)
        count = len(heard.images)
        heard.wait(lambda: False, 1.0)
        assert len(heard.images) == count  # lockstep: no command, no step
        assert sim.alive()


def test_out_of_range_parameter_exits_non_zero_naming_it():
    sim = NodeProcess('agent_node.sim_node', params={'fov_deg': 500.0}).start()
    try:
        sim.proc.wait(30)
    finally:
        code = sim.stop()
    assert code != 0
    assert 'fov_deg' in sim.output() and '[20.0, 160.0]' in sim.output(), sim.output()
