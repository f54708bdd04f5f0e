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
"""The world model node's per-frame estimators (world_model.online), ROS-free."""

import numpy as np
import pytest

from world_model.geometry import compose
from world_model.online import (
    Frame,
    LatentTimeline,
    SurpriseMeter,
    moving,
    odometry_jumped,
)
from world_model.planning.candidates import default_candidates, fan_candidates


def test_surprise_is_about_one_in_steady_state_and_large_on_a_jump():
    meter = SurpriseMeter(ema=0.1, min_scale=1e-6, clip=10.0)
    rng = np.random.default_rng(0)
    values = [meter.update(float(e))[0] for e in rng.uniform(0.9, 1.1, 200)]
    assert np.median(values[50:]) == pytest.approx(1.0, abs=0.1)
    normalised, error, scale = meter.update(50.0)
    assert normalised > 20 and error == 50.0 and scale == pytest.approx(1.0, abs=0.1)
    assert meter.scale < 2.0  # the clipped outlier barely moves the running scale


def test_surprise_scale_is_learnt_only_while_moving():
    meter = SurpriseMeter(ema=0.1, min_scale=1e-6, clip=10.0)
    assert meter.update(0.01, learn=False)[0] == 1.0 and meter.scale is None  # no scale yet
    for _ in range(100):
        meter.update(1.0)  # driving
    for _ in range(300):  # standing: a static view is predicted almost exactly
        assert meter.update(0.01, learn=False)[0] < 0.05
    normalised, _, scale = meter.update(1.0)  # the first motion is no surprise
    assert normalised == pytest.approx(1.0, abs=0.05) and scale == pytest.approx(1.0, abs=0.05)
    assert moving((0.1, 0.0)) and moving((0.0, 0.0), (0.0, -0.2))
    assert not moving((0.01, 0.02), (-0.015, -0.04))


def frame(i: int, period_ns: int, pose=(0.0, 0.0, 0.0)) -> Frame:
    return Frame(i * period_ns, np.full(2, float(i), np.float32), np.zeros(2), np.array(pose))


def test_history_samples_frames_one_control_period_apart():
    timeline = LatentTimeline(history_length=3, period_s=0.1)
    period_ns = 33_333_333  # a 30 Hz camera
    frames = [frame(i, period_ns) for i in range(12)]
    for f in frames:
        timeline.add(f)
    history = timeline.history(frames[-1])
    np.testing.assert_array_equal(history[:, 0], [5.0, 8.0, 11.0])  # 0.2 s, 0.1 s ago, now
    assert timeline.last() is frames[-1]
    cold = LatentTimeline(history_length=3, period_s=0.1)
    np.testing.assert_array_equal(cold.history(frames[0])[:, 0], [0.0, 0.0, 0.0])
    assert cold.last() is None


def test_an_odometry_teleport_is_a_jump_and_driving_is_not():
    previous = np.array([1.0, 1.0, 3.0])
    driving = compose(previous, [0.05, 0.0, 0.1])  # 0.5 m/s, 1 rad/s for 0.1 s
    assert not odometry_jumped(previous, driving, 0.5, 1.0)
    assert odometry_jumped(previous, compose(previous, [0.6, 0.0, 0.0]), 0.5, 1.0)
    # a turn across +-pi is small, a half turn in one frame is not
    assert not odometry_jumped([0.0, 0.0, 3.1], [0.0, 0.0, -3.1], 0.5, 1.0)
    assert odometry_jumped([0.0, 0.0, 0.0], [0.0, 0.0, 1.5], 0.5, 1.0)
    # the limits are the slack beyond what the twist explains over the frame gap
    fast = compose(previous, [0.6, 0.0, 0.0])
    assert not odometry_jumped(previous, fast, 0.1, 0.3, explained=(0.55, 0.0))
    assert odometry_jumped(previous, fast, 0.1, 0.3, explained=(0.45, 0.0))
    spun = compose(previous, [0.0, 0.0, 0.8])
    assert not odometry_jumped(previous, spun, 0.1, 0.3, explained=(0.0, 0.6))
    assert odometry_jumped(previous, spun, 0.1, 0.3, explained=(0.0, 0.4))
    # 0 disables each test
    assert not odometry_jumped([0.0, 0.0, 0.0], [5.0, 0.0, 3.0], 0.0, 0.0)
    assert odometry_jumped([0.0, 0.0, 0.0], [5.0, 0.0, 0.0], 0.5, 0.0)


def test_default_candidates_start_with_the_planning_set_then_fan_out():
    fan = fan_candidates(64, 8, v=0.3, omega=1.0)
    assert fan.shape == (64, 8, 2) and fan.dtype == np.float32
    np.testing.assert_array_equal(fan[:6], default_candidates(8, v=0.3, omega=1.0))
    assert np.abs(fan[..., 1]).max() <= 1.0 and (fan[..., 0] >= 0).all()
    assert len({tuple(c[0]) for c in fan}) > 32  # distinct futures, not copies
    assert fan_candidates(3, 4, 0.3, 1.0).shape == (3, 4, 2)
