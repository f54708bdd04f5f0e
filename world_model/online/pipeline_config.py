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
"""The per-frame algorithm's configuration (FramePipelineConfig), and the floor homing it turns
on (the camera's geometry).

world_model_node's parameters mirror FramePipelineConfig (agent_node/ros/world_model_params.py).
"""

import dataclasses
import math

from world_model.config import ConfigError, param
from world_model.online.floor_alignment import CameraGeometry, FloorAligner
from world_model.online.floor_homing import FloorHoming

MAX_CANDIDATES = 4096
MAX_HORIZON = 200


@dataclasses.dataclass
class FramePipelineConfig:
    """Candidates, history restarts and surprise of the per-frame algorithm."""

    num_candidates: int = param(64, lo=1, hi=MAX_CANDIDATES,
                                help='K default candidates rolled out before a proposal')
    horizon: int = param(8, lo=1, hi=MAX_HORIZON, help='H steps of the default candidates')
    default_v: float = param(0.3, lo=0.0, hi=10.0,
                             help='forward speed of the default candidates [m/s]')
    default_omega: float = param(1.0, lo=0.0, hi=20.0,
                                 help='largest turn rate of the default candidates [rad/s]')
    proposal_timeout_s: float = param(1.0, lo=0.01, hi=3600.0,
                                      help='fall back to the default candidates when no '
                                           'planner/proposal came for this long [s, steady]')
    history_max_age_s: float = param(1.0, lo=0.05, hi=60.0,
                                     help='a gap between frames longer than this restarts the '
                                          'predictor history [s]')
    # 0.5 m / 1 rad missed 1-2 resets in 50 closed-loop episodes (an episode ending near
    # its start): its session kept the last episode's place in the map
    odom_jump_m: float = param(0.1, lo=0.0, hi=1000.0,
                               help='odometry moving this much further between consecutive '
                                    'frames than its twist explains (a reset, a relocalised '
                                    'odometry) restarts the predictor history and the map '
                                    'session [m]; 0 disables')
    odom_jump_rad: float = param(0.3, lo=0.0, hi=math.pi,
                                 help='the same for a turn between consecutive frames [rad]; 0 '
                                      'disables')
    surprise_ema: float = param(0.05, lo=0.001, hi=1.0,
                                help='EMA weight of the running latent error scale')
    surprise_min_scale: float = param(1e-6, lo=1e-12, hi=1e6,
                                      help='floor of the running error scale')
    surprise_clip: float = param(10.0, lo=1.0, hi=1e6,
                                 help='an error counts at most this many scales in the EMA')
    goal_refresh_frames: int = param(5, lo=1, hi=100_000,
                                     help='frames between two localisations of a goal in the '
                                          'latent map once it has a fix (every frame until '
                                          'then)')
    route_refresh_frames: int = param(10, lo=1, hi=100_000,
                                      help='frames between two graph searches for the '
                                           'waypoint chain to the goal')
    homing_distance_m: float = param(1.0, lo=0.0, hi=100.0,
                                     help='the goal is placed from the current view alone '
                                          'when the relative-pose head puts it this close ...')
    homing_sigma_m: float = param(0.15, lo=0.0, hi=100.0,
                                  help='... with a std (x and y) below this [m]; 0 disables')
    # Right after a join (scripts/eval_map_localisation.py, 100 sessions, world frame, median)
    # the fix is better: 0.41 / 0.47 m against 0.48 / 0.59 m (open / two rooms). Near the goal
    # the chain's end, composed from the robot along a few edges, carries no join error; in
    # the closed loop neither measured better (two rooms 48% at the fix, within the spread).
    goal_at_route_end: bool = param(True, help='place the goal at the end of the waypoint chain '
                                               'composed along the map graph from the robot; '
                                               'false: at the fix drawn with the current join')
    goal_filter_keep: float = param(0.8, lo=0.0, hi=0.99,
                                    help='share of the goal estimate kept per frame when the '
                                         'next measurement is fused (goal_filter.py); 0: each '
                                         'measurement of a frame as it is')
    goal_reject_s: float = param(5.0, lo=0.0, hi=3600.0,
                                 help='a goal fix the robot stands at (within 0.35 m) this long '
                                      'without homing on the goal view is a look-alike place: '
                                      'localise the goal without its keyframes [s, frame '
                                      'stamps]; 0: never')
    # the camera's geometry is the robot's calibration: no default fits every robot
    floor_homing: bool = param(False, help='near an image goal, also align the camera view with '
                                           'the goal image on the floor both see '
                                           '(floor_alignment.py); needs camera_height_m, '
                                           'camera_pitch_rad and camera_vfov_rad')
    camera_height_m: float = param(0.0, lo=0.0, hi=10.0,
                                   help='camera height above the floor [m] (floor_homing)')
    camera_pitch_rad: float = param(0.0, lo=-1.5, hi=1.5,
                                    help='camera pitch [rad], down negative (floor_homing)')
    camera_vfov_rad: float = param(0.0, lo=0.0, hi=3.0,
                                   help='camera vertical field of view [rad] (floor_homing)')

    def check(self):
        if self.floor_homing and (self.camera_height_m <= 0.0 or self.camera_vfov_rad <= 0.0):
            raise ConfigError(f'floor_homing needs the camera geometry: camera_height_m='
                              f'{self.camera_height_m} and camera_vfov_rad='
                              f'{self.camera_vfov_rad} must be set (allowed (0, 10] m and '
                              f'(0, 3] rad)')


def camera_geometry(config: FramePipelineConfig) -> CameraGeometry | None:
    """The camera of config's floor homing, or None when it is off."""
    if not config.floor_homing:
        return None
    return CameraGeometry(config.camera_height_m, config.camera_pitch_rad, config.camera_vfov_rad)


def floor_homing(config: FramePipelineConfig) -> FloorHoming | None:
    """The floor alignment worker of config (floor_homing), or None."""
    camera = camera_geometry(config)
    return None if camera is None else FloorHoming(FloorAligner(camera))
