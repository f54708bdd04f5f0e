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
"""GoalFilter (world_model/online/goal_filter.py): homing along the view, the map across it."""

import numpy as np

from world_model.memory.map_consensus import view_information
from world_model.online.goal_filter import GoalFilter

GOAL = np.array([1.0, 0.5, 0.3])


def test_view_information_is_sure_ahead_and_not_sideways():
    info = view_information(np.pi / 2, (0.1, 0.1), lateral_scale=10.0)[0]  # along +y
    np.testing.assert_allclose(info, [[1.0, 0.0], [0.0, 100.0]], atol=1e-9)


def test_homing_ahead_and_the_map_across_converge_without_jumping():
    rng = np.random.default_rng(0)
    filt = GoalFilter(keep=0.8)
    estimates = []
    for frame in range(60):
        if frame % 2:  # homing from a view looking along x: right ahead, 0.3 m off sideways
            pose = GOAL + [rng.normal(0, 0.02), 0.3, rng.normal(0, 0.02)]
            info, sigma_yaw = view_information(0.0, (0.05, 0.05), 10.0)[0], 0.05
        else:  # the map's fix: unbiased, 0.15 m of noise every way
            pose = GOAL + np.r_[rng.normal(0, 0.15, 2), rng.normal(0, 0.1)]
            info, sigma_yaw = view_information(0.0, (0.15, 0.15), 1.0)[0], 0.1
        estimates.append(filt.update(pose, info, sigma_yaw))
    late = np.array(estimates[20:])
    error = np.hypot(*(late[:, :2] - GOAL[:2]).T)
    jump = np.hypot(*np.diff(late[:, :2], axis=0).T)
    print(f'\nerror median {np.median(error):.3f} m, frame-to-frame move median '
          f'{np.median(jump):.3f} m')
    # either alone: 0.3 m off (homing) or 0.15 m of jitter per frame (the map)
    assert np.median(error) < 0.12 and np.median(jump) < 0.06
    assert abs(np.median(late[:, 0]) - GOAL[0]) < 0.03  # ahead: homing holds it


def test_a_far_measurement_starts_over_and_keep_zero_passes_through():
    filt = GoalFilter(keep=0.8, jump_m=1.0)
    info = view_information(0.0, (0.1, 0.1), 1.0)[0]
    filt.update(GOAL, info, 0.1)
    elsewhere = GOAL + [2.0, 0.0, 0.0]  # another fix: another place
    np.testing.assert_allclose(filt.update(elsewhere, info, 0.1), elsewhere)
    raw = GoalFilter(keep=0.0)
    for pose in (GOAL, GOAL + [0.4, -0.3, 0.2]):
        np.testing.assert_allclose(raw.update(pose, info, 0.1), pose, atol=1e-6)
    filt.reset()
    assert filt.pose is None
