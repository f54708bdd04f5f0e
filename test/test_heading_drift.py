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
"""The mapping drive's heading drift (world_model/memory/heading_drift.py): the robust fit, the
re-integration, and a LatentMap whose anchor drive drifts, on a real SQLite file with the
labelled fake relpose of map_world.py (it answers with the true relative pose), and fixes that
weigh each view's estimate along its axis (map_consensus.along_view_mean)."""

from map_world import FakeRelPose, drifting, drive, embed, loop
import numpy as np

from world_model import geometry
from world_model.config import from_dict
from world_model.memory import LatentStore, MapConfig, MemoryConfig, map_consensus
from world_model.memory.heading_drift import corrected, fit_rate
from world_model.memory.latent_map import LatentMap

STEP = 100_000_000  # 0.1 s frames
RATE = 0.01  # rad/s: a gyro bias at the top of what the simulator draws


def _error(poses, truth) -> np.ndarray:
    return np.hypot(*(np.asarray(poses)[:, :2] - np.asarray(truth)[:, :2]).T)


def test_the_fit_finds_the_rate_among_wrong_matches():
    rng = np.random.default_rng(0)
    dt = rng.uniform(15, 120, 300)
    disc = RATE * dt + rng.normal(0, 0.1, 300)
    wrong = rng.random(300) < 0.3  # a divider seen from either room: any heading
    disc[wrong] = rng.uniform(-np.pi, np.pi, int(wrong.sum()))
    fit = fit_rate(dt, disc, inlier_rad=0.3)
    print(f'\nfit: {fit}')
    assert abs(fit.rate - RATE) < 0.001 and fit.std < 0.001
    assert 0.6 * 300 < fit.inliers < 0.85 * 300 and fit.closures == 300
    assert fit_rate([], [], 0.3) is None


def test_the_fit_unwraps_a_drift_of_many_turns():
    rng = np.random.default_rng(1)
    dt = rng.uniform(15, 1500, 400)  # a 25-minute drive: rate * dt up to 7.5 rad
    disc = 0.005 * dt + rng.normal(0, 0.1, 400)
    wrong = rng.random(400) < 0.2
    disc[wrong] = rng.uniform(-np.pi, np.pi, int(wrong.sum()))
    fit = fit_rate(dt, disc, inlier_rad=0.3)  # given wrapped, as headings are
    assert abs(fit.rate - 0.005) < 0.0002 and fit.inliers > 0.7 * 400


def test_re_integrating_without_the_rate_restores_the_drive():
    truth = drive(loop(-1.5, -1.5, 1.5, 1.5, 3))  # ~1000 frames, 100 s
    odom = drifting(truth, RATE)
    stamps = np.arange(len(truth)) * 0.1
    raw, fixed = _error(odom, truth), _error(corrected(stamps, odom, RATE), truth)
    print(f'\nraw drift max {raw.max():.2f} m, corrected max {fixed.max():.3f} m')
    assert raw.max() > 1.0 and fixed.max() < 0.02
    np.testing.assert_allclose(corrected(stamps, odom, 0.0), odom)


def _map(path, config=None, **memory):
    store = LatentStore(from_dict(MemoryConfig, {'path': str(path), 'commit_interval_s': 60.0,
                                                 **memory}), dim=128)
    return store, LatentMap(store, FakeRelPose(1), config)


def _anchor_poses(amap):
    """(map poses, truth) of the anchor's keyframes, by their stamps."""
    shown = amap.display()
    slots = [amap.kf.slot[int(k)] for k in shown.ids]
    return shown.poses, np.round(amap.kf.stamp[slots] / 0.1).astype(int)


def test_a_drifting_mapping_drive_is_straightened_and_stays_so_after_reopening(tmp_path):
    rng = np.random.default_rng(4)
    truth = drive(loop(-1.5, -1.5, 1.5, 1.5, 3))
    odom = drifting(truth, RATE)
    store, amap = _map(tmp_path / 'map.sqlite3')
    with store:
        amap.start_session()
        for i, (pose, z) in enumerate(zip(odom, embed(truth, rng))):
            amap.observe(i * STEP, pose, z)
        stats = amap.stats()
        poses, frame = _anchor_poses(amap)
        err, raw = _error(poses, truth[frame]), _error(odom[frame], truth[frame])
        print(f'\nrate {stats["heading_drift_rate"]:.5f} +- {stats["heading_drift_std"]:.5f} '
              f'({stats["heading_drift_inliers"]}/{stats["heading_drift_closures"]} revisits); '
              f'keyframes off by {np.median(raw):.2f} m raw, {np.median(err):.3f} m corrected')
        assert abs(stats['heading_drift_rate'] - RATE) < 0.001
        assert np.median(raw) > 0.4 and err.max() < 0.1
        # the drive goes on: its odometry is drawn into the corrected map
        np.testing.assert_allclose(amap.to_map(odom[-1])[:2], truth[-1, :2], atol=0.1)
        store.flush()
    store, amap = _map(tmp_path / 'map.sqlite3')  # a restart: the rate is found again
    with store:
        again, _ = _anchor_poses(amap)  # as before, up to the fake head's fresh noise
        np.testing.assert_allclose(again, poses, atol=0.01)
        assert np.max(_error(again, truth[frame])) < 0.1
        amap.start_session()  # a new session is joined to the straightened map
        later = drive(loop(-1.5, -1.5, 1.5, 1.5))[:150]
        shift = np.array([0.7, -0.4, 0.5])
        for i, (pose, z) in enumerate(zip(geometry.compose(geometry.invert(shift), later),
                                          embed(later, rng))):
            amap.observe(10**12 + i * STEP, pose, z)
        assert amap.joined
        err = geometry.relative(shift, amap.map_T_odom())
        assert np.hypot(err[0], err[1]) < 0.1 and abs(err[2]) < 0.05


def test_no_correction_without_drift_or_when_disabled(tmp_path):
    rng = np.random.default_rng(5)
    truth = drive(loop(-1.5, -1.5, 1.5, 1.5, 3))
    for name, odom, config in (('still', truth, None),
                               ('off', drifting(truth, RATE), MapConfig(drift_correction=False))):
        store, amap = _map(tmp_path / f'{name}.sqlite3', config)
        with store:
            amap.start_session()
            for i, (pose, z) in enumerate(zip(odom, embed(truth, rng))):
                amap.observe(i * STEP, pose, z)
            poses, frame = _anchor_poses(amap)
            assert amap.stats()['heading_drift_rate'] is None
            np.testing.assert_allclose(poses, odom[frame], atol=1e-9)  # as driven


def test_views_from_two_headings_triangulate_what_one_cannot():
    """map_consensus.along_view_mean: each view knows the goal's distance ahead, not sideways."""
    goal = np.array([1.0, 2.0])
    view_yaw = np.array([0.0, np.pi / 2])
    # each estimate is right along its view's axis and off by 0.5 m to its side
    xy = goal + np.array([[0.0, 0.5], [-0.5, 0.0]])
    sigma = np.full((2, 2), 0.05)  # the head is as sure sideways as ahead (wrongly)
    plain = xy.mean(axis=0)
    along = map_consensus.along_view_mean(xy, view_yaw, sigma, lateral_scale=10.0)
    print(f'\nmean off by {np.hypot(*(plain - goal)):.3f} m, along the views by '
          f'{np.hypot(*(along - goal)):.3f} m')
    assert np.hypot(*(plain - goal)) > 0.3 and np.hypot(*(along - goal)) < 0.02
    # one heading only: the sideways spread stays, nothing is invented
    same = map_consensus.along_view_mean(xy[:1].repeat(2, 0) + [[0.0, 0.0], [0.0, -1.0]],
                                         np.zeros(2), sigma, 10.0)
    np.testing.assert_allclose(same, [1.0, 2.0], atol=1e-6)


def test_the_correction_holds_when_the_start_of_the_drive_is_evicted(tmp_path):
    rng = np.random.default_rng(6)
    truth = drive(loop(-1.5, -1.5, 1.5, 1.5, 3))
    odom = drifting(truth, RATE)
    store, amap = _map(tmp_path / 'map.sqlite3', max_keyframes=60, eviction='fifo')  # 40%
    with store:
        amap.start_session()
        for i, (pose, z) in enumerate(zip(odom, embed(truth, rng))):
            amap.observe(i * STEP, pose, z)
        assert amap.stats()['evicted'] > 60
        poses, frame = _anchor_poses(amap)
        err = _error(poses, truth[frame])
        print(f'\nkept {len(poses)} keyframes from frame {frame.min()}: off by median '
              f'{np.median(err):.3f} m (raw {np.median(_error(odom[frame], truth[frame])):.2f})')
        assert frame.min() > 200 and err.max() < 0.1
        store.flush()
    store, amap = _map(tmp_path / 'map.sqlite3', max_keyframes=60, eviction='fifo')
    with store:  # reopened: the kept start's correction came back with the map
        again, frame = _anchor_poses(amap)
        assert np.max(_error(again, truth[frame])) < 0.1
