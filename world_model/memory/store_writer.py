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
"""One commit of LatentStore's queued operations: all of them in one SQLite transaction.

Operations (tuples, first item the kind): ('h', stamp, blob) a history row, ('H',) clear the
history, ('k', id, stamp, x, y, yaw, blob, session) a keyframe, ('d', id) delete a keyframe,
('m', key, value) a meta row, ('x', sql, rows) statements of other modules (the latent map's
sessions and edges), run with executemany in queue order after the keyframes.
"""

import sqlite3


def write_ops(db: sqlite3.Connection, ops: list, history_cap: int) -> tuple[int, int]:
    """Commit ops in one transaction (rolled back on error); (keyframes added, deleted)."""
    clear_at = max((i for i, op in enumerate(ops) if op[0] == 'H'), default=-1)
    hist = [op[1:] for op in ops[clear_at + 1:] if op[0] == 'h'][-history_cap:]
    inserts = [op[1:] for op in ops if op[0] == 'k']
    deletes = [op[1:] for op in ops if op[0] == 'd']
    meta = [op[1:] for op in ops if op[0] == 'm']
    try:
        db.execute('BEGIN')
        db.executemany('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', meta)
        if clear_at >= 0:
            db.execute('DELETE FROM history')
        db.executemany('INSERT INTO history (stamp_ns, latent) VALUES (?, ?)', hist)
        if hist:
            db.execute('DELETE FROM history WHERE seq <= (SELECT MAX(seq) FROM history) - ?',
                       (history_cap,))
        db.executemany('INSERT INTO keyframes (id, stamp_ns, x, y, yaw, latent, session) '
                       'VALUES (?, ?, ?, ?, ?, ?, ?)', inserts)
        db.executemany('DELETE FROM keyframes WHERE id = ?', deletes)
        for op in ops:
            if op[0] == 'x':
                db.executemany(op[1], op[2])
        db.execute('COMMIT')
    except sqlite3.Error:
        if db.in_transaction:
            db.execute('ROLLBACK')
        raise
    return len(inserts), len(deletes)
