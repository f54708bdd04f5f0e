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
"""SE(2) poses (x, y, yaw) as numpy arrays: the one place that wraps angles and chains poses.

Angles are wrapped to (-pi, pi]. Functions broadcast over leading dimensions ([..., 3]) and keep
float32 inputs float32 where the formula allows it.
"""

import math

import numpy as np


def wrap_angle(angle):
    """Radians wrapped to (-pi, pi] (scalars or arrays)."""
    return np.pi - np.mod(np.pi - angle, 2.0 * np.pi)


def compose(origin, relative) -> np.ndarray:
    """origin * relative: poses [..., 3] in the body frame of origin, in its parent frame."""
    origin, relative = np.asarray(origin, np.float64), np.asarray(relative, np.float64)
    cos, sin = np.cos(origin[..., 2]), np.sin(origin[..., 2])
    return np.stack([origin[..., 0] + cos * relative[..., 0] - sin * relative[..., 1],
                     origin[..., 1] + sin * relative[..., 0] + cos * relative[..., 1],
                     wrap_angle(origin[..., 2] + relative[..., 2])], axis=-1)


def relative(origin, target) -> np.ndarray:
    """origin^-1 * target: target [..., 3] in the body frame of origin."""
    origin, target = np.asarray(origin, np.float64), np.asarray(target, np.float64)
    dx, dy = target[..., 0] - origin[..., 0], target[..., 1] - origin[..., 1]
    cos, sin = np.cos(origin[..., 2]), np.sin(origin[..., 2])
    return np.stack([cos * dx + sin * dy, -sin * dx + cos * dy,
                     wrap_angle(target[..., 2] - origin[..., 2])], axis=-1)


def invert(pose) -> np.ndarray:
    """pose^-1 for poses [..., 3]."""
    return relative(pose, np.zeros(3))


def yaw_of_quaternion(q) -> float:
    """Yaw in (-pi, pi] of a quaternion with fields x, y, z, w (e.g. geometry_msgs).

    The scale-free form: also right for quaternions that are not quite unit length (bags).
    """
    yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), q.w * q.w + q.x * q.x - q.y * q.y - q.z * q.z)
    return yaw + 2.0 * math.pi if yaw <= -math.pi else yaw


def quaternion_of_yaw(yaw: float) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a rotation by yaw about z."""
    return 0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0)
