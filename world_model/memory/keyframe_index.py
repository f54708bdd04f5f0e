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
"""The in-memory mirror of the keyframes: float32 latents for brute-force recall, and eviction.

Place recall ("have I been here before?") is a brute-force L2 search over all keyframes; the
squared norms are cached so a query is one matrix-vector product.

Eviction when full (MemoryConfig.eviction):
- 'redundant' (default): among the `eviction_window` oldest keyframes, find the two closest to
  each other in latent space and evict the older of them. Old, duplicated views of the same place
  go first while distinct places are kept for as long as possible; cost O(window^2 * D).
- 'fifo': evict the oldest keyframe.

Not thread-safe on its own: LatentStore holds its lock around every call.
"""

from typing import NamedTuple

import numpy as np


class Keyframe(NamedTuple):
    stamp_ns: int
    pose: tuple  # (x, y, yaw), odometry frame
    latent: np.ndarray  # float32 [D]


class Recall(NamedTuple):
    distance: float  # L2 distance in latent space
    stamp_ns: int
    pose: tuple
    latent: np.ndarray


class KeyframeIndex:
    """Keyframes in slots 0..n-1 of growable arrays; ids are the SQLite row ids."""

    def __init__(self, capacity: int, dim: int | None, max_keyframes: int):
        self.dim = dim or 0
        self.max_keyframes = max_keyframes
        self.n = 0
        self._alloc(capacity)

    def set_dim(self, dim: int):
        """Fix the latent size of an index created before it was known (empty index)."""
        self.dim = int(dim)
        self._alloc(self.lat.shape[0])

    def _alloc(self, cap: int):
        n, d = self.n, self.dim
        old = getattr(self, 'lat', None)
        lat = np.zeros((cap, d), dtype=np.float32)
        sq = np.zeros(cap, dtype=np.float32)
        ids = np.zeros(cap, dtype=np.int64)
        stamps = np.zeros(cap, dtype=np.int64)
        poses = np.zeros((cap, 3), dtype=np.float64)
        if old is not None and n and old.shape[1] == d:
            lat[:n], sq[:n], ids[:n] = old[:n], self.sq[:n], self.ids[:n]
            stamps[:n], poses[:n] = self.stamps[:n], self.poses[:n]
        self.lat, self.sq, self.ids, self.stamps, self.poses = lat, sq, ids, stamps, poses

    def load(self, rows):
        """Fill from SQLite rows (id, stamp_ns, x, y, yaw, latent blob), in id order."""
        n = len(rows)
        if not n:
            return
        self.n = 0
        self._alloc(max(n, self.lat.shape[0]))
        cols = list(zip(*rows))
        self.ids[:n] = cols[0]
        self.stamps[:n] = cols[1]
        self.poses[:n] = np.array(cols[2:5], dtype=np.float64).T
        self.lat[:n] = np.frombuffer(b''.join(cols[5]), dtype='<f4').reshape(n, self.dim)
        self.sq[:n] = np.einsum('ij,ij->i', self.lat[:n], self.lat[:n])
        self.n = n

    def put(self, slot: int, kid: int, stamp: int, pose, latent):
        if slot >= self.lat.shape[0]:
            self._alloc(min(self.max_keyframes, 2 * self.lat.shape[0]))
        self.lat[slot] = latent
        self.sq[slot] = float(latent @ latent)
        self.ids[slot] = kid
        self.stamps[slot] = stamp
        self.poses[slot] = pose
        self.n = max(self.n, slot + 1)

    def victim(self, eviction: str, window: int) -> int:
        """Slot of the keyframe to evict (see the module docstring for the policy)."""
        ids = self.ids[:self.n]
        window = min(window, self.n)
        if eviction == 'fifo' or window < 2:
            return int(np.argmin(ids))
        oldest = np.argpartition(ids, window - 1)[:window]
        lat = self.lat[oldest]
        d2 = self.sq[oldest][:, None] + self.sq[oldest][None, :] - 2.0 * (lat @ lat.T)
        np.fill_diagonal(d2, np.inf)
        i, j = np.unravel_index(int(np.argmin(d2)), d2.shape)
        a, b = oldest[i], oldest[j]
        return int(a if ids[a] < ids[b] else b)

    def keyframe(self, slot) -> Keyframe:
        return Keyframe(int(self.stamps[slot]), tuple(float(v) for v in self.poses[slot]),
                        self.lat[slot].copy())

    def nearest(self, q: np.ndarray, k: int) -> list[Recall]:
        if self.n == 0 or k < 1:
            return []
        n = self.n
        d2 = self.sq[:n] - 2.0 * (self.lat[:n] @ q)
        k = min(int(k), n)
        idx = np.argpartition(d2, k - 1)[:k] if k < n else np.arange(n)
        # exact distances for the few selected (the expanded form loses precision)
        dist = np.linalg.norm(self.lat[idx] - q, axis=1)
        order = np.argsort(dist, kind='stable')
        return [Recall(float(dist[o]), *self.keyframe(idx[o])) for o in order]

    def by_time(self, t0_ns: int, t1_ns: int) -> list[Keyframe]:
        stamps = self.stamps[:self.n]
        idx = np.flatnonzero((stamps >= int(t0_ns)) & (stamps <= int(t1_ns)))
        idx = idx[np.argsort(stamps[idx], kind='stable')]
        return [self.keyframe(i) for i in idx]

    def by_pose_radius(self, x: float, y: float, radius: float) -> list[Keyframe]:
        xy = self.poses[:self.n, :2]
        dist = np.hypot(xy[:, 0] - float(x), xy[:, 1] - float(y))
        idx = np.flatnonzero(dist <= float(radius))
        idx = idx[np.argsort(dist[idx], kind='stable')]
        return [self.keyframe(i) for i in idx]
