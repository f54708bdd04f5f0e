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
"""Planner node: closes the loop between the world model's predicted futures and cmd_vel.

Each world_model/predicted_futures message is one control cycle: cost the K rolled-out
candidates against the goal (odom frame), do one MPPI / CEM update, publish the first action on
cmd_vel and the next candidates on planner/proposal (which the world model rolls out next).
A watchdog on the steady clock (real time even under use_sim_time) stops the robot when the
futures or odometry go stale or the world model is surprised.
"""

import collections
import dataclasses
import math
import sys
import time

from geometry_msgs.msg import PoseStamped, Twist, TwistStamped, Vector3Stamped
from nav_msgs.msg import Odometry, Path
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Empty, Float32MultiArray, String

from agent_node.conversions.futures import decode_futures, encode_proposal
from agent_node.conversions.outputs import pose_of, set_pose
from agent_node.ros import qos
from agent_node.ros.diagnostics import BurstLogger, DiagnosticsReporter
from agent_node.ros.node_main import run_node
from agent_node.ros.params import declare_config, updated_config
from world_model import geometry
from world_model.config import ConfigError, param
from world_model.planning.mpc import LatentMPC
from world_model.planning.objectives import trajectory_costs
from world_model.planning.planner_config import PlannerConfig
from world_model.planning.status import (
    FUTURES_STALE,
    GOAL_REACHED,
    IDLE,
    ODOM_STALE,
    PLANNING,
    SURPRISED,
    WATCHDOG_STATES,
)

RATE_WINDOW_S = 2.0


@dataclasses.dataclass
class PlannerNodeConfig:
    """Topics, frames and the safety watchdog of the planner node (planning: PlannerConfig)."""

    cmd_vel_stamped: bool = param(False, help='publish geometry_msgs/TwistStamped on cmd_vel '
                                              '(Nav2 from Kilted) instead of Twist')
    futures_timeout_s: float = param(0.15, lo=0.01, hi=10.0,
                                     help='stop when no predicted futures for this long '
                                          '[s, steady clock]')
    odom_timeout_s: float = param(0.3, lo=0.01, hi=10.0,
                                  help='stop when no odometry for this long [s, steady clock]')
    watchdog_rate_hz: float = param(50.0, lo=5.0, hi=1000.0,
                                    help='how often the watchdog checks freshness [Hz]')
    # Normal driving stays below 5 in 99.8% of frames, a kidnapped robot reads 11 or more
    # (scripts/eval_surprise.py, BENCHMARKS.md); at 3.0 about 1% of frames stopped the robot.
    surprise_threshold: float = param(5.0, lo=0.0, hi=1e6,
                                      help='stop when the normalised surprise exceeds this')
    surprise_resume_threshold: float = param(2.0, lo=0.0, hi=1e6,
                                             help='resume once surprise stays below this ...')
    resume_cycles: int = param(5, lo=1, hi=100000,
                               help='... for this many consecutive surprise messages')
    base_frame: str = param('base_link', help='robot body frame (cmd_vel, relative goals)')
    odom_frame: str = param('odom', help='frame of the futures, odometry and goals')
    seed: int = param(0, lo=0, hi=2**31 - 1, help='seed of the candidate sampling')
    publish_plan: bool = param(True, help='publish planner/plan (nav_msgs/Path) for RViz')
    diagnostics_period_s: float = param(1.0, lo=0.1, hi=60.0,
                                        help='period of /diagnostics [s, steady clock]')

    def check(self):
        if self.surprise_resume_threshold > self.surprise_threshold:
            raise ConfigError(f'parameter surprise_resume_threshold='
                              f'{self.surprise_resume_threshold} is out of range: allowed '
                              f'[0.0, surprise_threshold={self.surprise_threshold}]')


READ_ONLY = ('cmd_vel_stamped', 'watchdog_rate_hz', 'base_frame', 'odom_frame', 'seed',
             'publish_plan', 'diagnostics_period_s')


class PlannerNode(Node):
    """Latent MPC planner: futures + odom + goal in, cmd_vel + proposal + status out."""

    def __init__(self, **kwargs):
        super().__init__('planner_node', **kwargs)
        self.planner_config = declare_config(self, PlannerConfig)
        self.config = declare_config(self, PlannerNodeConfig, read_only=READ_ONLY)
        self.mpc = LatentMPC(self.planner_config, seed=self.config.seed)
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self.state = IDLE
        self.goal = None  # (x, y, yaw) in the odom frame
        self.goal_source = None  # 'explicit' (goal_pose) or 'estimate' (world model)
        self.goal_reached = False
        self.odom_pose = None
        self.futures_time = None  # steady-clock arrival times
        self.odom_time = None
        self.surprised = False
        self.calm_messages = 0
        self.last_surprise = math.nan
        self.last_cost = math.nan
        self.cycles = 0
        self._cycle_times = collections.deque(maxlen=2000)  # steady seconds, for plan_rate_hz
        self.watchdog_trips = 0
        self.errors = BurstLogger(self)  # kinds: futures, odom, goal, surprise, cycle

        reliable, latched = qos.reliable(), qos.latched()
        twist_type = TwistStamped if self.config.cmd_vel_stamped else Twist
        self.cmd_pub = self.create_publisher(twist_type, 'cmd_vel', reliable)
        self.proposal_pub = self.create_publisher(Float32MultiArray, 'planner/proposal',
                                                  reliable)
        self.status_pub = self.create_publisher(String, 'planner/status', latched)
        self.plan_pub = self.create_publisher(Path, 'planner/plan', reliable)

        self.create_subscription(PointCloud2, 'world_model/predicted_futures', self._on_futures,
                                 qos.reliable(depth=2))
        self.create_subscription(Odometry, 'odom', self._on_odom, qos.SENSOR)
        self.create_subscription(PoseStamped, 'planner/goal_pose', self._on_goal, reliable)
        self.create_subscription(PoseStamped, 'world_model/goal_pose_estimate',
                                 self._on_goal_estimate, reliable)
        self.create_subscription(Vector3Stamped, 'world_model/surprise', self._on_surprise,
                                 reliable)
        self.create_subscription(Empty, 'planner/cancel', self._on_cancel, reliable)

        self.steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0 / self.config.watchdog_rate_hz, self._on_watchdog,
                          clock=self.steady)
        # Re-armed by every futures message, so it fires right at the futures timeout.
        self.futures_deadline = self.create_timer(self.config.futures_timeout_s,
                                                  self._on_watchdog, clock=self.steady)
        self.diagnostics = DiagnosticsReporter(self, self.config.diagnostics_period_s,
                                               status=self._diagnostic_status,
                                               burst_logger=self.errors, hardware_id='planner')
        self._publish_status()
        self.get_logger().info(
            f'planner ready: {self.planner_config.method} K={self.planner_config.num_samples} '
            f'H={self.planner_config.horizon}, cmd_vel as {twist_type.__name__}')

    # -- parameters ---------------------------------------------------------------------------
    def _on_set_parameters(self, params) -> SetParametersResult:
        planner, result = updated_config(self.planner_config, params)
        if not result.successful:
            return result
        node_config, result = updated_config(self.config, params)
        if not result.successful:
            return result
        if planner != self.planner_config:
            self.mpc.reconfigure(planner)
            self.planner_config = planner
        if node_config.futures_timeout_s != self.config.futures_timeout_s:
            self.destroy_timer(self.futures_deadline)
            self.futures_deadline = self.create_timer(node_config.futures_timeout_s,
                                                      self._on_watchdog, clock=self.steady)
        self.config = node_config
        return SetParametersResult(successful=True)

    # -- inputs -------------------------------------------------------------------------------
    def _on_odom(self, msg: Odometry):
        pose = pose_of(msg.pose.pose)
        if not np.isfinite(pose).all():
            self.errors.warning('odom', 'ignoring odometry with a non-finite pose')
            return
        self.odom_pose = pose
        self.odom_time = time.monotonic()
        if self.goal is not None and not self.goal_reached and self.goal_distance() < \
                self.planner_config.goal_tolerance:
            self.goal_reached = True
            self.get_logger().info(f'goal reached: {np.round(self.goal, 3).tolist()}')
        self._update_state()

    def _goal_in_odom(self, msg: PoseStamped, what: str):
        """(x, y, yaw) of a goal in the odom frame, or None (counted and logged) if unusable."""
        goal = pose_of(msg.pose)
        frame = msg.header.frame_id
        bad = None
        if not np.isfinite(goal).all():
            bad = f'{what} has a non-finite pose'
        elif frame == self.config.base_frame:
            if self.odom_pose is None:
                bad = f'{what} in {frame!r} needs odometry first'
            else:  # relative goal: place it with the current odometry pose
                goal = geometry.compose(self.odom_pose, goal)
        elif frame not in ('', self.config.odom_frame):
            bad = (f'{what} frame_id {frame!r} is neither {self.config.odom_frame!r} nor '
                   f'{self.config.base_frame!r} (no tf here)')
        if bad:
            self.errors.warning('goal', f'ignoring {bad}')
            return None
        return goal

    def _set_goal(self, goal, source):
        self.goal, self.goal_source, self.goal_reached = goal, source, False
        self.get_logger().info(f'new {source} goal: {np.round(goal, 3).tolist()}')
        if self.odom_pose is not None and self.goal_distance() < \
                self.planner_config.goal_tolerance:
            self.goal_reached = True
        self._update_state()

    def _on_goal(self, msg: PoseStamped):
        goal = self._goal_in_odom(msg, 'goal_pose')
        if goal is not None:
            self._set_goal(goal, 'explicit')

    def _on_goal_estimate(self, msg: PoseStamped):
        goal = self._goal_in_odom(msg, 'goal_pose_estimate')
        if goal is None:
            return
        if self.goal_source == 'explicit' and not self.goal_reached:
            return  # an explicit goal outranks the world model's estimate
        if self.goal is not None and self.goal_reached and np.hypot(
                *(goal[:2] - self.goal[:2])) < self.planner_config.goal_hold_radius:
            return  # the estimate of the goal just reached, a little refined: stay put
        if self.goal_source == 'estimate' and not self.goal_reached:
            self.goal = goal  # refinement of the goal being pursued
            return
        self._set_goal(goal, 'estimate')

    def _on_surprise(self, msg: Vector3Stamped):
        value = msg.vector.x
        if not math.isfinite(value):
            self.errors.warning('surprise', f'ignoring non-finite surprise {value!r}')
            return
        self.last_surprise = value
        if value > self.config.surprise_threshold:
            if not self.surprised:
                self.get_logger().warning(f'surprise {value:.2f} > '
                                          f'{self.config.surprise_threshold}: stopping')
            self.surprised, self.calm_messages = True, 0
        elif self.surprised:
            calm = value < self.config.surprise_resume_threshold
            self.calm_messages = self.calm_messages + 1 if calm else 0
            if self.calm_messages >= self.config.resume_cycles:
                self.surprised = False
                self.get_logger().info('surprise settled: resuming')
        self._update_state()

    def _on_cancel(self, _msg: Empty):
        self.goal, self.goal_source, self.goal_reached = None, None, False
        self._update_state()

    def _on_futures(self, msg: PointCloud2):
        try:
            futures = decode_futures(msg)
            if futures.frame_id not in ('', self.config.odom_frame):
                raise ValueError(f'frame_id {futures.frame_id!r} is not the odom frame '
                                 f'{self.config.odom_frame!r}')
        except ValueError as exc:
            self.errors.warning('futures', f'ignoring bad predicted futures: {exc}')
            return
        self.futures_time = time.monotonic()
        self.futures_deadline.reset()
        self._update_state()
        if self.state != PLANNING:
            return
        try:
            self._plan_cycle(futures)
        except (ValueError, FloatingPointError) as exc:  # never die on a bad cycle
            self.errors.error('cycle', f'planning cycle failed: {exc}')

    # -- planning -----------------------------------------------------------------------------
    def goal_distance(self) -> float:
        if self.goal is None or self.odom_pose is None:
            return math.nan
        return float(np.hypot(*(self.odom_pose[:2] - self.goal[:2])))

    def _plan_cycle(self, futures):
        costs = trajectory_costs(self.planner_config, futures.actions, futures.poses, self.goal,
                                 futures.goal_dist, futures.uncertainty, futures.collision,
                                 self.mpc.last_command)
        command = self.mpc.update(futures.actions, costs)
        # Proposal first: the command may trigger the next camera frame (a lockstep simulator),
        # which must be rolled out with this proposal, not the previous one.
        self.proposal_pub.publish(encode_proposal(self.mpc.propose()))
        self._publish_cmd(command)
        self.cycles += 1
        self._cycle_times.append(time.monotonic())
        weights = self.mpc.weights
        self.last_cost = float(np.dot(weights, costs))
        if self.config.publish_plan:
            self._publish_plan(futures, weights)

    def _publish_cmd(self, command):
        twist = Twist()
        twist.linear.x, twist.angular.z = float(command[0]), float(command[1])
        if self.config.cmd_vel_stamped:
            msg = TwistStamped()
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = self.config.base_frame
            msg.twist = twist
            self.cmd_pub.publish(msg)
        else:
            self.cmd_pub.publish(twist)

    def _publish_plan(self, futures, weights):
        """The weights' mean of the predicted poses: where the new nominal plan should go."""
        poses = futures.poses.astype(np.float64)
        x, y = weights @ poses[..., 0], weights @ poses[..., 1]
        yaw = np.arctan2(weights @ np.sin(poses[..., 2]), weights @ np.cos(poses[..., 2]))
        path = Path()
        path.header.stamp = futures.stamp
        path.header.frame_id = self.config.odom_frame
        for i in range(futures.horizon):
            pose = PoseStamped()
            pose.header = path.header
            set_pose(pose.pose, x[i], y[i], yaw[i])
            path.poses.append(pose)
        self.plan_pub.publish(path)

    # -- state machine and watchdog ------------------------------------------------------------
    def _desired_state(self) -> str:
        now = time.monotonic()
        if self.goal is None:
            return IDLE
        if self.goal_reached:
            return GOAL_REACHED
        if self.odom_time is None or now - self.odom_time >= self.config.odom_timeout_s:
            return ODOM_STALE
        if self.futures_time is None or now - self.futures_time >= self.config.futures_timeout_s:
            return FUTURES_STALE
        if self.surprised:
            return SURPRISED
        return PLANNING

    def _update_state(self):
        state = self._desired_state()
        if state == self.state:
            return
        previous, self.state = self.state, state
        if previous == PLANNING:
            self._publish_cmd((0.0, 0.0))  # safety first: no acceleration limit on stopping
            if state in WATCHDOG_STATES:
                self.watchdog_trips += 1
                self.get_logger().warning(f'{state}: zero velocity sent')
        if state == PLANNING:
            # Restart from rest: the previous plan assumed motion that did not happen.
            self.mpc.reset((0.0, 0.0))
            self.proposal_pub.publish(encode_proposal(self.mpc.propose()))
        self._publish_status()

    def _on_watchdog(self):
        self._update_state()

    def _publish_status(self):
        self.status_pub.publish(String(data=self.state))

    def _diagnostic_status(self):
        """(level, message, values) for agent_node.ros.diagnostics.DiagnosticsReporter."""
        now = time.monotonic()
        # Rate over the planning cycles of the last RATE_WINDOW_S: independent of how often the
        # status is built, and not diluted by idle time between goals.
        recent = [t for t in self._cycle_times if now - t <= RATE_WINDOW_S]
        rate = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 2 else 0.0

        def age(stamp):
            return 'never' if stamp is None else f'{now - stamp:.3f}'

        level = 'WARN' if self.state in WATCHDOG_STATES else 'OK'
        return level, self.state, {
            'state': self.state,
            'method': self.planner_config.method,
            'plan_rate_hz': rate,
            'last_cost': self.last_cost,
            'goal_distance_m': self.goal_distance(),
            'goal_source': str(self.goal_source),
            'last_command': np.round(self.mpc.last_command, 3).tolist(),
            'futures_age_s': age(self.futures_time),
            'odom_age_s': age(self.odom_time),
            'last_surprise': self.last_surprise,
            'watchdog_trips': self.watchdog_trips,
        }

    def stop_robot(self):
        """Zero velocity (used on shutdown)."""
        self._publish_cmd((0.0, 0.0))


def main(args=None) -> int:
    return run_node('planner_node', PlannerNode, args=args, on_exit=PlannerNode.stop_robot)


if __name__ == '__main__':
    sys.exit(main())
