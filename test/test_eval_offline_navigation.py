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
"""scripts/eval_offline_navigation.py: the protocol without ROS, repeatable episode by episode."""

import json
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = REPO / 'scripts/eval_offline_navigation.py'


def run(*args) -> str:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=True).stdout


@pytest.mark.slow
def test_a_run_is_repeatable_and_one_episode_replays_alone(tmp_path):
    common = ('--layout', 'open', '--episodes', '2', '--mapping-steps', '150',
              '--map-file', str(tmp_path / 'map.sqlite3'))
    out = run(*common, '--report', str(tmp_path / 'all.json'))
    assert 'mapped' in out and 'open, seed 4242: ' in out, out
    again = run(*common, '--only', '1', '--report', str(tmp_path / 'one.json'))
    assert 'mapped' not in again  # the stored map is reused
    both = json.loads((tmp_path / 'all.json').read_text())['episodes']['agent']
    alone = json.loads((tmp_path / 'one.json').read_text())['episodes']['agent']
    assert [e['index'] for e in both] == [0, 1] and [e['index'] for e in alone] == [1]
    assert alone[0] == both[1]  # same steps, distance and goal error: nothing carried over
    assert all(0 < e['steps'] <= 200 for e in both)
    assert all(e['success'] == (e['final_distance'] < 0.3) for e in both)


@pytest.mark.slow
def test_distractors_move_the_same_way_in_every_run(tmp_path):
    def episodes(name, *extra):
        run('--layout', 'two_rooms', '--episodes', '1', '--mapping-steps', '150', *extra,
            '--map-file', str(tmp_path / f'{bool(extra)}.sqlite3'),
            '--report', str(tmp_path / f'{name}.json'))
        return json.loads((tmp_path / f'{name}.json').read_text())['episodes']['agent']

    first, again = episodes('a', '--distractors'), episodes('b', '--distractors')
    assert first == again and len(first) == 1
    # and they are there: without them the same episode sees, and so drives, otherwise
    plain = episodes('plain')
    assert plain[0]['index'] == first[0]['index'] and plain[0] != first[0]
