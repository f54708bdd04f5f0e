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
"""Write rosbag2 recordings (MCAP or sqlite3) without ROS, in the layout of docs/architecture.md.

Uses the pure-Python `rosbags` package with the ROS 2 Jazzy type store, so the bags open in
`ros2 bag`, Foxglove and any rosbag2 reader. Log time of every message equals its stamp.
"""

import pathlib

import numpy as np
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from world_model import geometry

TYPESTORE = get_typestore(Stores.ROS2_JAZZY)

IMAGE_TOPIC = '/camera/image_raw'
ODOM_TOPIC = '/odom'
CMD_VEL_TOPIC = '/cmd_vel'
GROUND_TRUTH_TOPIC = '/ground_truth/odom'
EPISODE_TOPIC = '/episode'

_STORAGES = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}
_T = TYPESTORE.types


def stamp_msg(stamp_ns: int):
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    return _T['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec)


def header_msg(stamp_ns: int, frame_id: str):
    return _T['std_msgs/msg/Header'](stamp=stamp_msg(stamp_ns), frame_id=frame_id)


def image_msg(stamp_ns: int, image: np.ndarray, frame_id: str = 'camera_link',
              encoding: str = 'rgb8'):
    """sensor_msgs/Image from a uint8 [H, W, C] (or [H, W] for mono8) array, tightly packed."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width = image.shape[:2]
    return _T['sensor_msgs/msg/Image'](
        header=header_msg(stamp_ns, frame_id), height=height, width=width, encoding=encoding,
        is_bigendian=0, step=image.size // height, data=image.reshape(-1))


def compressed_image_msg(stamp_ns: int, payload: bytes, fmt: str,
                         frame_id: str = 'camera_link'):
    return _T['sensor_msgs/msg/CompressedImage'](
        header=header_msg(stamp_ns, frame_id), format=fmt,
        data=np.frombuffer(payload, dtype=np.uint8))


def _vector3(x=0.0, y=0.0, z=0.0):
    return _T['geometry_msgs/msg/Vector3'](x=float(x), y=float(y), z=float(z))


def twist_msg(v: float, omega: float):
    return _T['geometry_msgs/msg/Twist'](linear=_vector3(x=v), angular=_vector3(z=omega))


def odometry_msg(stamp_ns: int, pose, twist, frame_id: str = 'odom',
                 child_frame_id: str = 'base_link'):
    """nav_msgs/Odometry for a planar pose (x, y, yaw) and body twist (v, omega)."""
    x, y, yaw = (float(p) for p in pose)
    v, omega = (float(t) for t in twist)
    qx, qy, qz, qw = geometry.quaternion_of_yaw(yaw)
    quat = _T['geometry_msgs/msg/Quaternion'](x=qx, y=qy, z=qz, w=qw)
    position = _T['geometry_msgs/msg/Point'](x=x, y=y, z=0.0)
    return _T['nav_msgs/msg/Odometry'](
        header=header_msg(stamp_ns, frame_id), child_frame_id=child_frame_id,
        pose=_T['geometry_msgs/msg/PoseWithCovariance'](
            pose=_T['geometry_msgs/msg/Pose'](position=position, orientation=quat),
            covariance=np.zeros(36, dtype=np.float64)),
        twist=_T['geometry_msgs/msg/TwistWithCovariance'](
            twist=twist_msg(v, omega), covariance=np.zeros(36, dtype=np.float64)))


class BagWriter:
    """Context manager writing one rosbag2 directory (metadata.yaml + .mcap or .db3).

    with BagWriter('bags/run1') as w:
        w.mark_episode(stamp_ns, 0)
        w.write_frame(stamp_ns, image_rgb, odom_pose, odom_twist, true_pose, true_twist, cmd)
    """

    def __init__(self, path_dir, storage: str = 'mcap', camera_frame: str = 'camera_link',
                 odom_frame: str = 'odom', world_frame: str = 'world',
                 base_frame: str = 'base_link'):
        if storage not in _STORAGES:
            raise ValueError(f'storage {storage!r} is not supported: use one of '
                             f'{", ".join(_STORAGES)}')
        self.path = pathlib.Path(path_dir)
        if self.path.exists():
            raise FileExistsError(f'bag directory {self.path} exists already; rosbag2 bags are '
                                  f'never overwritten, choose a new path')
        self.storage = storage
        self.camera_frame, self.odom_frame = camera_frame, odom_frame
        self.world_frame, self.base_frame = world_frame, base_frame
        self._writer = Writer(self.path, version=Writer.VERSION_LATEST,
                              storage_plugin=_STORAGES[storage])
        self._connections = {}
        self._open = False
        self.frames_written = 0

    def open(self) -> 'BagWriter':
        self._writer.open()
        self._open = True
        return self

    def close(self):
        if self._open:
            self._open = False
            self._writer.close()

    def __enter__(self) -> 'BagWriter':
        return self.open()

    def __exit__(self, *exc):
        # close even on error: what was recorded so far stays a valid, readable bag
        self.close()
        return False

    def write(self, topic: str, msg, stamp_ns: int):
        """Serialise any Jazzy message (built from TYPESTORE.types) to topic at log time stamp."""
        if not self._open:
            raise RuntimeError(f'BagWriter for {self.path} is not open (use it as a context '
                               f'manager)')
        msgtype = msg.__msgtype__
        key = (topic, msgtype)
        conn = self._connections.get(key)
        if conn is None:
            conn = self._writer.add_connection(topic, msgtype, typestore=TYPESTORE)
            self._connections[key] = conn
        self._writer.write(conn, int(stamp_ns), TYPESTORE.serialize_cdr(msg, msgtype))

    def mark_episode(self, stamp_ns: int, index: int):
        """Start episode `index`: logged at the stamp of the episode's first frame."""
        self.write(EPISODE_TOPIC, _T['std_msgs/msg/UInt32'](data=int(index)), stamp_ns)

    def write_frame(self, stamp_ns: int, image_rgb: np.ndarray, odom_pose, odom_twist,
                    true_pose=None, true_twist=None, cmd=None):
        """One control step: camera, odometry, ground truth and the command issued after it.

        true_pose / cmd may be None (that topic is then not written for this frame).
        """
        image_rgb = np.asarray(image_rgb)
        if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
            raise ValueError(f'image_rgb must be uint8 [H, W, 3], got {image_rgb.dtype} '
                             f'{image_rgb.shape}')
        self.write(IMAGE_TOPIC, image_msg(stamp_ns, image_rgb, self.camera_frame), stamp_ns)
        self.write(ODOM_TOPIC, odometry_msg(stamp_ns, odom_pose, odom_twist, self.odom_frame,
                                            self.base_frame), stamp_ns)
        if true_pose is not None:
            twist = (0.0, 0.0) if true_twist is None else true_twist
            self.write(GROUND_TRUTH_TOPIC, odometry_msg(stamp_ns, true_pose, twist,
                                                        self.world_frame, self.base_frame),
                       stamp_ns)
        if cmd is not None:
            self.write(CMD_VEL_TOPIC, twist_msg(cmd[0], cmd[1]), stamp_ns)
        self.frames_written += 1
