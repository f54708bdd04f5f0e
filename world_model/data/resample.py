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
"""Resampling camera frames onto the control period: the frame nearest each control tick.

Ticks are t0 + k * period, t0 the first frame of the episode. A camera faster than the control
rate keeps one frame per tick (the nearest, so jitter does not bias it); a tick without any
frame is simply absent (a camera slower than the control rate: data_checks warns). Odometry is
then paired with each kept frame and the command held until the next one (bag_reader), so a
transition is always one control period long, the step the predictor is deployed at.
The selection streams: frames are decoded only once chosen.
"""

import numpy as np


class NearestTickSelector:
    """Feed (stamp, item) in arrival order; receive the items chosen, one per tick."""

    def __init__(self, period_ns: int):
        if period_ns <= 0:
            raise ValueError(f'period_ns must be > 0, got {period_ns}')
        self.period_ns = int(period_ns)
        self.dropped = 0  # frames not chosen (another was nearer its tick, or out of order)
        self.reset()

    def reset(self):
        """Start a new episode: the next frame is tick 0."""
        self._t0 = None
        self._candidate = None  # (tick, signed offset from the tick, item)
        self._last, self._step = None, 0  # last stamp and camera step seen

    def offer(self, stamp_ns: int, item) -> list:
        """Items whose tick is complete (at most one) after this frame arrives."""
        stamp_ns = int(stamp_ns)
        if self._t0 is None:
            self._t0 = stamp_ns
        if self._last is not None and stamp_ns > self._last:
            self._step = stamp_ns - self._last
        self._last = stamp_ns
        tick = int(round((stamp_ns - self._t0) / self.period_ns))
        offset = stamp_ns - (self._t0 + tick * self.period_ns)
        current = self._candidate
        if current is None or tick > current[0]:
            self._candidate = (tick, offset, item)
            return [] if current is None else [current[2]]
        self.dropped += 1
        if tick == current[0] and abs(offset) < abs(current[1]):
            self._candidate = (tick, offset, item)
        return []

    def flush(self) -> list:
        """The last pending item (end of an episode or of the bag).

        Kept unless it is early for its tick by more than half a camera step: a frame after the
        tick would have been nearer, so the recording ended before that tick.
        """
        current, self._candidate = self._candidate, None
        if current is None:
            return []
        if current[1] < 0 and -current[1] > self._step / 2:
            self.dropped += 1
            return []
        return [current[2]]


def nearest_tick_indices(stamps_ns, period_s: float) -> np.ndarray:
    """Indices of the frames NearestTickSelector keeps from one episode's stamps."""
    selector = NearestTickSelector(int(round(period_s * 1e9)))
    kept = []
    for i, stamp in enumerate(np.asarray(stamps_ns, dtype=np.int64)):
        kept.extend(selector.offer(stamp, i))
    kept.extend(selector.flush())
    return np.asarray(kept, dtype=np.int64)
