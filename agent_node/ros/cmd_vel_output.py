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
"""cmd_vel as geometry_msgs/Twist or TwistStamped, checked against the topic's subscribers.

A publisher and a subscriber of different types on one topic never connect, and nothing fails:
the robot does not move while the planner reports 'planning'. On Jazzy, ros2_controllers'
diff_drive_controller subscribes ~/cmd_vel as TwistStamped, while Nav2 and teleop publish
plain Twist by default. `CmdVelOutput.check()` (called periodically) compares the subscribers
of the resolved topic with what it publishes and returns the problem in words; with
`switch=True` it takes the subscribers' type instead when they all use the same one.
"""

import dataclasses

from geometry_msgs.msg import Twist, TwistStamped

TWIST = 'geometry_msgs/msg/Twist'
TWIST_STAMPED = 'geometry_msgs/msg/TwistStamped'
MESSAGE_CLASSES = {TWIST: Twist, TWIST_STAMPED: TwistStamped}
UNKNOWN_NODE_NAME = '_NODE_NAME_UNKNOWN_'  # what rmw reports before the node is known


@dataclasses.dataclass(frozen=True)
class TypeMismatch:
    """Subscribers of the command topic whose type differs from the published one."""

    topic: str
    published: str
    subscribers: tuple[tuple[str, str], ...]  # (node, type) of each mismatched subscriber
    matched: int = 0  # subscribers that do take the published type

    @property
    def wanted(self) -> str | None:
        """The one type every subscriber takes, if this output can publish it."""
        types = {kind for _, kind in self.subscribers}
        kind = types.pop() if len(types) == 1 and not self.matched else None
        return kind if kind in MESSAGE_CLASSES else None

    def describe(self, stamped_parameter: str, switch_parameter: str) -> str:
        names = ', '.join(f'{node} ({kind})' for node, kind in self.subscribers)
        wanted = self.wanted
        if wanted is None:
            fix = (f'no {stamped_parameter} value serves every subscriber: remap the topic or '
                   f'bridge the types')
        else:
            fix = (f'set {stamped_parameter}: {str(wanted == TWIST_STAMPED).lower()} '
                   f'(or {switch_parameter}: true)')
        return (f'{self.topic} type mismatch: this node publishes {self.published} but '
                f'subscriber(s) {names} take another type, so they receive nothing; {fix}')


def find_mismatch(topic: str, published: str, subscribers) -> TypeMismatch | None:
    """subscribers: (node, type) pairs of the topic's subscriptions; None if all match."""
    subscribers = list(subscribers)
    others = tuple((node, kind) for node, kind in subscribers if kind != published)
    matched = len(subscribers) - len(others)
    return TypeMismatch(topic, published, others, matched) if others else None


def _node_of(info) -> str:
    if info.node_name == UNKNOWN_NODE_NAME:  # discovered, but its node not yet
        return 'a node not yet discovered'
    return f"{info.node_namespace.rstrip('/')}/{info.node_name}"


class CmdVelOutput:
    """The cmd_vel publisher of a node: (v, omega) out as Twist or TwistStamped."""

    def __init__(self, node, topic: str, stamped: bool, frame_id: str, qos):
        self._node = node
        self._topic = topic
        self._qos = qos
        self.frame_id = frame_id
        self.type_name = TWIST_STAMPED if stamped else TWIST
        self.publisher = node.create_publisher(MESSAGE_CLASSES[self.type_name], topic, qos)

    @property
    def stamped(self) -> bool:
        return self.type_name == TWIST_STAMPED

    def publish(self, v: float, omega: float):
        twist = Twist()
        twist.linear.x, twist.angular.z = float(v), float(omega)
        if self.stamped:
            msg = TwistStamped()
            msg.header.stamp = self._node.get_clock().now().to_msg()
            msg.header.frame_id = self.frame_id
            msg.twist = twist
            self.publisher.publish(msg)
        else:
            self.publisher.publish(twist)

    def subscribers(self) -> list[tuple[str, str]]:
        """(fully qualified node name, type) of every subscription on the resolved topic."""
        infos = self._node.get_subscriptions_info_by_topic(self.publisher.topic_name)
        return [(_node_of(info), info.topic_type) for info in infos]

    def check(self, switch: bool = False) -> tuple[TypeMismatch | None, str | None]:
        """(mismatch left, type switched from): switch takes the subscribers' type if it can."""
        mismatch = find_mismatch(self.publisher.topic_name, self.type_name, self.subscribers())
        if mismatch is None or not switch or mismatch.wanted is None:
            return mismatch, None
        previous = self.type_name
        self._node.destroy_publisher(self.publisher)
        self.type_name = mismatch.wanted
        self.publisher = self._node.create_publisher(MESSAGE_CLASSES[self.type_name],
                                                     self._topic, self._qos)
        return None, previous
