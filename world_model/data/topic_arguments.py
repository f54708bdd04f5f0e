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
"""The bag topic flags shared by `train`, `inspect` and `evaluate`: a robot's own topic names."""

from world_model.data.bag_reader import BagTopics
from world_model.data.twist_frame import TWIST_FRAMES


def add_topic_arguments(parser):
    defaults = BagTopics()
    parser.add_argument('--camera-topic', default=defaults.image, metavar='TOPIC',
                        help=f'camera topic, Image or CompressedImage (default {defaults.image})')
    parser.add_argument('--odom-topic', default=defaults.odom, metavar='TOPIC',
                        help=f'odometry topic (default {defaults.odom})')
    parser.add_argument('--cmd-vel-topic', default=defaults.cmd_vel, metavar='TOPIC',
                        help=f"command topic, Twist or TwistStamped (default {defaults.cmd_vel}; "
                             f"'' = actions from the odometry twist)")
    parser.add_argument('--odom-twist-frame', default=defaults.odom_twist_frame,
                        choices=TWIST_FRAMES,
                        help='frame of the odometry twist (default auto: detected per bag)')


def topics_from_args(args) -> BagTopics:
    return BagTopics(image=args.camera_topic, odom=args.odom_topic, cmd_vel=args.cmd_vel_topic,
                     odom_twist_frame=args.odom_twist_frame)
