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
"""Frame input health for /diagnostics: counters, rates, arrival ages, latency percentiles."""

import collections
import time

import numpy as np

RATES = {'processed_hz': 'processed', 'dropped_hz': 'dropped', 'image_hz': 'images',
         'odom_hz': 'odometry'}


class FrameStats:
    """Counts frames and times them, on the steady clock.

    values() gives totals, rates since its previous call, whether the camera and odometry are
    stale, and p50 / p99 of the latency (camera stamp -> publish) and of the processing time.
    """

    def __init__(self, window: int = 200):
        self.counters = collections.Counter()
        self.latency_ms = collections.deque(maxlen=window)
        self.processing_ms = collections.deque(maxlen=window)
        self.last_arrival = {'images': None, 'odometry': None}  # steady seconds
        self._mark = (time.monotonic(), collections.Counter())

    def arrived(self, stream: str):
        """A message of stream ('images' or 'odometry') came in."""
        self.last_arrival[stream] = time.monotonic()
        self.counters[stream] += 1

    def stale(self, stream: str, timeout_s: float, now: float | None = None) -> bool:
        last = self.last_arrival[stream]
        return last is None or (time.monotonic() if now is None else now) - last > timeout_s

    def values(self, sync_stats, stale_after_s: float) -> dict:
        """sync_stats: the synchroniser's SyncStats (superseded pairs are the dropped frames),
        or None before the first activation."""
        now = time.monotonic()
        then, previous = self._mark
        totals = collections.Counter(self.counters)
        totals['dropped'] = sync_stats.superseded if sync_stats else 0
        self._mark = (now, totals)
        elapsed = max(now - then, 1e-6)
        values = {'frames_processed': totals['processed'], 'frames_dropped': totals['dropped'],
                  'images_received': totals['images'], 'odom_jumps': totals['odom_jumps'],
                  'odom_stale': self.stale('odometry', stale_after_s, now),
                  'image_stale': self.stale('images', stale_after_s, now)}
        for name, key in RATES.items():
            values[name] = max(totals[key] - previous[key], 0) / elapsed
        if sync_stats is not None:
            values.update({'images_unmatched': sync_stats.unmatched_images,
                           'images_skipped': sync_stats.skipped_images,
                           'stamps_backwards': sync_stats.backwards,
                           'time_resets': sync_stats.resets})
        for name, series in (('latency_ms', self.latency_ms),
                             ('processing_ms', self.processing_ms)):
            if series:
                data = np.asarray(series)
                values[f'{name}_p50'] = float(np.percentile(data, 50))
                values[f'{name}_p99'] = float(np.percentile(data, 99))
        return values
