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
"""Standard messages for the latent map: keyframes and edges (MarkerArray), the waypoint chain
(nav_msgs/Path) and the goal estimate with its uncertainty (PoseWithCovarianceStamped).

Everything is drawn in the odom frame of the current session (the map's poses composed with the
session's map_T_odom), so RViz shows it over the odometry without a map -> odom transform.
"""

from geometry_msgs.msg import Point, PoseWithCovarianceStamped
from nav_msgs.msg import Path
import numpy as np
from std_msgs.msg import ColorRGBA, String
from visualization_msgs.msg import Marker, MarkerArray

from agent_node.conversions.outputs import pose_stamped, set_pose
from world_model import geometry

KEYFRAMES_NS = 'keyframes'
EDGES_NS = 'edges'
CURRENT_SESSION = ColorRGBA(r=0.1, g=0.5, b=1.0, a=0.9)
OTHER_SESSIONS = ColorRGBA(r=0.55, g=0.55, b=0.55, a=0.9)
EDGE_COLOUR = ColorRGBA(r=0.3, g=0.3, b=0.3, a=0.5)


def map_markers(header, poses, current, edges, point_size: float = 0.05) -> MarkerArray:
    """Keyframes (POINTS, the current session's in blue) and edges (LINE_LIST).

    poses [N, 3] odom frame, current [N] bool, edges [E, 2] index pairs into poses.
    """
    poses = np.asarray(poses, dtype=np.float64).reshape(-1, 3)
    points = [Point(x=float(x), y=float(y), z=0.0) for x, y in poses[:, :2]]
    array = MarkerArray()
    keyframes = _marker(header, KEYFRAMES_NS, Marker.POINTS, point_size)
    keyframes.points = points
    keyframes.colors = [CURRENT_SESSION if c else OTHER_SESSIONS for c in current]
    lines = _marker(header, EDGES_NS, Marker.LINE_LIST, point_size / 4)
    lines.color = EDGE_COLOUR
    for a, b in np.asarray(edges, dtype=np.int64).reshape(-1, 2):
        lines.points += [points[a], points[b]]
    array.markers = [keyframes, lines]
    return array


def waypoints_path(header, chain) -> Path:
    """The waypoint chain [M, 3] (odom frame) ending at the goal; M = 0 clears it."""
    msg = Path()
    msg.header = header
    msg.poses = [pose_stamped(header, pose) for pose in np.asarray(chain).reshape(-1, 3)]
    return msg


def goal_with_covariance(header, pose, sigma) -> PoseWithCovarianceStamped:
    """The goal estimate with its std (x, y, yaw) on the diagonal; z, roll, pitch fixed (0)."""
    msg = PoseWithCovarianceStamped()
    msg.header = header
    set_pose(msg.pose.pose, *pose)
    variance = np.square(np.asarray(sigma, dtype=np.float64))
    covariance = np.zeros((6, 6))
    covariance[0, 0], covariance[1, 1], covariance[5, 5] = variance
    msg.pose.covariance = covariance.reshape(-1).tolist()
    return msg


def _marker(header, ns: str, kind: int, scale: float) -> Marker:
    marker = Marker()
    marker.header = header
    marker.ns, marker.id, marker.type, marker.action = ns, 0, kind, Marker.ADD
    marker.pose.orientation.w = 1.0
    marker.scale.x = marker.scale.y = float(scale)
    return marker


class MapOutputs:
    """Publishes a frame's goal status, goal covariance, waypoint chain and the map markers.

    publishers keyed 'goal_status' (latched String, sent on change), 'goal_covariance',
    'waypoints' and 'map'. The chain is cleared (an empty Path) when the goal is no longer
    localised, so RViz and the planner drop it at once.
    """

    def __init__(self, publishers: dict):
        self.publishers = publishers
        self.status = None
        self._had_chain = False

    def publish(self, header, result, latent_map, map_due: bool):
        view, pubs = result.goal, self.publishers
        if view.status != self.status:
            self.status = view.status
            pubs['goal_status'].publish(String(data=view.status))
        if view.pose is not None and view.std is not None:
            pubs['goal_covariance'].publish(goal_with_covariance(header, view.pose, view.std))
        if view.waypoints is not None:
            pubs['waypoints'].publish(waypoints_path(header, view.waypoints))
            self._had_chain = True
        elif self._had_chain:
            pubs['waypoints'].publish(waypoints_path(header, np.zeros((0, 3))))
            self._had_chain = False
        if map_due and latent_map is not None and latent_map.joined:
            shown = latent_map.display()
            odom_T_map = geometry.invert(latent_map.map_T_odom())  # noqa: N806
            poses = geometry.compose(odom_T_map, shown.poses) if len(shown.poses) else \
                shown.poses
            pubs['map'].publish(map_markers(header, poses, shown.sessions == latent_map.session,
                                            shown.edges))
