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
"""The SQLite side of the latent memory: schema, opening checks, latent blobs.

`corruption_of` inspects an existing file without changing it. `open_database` opens (or
creates) the file in WAL mode, checks it (quick_check, the recorded latent dimension and model)
and returns the connection; an older file is migrated in place (columns and tables added, no
row changed or deleted). A file that SQLite cannot read as a database raises
CorruptStoreError; one that belongs to another model raises StoreMismatchError; anything else (a
locked file, a directory, no permission) keeps its sqlite3 / OS error.
"""

import pathlib
import sqlite3
from typing import NamedTuple

import numpy as np

# 2: keyframes.session, the sessions and edges tables of the latent map (latent_map.py); a
# version-1 reader still reads a version-2 file (the new column has a default)
SCHEMA_VERSION = '2'

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY, stamp_ns INTEGER NOT NULL, latent BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS keyframes (
    id INTEGER PRIMARY KEY, stamp_ns INTEGER NOT NULL, x REAL NOT NULL, y REAL NOT NULL,
    yaw REAL NOT NULL, latent BLOB NOT NULL, session INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS keyframes_stamp ON keyframes (stamp_ns);
CREATE TABLE IF NOT EXISTS goals (
    name TEXT PRIMARY KEY, latent BLOB NOT NULL, x REAL, y REAL, yaw REAL,
    stamp_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY, joined INTEGER NOT NULL DEFAULT 0, x REAL NOT NULL DEFAULT 0,
    y REAL NOT NULL DEFAULT 0, yaw REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS edges (
    a INTEGER NOT NULL, b INTEGER NOT NULL, kind TEXT NOT NULL, dx REAL NOT NULL,
    dy REAL NOT NULL, dyaw REAL NOT NULL, length REAL NOT NULL, PRIMARY KEY (a, b, kind));
CREATE INDEX IF NOT EXISTS edges_b ON edges (b);
"""

# SQLite primary result codes that mean "the bytes are not a (consistent) database"
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
_CORRUPT_TEXT = ('file is not a database', 'malformed', 'corrupt')


class StoreMismatchError(ValueError):
    """The store on disk was written for another latent dimension or another model."""


class CorruptStoreError(sqlite3.DatabaseError):
    """The store file exists but SQLite cannot read it as a consistent database."""


class OpenedStore(NamedTuple):
    db: sqlite3.Connection
    dim: int | None  # None until the first latent or a stored row says
    model_id: str


def is_corruption(exc: BaseException) -> bool:
    """True for the sqlite3 errors that say the file's bytes are bad (not locks, not I/O)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    if isinstance(exc, CorruptStoreError):
        return True
    code = getattr(exc, 'sqlite_errorcode', None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    return (not isinstance(exc, sqlite3.OperationalError)
            and any(text in str(exc) for text in _CORRUPT_TEXT))


def corruption_of(path: pathlib.Path) -> str | None:
    """Why SQLite cannot read path as a consistent database, or None when it can.

    A read-only connection: unlike a read-write one, closing it neither checkpoints the WAL into
    the file nor deletes the -wal / -shm files, so a corrupt store is inspected without being
    changed (SQLite may rebuild the -shm index, which holds no data). It takes the usual shared
    locks, so a store another process is writing is never mistaken for a corrupt one.
    """
    uri = path.absolute().as_uri() + '?mode=ro'
    try:
        db = sqlite3.connect(uri, uri=True, timeout=10.0)
    except sqlite3.Error:
        return None  # cannot be opened at all: the read-write open reports why
    try:
        check = db.execute('PRAGMA quick_check').fetchone()[0]
        return None if check == 'ok' else f'quick_check: {check}'
    except sqlite3.DatabaseError as exc:
        return str(exc) if is_corruption(exc) else None
    finally:
        db.close()


def open_database(path: pathlib.Path, dim: int | None, model_id: str) -> OpenedStore:
    """Open, check and (if new) initialise the store file; see the module docstring."""
    db = sqlite3.connect(str(path), timeout=10.0, isolation_level=None,
                         check_same_thread=False)
    try:
        return _initialise(db, path, dim, model_id)
    except sqlite3.DatabaseError as exc:
        db.close()
        if is_corruption(exc) and not isinstance(exc, CorruptStoreError):
            raise CorruptStoreError(f'latent store {path}: {exc}') from exc
        raise
    except BaseException:
        db.close()
        raise


def _initialise(db, path, dim, model_id) -> OpenedStore:
    mode = db.execute('PRAGMA journal_mode=WAL').fetchone()[0]
    if mode.lower() != 'wal':
        raise OSError(f'latent store {path}: the file system does not support SQLite '
                      f'WAL mode (got journal_mode={mode}); put the store on a local disk')
    db.execute('PRAGMA synchronous=NORMAL')
    check = db.execute('PRAGMA quick_check').fetchone()[0]
    if check != 'ok':
        raise CorruptStoreError(f'latent store {path} is corrupt ({check})')
    db.executescript(_SCHEMA)
    _migrate(db)
    meta = dict(db.execute('SELECT key, value FROM meta').fetchall())
    stored_dim = int(meta['dim']) if 'dim' in meta else None
    if stored_dim is not None and dim is not None and int(dim) != stored_dim:
        raise StoreMismatchError(
            f'latent store {path} holds latents of dimension {stored_dim} but the model '
            f'produces dimension {dim}; use another memory path (or delete this store)')
    stored_model = meta.get('model_id', '')
    if stored_model and model_id and stored_model != model_id:
        raise StoreMismatchError(
            f'latent store {path} was written by model {stored_model!r} but the current '
            f'model is {model_id!r}; its latents are not comparable: use another memory path')
    if dim is not None and int(dim) < 1:
        raise ValueError(f'latent dim must be >= 1, got {dim}')
    dim = stored_dim if stored_dim is not None else (int(dim) if dim else None)
    model_id = stored_model or model_id
    rows = [('schema_version', SCHEMA_VERSION)]
    if dim is not None:
        rows.append(('dim', str(dim)))
    if model_id:
        rows.append(('model_id', model_id))
    db.executemany('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', rows)
    return OpenedStore(db, dim, model_id)


def _migrate(db):
    # version 1 files: their keyframes join the legacy session 0 (origin unknown, never joined)
    columns = [row[1] for row in db.execute('PRAGMA table_info(keyframes)')]
    if 'session' not in columns:
        db.execute('ALTER TABLE keyframes ADD COLUMN session INTEGER NOT NULL DEFAULT 0')


def blob(latent: np.ndarray) -> bytes:
    return latent.astype('<f4', copy=False).tobytes()


def unblob(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype='<f4').astype(np.float32)
