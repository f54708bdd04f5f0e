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
"""odom_T_world: where the place probe's world frame sits in the robot's odometry frame."""

import math

import numpy as np

from world_model import geometry


class OdomWorldAlignment:
    """Smoothed odom_T_world from place(latent) (world) vs odometry (odom) of the same frame.

    Each frame gives one noisy sample (the place probe errs by about 0.1 m); the estimate is
    their running mean until 1 / ema samples have come, then an EMA that follows odometry drift.
    Starting with the EMA instead would let the first sample dominate for about 1 / ema frames.
    """

    def __init__(self, ema: float):
        self.ema = ema
        self.state = None  # (tx, ty, cos, sin): averaging yaw as a unit vector avoids wrap-around
        self.samples = 0

    def reset(self):
        self.state = None
        self.samples = 0

    def update(self, odom_pose, world_pose):
        t = geometry.compose(odom_pose, geometry.invert(world_pose))
        sample = np.array([t[0], t[1], math.cos(t[2]), math.sin(t[2])])
        self.samples += 1
        weight = max(self.ema, 1.0 / self.samples)
        self.state = sample if self.state is None else \
            (1.0 - weight) * self.state + weight * sample

    def odom_T_world(self):  # noqa: N802 (transform notation)
        if self.state is None:
            return None
        tx, ty, c, s = self.state
        return np.array([tx, ty, math.atan2(s, c)])
