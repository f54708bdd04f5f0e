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
"""A persistent memory of latents in one SQLite file (WAL): history, keyframes and named goals.

- History: the last `history_length` latents the predictor conditions on, so a restarted node
  resumes without a cold start.
- Keyframes: (stamp, odometry pose, latent), gated by time and motion, bounded by max_keyframes;
  place recall and the eviction policy when full ('redundant' or 'fifo') are described in
  keyframe_index.py.
- Goals: named latents (with an optional pose), written to disk immediately: they are precious.

Frame-loop writes (push_history, add_keyframe) only touch memory and queue the SQL; a background
thread commits the queue every commit_interval_s in one transaction. WAL with synchronous=NORMAL
makes every commit durable against a process crash (SIGKILL), so a crash loses at most the last
commit interval and never corrupts the file; power loss may additionally lose the last commits.

A file that SQLite cannot read (corrupt, truncated, not a database) is moved aside, never
deleted, and the store starts empty; `recovery` then says what was kept where (recovery.py).
"""

import collections
import logging
import math
import sqlite3
import threading
import time
from typing import NamedTuple

import numpy as np

from world_model import geometry
from world_model.config import validate
from world_model.memory.config import MemoryConfig, memory_path
from world_model.memory.keyframe_index import Keyframe, KeyframeIndex, Recall
from world_model.memory.recovery import Recovery, check_usable, move_aside
from world_model.memory.schema import (
    SCHEMA_VERSION,
    StoreMismatchError,
    blob,
    corruption_of,
    is_corruption,
    open_database,
    unblob,
)
from world_model.memory.store_writer import write_ops

__all__ = ['Goal', 'Keyframe', 'LatentStore', 'MemoryConfig', 'Recall', 'SCHEMA_VERSION',
           'StoreMismatchError']

_LOG = logging.getLogger(__name__)


class Goal(NamedTuple):
    name: str
    latent: np.ndarray
    pose: tuple | None
    stamp_ns: int  # wall-clock time it was set


class LatentStore:
    """Latent memory backed by SQLite; see the module docstring for the guarantees.

    dim: latent size; None takes it from the store (or from the first write). model_id: an
    identifier of the encoder (e.g. the export fingerprint); latents of another model are
    meaningless, so a mismatch with the stored one is an error, like a dim mismatch.
    recovery: None, or what was moved aside because the file was corrupt (Recovery).
    Thread-safe: the frame loop, queries from other threads and the writer thread may overlap.
    """

    def __init__(self, config: MemoryConfig, dim: int | None = None, model_id: str = ''):
        self.config = validate(config)
        self.path = memory_path(config.path, model_id)
        check_usable(self.path)
        self._lock = threading.RLock()  # the in-memory mirror and the queue
        self._db_lock = threading.Lock()  # the sqlite connection
        self._ops = []
        self._stats = {'commits': 0, 'committed_keyframes': 0, 'write_errors': 0,
                       'last_error': '', 'evictions': 0, 'gated': 0, 'added': 0}
        self.recovery: Recovery | None = None
        # inspected read-only first: a read-write connection would fold the WAL into a corrupt
        # file and delete it when closed
        reason = corruption_of(self.path) if self.path.exists() else None
        if reason is None:
            try:
                self._open(dim, model_id)
            except sqlite3.DatabaseError as exc:
                if not is_corruption(exc):
                    raise
                reason = str(exc.__cause__ or exc)  # seen only read-write (a torn WAL)
        if reason is not None:
            self.recovery = move_aside(self.path, reason)
            _LOG.error('%s', self.recovery.message)
            self._open(dim, model_id)  # a new, empty file
        self._closed = False
        self._eviction_logs: list[collections.deque] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='latent-store-writer',
                                        daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- opening
    def _open(self, dim, model_id):
        self._db, self.dim, self.model_id = open_database(self.path, dim, model_id)
        try:
            self._load()
        except BaseException:
            self._db.close()
            raise

    def _load(self):
        cfg = self.config
        db = self._db
        hist = db.execute('SELECT stamp_ns, latent FROM history ORDER BY seq DESC LIMIT ?',
                          (cfg.history_length,)).fetchall()[::-1]
        self._hist_stamps = [int(s) for s, _ in hist]
        self._hist = [unblob(b) for _, b in hist]
        self._index = KeyframeIndex(max(16, min(cfg.max_keyframes, 1024)), self.dim,
                                    cfg.max_keyframes)
        rows = db.execute('SELECT id, stamp_ns, x, y, yaw, latent FROM keyframes ORDER BY id'
                          ).fetchall()
        if len(rows) > cfg.max_keyframes:
            # the limit shrank since the store was written: keep the newest
            cut = rows[-cfg.max_keyframes - 1][0]
            db.execute('DELETE FROM keyframes WHERE id <= ?', (cut,))
            rows = rows[-cfg.max_keyframes:]
        if rows and self.dim is None:  # a store from before the dim was recorded
            self.dim = len(rows[0][5]) // 4
            self._index.set_dim(self.dim)
        self._index.load(rows)
        self._stats['committed_keyframes'] = self._index.n
        self._next_id = (rows[-1][0] + 1) if rows else 1
        self._last_kf = None
        if rows:
            last = rows[-1]
            self._last_kf = (int(last[1]), (last[2], last[3], last[4]))
        self._goals = {}
        for name, data, x, y, yaw, stamp in db.execute(
                'SELECT name, latent, x, y, yaw, stamp_ns FROM goals'):
            pose = None if x is None else (x, y, yaw)
            self._goals[name] = Goal(name, unblob(data), pose, int(stamp))

    def _latent(self, latent, what: str) -> np.ndarray:
        z = np.asarray(latent, dtype=np.float32)
        if z.ndim == 2 and z.shape[0] == 1:
            z = z[0]
        if z.ndim != 1 or z.size == 0:
            raise ValueError(f'{what}: latent must be a vector [D], got shape {z.shape}')
        if self.dim is None:
            self._set_dim(z.size)
        if z.size != self.dim:
            raise ValueError(f'{what}: latent has dimension {z.size}, this store holds '
                             f'dimension {self.dim}')
        if not np.all(np.isfinite(z)):
            raise ValueError(f'{what}: latent contains NaN or inf')
        return z

    def _set_dim(self, dim: int):
        # called under self._lock: queue the meta row (taking _db_lock here could deadlock)
        self.dim = int(dim)
        self._index.set_dim(self.dim)
        self._ops.append(('m', 'dim', str(self.dim)))

    # ---------------------------------------------------------------- history
    def push_history(self, stamp_ns: int, latent) -> None:
        """Append the newest latent of the predictor's history (memory only; committed later)."""
        with self._lock:
            z = self._latent(latent, 'push_history').copy()
            self._hist.append(z)
            self._hist_stamps.append(int(stamp_ns))
            if len(self._hist) > self.config.history_length:
                del self._hist[0], self._hist_stamps[0]
            self._ops.append(('h', int(stamp_ns), blob(z)))

    def history(self) -> np.ndarray:
        """Recent latents, oldest first: float32 [n, D] with n <= history_length."""
        with self._lock:
            if not self._hist:
                return np.zeros((0, self.dim or 0), dtype=np.float32)
            return np.stack(self._hist)

    def history_stamps(self) -> np.ndarray:
        """Stamps (ns) of history() rows; lets a restarted node judge if they are still fresh."""
        with self._lock:
            return np.asarray(self._hist_stamps, dtype=np.int64)

    def clear_history(self) -> None:
        """Forget the history (e.g. after a simulator reset or a teleport)."""
        with self._lock:
            self._hist.clear()
            self._hist_stamps.clear()
            self._ops.append(('H',))

    # ---------------------------------------------------------------- keyframes
    def add_keyframe(self, stamp_ns: int, pose, latent) -> bool:
        """Store a keyframe if it passes the gating; True when stored.

        Gating: at least keyframe_min_interval_s since the last keyframe AND (travel >=
        keyframe_min_distance_m OR rotation >= keyframe_min_turn_rad). A stamp earlier than the
        last keyframe's (time base reset: simulator reset, bag loop) passes the interval test.
        """
        return self.insert_keyframe(stamp_ns, pose, latent) is not None

    def insert_keyframe(self, stamp_ns: int, pose, latent, session: int = 0,
                        gate: bool = True) -> tuple[int, int | None] | None:
        """add_keyframe with a session id: None when gated, else (new id, evicted id or None).

        gate=False skips the gating (a caller that gates by its own rules: the latent map).
        """
        stamp_ns = int(stamp_ns)
        x, y, yaw = (float(p) for p in pose)
        cfg = self.config
        with self._lock:
            if gate and self._last_kf is not None:
                last_stamp, (lx, ly, lyaw) = self._last_kf
                dt = (stamp_ns - last_stamp) * 1e-9
                moved = math.hypot(x - lx, y - ly) >= cfg.keyframe_min_distance_m
                turned = abs(geometry.wrap_angle(yaw - lyaw)) >= cfg.keyframe_min_turn_rad
                if (0.0 <= dt < cfg.keyframe_min_interval_s) or not (moved or turned):
                    self._stats['gated'] += 1
                    return None
            z = self._latent(latent, 'add_keyframe')
            index = self._index
            evicted = None
            if index.n >= cfg.max_keyframes:
                slot = index.victim(cfg.eviction, cfg.eviction_window)
                evicted = int(index.ids[slot])
                for log in self._eviction_logs:
                    log.append(evicted)
                self._ops.append(('d', evicted))
                self._stats['evictions'] += 1
            else:
                slot = index.n
            kid = self._next_id
            self._next_id += 1
            index.put(slot, kid, stamp_ns, (x, y, yaw), z)
            self._last_kf = (stamp_ns, (x, y, yaw))
            self._ops.append(('k', kid, stamp_ns, x, y, yaw, blob(z), int(session)))
            self._stats['added'] += 1
            return kid, evicted

    def watch_evictions(self) -> collections.deque:
        """A deque that receives the id of every keyframe evicted from now on (any caller)."""
        log = collections.deque()
        self._eviction_logs.append(log)
        return log

    def queue_sql(self, sql: str, rows: list) -> None:
        """Queue executemany(sql, rows) for the next background commit (the map's writes)."""
        with self._lock:
            self._ops.append(('x', sql, list(rows)))

    def query(self, sql: str, params=()) -> list:
        """Rows of a read of the committed file (startup loads of other modules)."""
        with self._db_lock:
            return self._db.execute(sql, params).fetchall()

    def __len__(self) -> int:
        return self._index.n

    def nearest(self, latent, k: int = 1) -> list[Recall]:
        """The k keyframes closest in latent space (L2), nearest first."""
        with self._lock:
            if self._index.n == 0 or k < 1:
                return []
            return self._index.nearest(self._latent(latent, 'nearest'), k)

    def by_time(self, t0_ns: int, t1_ns: int) -> list[Keyframe]:
        """Keyframes with t0_ns <= stamp <= t1_ns, in stamp order."""
        with self._lock:
            return self._index.by_time(t0_ns, t1_ns)

    def by_pose_radius(self, x: float, y: float, radius: float) -> list[Keyframe]:
        """Keyframes whose odometry position is within radius metres of (x, y), nearest first."""
        with self._lock:
            return self._index.by_pose_radius(x, y, radius)

    # ---------------------------------------------------------------- goals
    def set_goal(self, name: str, latent, pose=None) -> None:
        """Store (or replace) a named goal; written to disk before returning."""
        if not isinstance(name, str) or not name:
            raise ValueError(f'goal name must be a non-empty string, got {name!r}')
        with self._lock:
            z = self._latent(latent, f'set_goal({name!r})').copy()
        pose = None if pose is None else tuple(float(p) for p in pose)
        goal = Goal(name, z, pose, time.time_ns())
        xyz = pose if pose is not None else (None, None, None)
        with self._db_lock:
            db = self._db
            db.execute('BEGIN')
            try:
                # the dim goes with the goal, so a goal never lands in a store of unknown dim
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('dim', ?)",
                           (str(self.dim),))
                db.execute('INSERT OR REPLACE INTO goals (name, latent, x, y, yaw, stamp_ns) '
                           'VALUES (?, ?, ?, ?, ?, ?)', (name, blob(z), *xyz, goal.stamp_ns))
                db.execute('COMMIT')
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute('ROLLBACK')
                raise
        with self._lock:
            self._goals[name] = goal

    def get_goal(self, name: str) -> Goal:
        with self._lock:
            goal = self._goals.get(name)
            if goal is None:
                raise KeyError(f'no goal named {name!r}; known goals: {sorted(self._goals)}')
            return goal._replace(latent=goal.latent.copy())

    def goal_names(self) -> list[str]:
        with self._lock:
            return sorted(self._goals)

    def delete_goal(self, name: str) -> bool:
        """Remove a goal (on disk immediately); False when there was none of that name."""
        with self._db_lock:
            self._db.execute('DELETE FROM goals WHERE name = ?', (name,))
        with self._lock:
            return self._goals.pop(name, None) is not None

    # ---------------------------------------------------------------- persistence
    def _commit(self):
        with self._db_lock:
            with self._lock:
                ops, self._ops = self._ops, []
            if not ops:
                return
            try:
                added, deleted = write_ops(self._db, ops, self.config.history_length)
            except sqlite3.Error as exc:
                with self._lock:
                    self._ops[:0] = ops  # retry them at the next commit
                    self._stats['write_errors'] += 1
                    self._stats['last_error'] = str(exc)
                raise
            with self._lock:
                self._stats['commits'] += 1
                self._stats['committed_keyframes'] += added - deleted

    def _run(self):
        while not self._stop.wait(self.config.commit_interval_s):
            try:
                self._commit()
            except sqlite3.Error as exc:
                _LOG.warning('latent store %s: commit failed, will retry: %s', self.path, exc)

    def flush(self) -> None:
        """Commit everything queued so far, now (raises sqlite3.Error if the disk refuses)."""
        self._commit()

    def stats(self) -> dict:
        """Counters for diagnostics: keyframes, pending_ops, commits, committed_keyframes, ..."""
        with self._lock:
            return dict(self._stats, keyframes=self._index.n, history=len(self._hist),
                        goals=len(self._goals), pending_ops=len(self._ops))

    def health(self) -> tuple | None:
        """None when the file opened normally; else (level, message, values) for diagnostics."""
        return None if self.recovery is None else self.recovery.status()

    def integrity_check(self) -> str:
        """'ok' when SQLite finds the file consistent."""
        with self._db_lock:
            return self._db.execute('PRAGMA integrity_check').fetchone()[0]

    def close(self) -> None:
        """Stop the writer, commit what is queued and close the file (idempotent)."""
        if getattr(self, '_closed', True):
            return
        self._closed = True
        self._stop.set()
        self._thread.join()
        try:
            self._commit()
        finally:
            with self._db_lock:
                self._db.close()

    def __enter__(self) -> 'LatentStore':
        return self

    def __exit__(self, *exc):
        self.close()
        return False
