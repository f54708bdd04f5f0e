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
"""Moving a corrupt memory file aside, never deleting it, so the robot starts with an empty one.

A robot whose memory file got corrupted (a full disk, a bad SD card, a file copied while being
written) should still get a world model: the file is renamed next to itself with a
`.corrupt-YYYYmmddTHHMMSS` suffix (UTC), its `-wal` and `-shm` files with it under the matching
names (`<kept>-wal`, `<kept>-shm`, so `sqlite3 <kept>` still sees its write-ahead log), and the
caller opens a new, empty store. The bytes are kept for inspection or recovery by hand.

Only corruption (SQLITE_CORRUPT, SQLITE_NOTADB, a failed quick_check) is moved aside. A path that
cannot be opened at all (a directory, no permission, a missing folder that cannot be created) or
a locked file is an operator problem that renaming would not fix: it raises StoreAccessError
with the path and the reason. A valid store of another model (StoreMismatchError) is not
touched either: its memory is fine, only the configured path is wrong.
"""

import dataclasses
import os
import pathlib
import time

SIDE_FILES = ('-wal', '-shm')


class StoreAccessError(OSError):
    """The memory path cannot be used (not a file, no permission, cannot be renamed)."""


@dataclasses.dataclass(frozen=True)
class Recovery:
    """What was moved aside when a corrupt store was found."""

    path: pathlib.Path  # the configured store file (now a new, empty store)
    kept: tuple  # the renamed files: the main file first, then its -wal / -shm if any
    reason: str  # the error SQLite gave

    @property
    def message(self) -> str:
        side = ''.join(f' and {p.name}' for p in self.kept[1:])
        return (f'latent memory {self.path} could not be read ({self.reason}): kept it as '
                f'{self.kept[0]}{side} and started an empty memory; inspect or delete the kept '
                f'file by hand')

    def status(self) -> tuple:
        """(level, message, values) in the /diagnostics vocabulary: an ERROR naming the file."""
        return 'ERROR', self.message, {'memory_corrupt_file_kept': str(self.kept[0])}


def check_usable(path: pathlib.Path) -> None:
    """Create path's folder; raise StoreAccessError when path cannot be a store file at all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreAccessError(f'latent store {path}: cannot create its folder '
                               f'{path.parent}: {exc.strerror or exc}') from exc
    if path.is_dir():
        raise StoreAccessError(f'latent store {path} is a directory, not a file: set '
                               f'memory.path to a file name')
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise StoreAccessError(f'latent store {path} is not readable and writable by this '
                               f'process (uid {os.getuid()}): fix its permissions')
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreAccessError(f'latent store folder {folder} is not writable by this process: '
                               f'SQLite needs to create {path.name}-wal there')


def corrupt_name(path: pathlib.Path, when: float | None = None) -> pathlib.Path:
    """A free `<path>.corrupt-YYYYmmddTHHMMSS[-N]` name next to path (UTC time)."""
    stamp = time.strftime('%Y%m%dT%H%M%S', time.gmtime(time.time() if when is None else when))
    candidate = path.with_name(f'{path.name}.corrupt-{stamp}')
    n = 1
    while any(pathlib.Path(f'{candidate}{s}').exists() for s in ('', *SIDE_FILES)):
        candidate = path.with_name(f'{path.name}.corrupt-{stamp}-{n}')
        n += 1
    return candidate


def move_aside(path: pathlib.Path, reason: str, when: float | None = None) -> Recovery:
    """Rename path (and its -wal / -shm) to a corrupt_name(); StoreAccessError if it cannot."""
    kept_main = corrupt_name(path, when)
    kept = []
    for suffix in ('', *SIDE_FILES):
        source = pathlib.Path(f'{path}{suffix}')
        if not source.exists():
            continue
        target = pathlib.Path(f'{kept_main}{suffix}')
        try:
            os.rename(source, target)  # same folder: atomic, no copy, bytes untouched
        except OSError as exc:
            raise StoreAccessError(f'latent store {path} is corrupt ({reason}) but could not '
                                   f'be moved aside to {target}: {exc}') from exc
        kept.append(target)
    if not kept:
        raise StoreAccessError(f'latent store {path} is corrupt ({reason}) but has vanished')
    return Recovery(path, tuple(kept), reason)
