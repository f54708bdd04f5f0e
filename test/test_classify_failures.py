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
"""scripts/classify_failures.py: one cause per failed episode of a closed-loop report."""

import json
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent


def episode(index, success=False, error=None, collisions=0, start=(-1.0, 0.0), goal=(1.0, 0.0)):
    return {'index': index, 'success': success, 'start': list(start), 'goal': [*goal, 0.0],
            'collisions': collisions, 'final_distance': 0.2 if success else 1.0,
            'end_reason': 'budget',
            'goal_localisation': None if error is None else {'last_error_m': error}}


def test_each_failure_gets_its_first_matching_cause(tmp_path):
    episodes = [
        episode(0, success=True, error=0.1),
        episode(1),  # no estimate at all
        episode(2, error=1.4, collisions=50),  # misplaced comes before stuck
        episode(3, error=0.2, collisions=50),
        episode(4, error=0.2, collisions=3, start=(0.5, 0.0)),  # same room
    ]
    report = tmp_path / 'cl.json'
    report.write_text(json.dumps({'protocol': {'layout': 'two_rooms'},
                                  'episodes': {'agent': episodes}}))
    out = subprocess.run([sys.executable, str(REPO / 'scripts' / 'classify_failures.py'),
                          str(report), '--verbose'], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert 'failures: never placed 1, misplaced 1, stuck 1, short 1' in lines[0]
    assert lines[1] == 'goal in the other room: 1 of 4 reached'
    assert 'episode   2 misplaced' in out.stdout and 'episode   3 stuck' in out.stdout
    assert lines[-1].startswith('  episode   4 short') and 'other room' not in lines[-1]
