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
"""A persistent latent map: keyframes of many odometry sessions joined into one map frame.

Odometry restarts at (0, 0, 0) at every power-on or reset; each such origin is a session. The
first session of a map with no joined keyframes is the anchor: its odometry frame is the map
frame. A later session starts unjoined and joins when the relative-pose head agrees on where its
odometry origin is in the map (a consensus of many views over a sliding window of frames).

```python
amap = LatentMap(store, relpose, MapConfig())   # relpose(za [N,D], zb [N,D]) -> (poses, sigma)
sid = amap.start_session()                       # at node start, after an odometry reset
amap.observe(stamp_ns, odom_pose, latent)        # every frame; cheap (see scripts/bench_*)
amap.joined, amap.map_T_odom()                   # bool, (3,) or None
amap.to_map(pose_odom), amap.to_odom(pose_map)   # (3,) or None while unjoined
fix = amap.localise(goal_latent)                 # Fix(pose, std, keyframe_ids, support) | None
path = amap.route(start_pose_map, fix, latent=None)  # [pose (3,), ...] map frame, [] if none
amap.display()                                   # MapDisplay: poses, sessions, ids, edges
amap.stats()
```

- observe gates keyframes, stores them with their session and a 'traversal' edge to the
  session's previous one, and places the session (map_consensus.py): an unjoined one joins every
  join_every frames once a consensus of candidates compose(compose(kf_map_pose, relpose(kf,
  now)), invert(odom_pose)) from the retrieval_k latent-nearest keyframes holds; a joined one
  is rejoined where its later views agree instead, else refined towards its inliers every
  refine_every frames. An odometry step over odom_jump_m starts a session. Proximity edges
  (map_proximity.py) every proximity_batch new joined keyframes.
- Keyframe map poses are compose(map_T_session, odom pose): a session's drift stays in the map;
  the anchor's heading drift is measured on its revisits and taken out (heading_drift.py).
- Persistent: sessions, edges and joins go through the store's queue and commit; eviction
  removes a keyframe's edges and bridges its traversal neighbours. Keyframes of a version-1
  store are session 0: kept, never joined (their origins are unknown). Thread-safe (one lock);
  relpose is called under it.
"""

from collections import deque
from collections.abc import Callable
import math
import threading

import numpy as np

from world_model import geometry
from world_model.config import validate
from world_model.memory import map_consensus
from world_model.memory.heading_drift import AnchorDrift
from world_model.memory.latent_store import LatentStore
from world_model.memory.map_config import MapConfig
from world_model.memory.map_graph import Edge, MapGraph, route_along
from world_model.memory.map_keyframes import Fix, MapDisplay, MapKeyframes
from world_model.memory.map_proximity import proximity_edges

__all__ = ['Fix', 'LatentMap', 'MapConfig', 'MapDisplay', 'RelPose']

RelPose = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

_EDGE_SQL = ('INSERT OR REPLACE INTO edges (a, b, kind, dx, dy, dyaw, length) '
             'VALUES (?, ?, ?, ?, ?, ?, ?)')
_SESSION_SQL = 'INSERT OR REPLACE INTO sessions (id, joined, x, y, yaw) VALUES (?, ?, ?, ?, ?)'


class LatentMap:
    """See the module docstring. store: an open LatentStore (the map does not close it)."""

    def __init__(self, store: LatentStore, relpose: RelPose, config: MapConfig | None = None):
        self.store, self.relpose = store, relpose
        self.config = validate(config or MapConfig())
        self._lock = threading.RLock()
        self._cap = store.config.max_keyframes
        self.graph = MapGraph()
        self._sessions: dict[int, list] = {}  # id -> [joined, map_T_session (3,)]
        self._sid = None
        self._last = None  # (stamp, odom (3,), keyframe id) of this session's last keyframe
        self._prev_odom = None
        self._frame = 0
        self._window = deque()  # (attempt frame, odom yaw, candidates [k, 3], weights [k])
        self._pending = []  # joined keyframes waiting for proximity edges
        self._stats = {'join_attempts': 0, 'joins': 0, 'join_frames': 0, 'last_join_spread': None,
                       'last_join_support': 0, 'proximity_edges_added': 0, 'refinements': 0,
                       'rejoins': 0, 'evicted': 0}
        self.drift = AnchorDrift(self.config)
        self._load()
        self.drift.rebuild(self.kf, self._anchor(), self._ask)
        # every eviction, whoever added the keyframe (e.g. a FramePipeline on the same store);
        # drained under our lock: calling back from the store's lock could deadlock
        self._evictions = store.watch_evictions()

    # ---------------------------------------------------------------- loading
    def _load(self):
        q = self.store.query
        for sid, joined, x, y, yaw in q('SELECT id, joined, x, y, yaw FROM sessions'):
            self._sessions[int(sid)] = [bool(joined), np.array([x, y, yaw], np.float64)]
        self.kf = MapKeyframes(self._cap, self.store.dim or 0)
        for kid, stamp, x, y, yaw, sid, data in q(
                'SELECT id, stamp_ns, x, y, yaw, session, latent FROM keyframes ORDER BY id'):
            self._put(int(kid), int(sid), np.array([x, y, yaw]), np.frombuffer(data, '<f4'),
                      stamp * 1e-9)
        # edges of keyframes trimmed while the map was closed (a smaller max_keyframes)
        self.store.queue_sql('DELETE FROM edges WHERE a NOT IN (SELECT id FROM keyframes) '
                             'OR b NOT IN (SELECT id FROM keyframes)', [()])
        for a, b, kind, dx, dy, dyaw, length in q(
                'SELECT a, b, kind, dx, dy, dyaw, length FROM edges'):
            if a in self.kf.slot and b in self.kf.slot:
                self.graph.add(Edge(int(a), int(b), kind, (dx, dy, dyaw), float(length)))

    def _put(self, kid: int, sid: int, odom, z, stamp_s: float):
        if self.kf.dim == 0:  # the first latent of a new store
            self.kf = MapKeyframes(self._cap, z.size)
        session = self._sessions.get(sid)
        self.kf.put(kid, sid, odom, z, session[1] if session and session[0] else None, stamp_s)

    def _drain(self):
        while self._evictions:
            self._evict(self._evictions.popleft())

    def _evict(self, kid: int):
        if not self.kf.remove(kid):
            return
        _, bridges = self.graph.remove_node(kid)
        self.store.queue_sql('DELETE FROM edges WHERE a = ? OR b = ?', [(kid, kid)])
        self._queue_edges(bridges)
        self._stats['evicted'] += 1

    def _queue_edges(self, edges):
        if edges:
            self.store.queue_sql(_EDGE_SQL, [(e.a, e.b, e.kind, *e.rel, e.length)
                                             for e in edges])

    def _save_session(self, sid: int):
        joined, pose = self._sessions[sid]
        self.store.queue_sql(_SESSION_SQL, [(sid, int(joined), *(float(v) for v in pose))])

    def _set_session_pose(self, sid: int, pose: np.ndarray):
        self._sessions[sid][1] = pose
        self.kf.set_session(sid, pose)

    # ---------------------------------------------------------------- sessions
    def start_session(self) -> int:
        """A new odometry origin; the anchor (joined at identity) when nothing is joined yet."""
        with self._lock:
            sid = max([0, *self._sessions, *self.kf.sess[:self.kf.n].tolist()]) + 1
            anchor = not self.kf.joined[:self.kf.n].any()
            self._sessions[sid] = [anchor, np.zeros(3)]
            self._save_session(sid)
            self._sid, self._last, self._prev_odom = sid, None, None
            self._window.clear()
            self.kf.reference = None if self.config.grow_map else self._anchor()
            return sid

    @property
    def session(self) -> int | None:
        return self._sid

    @property
    def joined(self) -> bool:
        with self._lock:
            return self._sid is not None and self._sessions[self._sid][0]

    def map_T_odom(self) -> np.ndarray | None:  # noqa: N802 (the frame names)
        """The current session's odometry frame in the map frame; None while unjoined. The
        anchor's own (a drive still mapping) moves as its heading drift is taken out."""
        with self._lock:
            if self._sid == self.drift.session and self.drift.live is not None:
                return self.drift.live.copy()
            return self._sessions[self._sid][1].copy() if self.joined else None

    def to_map(self, pose_odom) -> np.ndarray | None:
        t = self.map_T_odom()
        return None if t is None else geometry.compose(t, pose_odom)

    def to_odom(self, pose_map) -> np.ndarray | None:
        t = self.map_T_odom()
        return None if t is None else geometry.compose(geometry.invert(t), pose_map)

    # ---------------------------------------------------------------- per frame
    def observe(self, stamp_ns: int, odom_pose, latent) -> bool:
        """One frame (odometry pose, latent); True when it became a keyframe."""
        odom = np.asarray(odom_pose, np.float64).reshape(3)
        z = np.asarray(latent, np.float32).reshape(-1)
        cfg = self.config
        with self._lock:
            self._drain()
            prev = self._prev_odom
            if self._sid is None or (prev is not None and math.hypot(
                    *(odom[:2] - prev[:2])) > cfg.odom_jump_m):
                self.start_session()
            self._prev_odom = odom
            self._frame += 1
            added = self._keyframe(int(stamp_ns), odom, z)
            joined = self._sessions[self._sid][0]
            if not joined and self._frame % cfg.join_every == 0:
                self._try_join(odom, z)
            elif joined and self._sid != self._anchor():
                self._track(odom, z)
            if len(self._pending) >= cfg.proximity_batch:
                self.add_proximity_edges()
            return added

    def _anchor(self) -> int | None:
        return min((s for s, (j, _) in self._sessions.items() if j), default=None)

    def _keyframe(self, stamp: int, odom: np.ndarray, z: np.ndarray) -> bool:
        cfg = self.config
        if self._last is not None:
            lstamp, lodom, _ = self._last
            moved = math.hypot(*(odom[:2] - lodom[:2])) >= cfg.keyframe_min_distance_m
            turned = abs(geometry.wrap_angle(odom[2] - lodom[2])) >= cfg.keyframe_min_turn_rad
            if 0 <= (stamp - lstamp) * 1e-9 < cfg.keyframe_min_interval_s or not (moved or
                                                                                   turned):
                return False
        kid, _ = self.store.insert_keyframe(stamp, odom, z, session=self._sid, gate=False)
        self._drain()
        self._put(kid, self._sid, odom, z, stamp * 1e-9)
        if self._sid == self._anchor():
            start = self.drift.keyframe(self.kf, self.kf.slot[kid], self._sid, self._ask)
            if start is not None and not np.allclose(start, self._sessions[self._sid][1]):
                self._sessions[self._sid][1] = start  # its start evicted: kept for reopening
                self._save_session(self._sid)
        if self._last is not None and self._last[2] in self.kf.slot:
            rel = geometry.relative(self._last[1], odom)
            edge = Edge(self._last[2], kid, 'traversal', tuple(float(v) for v in rel),
                        float(math.hypot(rel[0], rel[1])))
            self.graph.add(edge)
            self._queue_edges([edge])
        self._last = (stamp, odom, kid)
        if self._sessions[self._sid][0]:
            self._pending.append(kid)
        return True

    def _ask(self, za: np.ndarray, zb: np.ndarray):
        # relpose with the sigma filter: (poses [M, 3], weights [M], kept bool [N])
        poses, sigma = self.relpose(za, zb)
        poses, sigma = np.asarray(poses, np.float64), np.asarray(sigma, np.float64)
        cfg = self.config
        ok = ((sigma[:, 0] <= cfg.max_sigma_m) & (sigma[:, 1] <= cfg.max_sigma_m)
              & (sigma[:, 2] <= cfg.max_sigma_rad) & np.all(np.isfinite(poses), axis=1))
        weights = 1.0 / (sigma[ok, 0] ** 2 + sigma[ok, 1] ** 2 + 1e-6)
        return poses[ok], weights, ok, sigma

    def _candidates(self, odom: np.ndarray, z: np.ndarray):
        # session origins [M, 3], weights, and the views: robot map poses, keyframes, sigmas
        idx = self.kf.retrieve(z, self.config.retrieval_k)
        if len(idx) == 0:
            return np.zeros((0, 3)), np.zeros(0), (np.zeros((0, 3)),) * 3
        rel, w, ok, sigma = self._ask(self.kf.lat[idx], np.broadcast_to(z, (len(idx), z.size)))
        here = geometry.compose(self.kf.mapp[idx[ok]], rel).reshape(-1, 3)
        cands = geometry.compose(here, geometry.invert(odom)).reshape(-1, 3)
        return cands, w, (here, self.kf.mapp[idx[ok]], sigma[ok])

    def _try_join(self, odom: np.ndarray, z: np.ndarray):
        cfg = self.config
        self._stats['join_attempts'] += 1
        cands, w, _ = self._candidates(odom, z)
        found = map_consensus.join_cluster(self._pool(odom, cands, w, cfg.join_window), cfg)
        if found is None:
            return
        self._sessions[self._sid][0] = True
        self._place(found.pose)
        self._stats.update(joins=self._stats['joins'] + 1,
                           last_join_spread=found.std.tolist(),
                           last_join_support=int(found.inliers.sum()),
                           join_frames=self._stats['join_attempts'])

    def _track(self, odom: np.ndarray, z: np.ndarray):
        # a joined session: moved where its views agree by the join's rules, else refined
        cfg, current = self.config, self._sessions[self._sid][1]
        rejoin = cfg.rejoin and self._frame % cfg.join_every == 0
        refine = self._frame % cfg.refine_every == 0
        if not (rejoin or refine):
            return
        cands, w, views = self._candidates(odom, z)
        window = self._pool(odom, cands, w, cfg.rejoin_window) if rejoin else None
        found = map_consensus.rejoin_cluster(window, current, cfg) if rejoin else None
        if found is not None:
            return self._rejoin(found.pose)
        target = map_consensus.refine_target(odom, cands, w, views, current, cfg) \
            if refine else None
        if target is not None:
            step = geometry.relative(current, target) * cfg.refine_rate
            self._set_session_pose(self._sid, geometry.compose(current, step))
            self._save_session(self._sid)
            self._stats['refinements'] += 1

    def _pool(self, odom: np.ndarray, cands, w, size: int) -> deque:
        self._window.append((self._frame, float(odom[2]), cands, w))
        while len(self._window) > size:
            self._window.popleft()
        return self._window

    def _place(self, pose: np.ndarray):
        # the session's origin in the map; its keyframes' proximity edges verified there
        self._set_session_pose(self._sid, pose)
        self._save_session(self._sid)
        self._pending = sorted(set(self._pending) | set(self.kf.of_session(self._sid)))
        self._window.clear()

    def _rejoin(self, pose: np.ndarray):
        # the proximity edges agreed with the wrong place
        kids = self.kf.of_session(self._sid)
        self.graph.remove_edges(kids, 'proximity')
        self.store.queue_sql("DELETE FROM edges WHERE kind = 'proximity' AND (a = ? OR b = ?)",
                             [(k, k) for k in kids])
        self._place(pose)
        self._stats['rejoins'] += 1

    def add_proximity_edges(self) -> int:
        """Verify the pending keyframes against their latent neighbours; edges added."""
        with self._lock:
            pending, self._pending = self._pending, []
            slots = [self.kf.slot.get(kid) for kid in pending]
            edges = proximity_edges(self.kf, self.graph, [i for i in slots if i is not None],
                                    self._ask, self.config)
            edges = [e for e in edges if self.graph.add(e)]
            self._queue_edges(edges)
            self._stats['proximity_edges_added'] += len(edges)
            return len(edges)

    def localise(self, latent, exclude=()) -> Fix | None:
        """Where a view is in the map frame, not from keyframe ids exclude (a fix found wrong);
        None without a consensus (an unknown view)."""
        z, cfg = np.asarray(latent, np.float32).reshape(-1), self.config
        with self._lock:
            idx = self.kf.retrieve(z, cfg.localise_k)
            idx = idx[~np.isin(self.kf.ids[idx], list(exclude))]
            if len(idx) == 0:
                return None
            rel, w, ok, sigma = self._ask(self.kf.lat[idx], np.broadcast_to(z, (len(idx), z.size)))
            views = self.kf.mapp[idx[ok]]
            return map_consensus.goal_fix(geometry.compose(views, rel).reshape(-1, 3), w,
                                          views[:, 2], sigma[ok], self.kf.ids[idx[ok]], cfg)

    def route(self, start_pose_map, goal: Fix, latent=None) -> list[np.ndarray]:
        """Waypoints (map poses) along the graph from the robot to goal; [] when unreachable.

        Start keyframes are those the robot can reach in a straight line: the session's latest
        (it just drove from there; its proximity edges are verified first) and any within
        start_near_radius_m. Failing both, those latent-near the current view (latent) within
        start_radius_m, then any within it: a view through a door is latent-near the next
        room, so latent proximity is the last resort. Sessions: see route_all_sessions.
        """
        cfg = self.config
        start = np.asarray(start_pose_map, np.float64).reshape(3)
        with self._lock:
            if self._pending:  # else the trail's newest keyframes lead only back along it
                self.add_proximity_edges()
            own = None if cfg.route_all_sessions or self.kf.reference is None else {
                self._sid, self.kf.reference}  # reference None: grow_map, all sessions
            joined = self.kf.routable(own)
            dist = np.hypot(*(self.kf.mapp[:self.kf.n, :2] - start[:2]).T)
            slots = set(np.flatnonzero(joined & (dist <= cfg.start_near_radius_m)).tolist())
            last = self.kf.slot.get(self._last[2]) if self._last is not None else None
            if last is not None and joined[last] and dist[last] <= cfg.start_radius_m:
                slots.add(last)
            if not slots and latent is not None:
                near = self.kf.retrieve(np.asarray(latent, np.float32).reshape(-1),
                                        cfg.retrieval_k)
                slots = {int(i) for i in near if joined[i] and dist[i] <= cfg.start_radius_m}
            if not slots:
                slots = set(np.flatnonzero(joined & (dist <= cfg.start_radius_m)).tolist())
            sources = {int(self.kf.ids[i]): float(dist[i]) for i in slots}
            return route_along(self.kf, self.graph, sources, goal, cfg, own)

    def display(self) -> MapDisplay:
        """The joined keyframes and the edges between them (RViz markers, PNGs)."""
        with self._lock:
            idx = np.flatnonzero(self.kf.joined[:self.kf.n])
            where = {int(self.kf.ids[i]): k for k, i in enumerate(idx)}
            pairs, kinds = [], []
            for e in self.graph.edges.values():
                if e.a in where and e.b in where:
                    pairs.append((where[e.a], where[e.b]))
                    kinds.append(e.kind)
            return MapDisplay(self.kf.mapp[idx].copy(), self.kf.sess[idx].copy(),
                              self.kf.ids[idx].copy(),
                              np.array(pairs, np.int64).reshape(-1, 2), kinds)

    def stats(self) -> dict:
        """Counters for diagnostics."""
        with self._lock:
            kinds = [e.kind for e in self.graph.edges.values()]
            return dict(self._stats, **self.drift.stats(), keyframes=self.kf.n,
                        joined_keyframes=int(self.kf.joined[:self.kf.n].sum()),
                        edges=len(kinds), traversal_edges=kinds.count('traversal'),
                        proximity_edges=kinds.count('proximity'), sessions=len(self._sessions),
                        joined_sessions=sum(j for j, _ in self._sessions.values()),
                        session=self._sid, joined=self.joined,
                        pending_proximity=len(self._pending))
