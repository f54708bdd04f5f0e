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
"""Success intervals and paired comparisons of closed-loop runs (success_stats, the script)."""

import json
import pathlib
import subprocess
import sys

import pytest

from world_model.evaluation.success_stats import compare, mcnemar_exact, success_interval

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_the_wilson_interval_matches_published_values_and_stays_in_0_1():
    low, high = success_interval(41, 50)  # 82%: Wilson 0.6920-0.9023
    assert low == pytest.approx(0.6920, abs=1e-3) and high == pytest.approx(0.9023, abs=1e-3)
    assert success_interval(50, 50)[1] == 1.0 and success_interval(50, 50)[0] < 0.95
    assert success_interval(0, 10)[0] == 0.0
    narrow, wide = success_interval(410, 500), success_interval(41, 50)
    assert narrow[1] - narrow[0] < 0.5 * (wide[1] - wide[0])
    with pytest.raises(ValueError):
        success_interval(6, 5)


def test_mcnemar_counts_only_the_discordant_episodes():
    assert mcnemar_exact(6, 1) == pytest.approx(2 * 8 / 128)  # 2 * P(X <= 1), X ~ B(7, 1/2)
    assert mcnemar_exact(3, 3) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 10) == pytest.approx(2 / 1024)


def test_a_paired_comparison_splits_the_episodes_and_brackets_the_difference():
    a = [True] * 40 + [False] * 10
    b = [True] * 34 + [False] * 6 + [True] * 2 + [False] * 8  # 6 lost, 2 gained
    result = compare(a, b, seed=3)
    assert (result.both, result.only_a, result.only_b, result.neither) == (34, 6, 2, 8)
    assert result.difference == pytest.approx(-0.08)
    assert result.low < -0.08 < result.high and result.high < 0.05
    assert result.p_value == pytest.approx(mcnemar_exact(6, 2))
    assert compare(a, b, seed=3) == result  # seeded
    same = compare(a, a)
    assert (same.difference, same.low, same.high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match='equal'):
        compare(a, b[:-1])


def report(path, outcomes, seed0=0):
    episodes = [{'seed': seed0 + i, 'start': [0.0, 0.0, 0.0], 'goal': [1.0, float(i), 0.0],
                 'success': ok} for i, ok in enumerate(outcomes)]
    path.write_text(json.dumps({'episodes': {'agent': episodes}}))
    return str(path)


def test_the_script_pairs_reports_on_the_episodes_they_share(tmp_path):
    base = report(tmp_path / 'plain.json', [True] * 8 + [False] * 2)
    worse = report(tmp_path / 'noisy.json', [True] * 5 + [False] * 5)
    other = report(tmp_path / 'other.json', [True] * 10, seed0=100)
    out = subprocess.run([sys.executable, str(REPO / 'scripts/compare_closed_loop.py'), base,
                          worse, other], capture_output=True, text=True, check=True).stdout
    assert 'plain.json: 8/10 = 80% (95% interval' in out
    assert 'noisy - plain: -30 points' in out
    assert 'reached only by plain: 3, only by noisy: 0; McNemar p = 0.25' in out
    assert 'other.json: no episode in common' in out


def test_reports_of_the_same_name_are_told_apart_by_their_folder(tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    base = report(tmp_path / 'a' / 'run.json', [True] * 4)
    other = report(tmp_path / 'b' / 'run.json', [True] * 3 + [False])
    out = subprocess.run([sys.executable, str(REPO / 'scripts/compare_closed_loop.py'), base,
                          other], capture_output=True, text=True, check=True).stdout
    assert 'b/run - a/run: -25 points' in out, out
