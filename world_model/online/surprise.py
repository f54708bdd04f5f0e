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
"""Surprise: the one-step latent prediction error over a running scale of recent errors."""

import numpy as np

# Below these odometry speeds the robot stands: its errors say nothing about driving.
STANDING_SPEED = 0.02  # m/s
STANDING_TURN_RATE = 0.05  # rad/s


def moving(*twists) -> bool:
    """Whether any (v, omega) twist is above the standing speeds."""
    return any(abs(float(v)) > STANDING_SPEED or abs(float(w)) > STANDING_TURN_RATE
               for v, w in (np.asarray(t, np.float64)[:2] for t in twists))


class SurpriseMeter:
    """error / running scale, where the scale is an EMA of recent (clipped) errors."""

    def __init__(self, ema: float, min_scale: float, clip: float):
        self.ema, self.min_scale, self.clip = ema, min_scale, clip
        self.scale = None

    def reset(self):
        self.scale = None

    def update(self, error: float, learn: bool = True) -> tuple[float, float, float]:
        """(normalised, error, scale used); the first error defines the scale (normalised 1).

        learn=False measures without moving the scale: a standing robot predicts its static
        view almost perfectly, and learning those errors would make its first motion a spike.
        """
        if self.scale is None and not learn:
            return 1.0, error, max(error, self.min_scale)
        if self.scale is None:
            self.scale = max(error, self.min_scale)
        scale = max(self.scale, self.min_scale)
        normalised = error / scale
        if learn:  # one outlier must not blind the meter: it moves the scale by at most clip
            self.scale = (1.0 - self.ema) * self.scale + self.ema * min(error, self.clip * scale)
        return normalised, error, scale
