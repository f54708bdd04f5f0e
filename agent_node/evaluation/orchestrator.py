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
"""The rclpy side of the evaluation harness: service clients, subscriptions, the episode clock.

One node in the harness's own process and context. Between begin_episode(record) and
end_episode() it turns what the nodes publish into the record's add_* calls, keyed by control
step: the number of control periods since the episode's reset frame, which is the first ground
truth exactly at the start pose.
"""

import contextlib
import math
import time

import numpy as np

from agent_node.conversions.outputs import pose_of
from agent_node.evaluation.node_set import HarnessError
from world_model.evaluation.command_latency import CommandLatency
from world_model.evaluation.episodes import EpisodeSpec
from world_model.evaluation.protocol import HarnessConfig
from world_model.evaluation.records import EpisodeRecord
from world_model.planning.status import DRIVING_STATES
from world_model.sync.stamp_sync import stamp_ns

_POSE_MATCH = 1e-6  # the reset frame is the first ground truth exactly at the start pose


class EpisodeOrchestrator:
    """Drives sim_node through its services and records each episode from the topics."""

    def __init__(self, context, config: HarnessConfig, period_s: float, policy: str):
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseStamped, Twist, Vector3Stamped
        from nav_msgs.msg import Odometry, Path
        from rcl_interfaces.srv import SetParameters
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from sensor_msgs.msg import Image, PointCloud2
        from std_msgs.msg import Bool, String
        from std_srvs.srv import Trigger
        from visualization_msgs.msg import MarkerArray

        from agent_node.ros import qos

        self.config, self.policy = config, policy
        self.period_ns = round(period_s * 1e9)
        self.node = rclpy.create_node('closed_loop_orchestrator', context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self._twist_type = Twist
        reliable, latched, sensor = qos.reliable(depth=50), qos.latched(), qos.SENSOR
        node = self.node
        self.set_params = node.create_client(SetParameters, 'sim_node/set_parameters')
        self.reset = node.create_client(Trigger, 'sim/reset')
        self._cmd_pub = node.create_publisher(Twist, 'cmd_vel', reliable)
        subscriptions = [
            (Odometry, 'ground_truth/odom', self._on_truth, sensor),
            (Odometry, 'odom', self._on_odom, sensor),
            (Bool, 'sim/collision', self._on_collision, reliable),
            (Image, 'goal_image', self._on_goal_image, latched),
        ]
        if policy == 'agent' or config.keep_frames:
            subscriptions.append((Image, 'camera/image_raw', self._on_image, sensor))
        if policy == 'agent':
            subscriptions += [
                (Twist, 'cmd_vel', self._on_cmd_vel, reliable),
                (PointCloud2, 'world_model/predicted_futures', self._on_futures, reliable),
                (Vector3Stamped, 'world_model/surprise', self._on_surprise, reliable),
                (PoseStamped, 'world_model/goal_pose_estimate', self._on_estimate, reliable),
                (String, 'planner/status', self._on_status, latched),
                (DiagnosticArray, '/diagnostics', self._on_diagnostics, reliable),
                # the latent map (issue 9 contract); absent from older world model nodes
                (MarkerArray, 'world_model/map_markers', self._on_map, reliable),
                (Path, 'world_model/waypoints', self._on_waypoints, reliable),
            ]
        for msg_type, topic, callback, profile in subscriptions:
            node.create_subscription(msg_type, topic, callback, profile)
        self._record: EpisodeRecord | None = None
        self._frame0_ns = None
        self._last_step = -1
        self.futures_seen = 0
        self.futures_step = -1
        self.frame_wall = 0.0  # wall time of the latest new step
        self._early_odom = None  # the latest odometry before the reset frame's ground truth
        self.planner_state = None
        self._answers = CommandLatency()  # frames: DDS source time, camera stamp [ns]
        self._goal_image = None  # (stamp ns, rgb)

    # -- episodes -----------------------------------------------------------------------------
    def begin_episode(self, record: EpisodeRecord):
        """Record into `record` from its reset frame on (frames before it are ignored)."""
        self.executor.spin_once(timeout_sec=0.0)  # drain what the previous episode left
        self._record, self._frame0_ns, self._last_step = record, None, -1
        self.futures_step = -1  # the latest step the world model has answered
        self._early_odom = None

    @property
    def started(self) -> bool:
        """True once the episode's reset frame has arrived."""
        return self._record is not None and self._frame0_ns is not None

    @property
    def last_step(self) -> int:
        """The latest control step with ground truth (-1 before the reset frame)."""
        return self._last_step

    def end_episode(self):
        """Stop recording; the record keeps the goal image published since its reset frame."""
        record, self._record = self._record, None
        goal_image = self._goal_image
        if record is not None and goal_image is not None and self._frame0_ns is not None \
                and goal_image[0] >= self._frame0_ns:
            record.set_goal_image(goal_image[1])

    def reset_simulator(self, spec: EpisodeSpec, check=None):
        """Set sim_node's seed, start_pose and goal_pose, then call sim/reset.

        An empty spec.goal sets goal_pose [] (the mapping tour): no goal image is published.
        """
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter
        from std_srvs.srv import Trigger

        request = SetParameters.Request()
        request.parameters = [
            Parameter('seed', Parameter.Type.INTEGER, spec.seed).to_parameter_msg(),
            Parameter('start_pose', Parameter.Type.DOUBLE_ARRAY,
                      list(spec.start)).to_parameter_msg(),
            Parameter('goal_pose', Parameter.Type.DOUBLE_ARRAY,
                      list(spec.goal)).to_parameter_msg(),
        ]
        response = self.call(self.set_params, request, 'setting the episode parameters',
                             check=check, resend_after=2.0)
        refused = [r.reason for r in response.results if not r.successful]
        if refused:
            raise HarnessError(f'sim_node refused the episode parameters: {refused}')
        result = self.call(self.reset, Trigger.Request(), 'sim/reset', check=check)
        if not result.success:
            raise HarnessError(f'sim/reset failed: {result.message}')

    def publish_command(self, command):
        msg = self._twist_type()
        msg.linear.x, msg.angular.z = float(command[0]), float(command[1])
        self._cmd_pub.publish(msg)

    # -- spinning -----------------------------------------------------------------------------
    def spin_once(self, timeout: float):
        self.executor.spin_once(timeout_sec=timeout)

    def spin_until(self, predicate, timeout: float, check=None) -> bool:
        deadline = time.monotonic() + timeout
        next_check = 0.0
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.02)
            if predicate():
                return True
            if check is not None and time.monotonic() >= next_check:
                check()
                next_check = time.monotonic() + 0.5
        return predicate()

    def call(self, client, request, what: str, timeout: float = 20.0, check=None,
             resend_after: float | None = None):
        """The service's answer; HarnessError (restart needed) if it is absent or silent.

        resend_after (idempotent requests only) sends the request again while unanswered:
        rmw_fastrtps drops an answer when the server has not yet matched the client's response
        reader ('failed to send response (timeout)'), which a loaded machine hits.
        """
        if check is not None:
            check()  # a dead server can still look available until discovery notices
        if not client.wait_for_service(timeout_sec=timeout):
            raise HarnessError(f'service {client.srv_name} is not available ({what})',
                               restart=True)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            future = client.call_async(request)
            if self.spin_until(future.done, min(left, resend_after or left), check):
                return future.result()
            client.remove_pending_request(future)
        raise HarnessError(f'{what}: no answer from {client.srv_name} in {timeout:.0f} s',
                           restart=True)

    def step_of(self, stamp) -> int | None:
        """Control step of a stamp within the current episode, None before its reset frame."""
        if not self.started:
            return None
        ns = stamp_ns(stamp)
        if ns < self._frame0_ns:
            return None
        return int(round((ns - self._frame0_ns) / self.period_ns))

    def _this_episode(self, stamp) -> bool:
        """Stamped since the reset frame (or unstamped, while an episode runs)."""
        return self.started and (stamp_ns(stamp) == 0 or self.step_of(stamp) is not None)

    def destroy(self):
        self.executor.shutdown()
        self.node.destroy_node()

    # -- callbacks ----------------------------------------------------------------------------
    def _on_truth(self, msg):
        record = self._record
        if record is None:
            return
        pose = pose_of(msg.pose.pose)
        if self._frame0_ns is None:
            start = np.asarray(record.spec.start)
            gap = np.abs(pose - start)
            gap[2] = abs(math.remainder(pose[2] - start[2], 2 * math.pi))
            if gap.max() > _POSE_MATCH:
                return  # a frame of the previous episode
            self._frame0_ns = stamp_ns(msg.header.stamp)
            early, self._early_odom = self._early_odom, None
            if early is not None and stamp_ns(early.header.stamp) == self._frame0_ns:
                record.add_odometry(0, pose_of(early.pose.pose))
        step = self.step_of(msg.header.stamp)
        if step is not None and record.add_true_pose(step, pose):
            if step > self._last_step:
                self._last_step, self.frame_wall = step, time.monotonic()

    def _on_odom(self, msg):
        step = self.step_of(msg.header.stamp)
        if step is not None:
            self._record.add_odometry(step, pose_of(msg.pose.pose))
        elif self._record is not None:
            self._early_odom = msg  # perhaps the reset frame's, ahead of its ground truth

    def _on_image(self, msg, info):
        # DDS writer timestamps (wall clock, same host) pair each cmd_vel with the frame it
        # answers, whatever order the executor hands the two messages over in.
        self._answers.frame(info['source_timestamp'], stamp_ns(msg.header.stamp))
        if self.config.keep_frames:
            step = self.step_of(msg.header.stamp)
            if step is not None:
                from agent_node.conversions.images import image_to_rgb

                self._record.add_frame(step, image_to_rgb(msg))

    def _on_collision(self, msg):
        if self.started and msg.data:
            self._record.add_collision()

    def _on_goal_image(self, msg):
        from agent_node.conversions.images import image_to_rgb

        self._goal_image = (stamp_ns(msg.header.stamp), image_to_rgb(msg))

    def _on_cmd_vel(self, _msg, info):
        frame = self._answers.command(info['source_timestamp'])
        if frame is None:
            return  # not the first command after a frame
        if self.started and frame[1] >= self._frame0_ns:
            self._record.add_latency((info['received_timestamp'] - frame[0]) * 1e-6)

    def _on_futures(self, msg):
        self.futures_seen += 1
        step = self.step_of(msg.header.stamp)
        if step is not None:
            self.futures_step = max(self.futures_step, step)
        if step is None or step % self.config.snapshot_every:
            return
        from agent_node.conversions.futures import decode_futures

        futures = decode_futures(msg)
        self._record.add_futures(step, futures.poses, futures.goal_dist.sum(axis=1))

    def _on_surprise(self, msg):
        step = self.step_of(msg.header.stamp)
        if step is not None:
            self._record.add_surprise(step, float(msg.vector.x))

    def _on_estimate(self, msg):
        step = self.step_of(msg.header.stamp)
        if step is not None:
            self._record.set_goal_estimate(step, pose_of(msg.pose))

    def _on_map(self, msg):
        stamped = [m.header.stamp for m in msg.markers if stamp_ns(m.header.stamp)]
        if not msg.markers or not self._this_episode(stamped[0] if stamped else
                                                     msg.markers[0].header.stamp):
            return  # a map in an earlier session's odometry frame
        keyframes, edges = [], []
        for marker in msg.markers:
            points = [(p.x, p.y) for p in marker.points]
            if marker.ns == 'keyframes':
                keyframes += points
            elif marker.ns == 'edges':
                edges += points[:len(points) // 2 * 2]
        self._record.set_map(keyframes, edges)

    def _on_waypoints(self, msg):
        if self._this_episode(msg.header.stamp):
            self._record.set_waypoints([pose_of(p.pose) for p in msg.poses],
                                       self.step_of(msg.header.stamp))

    def _on_status(self, msg):
        self.planner_state = msg.data

    def _on_diagnostics(self, msg):
        if not self.started:
            return
        for status in msg.status:
            if not status.name.startswith('planner_node:'):
                continue
            values = {kv.key: kv.value for kv in status.values}
            with contextlib.suppress(KeyError, ValueError):
                if values['state'] in DRIVING_STATES:  # planning or exploring
                    self._record.add_plan_rate(float(values['plan_rate_hz']))
