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
futures or odometry go stale or the world model is surprised. With a waypoint chain from the
latent map (world_model/waypoints) it drives to the next waypoint; while the world model cannot
place its goal in the map (world_model/goal_status) it reports goal_unknown and explores.

The decisions (which goal is active, whether the robot may drive, when to stop or restart the
MPC) are made by world_model.planning.decision.PlannerDecider without ROS; this node converts
messages, hands them to it and carries out what it decides. The cmd_vel type is checked
against the topic's subscribers (agent_node.ros.cmd_vel_output): a mismatch is an ERROR on
/diagnostics, or a switch of type with cmd_vel_match_subscribers.
"""

import dataclasses
import sys

from geometry_msgs.msg import PoseStamped, Vector3Stamped
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
from agent_node.ros.cmd_vel_output import CmdVelOutput
from agent_node.ros.diagnostics import BurstCounter, BurstLogger, DiagnosticsReporter
from agent_node.ros.node_main import deliver_on_exit, run_node
from agent_node.ros.params import declare_config, updated_config
from world_model.config import param
from world_model.planning.decision import (
    ESTIMATE,
    EXPLICIT,
    Decision,
    DecisionConfig,
    PlannerDecider,
)
from world_model.planning.mpc import LatentMPC
from world_model.planning.objectives import trajectory_costs
from world_model.planning.planner_config import PlannerConfig
from world_model.planning.status import GOAL_UNKNOWN, RECOVERING, WATCHDOG_STATES
from world_model.sync.stamp_sync import stamp_ns


@dataclasses.dataclass
class PlannerNodeConfig(DecisionConfig):
    """Parameters of the planner node: the decision rules (DecisionConfig), topics, timers."""

    cmd_vel_stamped: bool = param(False, help='publish geometry_msgs/TwistStamped on cmd_vel '
                                              '(ros2_controllers on Jazzy, Nav2 from Kilted) '
                                              'instead of Twist')
    cmd_vel_match_subscribers: bool = param(False,
                                            help='switch cmd_vel to Twist or TwistStamped when '
                                                 'all its subscribers take that type '
                                                 '(otherwise a mismatch is only an ERROR on '
                                                 '/diagnostics)')
    watchdog_rate_hz: float = param(50.0, lo=5.0, hi=1000.0,
                                    help='how often the watchdog checks freshness [Hz]')
    seed: int = param(0, lo=0, hi=2**31 - 1, help='seed of the candidate sampling')
    publish_plan: bool = param(True, help='publish planner/plan (nav_msgs/Path) for RViz')
    diagnostics_period_s: float = param(1.0, lo=0.1, hi=60.0,
                                        help='period of /diagnostics and of the cmd_vel type '
                                             'check [s, steady clock]')


READ_ONLY = ('cmd_vel_stamped', 'watchdog_rate_hz', 'base_frame', 'odom_frame', 'seed',
             'publish_plan', 'diagnostics_period_s')


class PlannerNode(Node):
    """Latent MPC planner: futures + odom + goal in, cmd_vel + proposal + status out."""

    def __init__(self, **kwargs):
        super().__init__('planner_node', **kwargs)
        self.planner_config = declare_config(self, PlannerConfig)
        self.config = declare_config(self, PlannerNodeConfig, read_only=READ_ONLY)
        self.mpc = LatentMPC(self.planner_config, seed=self.config.seed)
        self.decider = PlannerDecider(self.planner_config, self.config)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.last_cost = float('nan')
        self.cmd_vel_problem = None  # why cmd_vel cannot reach its subscribers, if it cannot
        self.errors = BurstLogger(self)  # kinds: futures, odom, goal, surprise, cycle
        # Logged at ERROR from its own call site: rclpy refuses a second severity at one call
        # site, and BurstLogger logs all of its kinds from one.
        self.cmd_vel_mismatches = BurstCounter()

        reliable, latched = qos.reliable(), qos.latched()
        self.cmd_vel = CmdVelOutput(self, 'cmd_vel', self.config.cmd_vel_stamped,
                                    self.config.base_frame, reliable)
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
        self.create_subscription(String, 'world_model/goal_status', self._on_goal_status, latched)
        self.create_subscription(Path, 'world_model/waypoints', self._on_waypoints, reliable)

        self.steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(1.0 / self.config.watchdog_rate_hz, self._on_watchdog,
                          clock=self.steady)
        self.create_timer(self.config.diagnostics_period_s, self._check_cmd_vel,
                          clock=self.steady)
        # Re-armed by every futures message, so it fires right at the futures timeout.
        self.futures_deadline = self.create_timer(self.config.futures_timeout_s,
                                                  self._on_watchdog, clock=self.steady)
        self.diagnostics = DiagnosticsReporter(self, self.config.diagnostics_period_s,
                                               status=self._diagnostic_status,
                                               burst_logger=self.errors, task='planner')
        self._publish_status()
        self.get_logger().info(
            f'planner ready: {self.planner_config.method} K={self.planner_config.num_samples} '
            f'H={self.planner_config.horizon}, cmd_vel as {self.cmd_vel.type_name}')

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
            self.planner_config = self.decider.planner_config = planner
        if node_config.futures_timeout_s != self.config.futures_timeout_s:
            self.destroy_timer(self.futures_deadline)
            self.futures_deadline = self.create_timer(node_config.futures_timeout_s,
                                                      self._on_watchdog, clock=self.steady)
        self.config = self.decider.config = node_config
        return SetParametersResult(successful=True)

    # -- inputs: each one goes to the decider, whose decision is carried out -----------------
    def _on_odom(self, msg: Odometry):
        # the stamp is the robot's time: stalls and settling are timed on it
        self._carry_out(self.decider.on_odom(pose_of(msg.pose.pose),
                                             stamp_ns(msg.header.stamp) * 1e-9))

    def _on_goal(self, msg: PoseStamped):
        self._carry_out(self.decider.on_goal(pose_of(msg.pose), msg.header.frame_id, EXPLICIT))

    def _on_goal_estimate(self, msg: PoseStamped):
        self._carry_out(self.decider.on_goal(pose_of(msg.pose), msg.header.frame_id, ESTIMATE))

    def _on_surprise(self, msg: Vector3Stamped):
        self._carry_out(self.decider.on_surprise(msg.vector.x))

    def _on_cancel(self, _msg: Empty):
        self._carry_out(self.decider.on_cancel())

    def _on_goal_status(self, msg: String):
        self._carry_out(self.decider.on_goal_status(msg.data))

    def _on_waypoints(self, msg: Path):
        chain = [pose_of(p.pose) for p in msg.poses]
        self._carry_out(self.decider.on_waypoints(chain, msg.header.frame_id))

    def _on_watchdog(self):
        self._carry_out(self.decider.tick())

    def _on_futures(self, msg: PointCloud2):
        try:
            futures = decode_futures(msg)
        except ValueError as exc:
            self.errors.warning('futures', f'ignoring bad predicted futures: {exc}')
            return
        decision = self._carry_out(self.decider.on_futures(futures.frame_id))
        if decision.rejected:
            return
        self.futures_deadline.reset()
        if decision.recover:  # backing off a stall, no planning
            self.cmd_vel.publish(*self.decider.recovery_command())
            return
        if decision.steer:  # the goal's last metres (world_model.planning.arrival), no planning
            command = self.decider.steer_command()
            self.mpc.reset(command)  # planning resumes from this command
            self.proposal_pub.publish(encode_proposal(self.mpc.propose()))
            self.cmd_vel.publish(*command)
            self.decider.steered()
            return
        if not decision.plan:
            return
        try:
            self._plan_cycle(futures, decision.target)
        except (ValueError, FloatingPointError) as exc:  # never die on a bad cycle
            self.errors.error('cycle', f'planning cycle failed: {exc}')

    def _carry_out(self, decision: Decision) -> Decision:
        if decision.stop:
            self.stop_robot()
        if decision.rejected:
            self.errors.warning(*decision.rejected)
        for level, line in decision.notes:
            # One call site per severity: rclpy refuses a severity change at a call site.
            if level == 'warning':
                self.get_logger().warning(line)
            else:
                self.get_logger().info(line)
        if decision.restart:
            self.mpc.reset((0.0, 0.0))
            self.proposal_pub.publish(encode_proposal(self.mpc.propose()))
        if decision.changed:
            self._publish_status()
        return decision

    # -- planning -----------------------------------------------------------------------------
    def _plan_cycle(self, futures, target):
        costs = trajectory_costs(self.planner_config, futures.actions, futures.poses, target,
                                 futures.goal_dist, futures.uncertainty, futures.collision,
                                 self.mpc.last_command)
        command = self.mpc.update(futures.actions, costs)
        # Proposal first: the command may trigger the next camera frame (a lockstep simulator),
        # which must be rolled out with this proposal, not the previous one.
        self.proposal_pub.publish(encode_proposal(self.mpc.propose()))
        self.cmd_vel.publish(*command)
        self.decider.cycle_planned(command)
        weights = self.mpc.weights
        self.last_cost = float(np.dot(weights, costs))
        if self.config.publish_plan:
            self._publish_plan(futures, weights)

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

    # -- status -------------------------------------------------------------------------------
    def _check_cmd_vel(self):
        """Do cmd_vel's subscribers take the type published? (A mismatch never connects.)"""
        mismatch, switched_from = self.cmd_vel.check(self.config.cmd_vel_match_subscribers)
        if switched_from:
            self.get_logger().warning(
                f'cmd_vel: switched from {switched_from} to {self.cmd_vel.type_name}, the type '
                f'its subscribers take (cmd_vel_match_subscribers)')
        self.cmd_vel_problem = mismatch and mismatch.describe('cmd_vel_stamped',
                                                              'cmd_vel_match_subscribers')
        if mismatch:
            lines = self.cmd_vel_mismatches.record('cmd_vel', self.cmd_vel_problem)
        else:  # the summary of a burst that has ended
            lines = [line for _, line in self.cmd_vel_mismatches.flush()]
        for line in lines:
            self.get_logger().error(line)

    def _publish_status(self):
        self.status_pub.publish(String(data=self.decider.state))

    def _diagnostic_status(self):
        """(level, message, values) for agent_node.ros.diagnostics.DiagnosticsReporter."""
        decider = self.decider
        state, message = decider.state, decider.state
        level = 'WARN' if state in (*WATCHDOG_STATES, GOAL_UNKNOWN, RECOVERING) else 'OK'
        if self.cmd_vel_problem:  # planning or not, commands cannot reach the robot
            level = 'ERROR'
            message = f'{state}; {self.cmd_vel_problem}'
        return level, message, {
            'state': state,
            'method': self.planner_config.method,
            'plan_rate_hz': decider.plan_rate.rate_hz(),
            'last_cost': self.last_cost,
            'goal_distance_m': decider.goal_distance(),
            'arrival': decider.arrival.stage,  # who drives the goal's last metres
            'goal_source': str(decider.goal_source),
            'goal_status': str(decider.goal_status),
            'waypoints': 0 if decider.waypoints is None else len(decider.waypoints),
            'last_command': np.round(self.mpc.last_command, 3).tolist(),
            'futures_age_s': decider.age(decider.futures_time),
            'odom_age_s': decider.age(decider.odom_time),
            'last_surprise': decider.last_surprise,
            'watchdog_trips': decider.watchdog_trips,
            'recoveries': decider.recovery.count,  # stalls backed off
            'cmd_vel_type': self.cmd_vel.type_name,
            'cmd_vel_mismatches': self.cmd_vel_mismatches.count('cmd_vel'),  # checks finding one
        }

    def stop_robot(self):
        """Zero velocity (on leaving planning and on shutdown)."""
        self.cmd_vel.publish(0.0, 0.0)

    def stop_on_exit(self):
        """The final zero velocity, acknowledged by the subscribers before the node is gone."""
        self.stop_robot()
        deliver_on_exit(self.cmd_vel.publisher, self.get_logger())


def main(args=None) -> int:
    return run_node('planner_node', PlannerNode, args=args, on_exit=PlannerNode.stop_on_exit)


if __name__ == '__main__':
    sys.exit(main())
