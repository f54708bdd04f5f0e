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
"""A JSON report rewritten atomically after every episode, so a crash keeps what finished.

Each write goes to a temporary file next to the report and replaces it with os.replace: a
reader (or a crash) sees the previous complete report or the new one, never half a file.
"""

import contextlib
import json
import os
import pathlib
import tempfile
import time

from world_model.evaluation.records import EpisodeRecord, summarise


def write_json_atomic(path, data) -> pathlib.Path:
    """Write data as JSON to path through a temporary file and os.replace."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # as an ordinary file (mkstemp makes it private)
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(data, f, indent=1)
            f.write('\n')
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


class IncrementalReport:
    """The closed-loop report: header fields, per-policy results and every finished episode.

    complete is False until finish() without an error; error says why a run stopped early.
    """

    def __init__(self, path, header: dict, clock=time.monotonic):
        self.path = pathlib.Path(path)
        self.header = dict(header)
        self.clock = clock
        self.began = clock()
        self.records: dict[str, list[EpisodeRecord]] = {}
        self.info: dict[str, dict] = {}
        self.complete = False
        self.error = None

    def add_episode(self, record: EpisodeRecord):
        self.records.setdefault(record.policy, []).append(record)
        self.write()

    def finish_policy(self, policy: str, info: dict):
        """What the harness knows once a policy's nodes have stopped (start-up time, ...)."""
        self.records.setdefault(policy, [])
        self.info[policy] = dict(info)
        self.write()

    def finish(self, error: str | None = None) -> pathlib.Path:
        self.complete, self.error = error is None, error
        return self.write()

    def data(self) -> dict:
        return {
            **self.header,
            'complete': self.complete,
            'error': self.error,
            'results': {policy: {**summarise(records), **self.info.get(policy, {})}
                        for policy, records in self.records.items()},
            'episodes': {policy: [r.summary() for r in records]
                         for policy, records in self.records.items()},
            'wall_s': round(self.clock() - self.began, 1),
        }

    def write(self) -> pathlib.Path:
        return write_json_atomic(self.path, self.data())
