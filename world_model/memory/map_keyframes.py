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
"""The latent map's keyframe arrays (latents, sessions, odometry and map poses, joined flags)
and the views of them that LatentMap returns (Fix, MapDisplay).

Slots 0..n-1 of arrays grown by doubling up to max_keyframes rows; removing a keyframe moves
the last slot into its hole. Retrieval is a brute-force L2 search restricted to joined
keyframes (cached squared norms: one matrix-vector product). Not thread-safe: LatentMap locks
around it.
"""

from typing import NamedTuple

import numpy as np

from world_model import geometry


class Fix(NamedTuple):
    pose: np.ndarray  # (3,) map frame
    std: np.ndarray  # (3,) x, y, yaw
    keyframe_ids: tuple  # the keyframes whose candidates agreed
    support: int


class MapDisplay(NamedTuple):
    poses: np.ndarray  # [N, 3] map poses of the joined keyframes
    sessions: np.ndarray  # [N]
    ids: np.ndarray  # [N] keyframe ids
    edges: np.ndarray  # [E, 2] index pairs into poses
    kinds: list  # [E] 'traversal' | 'proximity'


_FIELDS = ('lat', 'sq', 'ids', 'sess', 'stamp', 'odom', 'mapp', 'joined')


class MapKeyframes:
    def __init__(self, max_keyframes: int, dim: int):
        self.max_keyframes, self.dim, self.n = max_keyframes, dim, 0
        self.slot: dict[int, int] = {}  # keyframe id -> slot
        self.reference = None  # a session id: only its keyframes are retrieved (None: all)
        self._alloc(min(max_keyframes, 1024))

    def _alloc(self, cap: int):
        old = {f: getattr(self, f) for f in _FIELDS} if hasattr(self, 'lat') else None
        self.lat = np.zeros((cap, self.dim), np.float32)
        self.sq = np.zeros(cap, np.float32)
        self.ids = np.zeros(cap, np.int64)
        self.sess = np.zeros(cap, np.int64)
        self.stamp = np.zeros(cap)  # seconds
        self.odom = np.zeros((cap, 3))
        self.mapp = np.zeros((cap, 3))  # valid where joined
        self.joined = np.zeros(cap, bool)
        if old is not None:
            for f in _FIELDS:
                getattr(self, f)[:self.n] = old[f][:self.n]

    def put(self, kid: int, sid: int, odom, z: np.ndarray, map_t_session=None,
            stamp_s: float = 0.0):
        """Append a keyframe; map_t_session: its session's pose in the map, None if unjoined."""
        i = self.n
        if i >= len(self.ids):
            self._alloc(max(i + 1, min(self.max_keyframes, 2 * len(self.ids))))
        self.n += 1
        self.slot[kid] = i
        self.lat[i], self.sq[i] = z, float(z @ z)
        self.ids[i], self.sess[i], self.odom[i], self.stamp[i] = kid, sid, odom, stamp_s
        self.joined[i] = map_t_session is not None
        if map_t_session is not None:
            self.mapp[i] = geometry.compose(map_t_session, odom)

    def remove(self, kid: int) -> bool:
        i = self.slot.pop(kid, None)
        if i is None:
            return False
        last = self.n - 1
        if i != last:  # the last slot fills the hole
            for f in _FIELDS:
                getattr(self, f)[i] = getattr(self, f)[last]
            self.slot[int(self.ids[i])] = i
        self.n = last
        return True

    def set_session(self, sid: int, map_t_session: np.ndarray):
        """Join (or move) a session: its keyframes' map poses from its pose in the map."""
        n = self.n
        mask = self.sess[:n] == sid
        self.mapp[:n][mask] = geometry.compose(map_t_session, self.odom[:n][mask])
        self.joined[:n][mask] = True

    def routable(self, sessions=None) -> np.ndarray:
        """bool [n]: joined, and of one of sessions (None: any)."""
        ok = self.joined[:self.n].copy()
        if sessions is not None:
            ok &= np.isin(self.sess[:self.n], list(sessions))
        return ok

    def of_session(self, sid: int) -> list[int]:
        return self.ids[:self.n][self.sess[:self.n] == sid].tolist()

    def retrievable(self) -> np.ndarray:
        """bool [n]: joined, and of the reference session when there is one."""
        ok = self.joined[:self.n].copy()
        if self.reference is not None:
            ok &= self.sess[:self.n] == self.reference
        return ok

    def retrieve(self, z: np.ndarray, k: int, exclude: int = -1) -> np.ndarray:
        """Slots of the k retrievable keyframes nearest to z in latent L2 (any order)."""
        n = self.n
        if n == 0:
            return np.zeros(0, np.int64)
        d2 = self.sq[:n] - 2.0 * (self.lat[:n] @ z)
        d2[~self.retrievable()] = np.inf
        if 0 <= exclude < n:
            d2[exclude] = np.inf
        k = min(int(k), int(np.isfinite(d2).sum()))
        if k <= 0:
            return np.zeros(0, np.int64)
        idx = np.argpartition(d2, k - 1)[:k] if k < n else np.arange(n)
        return idx[np.isfinite(d2[idx])]

    def neighbours(self, slots: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """retrieve() for many keyframes at once (each excluding itself): slot pairs (a, b)."""
        n, slots = self.n, np.asarray(slots, np.int64)
        k = min(int(k), n - 1)
        if len(slots) == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        d2 = self.sq[:n, None] - 2.0 * (self.lat[:n] @ self.lat[slots].T)  # [n, m]
        d2[~self.retrievable()] = np.inf
        d2[slots, np.arange(len(slots))] = np.inf
        idx = np.argpartition(d2, k - 1, axis=0)[:k]  # [k, m]
        ok = np.isfinite(np.take_along_axis(d2, idx, axis=0))
        a = np.broadcast_to(slots, idx.shape)
        return a[ok], idx[ok]
