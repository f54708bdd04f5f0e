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
"""world_model.geometry: SE(2) composition, inversion and angle wrapping."""

from types import SimpleNamespace

import numpy as np
import pytest

from world_model.geometry import compose, invert, relative, wrap_angle, yaw_of_quaternion


def test_poses_compose_and_invert_in_se2():
    parent = np.array([1.0, 2.0, np.pi / 2])
    np.testing.assert_allclose(compose(parent, [[1.0, 0.0, 0.0]]), [[1.0, 3.0, np.pi / 2]],
                               atol=1e-12)
    np.testing.assert_allclose(compose(invert(parent), parent[None]), [[0.0, 0.0, 0.0]],
                               atol=1e-12)
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-3, 3, (50, 3)), rng.uniform(-3, 3, (50, 3))
    back = compose(a, relative(a, b))
    np.testing.assert_allclose(back[:, :2], b[:, :2], atol=1e-9)
    np.testing.assert_allclose(wrap_angle(back[:, 2] - b[:, 2]), 0.0, atol=1e-9)
    # a robot at (1, 0) facing +y sees the point (1, 1) straight ahead
    ahead = relative([1.0, 0.0, np.pi / 2], [1.0, 1.0, np.pi / 2])
    np.testing.assert_allclose(ahead, [1.0, 0.0, 0.0], atol=1e-12)
    # yaw wraps to (-pi, pi]
    assert compose([0.0, 0.0, 3.0], [[0.0, 0.0, 0.5]])[0, 2] == pytest.approx(3.5 - 2 * np.pi)
    assert wrap_angle(-np.pi) == pytest.approx(np.pi)
    assert wrap_angle(np.float32(7.0)).dtype == np.float32


def test_yaw_of_a_quaternion_about_z():
    for yaw in (-3.0, -0.5, 0.0, 1.2, 3.1):
        q = SimpleNamespace(x=0.0, y=0.0, z=np.sin(yaw / 2), w=np.cos(yaw / 2))
        assert yaw_of_quaternion(q) == pytest.approx(yaw)
