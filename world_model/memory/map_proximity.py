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
"""The latent map's proximity edges: keyframes latent-near AND within proximity_radius_m in the
map AND whose relative pose (the head's) agrees with their map poses.

Edges exist only where the robot drove or views verifiably overlap, so a route never cuts
through a wall.
"""

import math

import numpy as np

from world_model import geometry
from world_model.memory import map_consensus
from world_model.memory.map_graph import Edge


def proximity_edges(kf, graph, slots, ask, cfg) -> list[Edge]:
    """New verified edges from keyframe slots to their latent neighbours (not yet in graph).

    kf: MapKeyframes; ask: LatentMap._ask (relpose with its sigma filter); cfg: MapConfig.
    """
    slots = [i for i in slots if kf.joined[i]]
    a, b = kf.neighbours(np.array(slots, np.int64), cfg.retrieval_k)
    near = np.hypot(*(kf.mapp[a, :2] - kf.mapp[b, :2]).T)
    keep = [x for x, (i, j) in enumerate(zip(a, b)) if near[x] <= cfg.proximity_radius_m
            and not graph.has(int(kf.ids[i]), int(kf.ids[j]))]
    if not keep:
        return []
    a, b = a[keep], b[keep]
    rel, _, ok, _ = ask(kf.lat[a], kf.lat[b])
    a, b = a[ok], b[ok]
    expected = geometry.relative(kf.mapp[a], kf.mapp[b])
    agree = map_consensus.within(rel - expected, np.zeros(3), cfg.join_tolerance_m,
                                 cfg.join_tolerance_rad)
    return [Edge(int(kf.ids[i]), int(kf.ids[j]), 'proximity', tuple(float(v) for v in r),
                 float(math.hypot(r[0], r[1])))
            for i, j, r in zip(a[agree], b[agree], rel[agree])]
