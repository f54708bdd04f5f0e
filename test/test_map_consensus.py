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
"""map_consensus (world_model/memory/map_consensus.py) and the join's guards against a look-alike
place: the heading span of the views, a runner-up cluster elsewhere, and the rejoin of a session
whose join was fooled."""

from map_world import FakeRelPose, decode, drive, embed, loop, odometry
import numpy as np

from world_model import geometry
from world_model.config import from_dict
from world_model.memory import LatentStore, MapConfig, MemoryConfig
from world_model.memory.latent_map import LatentMap
from world_model.memory.map_consensus import cluster, heading_span, rejoin_cluster, runner_up

STEP = 100_000_000  # 0.1 s frames
SHIFT = np.array([1.3, -0.7, 0.9])
ALIAS = np.array([2.0, 0.0])  # where the look-alike place is, from the true one [m]


def _candidates(rng, centre, count, spread=0.03):
    return np.asarray(centre) + rng.normal(size=(count, 3)) * spread


def test_the_cluster_is_the_largest_agreeing_set():
    rng = np.random.default_rng(0)
    right = _candidates(rng, [1.0, 2.0, 0.5], 12)
    wrong = _candidates(rng, [-1.0, 0.0, 2.0], 5)
    found = cluster(np.vstack([right, wrong]), np.ones(17), 0.2, 0.15)
    assert found.inliers[:12].all() and not found.inliers[12:].any()
    np.testing.assert_allclose(found.pose, [1.0, 2.0, 0.5], atol=0.03)


def test_the_runner_up_is_the_largest_cluster_away_from_the_best():
    rng = np.random.default_rng(1)
    best = np.array([1.0, 2.0, 0.5])
    near = _candidates(rng, best + [0.3, 0.0, 0.0], 6)  # the best one's own spread: not counted
    elsewhere = _candidates(rng, [-1.0, 0.0, 2.0], 5)
    c = np.vstack([_candidates(rng, best, 12), near, elsewhere])
    assert runner_up(c, np.ones(len(c)), best, 0.2, 0.15) == 5
    assert runner_up(c[:18], np.ones(18), best, 0.2, 0.15) == 0


def test_heading_span_wraps_around_pi():
    assert heading_span([0.3]) == 0.0
    assert np.isclose(heading_span([0.0, 0.4, 1.5]), 1.5)
    assert np.isclose(heading_span([3.0, -3.0]), 2 * np.pi - 6.0)  # across the wrap, not 6 rad


class AliasedRelPose(FakeRelPose):
    """Every other query answers as if the view were ALIAS away: a look-alike place."""

    def __call__(self, za, zb):
        rel, sigma = super().__call__(za, zb)
        if self.calls % 2:
            pa, _ = decode(za)
            pb = decode(zb)[0].copy()
            pb[:, :2] += ALIAS
            rel = geometry.relative(pa, pb) + self.rng.normal(size=rel.shape) * 0.03
        return rel, sigma


def _join_after_restart(tmp_path, relpose, session=None, seen=None, **config) -> LatentMap:
    """Map a two-lap loop, restart with a shifted origin, drive session (default: most of a
    lap) seeing seen(true poses) (default: where it is); the map at the end."""
    store = LatentStore(from_dict(MemoryConfig, {'path': str(tmp_path / 'map.sqlite3'),
                                                 'commit_interval_s': 60.0}), dim=128)
    rng = np.random.default_rng(2)
    with store:
        amap = LatentMap(store, relpose, MapConfig(**config))
        amap.start_session()
        true = drive(loop(-1.5, -1.5, 1.5, 1.5, 2))
        for i, (pose, z) in enumerate(zip(true, embed(true, rng))):
            amap.observe(i * STEP, pose, z)
        amap.start_session()
        true = drive(loop(-1.5, -1.5, 1.5, 1.5))[40:] if session is None else session
        views = embed(true if seen is None else seen(true), rng)
        for i, (pose, z) in enumerate(zip(odometry(true, SHIFT), views)):
            amap.observe(10**12 + i * STEP, pose, z)
        return amap


def test_a_join_waits_while_another_place_explains_the_views_as_well(tmp_path):
    assert _join_after_restart(tmp_path / 'plain', FakeRelPose(1)).joined
    assert not _join_after_restart(tmp_path / 'aliased', AliasedRelPose(1)).joined
    assert _join_after_restart(tmp_path / 'unguarded', AliasedRelPose(1),
                               join_ambiguity=1.0).joined


def test_a_join_waits_for_views_from_several_headings(tmp_path):
    side = drive([(-1.5, -1.0), (1.5, -1.0)])  # one heading all along
    assert np.ptp(side[:, 2]) == 0.0 and len(side) == 61
    assert not _join_after_restart(tmp_path / 'straight', FakeRelPose(1), side,
                                   join_min_turn_rad=1.5).joined
    assert _join_after_restart(tmp_path / 'unguarded', FakeRelPose(1), side).joined  # default


def test_a_join_fooled_by_a_look_alike_place_is_moved_to_the_true_one(tmp_path):
    def look_alike_first(true, frames=20):  # the first views are those of a place ALIAS away
        seen = true.copy()
        seen[:frames, :2] -= ALIAS
        return seen

    for rejoin in (False, True):
        amap = _join_after_restart(tmp_path / str(rejoin), FakeRelPose(1),
                                   seen=look_alike_first, rejoin=rejoin)
        stats, kf, sid = amap.stats(), amap.kf, amap.session
        error = float(np.hypot(*geometry.relative(SHIFT, amap.map_T_odom())[:2]))
        assert stats['joins'] == 1
        if not rejoin:  # the refinement alone cannot leave the look-alike place
            assert abs(error - np.hypot(*ALIAS)) < 0.2 and stats['rejoins'] == 0
            continue
        assert error < 0.05 and stats['rejoins'] == 1
        # the edges verified at the look-alike place went with it, in memory and in the file
        path = str(tmp_path / str(rejoin) / 'map.sqlite3')
        with LatentStore(from_dict(MemoryConfig, {'path': path}), dim=128) as store:
            reloaded = LatentMap(store, FakeRelPose(1), MapConfig())
            for kept in (amap, reloaded):
                kf, edges = kept.kf, list(kept.graph.edges.values())
                mine = [e for e in edges if e.kind == 'proximity'
                        and sid in kf.sess[[kf.slot[e.a], kf.slot[e.b]]]]
                assert mine  # verified again at the true place
                for e in mine:
                    expected = geometry.relative(kf.mapp[kf.slot[e.a]], kf.mapp[kf.slot[e.b]])
                    assert np.hypot(*(np.asarray(e.rel)[:2] - expected[:2])) < 0.2


def test_rejoin_cluster_needs_the_join_rules_away_from_the_current_pose():
    cfg = MapConfig()
    rng = np.random.default_rng(0)
    elsewhere = np.array([2.0, 1.0, 0.5])
    window = [(f, 0.0, _candidates(rng, elsewhere, 4), np.ones(4)) for f in range(3)]
    found = rejoin_cluster(window, np.zeros(3), cfg)  # 12 candidates from 3 frames
    np.testing.assert_allclose(found.pose, elsewhere, atol=0.05)
    assert rejoin_cluster(window, elsewhere + [0.1, 0.0, 0.0], cfg) is None  # already there
    assert rejoin_cluster(window[:2], np.zeros(3), cfg) is None  # 2 frames: too few
    here = [(f, 0.0, _candidates(rng, np.zeros(3), 8), np.ones(8)) for f in range(3, 6)]
    assert rejoin_cluster(window + here, np.zeros(3), cfg) is None  # the current place holds
