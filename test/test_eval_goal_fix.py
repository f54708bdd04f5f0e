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
"""scripts/eval_goal_fix.py on the shipped model: a short tour, a few goals, two variants."""

import pathlib
import re
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_goal_fixes_are_scored_per_variant_on_one_map():
    out = subprocess.run(
        [sys.executable, str(REPO / 'scripts/eval_goal_fix.py'), '--goals', '6',
         '--mapping-steps', '300', '--map', '{}', '--map', '{"localise_k": 8}'],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True).stdout
    assert re.search(r'map: \d+ keyframes from 300 tour steps; 6 goals', out), out
    rows = re.findall(r'^(\{.*\}): placed (\d)/6, error median ([\d.]+|nan) m.*retrieval saw '
                      r'the goal place for (\d)/6$', out, re.M)
    assert [r[0] for r in rows] == ['{}', '{"localise_k": 8}'], out
    assert all(int(r[1]) >= 1 for r in rows), out
