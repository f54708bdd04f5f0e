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
"""cmd_vel_relay: forwards velocity commands and stops the base when they stop coming.

Subscribes cmd_vel_in (best effort: accepts any publisher), publishes cmd_vel_out (reliable);
both geometry_msgs/Twist, or TwistStamped with cmd_vel_stamped. When no command arrived for
timeout_s (steady clock) after a non-zero one, it sends one zero command: a base that keeps its
last command (Gazebo's DiffDrive) then stops when the planner dies or hangs. A non-finite
command is replaced by zero, counted and logged. On shutdown it sends zero too.
"""

import math
import sys
import time

from geometry_msgs.msg import Twist, TwistStamped
from rclpy.clock import Clock, ClockType
from rclpy.node import Node

from agent_node.ros import qos
from agent_node.ros.diagnostics import BurstLogger, DiagnosticsReporter
from agent_node.ros.node_main import deliver_on_exit, run_node
from agent_node.ros.params import declare_config
from world_model.command_timeout import CommandTimeout, CommandTimeoutConfig


class CmdVelRelayNode(Node):
    def __init__(self, **kwargs):
        super().__init__('cmd_vel_relay', **kwargs)
        self.config = declare_config(self, CommandTimeoutConfig,
                                     read_only=('check_rate_hz', 'cmd_vel_stamped',
                                                'diagnostics_period_s', 'timeout_s'))
        self.timeout = CommandTimeout(self.config.timeout_s)
        self.twist_type = TwistStamped if self.config.cmd_vel_stamped else Twist
        self.errors = BurstLogger(self)  # kinds: command
        self.forwarded = 0
        self.pub = self.create_publisher(self.twist_type, 'cmd_vel_out', qos.reliable())
        self.create_subscription(self.twist_type, 'cmd_vel_in', self._on_command,
                                 qos.best_effort())
        self.create_timer(1.0 / self.config.check_rate_hz, self._on_check,
                          clock=Clock(clock_type=ClockType.STEADY_TIME))
        self.diagnostics = DiagnosticsReporter(self, self.config.diagnostics_period_s,
                                               status=self._status, burst_logger=self.errors,
                                               task='command relay')
        self.get_logger().info(f'cmd_vel relay ready: zero after {self.config.timeout_s} s '
                               f'without a command ({self.twist_type.__name__})')

    def _on_command(self, msg):
        twist = msg.twist if self.config.cmd_vel_stamped else msg
        v, omega = twist.linear.x, twist.angular.z
        components = (v, twist.linear.y, twist.linear.z, twist.angular.x, twist.angular.y, omega)
        if not all(math.isfinite(c) for c in components):
            self.errors.warning('command', 'non-finite velocity command: sending zero instead')
            self.send_zero()
            self.timeout.on_command(0.0, 0.0, time.monotonic())
            return
        self.timeout.on_command(v, omega, time.monotonic())
        self.pub.publish(msg)
        self.forwarded += 1

    def _on_check(self):
        if self.timeout.expired(time.monotonic()):
            self.get_logger().warning(f'no velocity command for {self.config.timeout_s} s: '
                                      f'zero velocity sent')
            self.send_zero()

    def send_zero(self):
        if self.config.cmd_vel_stamped:
            msg = TwistStamped()
            msg.header.stamp = self.get_clock().now().to_msg()
            self.pub.publish(msg)
        else:
            self.pub.publish(Twist())

    def send_zero_on_exit(self):
        """The final zero, acknowledged by the subscribers before the node is gone."""
        self.send_zero()
        deliver_on_exit(self.pub, self.get_logger())

    def _status(self):
        age = self.timeout.age(time.monotonic())
        level = 'OK'
        message = 'forwarding' if self.timeout.moving else 'stopped'
        return level, message, {'forwarded': self.forwarded, 'timeout_stops': self.timeout.stops,
                                'command_age_s': age, 'timeout_s': self.config.timeout_s}


def main(args=None) -> int:
    return run_node('cmd_vel_relay', CmdVelRelayNode, args=args,
                    on_exit=CmdVelRelayNode.send_zero_on_exit)


if __name__ == '__main__':
    sys.exit(main())
