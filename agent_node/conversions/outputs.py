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
"""Standard ROS messages for the world model's outputs: latent, surprise, path, markers, poses.

publish_frame() sends one world_model.online.FrameResult on the node's publishers.

The latent travels as a sensor_msgs/Image with encoding '32FC1', height 1 and width D: a stamped
float vector in a standard type (little-endian float32, step = 4 * D), so any subscriber can read
it with `np.frombuffer(msg.data, '<f4')` and rosbag/RViz tools accept it without custom messages.

Poses are (x, y, yaw) arrays (world_model.geometry).
"""

import math

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import Point, PoseStamped, Vector3Stamped
from nav_msgs.msg import Path
import numpy as np
from sensor_msgs.msg import Image
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from agent_node.conversions.futures import encode_futures
from world_model import geometry

MARKER_NAMESPACE = 'world_model_futures'


def pose_of(pose_msg) -> np.ndarray:
    """(x, y, yaw) of a geometry_msgs/Pose."""
    yaw = geometry.yaw_of_quaternion(pose_msg.orientation)
    return np.array([pose_msg.position.x, pose_msg.position.y, yaw])


def set_pose(pose_msg, x: float, y: float, yaw: float):
    """Fill a geometry_msgs/Pose from (x, y, yaw)."""
    pose_msg.position.x, pose_msg.position.y, pose_msg.position.z = float(x), float(y), 0.0
    o = pose_msg.orientation
    o.x, o.y, o.z, o.w = geometry.quaternion_of_yaw(float(yaw))


def pose_stamped(header, pose) -> PoseStamped:
    msg = PoseStamped()
    msg.header = header
    set_pose(msg.pose, *pose)
    return msg


def latent_image(header, latent) -> Image:
    """A latent vector [D] as a '32FC1' Image with height 1 and width D."""
    data = np.ascontiguousarray(np.asarray(latent, dtype='<f4').reshape(-1))
    msg = Image()
    msg.header = header
    msg.height = 1
    msg.width = int(data.size)
    msg.encoding = '32FC1'
    msg.is_bigendian = 0
    msg.step = 4 * int(data.size)
    msg.data = data.tobytes()
    return msg


def surprise_vector(header, normalised: float, error: float, scale: float) -> Vector3Stamped:
    """x = normalised surprise (~1 normally), y = raw latent error, z = running error scale."""
    msg = Vector3Stamped()
    msg.header = header
    msg.vector.x = float(normalised)
    msg.vector.y = float(error)
    msg.vector.z = float(scale)
    return msg


def path_msg(header, start_pose, poses) -> Path:
    """nav_msgs/Path: the current pose followed by the H predicted poses (odom frame)."""
    msg = Path()
    msg.header = header
    for pose in np.concatenate([np.asarray(start_pose)[None], np.asarray(poses)], axis=0):
        msg.poses.append(pose_stamped(header, pose))
    return msg


def cost_colour(cost: float) -> ColorRGBA:
    """0 -> green, 1 -> red (cost already normalised to [0, 1]); NaN -> grey."""
    if not math.isfinite(cost):
        return ColorRGBA(r=0.6, g=0.6, b=0.6, a=0.8)
    cost = min(max(cost, 0.0), 1.0)
    return ColorRGBA(r=float(cost), g=float(1.0 - cost), b=0.0, a=0.8)


def normalised_costs(costs) -> np.ndarray:
    """Costs [K] scaled to [0, 1] over the finite values (all 0 when they are equal)."""
    costs = np.asarray(costs, dtype=np.float64)
    finite = np.isfinite(costs)
    out = np.full(costs.shape, np.nan)
    if finite.any():
        low, high = costs[finite].min(), costs[finite].max()
        span = high - low
        out[finite] = (costs[finite] - low) / span if span > 0 else 0.0
    return out


def futures_markers(header, start_pose, poses, costs, highlighted: int, width: float = 0.02,
                    lifetime_s: float = 1.0) -> MarkerArray:
    """DELETEALL, then one LINE_STRIP per candidate (poses [K, H, 3] odom frame) coloured by cost.

    The highlighted candidate (the planner's choice) is drawn three times wider. Markers expire
    after lifetime_s so that RViz clears them when the node stops publishing (stale odometry).
    """
    array = MarkerArray()
    clear = Marker()
    clear.header = header
    clear.ns = MARKER_NAMESPACE
    clear.action = Marker.DELETEALL
    array.markers.append(clear)
    lifetime = Duration(sec=int(lifetime_s), nanosec=int((lifetime_s % 1.0) * 1e9))
    start = Point(x=float(start_pose[0]), y=float(start_pose[1]), z=0.0)
    scaled = normalised_costs(costs)
    for k in range(poses.shape[0]):
        marker = Marker()
        marker.header = header
        marker.ns = MARKER_NAMESPACE
        marker.id = k
        marker.type = Marker.LINE_STRIP
        marker.action = Marker.ADD
        marker.pose.orientation.w = 1.0
        marker.scale.x = width * (3.0 if k == highlighted else 1.0)
        marker.color = cost_colour(float(scaled[k]))
        marker.lifetime = lifetime
        marker.points = [start] + [Point(x=float(p[0]), y=float(p[1]), z=0.0)
                                   for p in poses[k]]
        array.markers.append(marker)
    return array


def publish_frame(publishers: dict, header, result, markers: bool = True):
    """Publish a FrameResult: futures, the highlighted path, latent, surprise and goal pose when
    this frame has them, and (when markers) the futures markers; publishers keyed 'futures',
    'path', 'latent', 'surprise', 'goal_pose', 'markers'."""
    best = result.highlighted
    publishers['futures'].publish(encode_futures(header, result.poses, result.actions,
                                                 result.goal_dist, result.uncertainty,
                                                 result.collision))
    publishers['path'].publish(path_msg(header, result.pose, result.poses[best]))
    publishers['latent'].publish(latent_image(header, result.latent))
    if result.surprise is not None:
        publishers['surprise'].publish(surprise_vector(header, *result.surprise))
    if result.goal_pose is not None:
        publishers['goal_pose'].publish(pose_stamped(header, result.goal_pose))
    if markers:
        publishers['markers'].publish(futures_markers(header, result.pose, result.poses,
                                                      result.costs, best))
