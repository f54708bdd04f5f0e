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
"""Look-alike goal views: the grid, the near views, the test, and the script on real renders."""

import math
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

from world_model.envs.layouts import build_layout
from world_model.evaluation.view_ambiguity import ambiguity, near_poses, view_grid

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_the_grid_covers_only_free_space_at_every_heading():
    layout = build_layout('two_rooms', 4.0)
    grid = view_grid(layout, radius=0.18, spacing=0.2, headings=8)
    assert len(grid) % 8 == 0 and len(grid) > 8 * 100
    assert all(layout.is_free(x, y, 0.18) for x, y, _ in grid[::8])
    assert np.allclose(np.unique(np.round(grid[:, 2], 6)), -math.pi + np.arange(8) * math.pi / 4)
    assert not any(abs(x) < 0.18 and abs(y) > 1.0 for x, y, _ in grid)  # the divider's wall


def test_near_poses_step_forward_back_and_sideways_keeping_the_heading():
    poses = near_poses((1.0, 2.0, math.pi / 2), 0.15)
    assert np.allclose(poses[:, :2], [[1.0, 2.15], [1.0, 1.85], [0.85, 2.0], [1.15, 2.0]])
    assert np.allclose(poses[:, 2], math.pi / 2)


def test_a_far_view_closer_than_the_near_ones_is_a_look_alike():
    goal = np.array([0.0, 0.0, 0.0])
    grid = np.array([[0.1, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0]])
    goal_view, near = np.zeros(4), np.full((4, 4), 1.0)  # near views 1.0 away (RMS)
    views = np.array([np.zeros(4), np.full(4, 0.5), np.full(4, 3.0)])
    found = ambiguity(goal, goal_view, near, grid, views, far_m=0.6)
    assert found.ratio < 1.0 and found.ratio == pytest.approx(0.5)
    assert found.far_pose == (2.0, 0.0, 0.0) and found.far_gap_m == pytest.approx(2.0)
    views[1] = 2.0  # now no far view beats the near ones; the identical one is too close
    assert ambiguity(goal, goal_view, near, grid, views, far_m=0.6).ratio >= 1.0
    with pytest.raises(ValueError, match='no grid view'):
        ambiguity(goal, goal_view, near, grid[:1], views[:1], far_m=0.6)


def test_the_script_scores_planned_goals_on_real_renders():
    out = subprocess.run(
        [sys.executable, str(REPO / 'scripts/eval_goal_ambiguity.py'), '--episodes', '3',
         '--spacing', '0.5', '--headings', '4', '--verbose'],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=True).stdout
    assert re.search(r'two_rooms, seed 4242: 3 goals, \d+ grid views \(0.5 m, 4 headings\)', out)
    assert len(re.findall(r'^  episode  \d: pixels ratio [\d.]+ at [\d.]+ m', out, re.M)) == 3
    assert re.search(r'look-alike \(ratio < 1.0\) in pixels: \d/3, in latents: \d/3, both: \d/3',
                     out), out
