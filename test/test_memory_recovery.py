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
"""A corrupt memory file is moved aside (never deleted) and the store starts empty; a path that
cannot be a store at all, or another model's store, is a clear error and is left untouched."""

import os
import re
import sqlite3

import numpy as np
import pytest

from world_model.config import from_dict
from world_model.memory import (
    LatentStore,
    MemoryConfig,
    StoreAccessError,
    StoreMismatchError,
)
from world_model.memory.recovery import corrupt_name, move_aside

SUFFIX = re.compile(r'\.corrupt-\d{8}T\d{6}(-\d+)?$')


def _config(path):
    return from_dict(MemoryConfig, {'path': str(path), 'keyframe_min_interval_s': 0.0,
                                    'keyframe_min_distance_m': 0.0, 'commit_interval_s': 60.0})


def _valid_store_bytes(tmp_path) -> bytes:
    """The bytes of a real, closed store with 200 keyframes (several pages)."""
    path = tmp_path / 'source.sqlite3'
    rng = np.random.default_rng(0)
    with LatentStore(_config(path), dim=64) as store:
        for i in range(200):
            store.add_keyframe(i, (0.01 * i, 0.0, 0.0), rng.normal(size=64))
        store.set_goal('home', np.ones(64))
    return path.read_bytes()


def _corruptions(tmp_path) -> dict:
    rng = np.random.default_rng(1)
    valid = _valid_store_bytes(tmp_path)
    pages = bytearray(valid)
    pages[4096 * 2:4096 * 2 + 3000] = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    return {
        'garbage bytes': rng.integers(0, 256, 8192, dtype=np.uint8).tobytes(),
        'not sqlite (text)': b'# robot.yaml\nmax_speed: 0.5\n' * 50,
        'truncated database': valid[:len(valid) // 2],
        'truncated header': valid[:60],
        'overwritten pages': bytes(pages),
    }


CASES = ('garbage bytes', 'not sqlite (text)', 'truncated database', 'truncated header',
         'overwritten pages')


@pytest.mark.parametrize('case', CASES)
def test_a_corrupt_file_is_kept_byte_for_byte_and_the_store_starts_empty(tmp_path, case):
    data = _corruptions(tmp_path)[case]
    path = tmp_path / 'memory' / 'mem.sqlite3'
    path.parent.mkdir()
    path.write_bytes(data)
    with LatentStore(_config(path), dim=64) as store:
        assert store.recovery is not None, case
        kept = store.recovery.kept
        # a WAL-mode header makes SQLite add (empty) -wal / -shm files: they go along
        assert [k.name for k in kept[1:]] in ([], [kept[0].name + '-wal', kept[0].name + '-shm'])
        assert all(k.parent == path.parent for k in kept)
        assert set(os.listdir(path.parent)) == {k.name for k in kept} | {
            'mem.sqlite3', 'mem.sqlite3-shm', 'mem.sqlite3-wal'}  # + the new store, open
        assert kept[0].name.startswith('mem.sqlite3.corrupt-') and SUFFIX.search(kept[0].name)
        assert kept[0].read_bytes() == data  # never rewritten
        assert len(store) == 0 and store.goal_names() == [] and len(store.history()) == 0
        level, message, values = store.health()
        assert level == 'ERROR' and str(kept[0]) in message and str(path) in message
        assert values == {'memory_corrupt_file_kept': str(kept[0])}
        store.add_keyframe(1, (0.0, 0.0, 0.0), np.ones(64))  # the new file works
    with LatentStore(_config(path), dim=64) as store:  # and is healthy at the next start
        assert store.recovery is None and store.health() is None and len(store) == 1
    assert kept[0].read_bytes() == data


def test_wal_and_shm_files_move_with_the_main_file(tmp_path):
    path = tmp_path / 'mem.sqlite3'
    files = {'': b'\x00garbage' * 512, '-wal': b'wal bytes' * 100, '-shm': b'shm' * 300}
    for suffix, data in files.items():
        (tmp_path / f'mem.sqlite3{suffix}').write_bytes(data)
    with LatentStore(_config(path), dim=8) as store:
        kept = store.recovery.kept
        assert [p.name for p in kept] == [kept[0].name, kept[0].name + '-wal',
                                          kept[0].name + '-shm']
        for suffix in ('', '-wal'):  # the data; SQLite may rebuild the -shm index
            assert (tmp_path / f'{kept[0].name}{suffix}').read_bytes() == files[suffix]
        assert kept[0].name + '-wal' in store.recovery.message
        store.flush()


def test_two_recoveries_in_the_same_second_get_distinct_names(tmp_path):
    path = tmp_path / 'mem.sqlite3'
    when = 1_800_000_000.0  # 2027-01-15T08:00:00 UTC
    names = []
    for i in range(3):
        path.write_bytes(f'corrupt {i}'.encode())
        names.append(move_aside(path, 'test', when=when).kept[0])
    assert names[0].name == 'mem.sqlite3.corrupt-20270115T080000'
    assert [n.name[-2:] for n in names[1:]] == ['-1', '-2']
    assert [n.read_bytes() for n in names] == [b'corrupt 0', b'corrupt 1', b'corrupt 2']
    assert not path.exists() and corrupt_name(path, when).name.endswith('-3')


def test_a_directory_is_a_clear_error_and_is_left_alone(tmp_path):
    path = tmp_path / 'mem.sqlite3'
    path.mkdir()
    (path / 'inside').write_text('x')
    with pytest.raises(StoreAccessError, match='is a directory, not a file'):
        LatentStore(_config(path), dim=8)
    assert (path / 'inside').read_text() == 'x' and sorted(os.listdir(tmp_path)) == [path.name]


def test_a_path_below_a_file_is_a_clear_error(tmp_path):
    (tmp_path / 'not_a_folder').write_text('x')
    with pytest.raises(StoreAccessError, match='cannot create its folder'):
        LatentStore(_config(tmp_path / 'not_a_folder' / 'mem.sqlite3'), dim=8)


@pytest.mark.skipif(os.geteuid() == 0, reason='root reads and writes any file')
def test_an_unreadable_file_is_a_clear_error_and_is_left_alone(tmp_path):
    path = tmp_path / 'mem.sqlite3'
    path.write_bytes(b'secret')
    path.chmod(0)
    try:
        with pytest.raises(StoreAccessError, match='not readable and writable'):
            LatentStore(_config(path), dim=8)
        assert sorted(os.listdir(tmp_path)) == [path.name]
    finally:
        path.chmod(0o600)


def test_another_models_store_is_refused_and_not_moved(tmp_path):
    path = tmp_path / 'mem.sqlite3'
    with LatentStore(_config(path), dim=8, model_id='a' * 64) as store:
        store.set_goal('home', np.ones(8))
    before = path.read_bytes()
    with pytest.raises(StoreMismatchError, match='written by model'):
        LatentStore(_config(path), dim=8, model_id='b' * 64)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == [path.name]


def test_a_locked_store_is_not_mistaken_for_corruption(tmp_path):
    from world_model.memory.schema import is_corruption

    path = tmp_path / 'mem.sqlite3'
    LatentStore(_config(path), dim=8).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute('PRAGMA locking_mode=EXCLUSIVE')
    holder.execute('BEGIN EXCLUSIVE')
    try:
        with pytest.raises(sqlite3.OperationalError, match='locked') as locked:
            sqlite3.connect(path, timeout=0.0).execute('PRAGMA quick_check').fetchone()
    finally:
        holder.close()
    (tmp_path / 'junk').write_bytes(b'junk' * 100)
    with pytest.raises(sqlite3.DatabaseError) as junk:
        sqlite3.connect(tmp_path / 'junk').execute('PRAGMA quick_check').fetchone()
    assert not is_corruption(locked.value) and is_corruption(junk.value)
