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
"""sim_node: the built-in pybullet simulator (world_model.envs.DiffDriveSim) as a ROS 2 node.

Publishes (relative names; sensor-data QoS for the sensor streams):
  camera/image_raw (sensor_msgs/Image rgb8), camera/camera_info, odom (nav_msgs/Odometry,
  odom -> base_link, noisy, with twist), ground_truth/odom (world -> base_link),
  sim/collision (std_msgs/Bool, reliable), goal_image (sensor_msgs/Image, reliable +
  TRANSIENT_LOCAL depth 1; rendered at goal_pose when set, again after every reset),
  /clock (rosgraph_msgs/Clock, reliable) when publish_clock is true.
Subscribes cmd_vel: geometry_msgs/Twist, or TwistStamped when cmd_vel_stamped is true. The
  subscription is BEST_EFFORT: DDS matches a best-effort reader with both reliable and
  best-effort writers, whereas a reliable reader silently ignores best-effort writers, so this
  accepts every publisher (the planner, teleop tools, `ros2 topic pub`). Non-finite commands
  are ignored, counted and logged once per burst; the node keeps stepping.
Service sim/reset (std_srvs/Trigger): starts a new episode from the current parameters (seed,
  layout, start_pose, goal_pose and every simulator setting): set parameters, then reset.

Stepping: step_mode 'timer' steps every control_period / real_time_factor wall seconds;
'lockstep' publishes a frame, then steps as soon as a cmd_vel arrives (or lockstep_timeout wall
seconds pass), for fast deterministic closed-loop runs. The command in force is the latest
cmd_vel unless it is older than cmd_timeout seconds of simulated time; then it is zero.
Stamps: the simulated clock (starting at 1 s, continuing across resets) when publish_clock is
true, else the node's clock.
"""

import dataclasses
import math
import sys
import time

from geometry_msgs.msg import Twist, TwistStamped
from nav_msgs.msg import Odometry
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.time import Time
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from agent_node.conversions.images import rgb_to_image
from agent_node.conversions.odometry import odometry_msg
from agent_node.ros import qos
from agent_node.ros.diagnostics import BurstLogger, DiagnosticsReporter
from agent_node.ros.node_main import run_node
from agent_node.ros.params import declare_config, updated_config
from world_model.config import ConfigError, param
from world_model.envs import DiffDriveSim, SimConfig, SimStep
from world_model.envs.diff_drive_sim import check_start_pose, episode_layout

_FIRST_STAMP_NS = 1_000_000_000  # zero stamps mean 'unset' to many tools


@dataclasses.dataclass
class SimNodeConfig:
    """How the node steps, what it publishes and where the episode starts."""

    step_mode: str = param('timer', choices=('timer', 'lockstep'),
                           help="'timer': fixed rate; 'lockstep': step when a cmd_vel arrives")
    real_time_factor: float = param(1.0, lo=0.01, hi=100.0,
                                    help='timer mode: simulated seconds per wall second')
    lockstep_timeout: float = param(1.0, lo=0.001, hi=60.0,
                                    help='lockstep mode: wall seconds to wait for a cmd_vel')
    publish_clock: bool = param(False, help='publish /clock and stamp with simulated time')
    cmd_vel_stamped: bool = param(False, help='cmd_vel is TwistStamped instead of Twist')
    cmd_timeout: float = param(0.5, lo=0.0, hi=3600.0,
                               help='zero the command after this many simulated seconds '
                                    'without cmd_vel (0: never)')
    seed: int = param(0, lo=0, hi=2**31 - 1, help='episode seed (start pose, noise, layout)')
    start_pose: list = param([], lo=-1000.0, hi=1000.0,
                             help='[x, y, yaw] start pose in the world frame; [] for random')
    goal_pose: list = param([], lo=-1000.0, hi=1000.0,
                            help='[x, y, yaw] pose whose camera view is published on '
                                 'goal_image; [] for none')
    odom_frame: str = param('odom', help='frame of odom')
    base_frame: str = param('base_link', help='child frame of odom and ground_truth/odom')
    camera_frame: str = param('camera_link', help='frame of the camera images')
    world_frame: str = param('world', help='frame of ground_truth/odom')
    diagnostics_period: float = param(1.0, lo=0.05, hi=60.0,
                                      help='seconds between /diagnostics reports')

    def check(self):
        for name in ('start_pose', 'goal_pose'):
            value = getattr(self, name)
            if len(value) not in (0, 3):
                raise ConfigError(f'parameter {name!r}={list(value)!r} must be [] or '
                                  f'[x, y, yaw] (3 numbers)')
            if not all(math.isfinite(v) for v in value):
                raise ConfigError(f'parameter {name!r}={list(value)!r} must be finite')


def camera_info_msg(config: SimConfig, stamp, frame_id: str) -> CameraInfo:
    """Pinhole intrinsics of the simulated camera (vertical field of view, square pixels)."""
    width, height = config.image_width, config.image_height
    focal = (height / 2) / math.tan(math.radians(config.fov_deg) / 2)
    cx, cy = width / 2, height / 2
    msg = CameraInfo()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.width, msg.height = width, height
    msg.distortion_model = 'plumb_bob'
    msg.d = [0.0] * 5
    msg.k = [focal, 0.0, cx, 0.0, focal, cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [focal, 0.0, cx, 0.0, 0.0, focal, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def check_episode(sim_config: SimConfig, config: SimNodeConfig):
    """ValueError unless an episode can start from these parameters (start pose free)."""
    if config.start_pose:
        layout = episode_layout(sim_config, config.seed)
        check_start_pose(layout, config.start_pose, sim_config.robot_radius)


class SimNode(Node):
    """DiffDriveSim stepped by a timer or by incoming commands; see the module docstring."""

    def __init__(self, **kwargs):
        super().__init__('sim_node', **kwargs)
        # Parameters: validated now; runtime changes are checked, then applied at sim/reset.
        self.sim_config = declare_config(self, SimConfig)
        self.config = declare_config(self, SimNodeConfig, read_only=('cmd_vel_stamped',))
        self._pending = (self.sim_config, self.config)
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self.errors = BurstLogger(self)
        self.steps = 0
        self.collisions = 0
        self.resets = 0
        self.bad_commands = 0
        self._command = np.zeros(2)
        self._command_ns = None  # sim clock at the latest good cmd_vel
        self._clock_base_ns = _FIRST_STAMP_NS  # sim clock at the current episode's reset
        self._awaiting_since = None  # lockstep: wall time of the frame awaiting a command
        self._last_step: SimStep | None = None

        sensor, reliable, latched = qos.SENSOR, qos.reliable(), qos.latched()
        self.image_pub = self.create_publisher(Image, 'camera/image_raw', sensor)
        self.info_pub = self.create_publisher(CameraInfo, 'camera/camera_info', sensor)
        self.odom_pub = self.create_publisher(Odometry, 'odom', sensor)
        self.truth_pub = self.create_publisher(Odometry, 'ground_truth/odom', sensor)
        self.collision_pub = self.create_publisher(Bool, 'sim/collision', reliable)
        self.goal_pub = self.create_publisher(Image, 'goal_image', latched)
        self.clock_pub = self.create_publisher(ClockMsg, '/clock', reliable)
        twist_type = TwistStamped if self.config.cmd_vel_stamped else Twist
        self.create_subscription(twist_type, 'cmd_vel', self._on_cmd_vel, qos.best_effort())
        self.create_service(Trigger, 'sim/reset', self._on_reset)
        self.diagnostics = DiagnosticsReporter(self, self.config.diagnostics_period,
                                               status=self._status, burst_logger=self.errors,
                                               task='simulator')

        try:
            check_episode(self.sim_config, self.config)
        except ValueError as exc:
            raise ConfigError(f'parameter start_pose: {exc}') from None
        self.sim = DiffDriveSim(self.sim_config)
        self._start_episode()
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._timer = None
        self._start_stepping()
        self.get_logger().info(
            f'sim_node ready: layout {self.sim_config.layout!r}, '
            f'{self.sim_config.image_width}x{self.sim_config.image_height} camera, '
            f'{self.config.step_mode} mode, cmd_vel as {twist_type.__name__}')

    # -- parameters and reset ---------------------------------------------------------------

    def _on_set_parameters(self, params) -> SetParametersResult:
        sim_config, result = updated_config(self._pending[0], params)
        if not result.successful:
            return result
        node_config, result = updated_config(self._pending[1], params)
        if not result.successful:
            return result
        self._pending = (sim_config, node_config)
        return SetParametersResult(successful=True)

    def _on_reset(self, request, response):
        sim_config, node_config = self._pending
        try:
            check_episode(sim_config, node_config)
        except ValueError as exc:
            response.success, response.message = False, f'reset refused: {exc}'
            self.get_logger().warning(response.message)
            return response
        # The simulated clock continues across episodes (and simulator rebuilds).
        self._clock_base_ns = self._sim_ns() + round(self.sim_config.control_period * 1e9)
        if sim_config != self.sim_config:
            self.sim.close()
            self.sim = DiffDriveSim(sim_config)
        self.sim_config, self.config = sim_config, node_config
        self._start_episode()
        self._start_stepping()
        pose = self._last_step.true_pose
        response.success = True
        response.message = (f'episode {self.resets}: layout {self.sim.layout.name!r}, seed '
                            f'{self.config.seed}, start pose ({pose[0]:.3f}, {pose[1]:.3f}, '
                            f'{pose[2]:.3f})')
        self.get_logger().info(response.message)
        return response

    def _start_episode(self):
        """Reset the simulator from the parameters; publish the first frame and goal image."""
        pose = self.config.start_pose or None
        step = self.sim.reset(seed=self.config.seed, layout=self.sim_config.layout, pose=pose)
        self.resets += 1
        self._command = np.zeros(2)
        self._command_ns = None
        self._last_step = step
        self._publish(step)
        if self.config.goal_pose:
            image = self.sim.render_at(self.config.goal_pose, distractors=False)
            self.goal_pub.publish(rgb_to_image(image, self._stamp(), self.config.camera_frame))

    def _start_stepping(self):
        if self._timer is not None:
            self.destroy_timer(self._timer)
        if self.config.step_mode == 'timer':
            period = self.sim_config.control_period / self.config.real_time_factor
            self._timer = self.create_timer(period, self._on_timer, clock=self._steady)
            self._awaiting_since = None
        else:
            poll = min(self.config.lockstep_timeout / 4, 0.01)
            self._timer = self.create_timer(poll, self._on_lockstep_poll, clock=self._steady)
            self._awaiting_since = time.monotonic()

    # -- stepping -----------------------------------------------------------------------------

    def _on_timer(self):
        self._step()

    def _on_lockstep_poll(self):
        if self._awaiting_since is not None and \
                time.monotonic() - self._awaiting_since >= self.config.lockstep_timeout:
            self._step()

    def _step(self):
        command = self._command
        timeout_ns = self.config.cmd_timeout * 1e9
        if self._command_ns is None or (
                timeout_ns > 0 and self._sim_ns() - self._command_ns > timeout_ns):
            command = np.zeros(2)
        step = self.sim.step(command)
        self.steps += 1
        self.collisions += int(step.collision)
        self._last_step = step
        self._publish(step)
        if self.config.step_mode == 'lockstep':
            self._awaiting_since = time.monotonic()

    def _on_cmd_vel(self, msg):
        twist = msg.twist if isinstance(msg, TwistStamped) else msg
        command = np.array([twist.linear.x, twist.angular.z], dtype=float)
        if not np.all(np.isfinite(command)):
            self.bad_commands += 1
            self.errors.warning('bad_cmd_vel', f'ignoring non-finite cmd_vel '
                                f'(v={command[0]}, omega={command[1]})')
            return
        self._command = command
        self._command_ns = self._sim_ns()
        if self.config.step_mode == 'lockstep' and self._awaiting_since is not None:
            self._step()

    # -- output -------------------------------------------------------------------------------

    def _sim_ns(self) -> int:
        return self._clock_base_ns + round(self.sim.time * 1e9)

    def _stamp(self):
        if self.config.publish_clock:
            return Time(nanoseconds=self._sim_ns()).to_msg()
        return self.get_clock().now().to_msg()

    def _publish(self, step: SimStep):
        cfg = self.config
        if cfg.publish_clock:
            self.clock_pub.publish(ClockMsg(clock=Time(nanoseconds=self._sim_ns()).to_msg()))
        stamp = self._stamp()
        self.image_pub.publish(rgb_to_image(step.image, stamp, cfg.camera_frame))
        self.info_pub.publish(camera_info_msg(self.sim_config, stamp, cfg.camera_frame))
        self.odom_pub.publish(odometry_msg(stamp, cfg.odom_frame, cfg.base_frame,
                                           step.odom_pose, step.odom_twist))
        self.truth_pub.publish(odometry_msg(stamp, cfg.world_frame, cfg.base_frame,
                                            step.true_pose, step.true_twist))
        self.collision_pub.publish(Bool(data=bool(step.collision)))

    def _status(self):
        pose = self._last_step.true_pose if self._last_step is not None else (0, 0, 0)
        return ('OK', f'{self.config.step_mode} stepping', {
            'steps': self.steps, 'resets': self.resets, 'collisions': self.collisions,
            'bad_cmd_vel': self.bad_commands, 'sim_time': self.sim.time,
            'layout': self.sim.layout.name, 'x': float(pose[0]), 'y': float(pose[1]),
            'yaw': float(pose[2])})

    def destroy_node(self):
        self.sim.close()
        super().destroy_node()


def main(args=None) -> int:
    return run_node('sim_node', SimNode, args=args)


if __name__ == '__main__':
    sys.exit(main())
