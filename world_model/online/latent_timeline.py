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
"""Recent latents with stamps, sampled into predictor histories one control period apart."""

import collections
from typing import NamedTuple

import numpy as np

from world_model import geometry


class Frame(NamedTuple):
    stamp_ns: int
    latent: np.ndarray  # [D]
    twist: np.ndarray  # (v, omega) measured at this frame
    pose: np.ndarray  # (x, y, yaw) odometry at this frame


class LatentTimeline:
    """Recent frames by stamp: predictor histories sampled one control period apart.

    The predictor was trained on frames control_period apart, whatever the camera rate; a
    history for time t takes the frames nearest t, t - T, t - 2T, ... (repeating the oldest one
    while the timeline is shorter than the history, as at a cold start).
    """

    def __init__(self, history_length: int, period_s: float):
        self.history_length = int(history_length)
        self.period_ns = int(period_s * 1e9)
        self.keep_ns = (self.history_length + 2) * self.period_ns
        self.frames: collections.deque[Frame] = collections.deque()

    def clear(self):
        self.frames.clear()

    def last(self) -> Frame | None:
        return self.frames[-1] if self.frames else None

    def add(self, frame: Frame):
        self.frames.append(frame)
        while self.frames and frame.stamp_ns - self.frames[0].stamp_ns > self.keep_ns:
            self.frames.popleft()

    def nearest(self, stamp_ns: int, max_gap_ns: int) -> Frame | None:
        """The frame nearest stamp_ns within max_gap_ns, or None."""
        best = None
        for frame in self.frames:
            gap = abs(frame.stamp_ns - stamp_ns)
            if gap <= max_gap_ns and (best is None or gap < abs(best.stamp_ns - stamp_ns)):
                best = frame
        return best

    def history(self, end: Frame) -> np.ndarray:
        """[Hh, D] latents ending with frame end, oldest first, one control period apart."""
        rows = [end.latent]
        current = end
        for _ in range(self.history_length - 1):
            earlier = self.nearest(current.stamp_ns - self.period_ns, self.period_ns // 2)
            if earlier is not None and earlier.stamp_ns < current.stamp_ns:
                current = earlier
            rows.append(current.latent)
        return np.stack(rows[::-1])


def odometry_jumped(previous_pose, pose, max_translation_m: float, max_rotation_rad: float,
                    explained=(0.0, 0.0)) -> bool:
    """Whether odometry moved more between two consecutive frames than its twist explains.

    A simulator reset, a robot base restarting its odometry, a relocalised odometry source or
    a bag that loops teleports the robot without a gap in the stamps; the frames before the
    jump are another trajectory, so the predictor history (and the surprise measured against
    it) must restart. explained: the (translation, rotation) the twist accounts for over the
    frame gap; the limits are the slack beyond it. A limit of 0 disables that test.
    """
    delta = geometry.relative(previous_pose, pose)
    moved = float(np.hypot(delta[0], delta[1])) - float(explained[0])
    turned = abs(float(delta[2])) - float(explained[1])
    return bool((max_translation_m > 0 and moved > max_translation_m)
                or (max_rotation_rad > 0 and turned > max_rotation_rad))
