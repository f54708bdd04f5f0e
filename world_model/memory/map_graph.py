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
"""The latent map's graph: keyframe ids as nodes, traversal / proximity edges, A* / Dijkstra.

An edge (a, b, kind) holds b's pose in a's frame (odometry for 'traversal', relpose for
'proximity') and its length (metres), the search cost. Edges are undirected for the search.
Removing a node bridges its traversal neighbours (a -> x -> b becomes a -> b, poses chained),
so evicting a keyframe from the middle of a drive keeps the drive connected.
"""

import heapq
import math
from typing import NamedTuple

import numpy as np

from world_model import geometry

KINDS = ('traversal', 'proximity')


class Edge(NamedTuple):
    a: int
    b: int
    kind: str
    rel: tuple  # b in a's frame (dx, dy, dyaw)
    length: float


class MapGraph:
    """Undirected adjacency over keyframe ids; not thread-safe (LatentMap locks around it)."""

    def __init__(self):
        self.edges: dict[tuple, Edge] = {}  # (a, b, kind) -> Edge
        self.adj: dict[int, dict[int, float]] = {}  # node -> neighbour -> cheapest length
        self._of: dict[int, set] = {}  # node -> keys of its edges (removal is O(degree))

    def __len__(self) -> int:
        return len(self.edges)

    def add(self, edge: Edge) -> bool:
        """Add (or replace) an edge; False for a self loop."""
        if edge.a == edge.b:
            return False
        key = (edge.a, edge.b, edge.kind)
        self.edges[key] = edge
        self._of.setdefault(edge.a, set()).add(key)
        self._of.setdefault(edge.b, set()).add(key)
        for u, v in ((edge.a, edge.b), (edge.b, edge.a)):
            nbrs = self.adj.setdefault(u, {})
            nbrs[v] = min(nbrs.get(v, math.inf), edge.length)
        return True

    def has(self, a: int, b: int) -> bool:
        return b in self.adj.get(a, {})

    def rel(self, a: int, b: int) -> np.ndarray:
        """b's pose in a's frame as its edge measured it (odometry, or the relative-pose head
        for a proximity edge), a traversal edge first; KeyError without an edge."""
        found = None
        # the whole key breaks ties: a set's order of string tuples changes with PYTHONHASHSEED
        for key in sorted(self._of.get(a, ()), key=lambda k: (k[2] != 'traversal', k)):
            if b in key[:2]:
                found = key
                break
        if found is None:
            raise KeyError(f'no edge between keyframes {a} and {b}')
        rel = np.asarray(self.edges[found].rel, np.float64)
        return rel if found[0] == a else geometry.invert(rel)

    def chain(self, path: list[int], start, end_offset, pose_of=None) -> np.ndarray:
        """Poses [len(path) + 1, 3] of a path composed along its edges from start (the first
        node's pose), then end_offset: the drift between two visits of a place does not bend
        it as it bends the nodes' map poses. pose_of(node): a traversal edge's pose from its
        nodes' (a drive's own poses, corrected for its heading drift) instead of as recorded."""
        poses = [np.asarray(start, np.float64)]
        for u, v in zip(path, path[1:]):
            traversal = (u, v, 'traversal') in self.edges or (v, u, 'traversal') in self.edges
            rel = (geometry.relative(pose_of(u), pose_of(v)) if pose_of is not None and traversal
                   else self.rel(u, v))
            poses.append(geometry.compose(poses[-1], rel))
        poses.append(geometry.compose(poses[-1], np.asarray(end_offset, np.float64)))
        return np.vstack(poses)

    def remove_node(self, node: int) -> tuple[list[Edge], list[Edge]]:
        """Drop node and its edges; (removed edges, bridging traversal edges added)."""
        removed = [self.edges.pop(key) for key in self._of.pop(node, ())]
        for e in removed:
            other = e.b if e.a == node else e.a
            self._of.get(other, set()).discard((e.a, e.b, e.kind))
        for other in self.adj.pop(node, {}):
            self._relink(other)
        into = [e for e in removed if e.kind == 'traversal' and e.b == node]
        out = [e for e in removed if e.kind == 'traversal' and e.a == node]
        bridges = []
        for ei in into:
            for eo in out:
                rel = geometry.compose(ei.rel, eo.rel)
                edge = Edge(ei.a, eo.b, 'traversal', tuple(float(v) for v in rel),
                            ei.length + eo.length)
                if self.add(edge):
                    bridges.append(edge)
        return removed, bridges

    def remove_edges(self, nodes, kind: str) -> list[Edge]:
        """Drop the edges of one kind that touch any of nodes; the removed edges."""
        keys = {key for node in nodes for key in self._of.get(node, ()) if key[2] == kind}
        removed = [self.edges.pop(key) for key in keys]
        touched = {node for e in removed for node in (e.a, e.b)}
        for node in touched:
            self._of[node] -= keys
        for node in touched:
            self._relink(node)
        return removed

    def _relink(self, node: int):
        # node's cheapest lengths to its neighbours, from its remaining edges
        nbrs = self.adj.setdefault(node, {})
        nbrs.clear()
        for key in self._of.get(node, ()):
            e = self.edges[key]
            v = e.b if e.a == node else e.a
            nbrs[v] = min(nbrs.get(v, math.inf), e.length)

    def shortest(self, sources: dict[int, float], targets: dict[int, float],
                 heuristic=None, allowed=None) -> list[int]:
        """A* (Dijkstra without heuristic) from sources (node -> start cost) to the target that
        minimises path + its cost; [] when no target is reachable.

        heuristic(node): a lower bound of the cost left (e.g. the straight-line distance to the
        goal); it must not overestimate by much, or the path found is not the shortest.
        allowed(node): False keeps the path off that node (None: every node may be on it).
        """
        h = heuristic or (lambda node: 0.0)
        dist, prev = {}, {}
        heap = [(cost + h(node), cost, node, -1) for node, cost in sources.items()
                if node in self.adj]
        heapq.heapify(heap)
        best, best_node = math.inf, None
        while heap:
            f, d, u, p = heapq.heappop(heap)
            if u in dist:
                continue
            dist[u], prev[u] = d, p
            if f >= best:
                break
            if u in targets and d + targets[u] < best:
                best, best_node = d + targets[u], u
            for v, w in self.adj.get(u, {}).items():
                if v not in dist and (allowed is None or allowed(v)):
                    heapq.heappush(heap, (d + w + h(v), d + w, v, u))
        if best_node is None:
            return []
        path = [best_node]
        while prev[path[-1]] != -1:
            path.append(prev[path[-1]])
        return path[::-1]


def thin(points: np.ndarray, spacing: float, tolerance: float) -> np.ndarray:
    """Indices of points [N, 2+] kept as waypoints: each kept segment is at most spacing long
    (or one edge, when that is longer) and every dropped point lies within tolerance of it, so
    the chain never leaves the driven path by more than tolerance (through a door, not across
    the wall beside it). The first and last points are kept."""
    n = len(points)
    if n <= 2:
        return np.arange(n)
    xy = np.asarray(points, np.float64)[:, :2]
    step = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
    keep, i = [0], 0
    while i < n - 1:
        j = i + 1
        while j + 1 < n and step[j + 1] - step[i] <= spacing and \
                _within(xy[i:j + 2], tolerance):
            j += 1
        keep.append(j)
        i = j
    return np.asarray(keep)


def _within(xy: np.ndarray, tolerance: float) -> bool:
    # all inner points within tolerance of the segment from the first to the last
    a, b = xy[0], xy[-1]
    ab = b - a
    denom = float(ab @ ab)
    inner = xy[1:-1]
    if denom < 1e-12:
        return bool(np.all(np.hypot(*(inner - a).T) <= tolerance))
    t = np.clip((inner - a) @ ab / denom, 0.0, 1.0)
    return bool(np.all(np.hypot(*(inner - a - t[:, None] * ab).T) <= tolerance))


def route_along(kf, graph: MapGraph, sources: dict[int, float], goal, cfg,
                sessions=None) -> list[np.ndarray]:
    """Waypoints (map poses, thinned) from the source keyframes (id -> start cost) to goal (a
    Fix: its keyframes are the targets, and any within start_near_radius_m of it); [] when
    unreachable. kf: MapKeyframes; cfg: MapConfig; sessions: those whose keyframes the route
    may use (None: all). The last pose is the chain composed along the path's edges: traversal
    legs from the keyframes' poses (a drive's, corrected for its heading drift), proximity legs
    as the head measured them. The others are the keyframes' map poses (route_poses 'map'), or
    that chain's poses too ('edges'), which carry every proximity leg's error onwards."""
    slot, mapp, gxy = kf.slot, kf.mapp, goal.pose[:2]
    allowed = None if sessions is None else (lambda kid: int(kf.sess[slot[kid]]) in sessions)
    sources = {k: c for k, c in sources.items() if allowed is None or allowed(k)}
    targets = {kid: float(math.hypot(*(mapp[slot[kid], :2] - gxy)))
               for kid in goal.keyframe_ids if kid in slot}
    # and any keyframe the goal is a straight drive from (as a route's start keyframes)
    near = np.hypot(*(mapp[:kf.n, :2] - gxy).T)
    for i in np.flatnonzero(kf.routable(sessions) & (near <= cfg.start_near_radius_m)):
        targets.setdefault(int(kf.ids[i]), float(near[i]))
    path = graph.shortest(sources, targets,
                          lambda kid: float(math.hypot(*(mapp[slot[kid], :2] - gxy))), allowed)
    if not path:
        return []
    poses = graph.chain(path, mapp[slot[path[0]]],
                        geometry.relative(mapp[slot[path[-1]]], goal.pose),
                        lambda kid: mapp[slot[kid]])
    if cfg.route_poses == 'map':  # the keyframes as mapped; the end as composed
        poses = np.vstack([mapp[slot[kid]] for kid in path] + [poses[-1]])
    keep = thin(poses, cfg.waypoint_spacing_m, cfg.waypoint_tolerance_m)
    return [poses[i].copy() for i in keep]
