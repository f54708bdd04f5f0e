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
"""SimConfig: every tunable of the built-in simulator, with its allowed range."""

import dataclasses

from world_model.config import ConfigError, param

LAYOUT_NAMES = ('open', 'two_rooms', 'random')


@dataclasses.dataclass
class SimConfig:
    """Arena, robot, camera, odometry and distractor settings of DiffDriveSim."""

    layout: str = param('open', choices=LAYOUT_NAMES, help='arena layout')
    layout_seed: int = param(-1, lo=-1, hi=2**31 - 1,
                             help="seed of the 'random' layout; -1 uses the reset seed")
    arena_size: float = param(4.0, lo=2.0, hi=20.0, help='side of the square arena [m]')
    image_width: int = param(64, lo=8, hi=1024, help='camera image width [px]')
    image_height: int = param(64, lo=8, hi=1024, help='camera image height [px]')
    fov_deg: float = param(90.0, lo=20.0, hi=160.0, help='camera vertical field of view [deg]')
    camera_height: float = param(0.25, lo=0.05, hi=1.0, help='camera height above floor [m]')
    camera_pitch_deg: float = param(-5.0, lo=-60.0, hi=30.0,
                                    help='camera pitch, negative looks down [deg]')
    control_period: float = param(0.1, lo=0.005, hi=1.0,
                                  help='seconds per step(): camera and odometry period [s]')
    substeps: int = param(5, lo=1, hi=100, help='integration / contact substeps per step')
    robot_radius: float = param(0.18, lo=0.05, hi=0.5, help='robot footprint radius [m]')
    max_linear_speed: float = param(0.5, lo=0.01, hi=5.0, help='forward speed limit [m/s]')
    max_reverse_speed: float = param(0.25, lo=0.0, hi=5.0, help='reverse speed limit [m/s]')
    max_angular_speed: float = param(1.5, lo=0.01, hi=10.0, help='turn rate limit [rad/s]')
    min_turn_radius: float = param(0.0, lo=0.0, hi=20.0,
                                   help='car-like steering: turn rate at most speed / radius; '
                                        '0 = a differential drive that turns on the spot [m]')
    max_linear_accel: float = param(2.0, lo=0.01, hi=100.0, help='linear accel limit [m/s^2]')
    max_angular_accel: float = param(6.0, lo=0.01, hi=100.0,
                                     help='angular accel limit [rad/s^2]')
    odom_linear_noise: float = param(0.01, lo=0.0, hi=1.0,
                                     help='std of measured linear speed noise [m/s]')
    odom_angular_noise: float = param(0.02, lo=0.0, hi=1.0,
                                      help='std of measured turn rate noise [rad/s]')
    odom_scale_error: float = param(0.02, lo=0.0, hi=0.5,
                                    help='std of the per-episode linear odometry scale error')
    odom_gyro_bias: float = param(0.005, lo=0.0, hi=0.5,
                                  help='std of the per-episode turn rate bias (drift) [rad/s]')
    distractors: bool = param(False, help='add moving, non-colliding coloured objects')
    num_distractors: int = param(3, lo=0, hi=32, help='number of distractor objects')
    distractor_speed: float = param(0.4, lo=0.0, hi=5.0, help='distractor random-walk speed [m/s]')

    def check(self):
        if self.robot_radius * 4 > self.arena_size:
            raise ConfigError(f'parameter robot_radius={self.robot_radius} is too large for '
                              f'arena_size={self.arena_size}: allowed up to arena_size / 4')
