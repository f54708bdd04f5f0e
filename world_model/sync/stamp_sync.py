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
"""Approximate-time pairing of camera images with odometry, keeping only the latest pair.

A real-time world model wants the newest frame, not a backlog: an image is paired with the
odometry message nearest in stamp within `tolerance_s`, and the newest pair replaces any pair
not yet consumed (counted as superseded). Pairing is eager (it uses the odometry already
received) and is refined while the pair is unconsumed if a closer odometry message arrives.

Stamps are integer nanoseconds. A stamp earlier than the previous one on the same stream is
rejected and counted, unless it jumps back by more than `reset_jump_s` (simulator reset, bag
played in a loop, use_sim_time restart): then all buffers are cleared, `on_reset` is called and
the message is accepted. Thread-safe (callbacks may come from a multi-threaded executor).
"""

import bisect
from collections.abc import Callable
import dataclasses
import threading
from typing import Any, NamedTuple


def stamp_ns(stamp) -> int:
    """Integer nanoseconds of a ROS-style stamp (fields sec, nanosec: builtin_interfaces/Time)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


class StampedPair(NamedTuple):
    image_stamp_ns: int
    image: Any
    odom_stamp_ns: int
    odom: Any

    @property
    def gap_ns(self) -> int:
        return abs(self.image_stamp_ns - self.odom_stamp_ns)


@dataclasses.dataclass
class SyncStats:
    pairs: int = 0  # pairs formed
    consumed: int = 0  # pairs returned by pop()
    superseded: int = 0  # pairs replaced by a newer one before anyone popped them
    unmatched_images: int = 0  # images that can no longer get odometry within tolerance
    skipped_images: int = 0  # older pending images passed over when a newer one paired
    overflow: int = 0  # messages dropped because a queue was full
    backwards: int = 0  # stamps earlier than the previous one on their stream, rejected
    resets: int = 0  # large backward jumps that cleared the synchroniser


class StampSynchronizer:
    """Pair images and odometry by stamp; see the module docstring for the rules."""

    def __init__(self, tolerance_s: float = 0.05, queue_size: int = 10,
                 reset_jump_s: float = 1.0,
                 on_reset: Callable[[str, int, int], None] | None = None):
        if not tolerance_s >= 0.0:
            raise ValueError(f'tolerance_s must be >= 0, got {tolerance_s}')
        if int(queue_size) < 1:
            raise ValueError(f'queue_size must be >= 1, got {queue_size}')
        if not reset_jump_s > 0.0:
            raise ValueError(f'reset_jump_s must be > 0, got {reset_jump_s}')
        self.tolerance_ns = int(round(tolerance_s * 1e9))
        self.queue_size = int(queue_size)
        self.reset_jump_ns = int(round(reset_jump_s * 1e9))
        self.on_reset = on_reset  # called as on_reset(stream, previous_stamp_ns, new_stamp_ns)
        self.stats = SyncStats()
        self._lock = threading.Lock()
        self._clear()

    def _clear(self):
        self._images = []  # pending (stamp, item), ascending
        self._odom_stamps, self._odoms = [], []  # ascending
        self._last = {'image': None, 'odom': None}
        self._latest = None
        self._fresh = False

    def reset(self) -> None:
        """Forget everything buffered (the statistics are kept)."""
        with self._lock:
            self._clear()

    def _accept(self, stream: str, stamp: int) -> bool:
        last = self._last[stream]
        if last is not None and stamp < last:
            if last - stamp <= self.reset_jump_ns:
                self.stats.backwards += 1
                return False
            self._clear()
            self.stats.resets += 1
            if self.on_reset is not None:
                self.on_reset(stream, last, stamp)
        self._last[stream] = stamp
        return True

    def add_image(self, stamp_ns: int, item) -> bool:
        """Queue an image; False when it was rejected (stamp went backwards)."""
        stamp = int(stamp_ns)
        with self._lock:
            if not self._accept('image', stamp):
                return False
            if len(self._images) >= self.queue_size:
                del self._images[0]
                self.stats.overflow += 1
            self._images.append((stamp, item))
            self._match()
            return True

    def add_odom(self, stamp_ns: int, item) -> bool:
        """Queue an odometry message; False when it was rejected (stamp went backwards)."""
        stamp = int(stamp_ns)
        with self._lock:
            if not self._accept('odom', stamp):
                return False
            if len(self._odoms) >= self.queue_size:
                del self._odom_stamps[0], self._odoms[0]
                self.stats.overflow += 1
            self._odom_stamps.append(stamp)
            self._odoms.append(item)
            self._refine(stamp, item)
            self._match()
            return True

    def _nearest_odom(self, stamp: int):
        """Index of the buffered odometry nearest to stamp within tolerance, or None."""
        stamps = self._odom_stamps
        i = bisect.bisect_left(stamps, stamp)
        best = None
        for j in (i - 1, i):
            if 0 <= j < len(stamps) and abs(stamps[j] - stamp) <= self.tolerance_ns:
                if best is None or abs(stamps[j] - stamp) < abs(stamps[best] - stamp):
                    best = j
        return best

    def _refine(self, stamp: int, item):
        latest = self._latest
        if self._fresh and abs(stamp - latest.image_stamp_ns) < latest.gap_ns:
            self._latest = latest._replace(odom_stamp_ns=stamp, odom=item)

    def _match(self):
        newest = None
        for k in range(len(self._images) - 1, -1, -1):  # the newest matchable image wins
            j = self._nearest_odom(self._images[k][0])
            if j is not None:
                newest = (k, j)
                break
        if newest is not None:
            k, j = newest
            stamp, image = self._images[k]
            if self._fresh:
                self.stats.superseded += 1
            self._latest = StampedPair(stamp, image, self._odom_stamps[j], self._odoms[j])
            self._fresh = True
            self.stats.pairs += 1
            self.stats.skipped_images += k
            del self._images[:k + 1]
            # no later image can pair with odometry older than this image minus the tolerance
            cut = bisect.bisect_left(self._odom_stamps, stamp - self.tolerance_ns)
            del self._odom_stamps[:cut], self._odoms[:cut]
        if self._odom_stamps:
            # images whose tolerance window is already behind the newest odometry never match
            horizon = self._odom_stamps[-1] - self.tolerance_ns
            stale = 0
            while stale < len(self._images) and self._images[stale][0] < horizon:
                stale += 1
            self.stats.unmatched_images += stale
            del self._images[:stale]

    def latest_pair(self) -> StampedPair | None:
        """The newest pair formed so far (consumed or not), or None."""
        with self._lock:
            return self._latest

    def pop(self) -> StampedPair | None:
        """The newest pair if it was not returned before, else None."""
        with self._lock:
            if not self._fresh:
                return None
            self._fresh = False
            self.stats.consumed += 1
            return self._latest

    def pending_images(self) -> int:
        with self._lock:
            return len(self._images)
