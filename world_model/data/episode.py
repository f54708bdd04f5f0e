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
"""One episode of robot experience: what flows from bags (or the simulator) to training."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Episode:
    """Time-aligned arrays for T frames. Poses are (x, y, yaw) in metres / radians.

    actions[t] is the body-frame command (v, omega) in force between frame t and frame t+1;
    odom_twist[t] is the measured body-frame velocity (v, omega) at frame t (proprioception).
    """

    images: np.ndarray  # uint8 [T, H, W, 3], RGB
    stamps_ns: np.ndarray  # int64 [T], camera stamps
    odom_pose: np.ndarray  # float32 [T, 3], odometry frame
    odom_twist: np.ndarray  # float32 [T, 2]
    actions: np.ndarray  # float32 [T, 2]
    ground_truth: np.ndarray | None = None  # float32 [T, 3], world frame, simulator only
    collisions: np.ndarray | None = None  # bool [T], simulator only

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def check(self) -> 'Episode':
        n = len(self)
        for name in ('stamps_ns', 'odom_pose', 'odom_twist', 'actions', 'ground_truth',
                     'collisions'):
            value = getattr(self, name)
            if value is not None and value.shape[0] != n:
                raise ValueError(f'Episode.{name} has {value.shape[0]} rows, expected {n}')
        if self.images.ndim != 4 or self.images.shape[-1] != 3 or self.images.dtype != np.uint8:
            raise ValueError(f'Episode.images must be uint8 [T,H,W,3], got '
                             f'{self.images.dtype} {self.images.shape}')
        return self
