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
"""A stand-in robot camera for benchmarks: rgb8 frames + odometry with the same stamp, at a rate.

Runs in its own process (like a real camera driver) so that the node under test competes for the
CPU as it would on a robot. Frames are a few precomputed textured images shifted per frame, so
the publisher itself costs little; odometry integrates a constant (v, omega). With --recording
it plays a recorded drive instead (an .npz of images [N, H, W, 3] uint8, odom [N, 3] and twist
[N, 2], as scripts/bench_pipeline_latency.py writes), frame by frame at --rate, stamped now, and
stops publishing after the last frame.

    python scripts/camera_publisher.py --rate 30 --width 640 --height 480 --duration 20
"""

import argparse
import math
import sys

from nav_msgs.msg import Odometry
import numpy as np
import rclpy
from sensor_msgs.msg import Image

from agent_node.conversions.odometry import odometry_msg
from agent_node.ros import qos


def textured_frames(width: int, height: int, count: int, seed: int = 0) -> list[bytes]:
    """count distinct rgb8 frames: smooth random texture panned sideways (bytes, ready to send)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(height // 16 + 2, (width + count * 8) // 16 + 2, 3))
    texture = np.kron(coarse, np.ones((16, 16, 1))).astype(np.uint8)
    return [np.ascontiguousarray(texture[:height, 8 * i:8 * i + width]).tobytes()
            for i in range(count)]


class CameraPublisher:
    """Publishes camera/image_raw and odom from a wall-clock timer."""

    def __init__(self, node, rate: float, width: int, height: int, v: float, omega: float,
                 recording: str = ''):
        self.node = node
        self.width, self.height = width, height
        self.drive = None
        if recording:
            with np.load(recording) as drive:
                self.drive = {k: drive[k] for k in ('images', 'odom', 'twist')}
            self.height, self.width = self.drive['images'].shape[1:3]
            self.frames = [np.ascontiguousarray(f).tobytes() for f in self.drive['images']]
        else:
            self.frames = textured_frames(width, height, count=16)
        self.image_pub = node.create_publisher(Image, 'camera/image_raw', qos.SENSOR)
        self.odom_pub = node.create_publisher(Odometry, 'odom', qos.SENSOR)
        self.v, self.omega = v, omega
        self.pose = [0.0, 0.0, 0.0]
        self.period = 1.0 / rate
        self.count = 0
        self.timer = node.create_timer(self.period, self.tick)

    def tick(self):
        if self.drive is not None and self.count >= len(self.frames):
            return  # the recording is over
        stamp = self.node.get_clock().now().to_msg()
        image = Image()
        image.header.stamp = stamp
        image.header.frame_id = 'camera_link'
        image.height, image.width = self.height, self.width
        image.encoding = 'rgb8'
        image.step = 3 * self.width
        image.data = self.frames[self.count % len(self.frames)]
        if self.drive is not None:
            self.odom_pub.publish(odometry_msg(stamp, 'odom', 'base_link',
                                               tuple(self.drive['odom'][self.count]),
                                               tuple(self.drive['twist'][self.count])))
            self.image_pub.publish(image)
            self.count += 1
            return
        x, y, yaw = self.pose
        self.odom_pub.publish(odometry_msg(stamp, 'odom', 'base_link', (x, y, yaw),
                                           (self.v, self.omega)))
        self.image_pub.publish(image)
        self.pose = [x + self.v * math.cos(yaw) * self.period,
                     y + self.v * math.sin(yaw) * self.period,
                     math.remainder(yaw + self.omega * self.period, 2.0 * math.pi)]
        self.count += 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rate', type=float, default=30.0, help='frames per second')
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--v', type=float, default=0.2, help='odometry forward speed [m/s]')
    parser.add_argument('--omega', type=float, default=0.1, help='odometry turn rate [rad/s]')
    parser.add_argument('--duration', type=float, default=0.0, help='seconds; 0 = until killed')
    parser.add_argument('--recording', default='',
                        help='.npz drive to play (images, odom, twist) instead of the texture')
    args, ros_args = parser.parse_known_args(argv)
    rclpy.init(args=ros_args)
    try:
        node = rclpy.create_node('camera_publisher')
        publisher = CameraPublisher(node, args.rate, args.width, args.height, args.v, args.omega,
                                    args.recording)
        if args.duration > 0:
            node.create_timer(args.duration, lambda: rclpy.try_shutdown())
        try:
            rclpy.spin(node)
        except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
            pass
        print(f'camera_publisher: published {publisher.count} frames', flush=True)
    finally:
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
