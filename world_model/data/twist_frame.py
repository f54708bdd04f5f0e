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
"""In which frame an odometry source expresses its twist, and its rotation into the body frame.

REP 105 / nav_msgs/Odometry put the twist in child_frame_id (the body), but some drivers publish
it in the odom frame (header.frame_id). The pose says which: the world-frame velocity from
consecutive poses equals R(yaw) @ twist for a body-frame twist and the twist itself for an
odom-frame one. Both read the same while the robot drives straight along the odom x axis, so
the test needs motion along other headings, else it answers 'unknown' (treated as 'body').
"""

import numpy as np

TWIST_FRAMES = ('auto', 'body', 'odom')
_MIN_SPEED = 0.05  # m/s: slower samples say nothing about the direction of motion
_MIN_SAMPLES = 10
_DECISIVE = 0.5  # the chosen hypothesis must leave at most half the other's residual


def detect_twist_frame(stamps_ns, poses, twist_xy) -> str:
    """'body', 'odom' or 'unknown' from [N] stamps, [N, 3] poses and [N, 2] twist (x, y)."""
    stamps = np.asarray(stamps_ns, dtype=np.int64)
    poses, twist = np.asarray(poses, np.float64), np.asarray(twist_xy, np.float64)
    if len(stamps) < _MIN_SAMPLES + 1:
        return 'unknown'
    order = np.argsort(stamps, kind='stable')
    stamps, poses, twist = stamps[order], poses[order], twist[order]
    dt = np.diff(stamps) * 1e-9
    ok = dt > 0
    world = np.diff(poses[:, :2], axis=0)[ok] / dt[ok, None]
    yaw = poses[:-1, 2][ok]
    mid = 0.5 * (twist[:-1] + twist[1:])[ok]
    moving = np.linalg.norm(world, axis=1) > _MIN_SPEED
    if moving.sum() < _MIN_SAMPLES:
        return 'unknown'
    world, yaw, mid = world[moving], yaw[moving], mid[moving]
    as_body = np.stack([np.cos(yaw) * mid[:, 0] - np.sin(yaw) * mid[:, 1],
                        np.sin(yaw) * mid[:, 0] + np.cos(yaw) * mid[:, 1]], axis=1)
    body_err = float(np.median(np.linalg.norm(as_body - world, axis=1)))
    odom_err = float(np.median(np.linalg.norm(mid - world, axis=1)))
    if body_err <= _DECISIVE * odom_err:
        return 'body'
    if odom_err <= _DECISIVE * body_err:
        return 'odom'
    return 'unknown'


def to_body(twist_xy, yaw) -> np.ndarray:
    """Forward speed [N] of an odom-frame twist (x, y) at headings yaw [N]."""
    twist_xy, yaw = np.asarray(twist_xy, np.float64), np.asarray(yaw, np.float64)
    return np.cos(yaw) * twist_xy[:, 0] + np.sin(yaw) * twist_xy[:, 1]


def resolve(setting: str, stamps_ns, poses, twist_xy) -> str:
    """The frame to use: the setting unless 'auto', else the detected one ('unknown' -> body)."""
    if setting not in TWIST_FRAMES:
        raise ValueError(f'twist frame {setting!r}: allowed {TWIST_FRAMES}')
    if setting != 'auto':
        return setting
    detected = detect_twist_frame(stamps_ns, poses, twist_xy)
    return 'odom' if detected == 'odom' else 'body'
