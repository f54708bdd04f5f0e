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
"""nav_msgs/Odometry <-> numpy: the (pose, twist) sample the world model pairs with a frame."""

import math
from typing import NamedTuple

from nav_msgs.msg import Odometry
import numpy as np

from world_model import geometry


class OdomSample(NamedTuple):
    pose: np.ndarray  # (x, y, yaw) odom frame
    twist: np.ndarray  # (v, omega) body frame, float32
    frame_id: str


def odom_sample(msg) -> OdomSample:
    """(pose, twist, frame_id) of an Odometry message; ValueError when a used value is not
    finite."""
    p, q, t = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
    values = (p.x, p.y, q.x, q.y, q.z, q.w, t.linear.x, t.angular.z)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f'odometry has non-finite values: position ({p.x}, {p.y}), orientation '
                         f'({q.x}, {q.y}, {q.z}, {q.w}), twist ({t.linear.x}, {t.angular.z})')
    pose = np.array([p.x, p.y, geometry.yaw_of_quaternion(q)])
    return OdomSample(pose, np.array([t.linear.x, t.angular.z], np.float32), msg.header.frame_id)


def odometry_msg(stamp, frame_id: str, child_frame_id: str, pose, twist) -> Odometry:
    """An Odometry message of pose (x, y, yaw) and body twist (v, omega)."""
    msg = Odometry()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.child_frame_id = child_frame_id
    msg.pose.pose.position.x, msg.pose.pose.position.y = float(pose[0]), float(pose[1])
    q = msg.pose.pose.orientation
    q.x, q.y, q.z, q.w = geometry.quaternion_of_yaw(float(pose[2]))
    msg.twist.twist.linear.x = float(twist[0])
    msg.twist.twist.angular.z = float(twist[1])
    return msg
