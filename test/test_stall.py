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
"""StallDetector and Recovery without DDS: the back-off when driving makes no progress."""

import pytest

from world_model.planning.decision import EXPLICIT, DecisionConfig, PlannerDecider
from world_model.planning.planner_config import PlannerConfig
from world_model.planning.stall import Recovery, StallDetector, idle_command
from world_model.planning.status import PLANNING, RECOVERING


def feed(detector, poses, v, dt=0.1, start=0.0):
    """Feed poses at dt under command v; the stall verdict of each."""
    return [detector.update(start + i * dt, p, v, 1.0, 0.03) for i, p in enumerate(poses)]


def test_commanded_translation_without_progress_is_a_stall_after_time_s():
    verdicts = feed(StallDetector(), [(1.0, 2.0, 0.0)] * 12, v=0.3)
    assert verdicts.index(True) == 10  # 1.0 s after the first sample, not before
    assert all(verdicts[10:])


def test_progress_or_no_translation_is_not_a_stall():
    moving = [(0.01 * i, 0.0, 0.0) for i in range(30)]  # 0.1 m/s: 0.1 m per second
    assert not any(feed(StallDetector(), moving, v=0.1))
    assert not any(feed(StallDetector(), [(0.0, 0.0, 0.0)] * 30, v=0.0))  # turning on the spot
    detector = StallDetector()
    feed(detector, [(0.0, 0.0, 0.0)] * 8, v=0.3)
    detector.update(0.85, (0.0, 0.0, 0.0), 0.0, 1.0, 0.03)  # a stop clears the window
    assert not any(feed(detector, [(0.0, 0.0, 0.0)] * 8, v=0.3, start=0.9))


def test_the_window_slides_so_an_old_move_does_not_hide_a_new_stall():
    poses = [(0.05 * i, 0.0, 0.0) for i in range(10)] + [(0.45, 0.0, 0.0)] * 15
    verdicts = feed(StallDetector(), poses, v=0.3)
    assert not any(verdicts[:19]) and verdicts[19]  # stuck since step 9: 1.0 s later


def test_recovery_backs_off_for_its_time_turning_left_and_right_in_turn():
    config = DecisionConfig()
    recovery = Recovery()
    started = [recovery.observe(0.1 * i, (0.0, 0.0, 0.0), 0.3, config) for i in range(11)]
    assert started == [False] * 10 + [True]
    assert recovery.active(1.5) and not recovery.active(2.0 + 1e-9)
    first = recovery.command(config)
    recovery.end()
    assert not recovery.active(1.5)
    assert [recovery.observe(2.0 + 0.1 * i, (0.0, 0.0, 0.0), 0.3, config)
            for i in range(11)][-1]
    second = recovery.command(config)
    assert first[0] == second[0] == pytest.approx(-config.recovery_speed)
    assert first[1] == pytest.approx(config.recovery_turn) and second[1] == -first[1]


def test_recovery_off_never_starts():
    config = DecisionConfig(recovery=False)
    recovery = Recovery()
    assert not any(recovery.observe(0.1 * i, (0.0, 0.0, 0.0), 0.3, config) for i in range(30))


def test_plans_that_stand_still_for_standstill_time_s_are_a_stall_too():
    """Its target square to the side, the MPC chose to stand still for 80-120 steps (two rooms,
    BENCHMARKS.md ninth session): no command asked for translation, so no stall was seen."""
    config = DecisionConfig()  # standstill_time_s 3.0
    assert idle_command((0.01, -0.05)) and not idle_command((0.0, 0.3))
    assert not idle_command((0.05, 0.0))
    recovery = Recovery()
    started = [recovery.observe(0.1 * i, (1.0, 1.0, 0.0), 0.0, config, idle=True)
               for i in range(31)]
    assert started == [False] * 30 + [True]  # 3.0 s after the first idle plan
    assert recovery.cause.startswith('stalled: planned to stand still for 3 s')
    assert recovery.active(3.5)
    drifting = Recovery()  # standing plans while the robot still coasts: no stall ...
    assert not any(drifting.observe(0.1 * i, (0.01 * i, 0.0, 0.0), 0.0, config, idle=True)
                   for i in range(60))
    # ... until it comes to rest: 3 s counted from where the count last found it moving
    assert [drifting.observe(6.0 + 0.1 * i, (0.6, 0.0, 0.0), 0.0, config, idle=True)
            for i in range(31)].index(True) == 30
    turning = Recovery()  # one plan that turns restarts the count
    verdicts = [turning.observe(0.1 * i, (0.0, 0.0, 0.0), 0.0, config, idle=i != 20)
                for i in range(60)]
    assert verdicts.index(True) == 51  # 3.0 s after the idle plans began again at 2.1 s
    off = Recovery()
    assert not any(off.observe(0.1 * i, (0.0, 0.0, 0.0), 0.0, DecisionConfig(recovery=False),
                               idle=True) for i in range(60))


def test_the_decider_backs_off_a_planner_that_stands_still_short_of_its_goal():
    clock = [0.0]
    decider = PlannerDecider(PlannerConfig(), DecisionConfig(), clock=lambda: clock[0])
    decider.on_odom((0.0, 0.0, 0.0), 0.1)
    decider.on_goal((0.0, 0.6, 0.0), 'odom', EXPLICIT)  # square to the left, 0.6 m away
    states = []
    for i in range(1, 40):
        clock[0] = 0.1 * i
        decider.on_odom((0.0, 0.0, 0.0), 0.1 * i + 0.1)
        if decider.on_futures('odom').plan:
            decider.cycle_planned((0.0, 0.01))  # the MPC chose to stand still
        states.append(decider.state)
    assert states[:29] == [PLANNING] * 29 and RECOVERING in states[29:]
