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
"""RateWindow: events per second over a sliding window of a steady clock."""

import collections
from collections.abc import Callable
import time


class RateWindow:
    """Rate of recent events: independent of how often it is read, not diluted by idle time."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_events: int = 2000):
        if not window_s > 0:
            raise ValueError(f'window_s must be > 0 s, got {window_s!r}')
        self.window_s = float(window_s)
        self.clock = clock
        self._times = collections.deque(maxlen=max_events)

    def record(self):
        self._times.append(self.clock())

    def rate_hz(self) -> float:
        """(events - 1) / their time span over the last window_s; 0 with fewer than 3 events."""
        now = self.clock()
        recent = [t for t in self._times if now - t <= self.window_s]
        if len(recent) <= 2 or recent[-1] <= recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])
