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
"""nav2_goal_relay: sends the world model's image-goal location to Nav2 as a navigation goal.

Subscribes world_model/goal_pose_estimate (geometry_msgs/PoseStamped, odom frame), publishes
goal_pose (PoseStamped, reliable), the topic on which Nav2's bt_navigator starts a
NavigateToPose goal (and RViz's goal tool publishes). bt_navigator transforms the goal into its
global frame with tf, so the odom frame_id is kept. Estimates are passed on by
world_model.goal_forwarding.GoalForwarder: the first one, then only those that moved far
enough, at most every min_interval_s. Nothing is passed on while no one subscribes goal_pose
(the topic is volatile: a goal sent before bt_navigator came up would be lost, and the
refinements after it held back as the same goal). Estimates with a non-finite pose or no
frame_id are ignored, counted and logged.
"""

import math
import sys
import time

from geometry_msgs.msg import PoseStamped
from rclpy.node import Node

from agent_node.conversions.outputs import pose_of
from agent_node.ros import qos
from agent_node.ros.diagnostics import BurstLogger, DiagnosticsReporter
from agent_node.ros.node_main import run_node
from agent_node.ros.params import declare_config
from world_model.goal_forwarding import GoalForwarder, GoalForwardingConfig


class Nav2GoalRelayNode(Node):
    def __init__(self, **kwargs):
        super().__init__('nav2_goal_relay', **kwargs)
        self.config = declare_config(self, GoalForwardingConfig,
                                     read_only=('diagnostics_period_s', 'min_distance_m',
                                                'min_interval_s', 'min_turn_rad'))
        self.forwarder = GoalForwarder(self.config)
        self.errors = BurstLogger(self)  # kinds: pose, frame
        self.estimates = 0
        self.unheard = 0  # estimates that came while goal_pose had no subscriber
        self.pub = self.create_publisher(PoseStamped, 'goal_pose', qos.reliable())
        self.create_subscription(PoseStamped, 'world_model/goal_pose_estimate',
                                 self._on_estimate, qos.reliable())
        self.diagnostics = DiagnosticsReporter(self, self.config.diagnostics_period_s,
                                               status=self._status, burst_logger=self.errors,
                                               task='goal relay')
        self.get_logger().info('Nav2 goal relay ready: world_model/goal_pose_estimate -> '
                               f'{self.pub.topic_name}')

    def _on_estimate(self, msg: PoseStamped):
        self.estimates += 1
        pose = pose_of(msg.pose)
        if not all(math.isfinite(v) for v in pose):
            self.errors.warning('pose', 'ignoring a goal estimate with a non-finite pose')
            return
        if not msg.header.frame_id:
            self.errors.warning('frame', 'ignoring a goal estimate without frame_id: Nav2 '
                                         'could not place it')
            return
        if self.pub.get_subscription_count() == 0:
            self.unheard += 1  # no navigator yet: the next estimate is offered again
            return
        if self.forwarder.offer(msg.header.frame_id, pose, time.monotonic()):
            self.pub.publish(msg)
            self.get_logger().info(f'Nav2 goal sent: ({pose[0]:.2f}, {pose[1]:.2f}, '
                                   f'{pose[2]:.2f}) in {msg.header.frame_id!r}')

    def _status(self):
        last = self.forwarder.last_sent
        return 'OK', f'{self.forwarder.sent} goal(s) sent', {
            'goals_sent': self.forwarder.sent, 'estimates_received': self.estimates,
            'estimates_without_subscriber': self.unheard,
            'last_goal': 'none' if last is None else
            f'{last[0]}: ' + ', '.join(f'{v:.3f}' for v in last[1])}


def main(args=None) -> int:
    return run_node('nav2_goal_relay', Nav2GoalRelayNode, args=args)


if __name__ == '__main__':
    sys.exit(main())
