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
"""LatentStore on real SQLite files: API behaviour, persistence and a real SIGKILL crash."""

import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from world_model.config import ConfigError, from_dict
from world_model.memory import LatentStore, MemoryConfig, StoreMismatchError

SEC = 1_000_000_000
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(tmp_path, **over):
    base = {'path': str(tmp_path / 'mem.sqlite3'), 'keyframe_min_interval_s': 0.0,
            'keyframe_min_distance_m': 0.0, 'commit_interval_s': 60.0}
    base.update(over)
    return from_dict(MemoryConfig, base)


def _raw_count(tmp_path, table):
    with sqlite3.connect(tmp_path / 'mem.sqlite3') as db:
        return db.execute(f'SELECT COUNT(*) FROM {table}').fetchone()[0]


def test_history_restored_on_reopen(tmp_path):
    rng = np.random.default_rng(0)
    latents = rng.normal(size=(20, 8)).astype(np.float32)
    with LatentStore(_config(tmp_path, history_length=6)) as store:
        for i, z in enumerate(latents):
            store.push_history(i * SEC, z)
        np.testing.assert_array_equal(store.history(), latents[-6:])
    assert _raw_count(tmp_path, 'history') == 6  # trimmed on disk too
    with LatentStore(_config(tmp_path, history_length=6)) as store:
        assert store.dim == 8  # learnt from the store
        np.testing.assert_array_equal(store.history(), latents[-6:])
        np.testing.assert_array_equal(store.history_stamps(), np.arange(14, 20) * SEC)
        store.clear_history()
        store.push_history(99, latents[0])
    with LatentStore(_config(tmp_path, history_length=6)) as store:
        np.testing.assert_array_equal(store.history(), latents[:1])


def test_writes_are_buffered_until_commit(tmp_path):
    with LatentStore(_config(tmp_path), dim=4) as store:
        assert store.add_keyframe(1, (0, 0, 0), np.ones(4))
        assert _raw_count(tmp_path, 'keyframes') == 0  # queued, not on disk yet
        store.flush()
        assert _raw_count(tmp_path, 'keyframes') == 1
    with LatentStore(_config(tmp_path, commit_interval_s=0.05), dim=4) as store:
        store.add_keyframe(2, (5, 0, 0), np.ones(4))
        deadline = time.monotonic() + 5.0
        while _raw_count(tmp_path, 'keyframes') < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _raw_count(tmp_path, 'keyframes') == 2  # the background writer committed it
        assert store.stats()['commits'] >= 1


def test_fifo_eviction_bounds_keyframes(tmp_path):
    cfg = _config(tmp_path, max_keyframes=5, eviction='fifo')
    with LatentStore(cfg, dim=3) as store:
        for i in range(12):
            assert store.add_keyframe(i * SEC, (i, 0, 0), np.full(3, i))
        assert len(store) == 5
        assert [k.stamp_ns for k in store.by_time(0, 100 * SEC)] == [i * SEC for i in range(7, 12)]
        assert store.stats()['evictions'] == 7
    assert _raw_count(tmp_path, 'keyframes') == 5
    with LatentStore(cfg) as store:
        assert [k.pose[0] for k in store.by_time(0, 100 * SEC)] == [7, 8, 9, 10, 11]
    with LatentStore(_config(tmp_path, max_keyframes=2)) as store:  # the limit shrank
        assert [k.pose[0] for k in store.by_time(0, 100 * SEC)] == [10, 11]


def test_redundant_eviction_drops_a_duplicated_view(tmp_path):
    cfg = _config(tmp_path, max_keyframes=6, eviction='redundant', eviction_window=6)
    latents = np.eye(8, dtype=np.float32) * 10.0
    latents[4] = latents[2] + 0.01  # keyframe 4 sees the place of keyframe 2 again
    with LatentStore(cfg, dim=8) as store:
        for i in range(6):
            store.add_keyframe(i * SEC, (i, 0, 0), latents[i])
        store.add_keyframe(6 * SEC, (6, 0, 0), latents[6])
        kept = [int(k.pose[0]) for k in store.by_time(0, 100 * SEC)]
        assert kept == [0, 1, 3, 4, 5, 6]  # the older duplicate went, not the oldest frame
    with LatentStore(cfg) as store:
        assert [int(k.pose[0]) for k in store.by_time(0, 100 * SEC)] == [0, 1, 3, 4, 5, 6]


def test_keyframe_gating(tmp_path):
    cfg = _config(tmp_path, keyframe_min_interval_s=1.0, keyframe_min_distance_m=0.5,
                  keyframe_min_turn_rad=0.3)
    z = np.zeros(2)
    with LatentStore(cfg, dim=2) as store:
        assert store.add_keyframe(10 * SEC, (0, 0, 0), z)
        assert not store.add_keyframe(int(10.5 * SEC), (5, 0, 0), z)  # too soon
        assert not store.add_keyframe(12 * SEC, (0.2, 0.2, 0.1), z)  # barely moved
        assert store.add_keyframe(12 * SEC, (0.4, 0.4, 0), z)  # travelled 0.57 m
        assert store.add_keyframe(14 * SEC, (0.4, 0.4, 0.35), z)  # turned in place
        assert store.add_keyframe(15 * SEC, (0.4, 0.4, 0.35 - 2 * math.pi + 0.31), z)
        assert store.add_keyframe(SEC, (9, 9, 0), z)  # time went back (sim reset): accepted
        assert len(store) == 5 and store.stats()['gated'] == 2


def test_queries_match_brute_force(tmp_path):
    rng = np.random.default_rng(1)
    n, d = 300, 16
    latents = rng.normal(size=(n, d)).astype(np.float32)
    stamps = rng.permutation(n) * SEC
    poses = rng.uniform(-5, 5, size=(n, 3))
    cfg = _config(tmp_path, max_keyframes=1000)
    with LatentStore(cfg, dim=d) as store:
        for i in range(n):
            store.add_keyframe(stamps[i], poses[i], latents[i])
        for q in rng.normal(size=(5, d)).astype(np.float32):
            dist = np.linalg.norm(latents - q, axis=1)
            best = np.argsort(dist)[:7]
            got = store.nearest(q, k=7)
            assert [r.stamp_ns for r in got] == list(stamps[best])
            np.testing.assert_allclose([r.distance for r in got], dist[best], rtol=1e-5)
            np.testing.assert_allclose(got[0].pose, poses[best[0]])
            np.testing.assert_array_equal(got[0].latent, latents[best[0]])
        assert len(store.nearest(latents[0], k=5000)) == n
        window = [k.stamp_ns for k in store.by_time(50 * SEC, 80 * SEC)]
        assert window == sorted(s for s in stamps if 50 * SEC <= s <= 80 * SEC)
        near = store.by_pose_radius(1.0, -1.0, 2.0)
        dist_xy = np.hypot(poses[:, 0] - 1.0, poses[:, 1] + 1.0)
        assert [k.stamp_ns for k in near] == list(stamps[np.argsort(dist_xy)][:len(near)])
        assert len(near) == int((dist_xy <= 2.0).sum()) > 0


def test_goals_persist_immediately_and_across_reopen(tmp_path):
    cfg = _config(tmp_path)
    store = LatentStore(cfg, dim=3)
    store.set_goal('kitchen', [1, 2, 3], pose=(1.0, 2.0, 0.5))
    store.set_goal('door', [4, 5, 6])
    store.set_goal('door', [7, 8, 9])  # replaced
    assert _raw_count(tmp_path, 'goals') == 2  # on disk without flush or close
    assert store.delete_goal('kitchen') and not store.delete_goal('nowhere')
    store.set_goal('kitchen', [1, 2, 3], pose=(1.0, 2.0, 0.5))
    store.close()
    with LatentStore(cfg) as store:
        assert store.goal_names() == ['door', 'kitchen']
        np.testing.assert_array_equal(store.get_goal('door').latent, [7, 8, 9])
        assert store.get_goal('door').pose is None
        assert store.get_goal('kitchen').pose == (1.0, 2.0, 0.5)
        with pytest.raises(KeyError, match=r"no goal named 'attic'; known goals: \['door', "):
            store.get_goal('attic')


def test_mismatched_store_is_refused(tmp_path):
    with LatentStore(_config(tmp_path), dim=128, model_id='enc-a') as store:
        store.push_history(0, np.zeros(128))
    with pytest.raises(StoreMismatchError, match='dimension 128 but the model produces '
                                                 'dimension 64'):
        LatentStore(_config(tmp_path), dim=64)
    with pytest.raises(StoreMismatchError, match="written by model 'enc-a'.*'enc-b'"):
        LatentStore(_config(tmp_path), dim=128, model_id='enc-b')
    with LatentStore(_config(tmp_path), dim=128, model_id='enc-a') as store:
        with pytest.raises(ValueError, match='dimension 5, this store holds dimension 128'):
            store.add_keyframe(0, (0, 0, 0), np.zeros(5))
        with pytest.raises(ValueError, match='NaN or inf'):
            store.push_history(0, np.full(128, np.nan))
        assert store.history().shape == (1, 128)


def test_a_model_id_placeholder_gives_each_model_its_own_store(tmp_path):
    config = _config(tmp_path, path=str(tmp_path / 'mem_{model_id}.sqlite3'))
    sha_a, sha_b = 'a1' * 32, 'b2' * 32
    with LatentStore(config, dim=8, model_id=sha_a) as store:
        store.push_history(0, np.ones(8))
        assert store.path == tmp_path / 'mem_a1a1a1a1a1a1.sqlite3'
    with LatentStore(config, dim=8, model_id=sha_b) as store:  # no StoreMismatchError
        assert store.path.name == 'mem_b2b2b2b2b2b2.sqlite3' and len(store.history()) == 0
    with LatentStore(config, dim=8, model_id=sha_a) as store:
        np.testing.assert_array_equal(store.history(), np.ones((1, 8)))


def test_config_ranges_are_checked(tmp_path):
    with pytest.raises(ConfigError, match="'eviction'"):
        _config(tmp_path, eviction='random')
    with pytest.raises(ConfigError, match="'commit_interval_s'.*0.01"):
        _config(tmp_path, commit_interval_s=0.0)


_CHILD = textwrap.dedent("""
    import sys
    import time
    import numpy as np
    from world_model.config import from_dict
    from world_model.memory import LatentStore, MemoryConfig
    cfg = from_dict(MemoryConfig, {'path': sys.argv[1], 'max_keyframes': 1000000,
                                   'keyframe_min_interval_s': 0.0,
                                   'keyframe_min_distance_m': 0.0, 'commit_interval_s': 0.02})
    store = LatentStore(cfg, dim=64)
    store.set_goal('home', np.ones(64))
    rng = np.random.default_rng(0)
    latents = rng.normal(size=(256, 64)).astype(np.float32)
    seen, i = 0, 0
    while True:  # heavy writes (thousands per second) until killed
        time.sleep(0.0001)  # lets the writer thread run on a busy 2-core machine
        store.push_history(i, latents[i % 256])
        store.add_keyframe(i, (i * 0.01, 0.0, 0.0), latents[i % 256])
        i += 1
        committed = store.stats()['committed_keyframes']
        if committed != seen:
            seen = committed
            print(committed, flush=True)
""")


def test_sigkill_during_writes_loses_at_most_the_last_interval(tmp_path):
    db_path = tmp_path / 'mem.sqlite3'
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
    child = subprocess.Popen([sys.executable, '-c', _CHILD, str(db_path)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed = []
    try:
        while len(printed) < 5:  # several commits of ~100 rows each, writing goes on
            line = child.stdout.readline()
            if not line:
                pytest.fail(f'writer exited early: {child.stderr.read()}')
            printed.append(int(line))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    last = printed[-1]
    with sqlite3.connect(db_path) as db:
        assert db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
    with LatentStore(_config(tmp_path, max_keyframes=1000000)) as store:
        assert store.integrity_check() == 'ok'
        assert len(store) >= last > 0
        assert store.goal_names() == ['home']
        assert store.history().shape[1] == 64
        # a restart keeps the committed rows in order with no gaps
        stamps = [k.stamp_ns for k in store.by_time(0, 10**12)]
        assert stamps == list(range(len(stamps)))
