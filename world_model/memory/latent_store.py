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
- Keyframes: (stamp, odometry pose, latent), gated by time and motion, bounded by max_keyframes.
  Place recall ("have I been here before?") is a brute-force L2 search over an in-memory
  float32 mirror of all keyframes.
- Goals: named latents (with an optional pose), written to disk immediately: they are precious.

Eviction when full (config.eviction):
- 'redundant' (default): among the `eviction_window` oldest keyframes, find the two closest to
  each other in latent space and evict the older of them. Old, duplicated views of the same place
  go first while distinct places are kept for as long as possible; cost O(window^2 * D).
- 'fifo': evict the oldest keyframe.

Frame-loop writes (push_history, add_keyframe) only touch memory and queue the SQL; a background
thread commits the queue every commit_interval_s in one transaction. WAL with synchronous=NORMAL
makes every commit durable against a process crash (SIGKILL), so a crash loses at most the last
commit interval and never corrupts the file; power loss may additionally lose the last commits.
"""

import dataclasses
import logging
import math
import pathlib
import sqlite3
import threading
import time
from typing import NamedTuple

import numpy as np

from world_model.config import param, validate

_LOG = logging.getLogger(__name__)
SCHEMA_VERSION = '1'

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY, stamp_ns INTEGER NOT NULL, latent BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS keyframes (
    id INTEGER PRIMARY KEY, stamp_ns INTEGER NOT NULL, x REAL NOT NULL, y REAL NOT NULL,
    yaw REAL NOT NULL, latent BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS keyframes_stamp ON keyframes (stamp_ns);
CREATE TABLE IF NOT EXISTS goals (
    name TEXT PRIMARY KEY, latent BLOB NOT NULL, x REAL, y REAL, yaw REAL,
    stamp_ns INTEGER NOT NULL);
"""


class StoreMismatchError(ValueError):
    """The store on disk was written for another latent dimension or another model."""


@dataclasses.dataclass
class MemoryConfig:
    """Where the latent memory lives and what it keeps."""

    path: str = param('~/.ros/jepa_agent/latent_memory.sqlite3',
                      help='SQLite file of the memory (created with its folder if missing); '
                           '{model_id} becomes the first 12 hex digits of the model id, so '
                           'each model keeps its own memory')
    max_keyframes: int = param(10000, lo=1, hi=1_000_000,
                               help='keyframes kept; beyond this the eviction policy applies')
    keyframe_min_interval_s: float = param(1.0, lo=0.0, hi=3600.0,
                                           help='least time between two keyframes')
    keyframe_min_distance_m: float = param(0.25, lo=0.0, hi=1000.0,
                                           help='least travel since the last keyframe (or turn)')
    keyframe_min_turn_rad: float = param(0.5, lo=0.0, hi=math.pi,
                                         help='least rotation since the last keyframe (or travel)')
    history_length: int = param(16, lo=1, hi=4096,
                                help='recent latents kept so a restart resumes without cold start')
    commit_interval_s: float = param(1.0, lo=0.01, hi=60.0,
                                     help='background commit period: the most a crash can lose')
    eviction: str = param('redundant', choices=('redundant', 'fifo'),
                          help='which keyframe goes when full (see latent_store docstring)')
    eviction_window: int = param(64, lo=2, hi=4096,
                                 help="oldest keyframes searched by the 'redundant' eviction")


def memory_path(path: str, model_id: str = '') -> pathlib.Path:
    """The store file of a configured path: ~ expanded, {model_id} filled in."""
    model = ''.join(c for c in model_id if c.isalnum())[:12] or 'unknown'
    return pathlib.Path(path.replace('{model_id}', model)).expanduser()


class Keyframe(NamedTuple):
    stamp_ns: int
    pose: tuple  # (x, y, yaw), odometry frame
    latent: np.ndarray  # float32 [D]


class Recall(NamedTuple):
    distance: float  # L2 distance in latent space
    stamp_ns: int
    pose: tuple
    latent: np.ndarray


class Goal(NamedTuple):
    name: str
    latent: np.ndarray
    pose: tuple | None
    stamp_ns: int  # wall-clock time it was set


def _blob(latent: np.ndarray) -> bytes:
    return latent.astype('<f4', copy=False).tobytes()


def _unblob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype='<f4').astype(np.float32)


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


class LatentStore:
    """Latent memory backed by SQLite; see the module docstring for the guarantees.

    dim: latent size; None takes it from the store (or from the first write). model_id: an
    identifier of the encoder (e.g. the export fingerprint); latents of another model are
    meaningless, so a mismatch with the stored one is an error, like a dim mismatch.
    Thread-safe: the frame loop, queries from other threads and the writer thread may overlap.
    """

    def __init__(self, config: MemoryConfig, dim: int | None = None, model_id: str = ''):
        self.config = validate(config)
        self.path = memory_path(config.path, model_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()  # the in-memory mirror and the queue
        self._db_lock = threading.Lock()  # the sqlite connection
        self._ops = []
        self._stats = {'commits': 0, 'committed_keyframes': 0, 'write_errors': 0,
                       'last_error': '', 'evictions': 0, 'gated': 0, 'added': 0}
        self._db = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None,
                                   check_same_thread=False)
        try:
            self._open_db(dim, model_id)
            self._load()
        except BaseException:
            self._db.close()
            raise
        self._closed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name='latent-store-writer',
                                        daemon=True)
        self._thread.start()

    # ---------------------------------------------------------------- opening
    def _open_db(self, dim, model_id):
        db = self._db
        mode = db.execute('PRAGMA journal_mode=WAL').fetchone()[0]
        if mode.lower() != 'wal':
            raise OSError(f'latent store {self.path}: the file system does not support SQLite '
                          f'WAL mode (got journal_mode={mode}); put the store on a local disk')
        db.execute('PRAGMA synchronous=NORMAL')
        check = db.execute('PRAGMA quick_check').fetchone()[0]
        if check != 'ok':
            raise sqlite3.DatabaseError(f'latent store {self.path} is corrupt ({check}); move '
                                        f'it away to start a new memory')
        db.executescript(_SCHEMA)
        meta = dict(db.execute('SELECT key, value FROM meta').fetchall())
        stored_dim = int(meta['dim']) if 'dim' in meta else None
        if stored_dim is not None and dim is not None and int(dim) != stored_dim:
            raise StoreMismatchError(
                f'latent store {self.path} holds latents of dimension {stored_dim} but the model '
                f'produces dimension {dim}; use another memory path (or delete this store)')
        stored_model = meta.get('model_id', '')
        if stored_model and model_id and stored_model != model_id:
            raise StoreMismatchError(
                f'latent store {self.path} was written by model {stored_model!r} but the current '
                f'model is {model_id!r}; its latents are not comparable: use another memory path')
        if dim is not None and int(dim) < 1:
            raise ValueError(f'latent dim must be >= 1, got {dim}')
        self.dim = stored_dim if stored_dim is not None else (int(dim) if dim else None)
        self.model_id = stored_model or model_id
        rows = [('schema_version', SCHEMA_VERSION)]
        if self.dim is not None:
            rows.append(('dim', str(self.dim)))
        if self.model_id:
            rows.append(('model_id', self.model_id))
        db.executemany('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', rows)

    def _load(self):
        cfg = self.config
        db = self._db
        hist = db.execute('SELECT stamp_ns, latent FROM history ORDER BY seq DESC LIMIT ?',
                          (cfg.history_length,)).fetchall()[::-1]
        self._hist_stamps = [int(s) for s, _ in hist]
        self._hist = [_unblob(b) for _, b in hist]
        self._alloc(max(16, min(cfg.max_keyframes, 1024)))
        rows = db.execute('SELECT id, stamp_ns, x, y, yaw, latent FROM keyframes ORDER BY id'
                          ).fetchall()
        if len(rows) > cfg.max_keyframes:
            # the limit shrank since the store was written: keep the newest
            cut = rows[-cfg.max_keyframes - 1][0]
            db.execute('DELETE FROM keyframes WHERE id <= ?', (cut,))
            rows = rows[-cfg.max_keyframes:]
        if rows:
            if self.dim is None:  # a store from before the dim was recorded
                self.dim = len(rows[0][5]) // 4
            n = len(rows)
            self._n = 0
            self._alloc(max(n, self._lat.shape[0]))
            cols = list(zip(*rows))
            self._ids[:n] = cols[0]
            self._stamps[:n] = cols[1]
            self._poses[:n] = np.array(cols[2:5], dtype=np.float64).T
            lat = np.frombuffer(b''.join(cols[5]), dtype='<f4').reshape(n, self.dim)
            self._lat[:n] = lat
            self._sq[:n] = np.einsum('ij,ij->i', self._lat[:n], self._lat[:n])
            self._n = n
        self._stats['committed_keyframes'] = self._n
        self._next_id = (rows[-1][0] + 1) if rows else 1
        self._last_kf = None
        if rows:
            last = rows[-1]
            self._last_kf = (int(last[1]), (last[2], last[3], last[4]))
        self._goals = {}
        for name, blob, x, y, yaw, stamp in db.execute(
                'SELECT name, latent, x, y, yaw, stamp_ns FROM goals'):
            pose = None if x is None else (x, y, yaw)
            self._goals[name] = Goal(name, _unblob(blob), pose, int(stamp))

    def _alloc(self, cap: int):
        d = self.dim or 0
        self._n = getattr(self, '_n', 0)
        old = getattr(self, '_lat', None)
        lat = np.zeros((cap, d), dtype=np.float32)
        sq = np.zeros(cap, dtype=np.float32)
        ids = np.zeros(cap, dtype=np.int64)
        stamps = np.zeros(cap, dtype=np.int64)
        poses = np.zeros((cap, 3), dtype=np.float64)
        if old is not None and self._n and old.shape[1] == d:
            n = self._n
            lat[:n], sq[:n], ids[:n] = old[:n], self._sq[:n], self._ids[:n]
            stamps[:n], poses[:n] = self._stamps[:n], self._poses[:n]
        self._lat, self._sq, self._ids, self._stamps, self._poses = lat, sq, ids, stamps, poses

    def _put(self, slot, kid, stamp, pose, latent):
        if slot >= self._lat.shape[0]:
            self._alloc(min(self.config.max_keyframes, 2 * self._lat.shape[0]))
        self._lat[slot] = latent
        self._sq[slot] = float(latent @ latent)
        self._ids[slot] = kid
        self._stamps[slot] = stamp
        self._poses[slot] = pose

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
        self._alloc(self._lat.shape[0])
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
            self._ops.append(('h', int(stamp_ns), _blob(z)))

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
        stamp_ns = int(stamp_ns)
        x, y, yaw = (float(p) for p in pose)
        cfg = self.config
        with self._lock:
            if self._last_kf is not None:
                last_stamp, (lx, ly, lyaw) = self._last_kf
                dt = (stamp_ns - last_stamp) * 1e-9
                moved = math.hypot(x - lx, y - ly) >= cfg.keyframe_min_distance_m
                turned = abs(_wrap(yaw - lyaw)) >= cfg.keyframe_min_turn_rad
                if (0.0 <= dt < cfg.keyframe_min_interval_s) or not (moved or turned):
                    self._stats['gated'] += 1
                    return False
            z = self._latent(latent, 'add_keyframe')
            if self._n >= cfg.max_keyframes:
                slot = self._victim()
                self._ops.append(('d', int(self._ids[slot])))
                self._stats['evictions'] += 1
            else:
                slot = self._n
            kid = self._next_id
            self._next_id += 1
            self._put(slot, kid, stamp_ns, (x, y, yaw), z)
            self._n = max(self._n, slot + 1)
            self._last_kf = (stamp_ns, (x, y, yaw))
            self._ops.append(('k', kid, stamp_ns, x, y, yaw, _blob(z)))
            self._stats['added'] += 1
            return True

    def _victim(self) -> int:
        """Slot of the keyframe to evict (see the module docstring for the policy)."""
        ids = self._ids[:self._n]
        window = min(self.config.eviction_window, self._n)
        if self.config.eviction == 'fifo' or window < 2:
            return int(np.argmin(ids))
        oldest = np.argpartition(ids, window - 1)[:window]
        lat = self._lat[oldest]
        d2 = self._sq[oldest][:, None] + self._sq[oldest][None, :] - 2.0 * (lat @ lat.T)
        np.fill_diagonal(d2, np.inf)
        i, j = np.unravel_index(int(np.argmin(d2)), d2.shape)
        a, b = oldest[i], oldest[j]
        return int(a if ids[a] < ids[b] else b)

    def __len__(self) -> int:
        return self._n

    def _keyframe(self, slot) -> Keyframe:
        return Keyframe(int(self._stamps[slot]), tuple(float(v) for v in self._poses[slot]),
                        self._lat[slot].copy())

    def nearest(self, latent, k: int = 1) -> list[Recall]:
        """The k keyframes closest in latent space (L2), nearest first."""
        with self._lock:
            if self._n == 0 or k < 1:
                return []
            q = self._latent(latent, 'nearest')
            n = self._n
            d2 = self._sq[:n] - 2.0 * (self._lat[:n] @ q)
            k = min(int(k), n)
            idx = np.argpartition(d2, k - 1)[:k] if k < n else np.arange(n)
            # exact distances for the few selected (the expanded form loses precision)
            dist = np.linalg.norm(self._lat[idx] - q, axis=1)
            order = np.argsort(dist, kind='stable')
            return [Recall(float(dist[o]), *self._keyframe(idx[o])) for o in order]

    def by_time(self, t0_ns: int, t1_ns: int) -> list[Keyframe]:
        """Keyframes with t0_ns <= stamp <= t1_ns, in stamp order."""
        with self._lock:
            stamps = self._stamps[:self._n]
            idx = np.flatnonzero((stamps >= int(t0_ns)) & (stamps <= int(t1_ns)))
            idx = idx[np.argsort(stamps[idx], kind='stable')]
            return [self._keyframe(i) for i in idx]

    def by_pose_radius(self, x: float, y: float, radius: float) -> list[Keyframe]:
        """Keyframes whose odometry position is within radius metres of (x, y), nearest first."""
        with self._lock:
            xy = self._poses[:self._n, :2]
            dist = np.hypot(xy[:, 0] - float(x), xy[:, 1] - float(y))
            idx = np.flatnonzero(dist <= float(radius))
            idx = idx[np.argsort(dist[idx], kind='stable')]
            return [self._keyframe(i) for i in idx]

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
                           'VALUES (?, ?, ?, ?, ?, ?)', (name, _blob(z), *xyz, goal.stamp_ns))
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
            cap = self.config.history_length
            clear_at = max((i for i, op in enumerate(ops) if op[0] == 'H'), default=-1)
            hist = [op[1:] for op in ops[clear_at + 1:] if op[0] == 'h'][-cap:]
            inserts = [op[1:] for op in ops if op[0] == 'k']
            deletes = [op[1:] for op in ops if op[0] == 'd']
            meta = [op[1:] for op in ops if op[0] == 'm']
            db = self._db
            try:
                db.execute('BEGIN')
                db.executemany('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', meta)
                if clear_at >= 0:
                    db.execute('DELETE FROM history')
                db.executemany('INSERT INTO history (stamp_ns, latent) VALUES (?, ?)', hist)
                if hist:
                    db.execute('DELETE FROM history WHERE seq <= (SELECT MAX(seq) FROM history) '
                               '- ?', (cap,))
                db.executemany('INSERT INTO keyframes (id, stamp_ns, x, y, yaw, latent) '
                               'VALUES (?, ?, ?, ?, ?, ?)', inserts)
                db.executemany('DELETE FROM keyframes WHERE id = ?', deletes)
                db.execute('COMMIT')
            except sqlite3.Error as exc:
                if db.in_transaction:
                    db.execute('ROLLBACK')
                with self._lock:
                    self._ops[:0] = ops  # retry them at the next commit
                    self._stats['write_errors'] += 1
                    self._stats['last_error'] = str(exc)
                raise
            with self._lock:
                self._stats['commits'] += 1
                self._stats['committed_keyframes'] += len(inserts) - len(deletes)

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
            return dict(self._stats, keyframes=self._n, history=len(self._hist),
                        goals=len(self._goals), pending_ops=len(self._ops))

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
