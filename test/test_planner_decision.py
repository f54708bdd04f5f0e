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
"""PlannerDecider without DDS: watchdog transitions, surprise hysteresis, goal arbitration, rate.

A fake steady clock drives every freshness rule, so each test states exactly how old the inputs
are. Defaults: futures_timeout_s 0.15, odom_timeout_s 0.3, surprise 5.0 / resume 2.0 after 5
messages, goal_tolerance 0.05, goal_yaw_tolerance 0.3, goal_hold_radius 0.25. The fixture's goal
is reached the moment it is within tolerance (goal_settle_s 0); the hold and the final approach
have tests of their own here and in test_arrival.py.
"""

import dataclasses
import math

import numpy as np
import pytest

from world_model.config import ConfigError, from_dict
from world_model.planning.decision import (
    ESTIMATE,
    EXPLICIT,
    DecisionConfig,
    PlannerDecider,
)
from world_model.planning.planner_config import PlannerConfig
from world_model.planning.rate_window import RateWindow
from world_model.planning.status import (
    FUTURES_STALE,
    GOAL_REACHED,
    GOAL_UNKNOWN,
    IDLE,
    ODOM_STALE,
    PLANNING,
    RECOVERING,
    SURPRISED,
)


class FakeClock:
    """Steady seconds set by the test; absolute times from 0 keep the differences exact."""

    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now



@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def decider(clock):
    return PlannerDecider(PlannerConfig(), DecisionConfig(goal_settle_s=0.0), clock=clock)


def planning(decider, goal=(2.0, 0.0, 0.0)):
    """Fresh odometry at the origin, a goal ahead and fresh futures: the planner drives."""
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_goal(goal, 'odom', EXPLICIT)
    decision = decider.on_futures('odom')
    assert decision.state == PLANNING and decision.plan
    return decision


def test_idle_without_goal_then_stale_inputs_hold_back_planning(decider):
    assert decider.tick().state == IDLE
    decision = decider.on_goal((2.0, 0.0, 0.0), 'odom', EXPLICIT)
    assert decision.state == ODOM_STALE and decision.changed and not decision.stop
    assert decision.notes == (('info', 'new explicit goal: [2.0, 0.0, 0.0]'),)
    assert decider.on_odom((0.0, 0.0, 0.0)).state == FUTURES_STALE
    decision = decider.on_futures('odom')
    assert decision.state == PLANNING and decision.plan and decision.changed
    assert decision.restart and not decision.stop  # from rest: reset the MPC, propose
    np.testing.assert_allclose(decision.goal, (2.0, 0.0, 0.0))
    decision = decider.on_futures('odom')  # still planning: plan, but no transition
    assert decision.plan and not (decision.changed or decision.restart or decision.stop)
    assert decider.watchdog_trips == 0


def test_futures_watchdog_trips_at_the_timeout_and_sends_zero_once(decider, clock):
    planning(decider)  # at t = 0
    clock.now = 0.149
    decider.on_odom((0.0, 0.0, 0.0))
    assert decider.tick().state == PLANNING
    clock.now = 0.15  # 0.15 s since the last futures: stale (>=)
    decision = decider.tick()
    assert decision.state == FUTURES_STALE and decision.stop and decision.changed
    assert not decision.restart
    assert decision.notes == (('warning', 'stopped: futures stale: zero velocity sent'),)
    assert decider.watchdog_trips == 1
    again = decider.tick()
    assert again.state == FUTURES_STALE and not (again.stop or again.changed)
    decision = decider.on_futures('odom')  # the world model is back
    assert decision.state == PLANNING and decision.restart and decision.plan


def test_odom_watchdog_outranks_the_futures_one(decider, clock):
    planning(decider)  # at t = 0
    clock.now = 0.2
    decider.on_futures('odom')  # keeps the futures fresh, not the odometry
    clock.now = 0.3  # odometry 0.3 s old
    decision = decider.tick()
    assert decision.state == ODOM_STALE and decision.stop and decider.watchdog_trips == 1
    clock.now = 1.3  # both stale now: odometry is named, and no second zero command
    decision = decider.tick()
    assert decision.state == ODOM_STALE and not decision.stop
    decision = decider.on_odom((0.0, 0.0, 0.0))  # odometry back, the futures still stale
    assert decision.state == FUTURES_STALE and decision.changed and not decision.stop
    assert decider.watchdog_trips == 1  # only leaving planning counts


def test_surprise_stops_above_the_threshold_and_resumes_after_calm_messages(decider):
    planning(decider)
    assert decider.on_surprise(5.0).state == PLANNING  # at the threshold: not above it
    decision = decider.on_surprise(5.01)
    assert decision.state == SURPRISED and decision.stop and decider.watchdog_trips == 1
    assert decision.notes[0] == ('warning', 'surprise 5.01 > 5.0: stopping')
    assert decision.notes[1] == ('warning', 'stopped: surprise: zero velocity sent')
    assert decider.on_surprise(9.0).notes == ()  # still surprised: said once
    # 4 calm, then one between the bounds (2.0 is not below 2.0): the count restarts.
    for value in (1.0, 1.0, 1.0, 1.0, 2.0):
        decider.on_futures('odom')
        assert decider.on_surprise(value).state == SURPRISED
    for value in (1.0, 1.0, 1.0, 1.0):
        assert decider.on_surprise(value).state == SURPRISED
    decision = decider.on_surprise(1.0)  # the 5th consecutive calm message
    assert decision.state == PLANNING and decision.restart and not decision.stop
    assert decision.notes == (('info', 'surprise settled: resuming'),)
    assert decider.last_surprise == 1.0


def test_a_surprise_during_the_calm_count_restarts_it(decider):
    planning(decider)
    decider.on_surprise(6.0)
    for value in (0.5, 0.5, 0.5, 7.0, 0.5, 0.5, 0.5, 0.5):
        assert decider.on_surprise(value).state == SURPRISED
    assert decider.on_surprise(0.5).state == PLANNING


def test_surprise_without_a_goal_still_holds_the_robot_once_a_goal_comes(decider):
    decider.on_surprise(8.0)
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_futures('odom')
    decision = decider.on_goal((1.0, 0.0, 0.0), 'odom', EXPLICIT)
    assert decision.state == SURPRISED and not decision.stop


def test_goal_reached_by_odometry_stops_without_a_watchdog_trip(decider):
    planning(decider, goal=(0.5, 0.0, 0.0))
    assert decider.on_odom((0.44, 0.0, 0.0)).state == PLANNING  # 0.06 m away
    decision = decider.on_odom((0.46, 0.0, 0.0))  # 0.04 m: within goal_tolerance
    assert decision.state == GOAL_REACHED and decision.stop and decision.changed
    assert decision.notes == (('info', 'goal reached: [0.5, 0.0, 0.0]'),)
    assert decider.watchdog_trips == 0
    assert not decider.on_futures('odom').plan  # futures keep coming: no planning
    assert decider.on_odom((1.0, 0.0, 0.0)).state == GOAL_REACHED  # reached stays reached
    assert math.isclose(decider.goal_distance(), 0.5)


def test_at_the_goal_position_the_robot_turns_to_the_goal_heading_first(decider):
    planning(decider, goal=(0.5, 0.0, 1.5))
    decision = decider.on_odom((0.48, 0.0, 0.1))  # at the position, 1.4 rad off the heading
    assert decision.state == PLANNING and decider.arrival.xy_reached
    decider.on_waypoints([(0.3, 0.0, 0.0), (2.0, 0.0, 0.0), (0.5, 0.0, 1.5)], 'odom')
    np.testing.assert_allclose(decision.target, (0.5, 0.0, 1.5))  # no waypoint: turn here
    np.testing.assert_allclose(decider.target(), (0.5, 0.0, 1.5))
    assert decider.on_odom((0.44, 0.02, 0.9)).state == PLANNING  # 0.064 m: still held
    assert decider.arrival.xy_reached
    decision = decider.on_odom((0.46, 0.02, 1.25))  # 0.25 rad off: within 0.3
    assert decision.state == GOAL_REACHED and decision.stop


def test_the_goal_position_is_left_beyond_twice_the_tolerance(decider):
    planning(decider, goal=(0.5, 0.0, 1.5))
    decider.on_odom((0.47, 0.0, 0.0))
    assert decider.arrival.xy_reached
    decider.on_odom((0.39, 0.0, 0.0))  # 0.11 m > 2 x goal_tolerance
    assert not decider.arrival.xy_reached and decider.state == PLANNING
    assert decider.on_odom((0.39, 0.0, 1.5)).state == PLANNING  # heading alone is not enough


def test_a_refined_estimate_away_from_the_robot_sends_it_on_while_turning(decider):
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_futures('odom')
    decider.on_goal((1.0, 0.0, 1.5), 'odom', ESTIMATE)
    decider.on_odom((1.0, 0.01, 0.2))  # at the estimate, turning
    assert decider.arrival.xy_reached and decider.state == PLANNING
    decider.on_goal((1.4, 0.1, 1.5), 'odom', ESTIMATE)  # the view now places the goal ahead
    decision = decider.on_odom((1.0, 0.01, 0.3))
    assert decision.state == PLANNING and not decider.arrival.xy_reached
    np.testing.assert_allclose(decision.target, (1.4, 0.1, 1.5))
    decision = decider.on_goal((1.02, 0.0, 0.4), 'odom', ESTIMATE)  # refined onto the robot
    assert decision.state == GOAL_REACHED and decision.notes == (
        ('info', 'goal reached: [1.02, 0.0, 0.4]'),)


def test_a_stall_backs_off_then_plans_again_from_rest(decider, clock):
    planning(decider, goal=(2.0, 0.0, 0.0))
    decider.cycle_planned((0.3, 0.0))  # driving forward ...
    decision = None
    for _ in range(12):  # ... against a wall: the odometry stays put for over 1.0 s
        clock.now += 0.1
        decider.on_futures('odom')
        decision = decider.on_odom((0.0, 0.0, 0.0))
    assert decision.state == RECOVERING and decision.changed and not decision.stop
    assert decision.notes == (('warning', 'stalled: no progress for 1 s of driving; backing '
                                          'off for 1 s'),)
    futures = decider.on_futures('odom')
    assert futures.recover and not futures.plan
    v, omega = decider.recovery_command()
    assert v == -0.1 and omega == 0.8
    clock.now += 1.0
    decider.on_odom((-0.1, 0.0, 0.8))
    decision = decider.on_futures('odom')
    assert decision.state == PLANNING and decision.restart and decision.plan
    assert decider.recovery.count == 1


def test_stalls_and_settling_are_timed_on_the_odometry_stamps(clock):
    # a lockstep simulator: 0.1 s of robot time per odometry message, 0.03 s of steady time
    decider = PlannerDecider(PlannerConfig(), DecisionConfig(goal_settle_s=0.5), clock=clock)
    stamp = 100.0
    decider.on_odom((0.0, 0.0, 0.0), stamp)
    decider.on_goal((2.0, 0.0, 0.0), 'odom', EXPLICIT)
    decider.on_futures('odom')
    decider.cycle_planned((0.3, 0.0))
    states = []
    for _ in range(12):  # against a wall for 1.2 s of robot time, 0.36 s of steady time
        clock.now, stamp = clock.now + 0.03, stamp + 0.1
        decider.on_futures('odom')
        states.append(decider.on_odom((0.0, 0.0, 0.0), stamp).state)
    assert states[-1] == RECOVERING and PLANNING in states[:9]
    backing = []
    for _ in range(11):  # backing off for 1 s of robot time (0.33 s steady)
        clock.now, stamp = clock.now + 0.03, stamp + 0.1
        decider.on_futures('odom')
        backing.append(decider.on_odom((-0.01, 0.0, 0.0), stamp).state)
    assert backing[:9] == [RECOVERING] * 9 and backing[-1] == PLANNING
    # at the goal: reached after goal_settle_s of stamps
    decider.on_goal((0.0, 0.0, 0.0), 'odom', EXPLICIT)
    settled = []
    for _ in range(7):
        clock.now, stamp = clock.now + 0.03, stamp + 0.1
        decider.on_futures('odom')
        settled.append(decider.on_odom((0.0, 0.0, 0.0), stamp).state == GOAL_REACHED)
    assert settled.index(True) == 5  # 0.5 s after the first pose at the goal
    # the stamps went back (a simulator reset): the timers restart, no stale back-off
    decider.on_goal((2.0, 0.0, 0.0), 'odom', EXPLICIT)
    assert decider.on_odom((0.0, 0.0, 0.0), 3.0).state == PLANNING


def test_leaving_recovery_for_a_watchdog_state_stops_the_robot(decider, clock):
    planning(decider)
    decider.cycle_planned((0.3, 0.0))
    for _ in range(12):
        clock.now += 0.1
        decider.on_futures('odom')
        decider.on_odom((0.0, 0.0, 0.0))
    assert decider.state == RECOVERING
    clock.now += 0.35  # no odometry for longer than odom_timeout_s
    decision = decider.tick()
    assert decision.state == ODOM_STALE and decision.stop


def test_turning_on_the_spot_at_the_goal_is_not_a_stall(decider, clock):
    planning(decider, goal=(0.5, 0.0, 1.5))
    decider.on_odom((0.48, 0.0, 0.0))  # at the position: turning to the heading
    decider.cycle_planned((0.0, 0.8))
    for _ in range(20):
        clock.now += 0.1
        decider.on_futures('odom')
        assert decider.on_odom((0.48, 0.0, 0.0)).state == PLANNING


def test_goal_yaw_tolerance_pi_accepts_any_heading(clock):
    decider = PlannerDecider(PlannerConfig(goal_yaw_tolerance=math.pi),
                             DecisionConfig(goal_settle_s=0.0), clock=clock)
    planning(decider, goal=(0.5, 0.0, 0.0))
    assert decider.on_odom((0.5, 0.0, -3.1)).state == GOAL_REACHED


def test_a_goal_already_within_tolerance_is_reached_at_once(decider):
    decider.on_odom((1.0, 1.0, 0.0))
    decision = decider.on_goal((1.03, 1.0, 0.0), 'odom', EXPLICIT)
    assert decision.state == GOAL_REACHED and decision.notes == (
        ('info', 'new explicit goal: [1.03, 1.0, 0.0]'),)


def test_an_explicit_goal_outranks_the_estimate_until_reached(decider):
    planning(decider, goal=(0.5, 0.0, 0.0))
    decision = decider.on_goal((3.0, 3.0, 0.0), 'odom', ESTIMATE)
    assert decision.notes == () and not decision.changed
    assert decider.goal_source == EXPLICIT
    np.testing.assert_allclose(decider.goal, (0.5, 0.0, 0.0))
    decider.on_odom((0.5, 0.0, 0.0))  # reached
    decision = decider.on_goal((3.0, 3.0, 0.0), 'odom', ESTIMATE)  # far from it: a new goal
    assert decider.goal_source == ESTIMATE and decision.state == PLANNING
    assert decision.notes == (('info', 'new estimate goal: [3.0, 3.0, 0.0]'),)
    decision = decider.on_goal((1.0, -1.0, 0.0), 'odom', EXPLICIT)  # explicit replaces it
    assert decider.goal_source == EXPLICIT and decision.notes[0][1].startswith('new explicit')


def test_estimate_refinements_move_the_goal_and_reached_goals_hold(decider):
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_futures('odom')
    decider.on_goal((1.0, 0.0, 0.0), 'odom', ESTIMATE)
    decision = decider.on_goal((1.1, 0.2, 0.0), 'odom', ESTIMATE)  # refinement: no new goal
    assert decision.notes == () and not decision.changed
    np.testing.assert_allclose(decision.goal, (1.1, 0.2, 0.0))
    decider.on_odom((1.1, 0.2, 0.0))
    assert decider.state == GOAL_REACHED
    held = decider.on_goal((1.3, 0.3, 0.0), 'odom', ESTIMATE)  # 0.22 m < hold radius 0.25
    assert held.state == GOAL_REACHED and not held.changed
    np.testing.assert_allclose(decider.goal, (1.1, 0.2, 0.0))
    new = decider.on_goal((1.4, 0.2, 0.0), 'odom', ESTIMATE)  # 0.3 m: a new goal
    assert new.state == PLANNING and new.restart
    np.testing.assert_allclose(decider.goal, (1.4, 0.2, 0.0))


def test_base_link_goals_are_placed_with_the_odometry(decider):
    rejected = decider.on_goal((1.0, 0.0, 0.0), 'base_link', EXPLICIT)
    assert rejected.rejected == (
        'goal', "ignoring a planner/goal_pose in 'base_link': it needs odometry first")
    assert decider.goal is None and not rejected.changed
    decider.on_odom((1.0, 2.0, math.pi / 2))
    decision = decider.on_goal((1.0, 0.5, 0.0), 'base_link', EXPLICIT)
    np.testing.assert_allclose(decision.goal, (0.5, 3.0, math.pi / 2), atol=1e-12)
    decision = decider.on_goal((4.0, 5.0, 0.0), '', EXPLICIT)  # no frame: odom
    np.testing.assert_allclose(decision.goal, (4.0, 5.0, 0.0))


@pytest.mark.parametrize('pose, frame, reason', [
    ((1.0, 0.0, 0.0), 'map',
     "ignoring a world_model/goal_pose_estimate: frame_id 'map' is neither 'odom' nor "
     "'base_link' (no tf here)"),
    ((math.nan, 0.0, 0.0), 'odom',
     'ignoring a world_model/goal_pose_estimate with a non-finite pose'),
])
def test_unusable_goals_are_rejected_and_change_nothing(decider, pose, frame, reason):
    planning(decider)
    decision = decider.on_goal(pose, frame, ESTIMATE)
    assert decision.rejected == ('goal', reason)
    assert decision.state == PLANNING and not (decision.changed or decision.stop)
    np.testing.assert_allclose(decider.goal, (2.0, 0.0, 0.0))


def test_bad_odometry_surprise_and_futures_frames_are_rejected(decider, clock):
    planning(decider)  # at t = 0
    clock.now = 0.1
    assert decider.on_odom((0.0, math.inf, 0.0)).rejected == (
        'odom', 'ignoring odometry with a non-finite pose')
    assert decider.on_surprise(math.nan).rejected == (
        'surprise', 'ignoring non-finite surprise nan')
    decision = decider.on_futures('map')
    assert decision.rejected == ('futures', "ignoring bad predicted futures: frame_id 'map' "
                                            "is not the odom frame 'odom'")
    assert not decision.plan
    assert math.isnan(decider.last_surprise)
    clock.now = 0.15  # the rejected futures did not count as fresh ones
    assert decider.tick().state == FUTURES_STALE


def test_cancel_stops_a_driving_robot_and_idles(decider):
    planning(decider)
    decision = decider.on_cancel()
    assert decision.state == IDLE and decision.stop and decision.goal is None
    assert decider.watchdog_trips == 0 and decider.goal_source is None
    assert not decider.on_cancel().stop


def test_custom_frames_and_timeouts(clock):
    config = DecisionConfig(odom_frame='robot/odom', base_frame='robot/base', odom_timeout_s=1.0)
    decider = PlannerDecider(PlannerConfig(), config, clock=clock)
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_goal((1.0, 0.0, 0.0), 'robot/base', EXPLICIT)
    assert decider.on_futures('odom').rejected is not None
    assert decider.on_futures('robot/odom').state == PLANNING
    clock.now = 0.5
    decider.on_futures('robot/odom')
    assert decider.tick().state == PLANNING  # odometry 0.5 s old is fresh at 1.0 s


def test_plan_rate_over_the_window(decider, clock):
    assert decider.plan_rate.rate_hz() == 0.0
    for i in range(24):  # 3 s at 8 Hz (dyadic steps: exact window edges)
        clock.now = i * 0.125
        decider.cycle_planned()
    clock.now = 3.0  # the last 2 s hold the 16 cycles from 1.0 to 2.875
    assert decider.plan_rate.rate_hz() == pytest.approx(8.0)
    for i in range(16):  # then 1 s at 16 Hz
        clock.now = 3.0 + i * 0.0625
        decider.cycle_planned()
    clock.now = 4.0  # 8 cycles at 8 Hz from 2.0 and 16 at 16 Hz: 23 intervals in 1.9375 s
    assert decider.plan_rate.rate_hz() == pytest.approx(23 / 1.9375)
    clock.now = 9.0  # idle between goals: no stale rate
    assert decider.plan_rate.rate_hz() == 0.0


def test_rate_window_needs_three_events_and_a_time_span(clock):
    window = RateWindow(2.0, clock)
    window.record()
    clock.now = 0.125
    window.record()
    assert window.rate_hz() == 0.0
    window.record()  # three at two instants
    assert window.rate_hz() == pytest.approx(2 / 0.125)
    burst = RateWindow(2.0, clock)
    for _ in range(3):
        burst.record()  # no time passes: no division by zero
    assert burst.rate_hz() == 0.0
    with pytest.raises(ValueError, match='window_s'):
        RateWindow(0.0)


def test_runtime_config_changes_apply_to_the_next_decision(decider, clock):
    planning(decider)  # at t = 0
    decider.config = DecisionConfig(futures_timeout_s=1.0)
    clock.now = 0.25
    decider.on_odom((0.0, 0.0, 0.0))
    assert decider.tick().state == PLANNING


def test_resume_threshold_above_the_stop_threshold_is_refused():
    with pytest.raises(ConfigError, match='surprise_resume_threshold'):
        from_dict(DecisionConfig, {'surprise_threshold': 3.0, 'surprise_resume_threshold': 4.0})


# -- memory goals: goal_status, exploration, waypoints -----------------------------------------
def test_goal_unknown_explores_ahead_left_and_stops_when_the_status_clears(decider):
    decider.on_odom((1.0, 1.0, math.pi / 2))
    decision = decider.on_goal_status('unknown')
    assert decision.state == FUTURES_STALE  # it needs fresh futures before driving
    decision = decider.on_futures('odom')
    assert decision.state == GOAL_UNKNOWN and decision.plan and decision.restart
    assert any('goal_unknown' in line for _, line in decision.notes)
    # 0.6 m at +0.8 rad from a robot facing +y: ahead and to its left (-x)
    angle = math.pi / 2 + 0.8
    np.testing.assert_allclose(decision.target, (1.0 + 0.6 * math.cos(angle),
                                                 1.0 + 0.6 * math.sin(angle), angle))
    decision = decider.on_goal_status('none')
    assert decision.state == IDLE and decision.stop and decision.target is None


def test_a_session_not_joined_yet_can_spin_on_the_spot_to_join(clock):
    decider = PlannerDecider(PlannerConfig(), DecisionConfig(spin_to_join=True), clock=clock)
    decider.on_odom((1.0, 1.0, math.pi / 2))
    decider.on_goal_status('localising')
    decision = decider.on_futures('odom')
    assert decision.state == GOAL_UNKNOWN and decision.steer and not decision.plan
    v, omega = decider.steer_command()
    assert v == 0.0 and omega == pytest.approx(decider.config.turn_rate)  # left, as it explores
    # joined, the goal not in the map yet: the MPC circles
    decider.on_goal_status('unknown')
    decision = decider.on_futures('odom')
    assert decision.plan and not decision.steer


def test_by_default_a_session_not_joined_yet_circles(decider):
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_goal_status('localising')
    decision = decider.on_futures('odom')
    assert decision.state == GOAL_UNKNOWN and decision.plan and not decision.steer


def test_goal_unknown_without_exploration_holds_position(clock):
    decider = PlannerDecider(PlannerConfig(), DecisionConfig(explore=False), clock=clock)
    decider.on_odom((0.5, 0.0, 0.0))
    decider.on_goal_status('unknown')
    decision = decider.on_futures('odom')
    assert decision.state == GOAL_UNKNOWN
    np.testing.assert_allclose(decision.target, (0.5, 0.0, 0.0))


def test_an_estimate_is_dropped_when_its_session_is_no_longer_localised(decider):
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_goal_status('localised')
    decider.on_goal((1.5, 0.0, 0.0), 'odom', ESTIMATE)
    assert decider.on_futures('odom').state == PLANNING
    decision = decider.on_goal_status('localising')  # an odometry reset: a new session
    assert decider.goal is None and decision.state == GOAL_UNKNOWN
    assert not decision.stop  # still driving (exploring), no stop-and-go
    # an explicit goal is kept whatever the world model says
    decider.on_goal((2.0, 0.0, 0.0), 'odom', EXPLICIT)
    assert decider.on_goal_status('unknown').state == PLANNING
    assert decider.goal_source == EXPLICIT


def test_a_bad_goal_status_or_chain_is_ignored(decider):
    assert decider.on_goal_status('lost').rejected[0] == 'goal'
    assert decider.goal_status is None
    assert 'not the odom frame' in decider.on_waypoints([(0, 0, 0)], 'map').rejected[1]
    assert decider.on_waypoints([(0, math.nan, 0)], 'odom').rejected is not None
    assert decider.waypoints is None


def test_a_fresh_chain_to_the_goal_gives_the_next_waypoint(decider, clock):
    goal = (2.0, 2.0, 0.0)
    planning(decider, goal)
    chain = [(0.0, 0.0, 0.0), (0.3, 0.0, 0.0), (1.0, 0.0, 0.0), (2.0, 0.0, 0.0), goal]
    decision = decider.on_waypoints(chain, 'odom')
    np.testing.assert_allclose(decision.target, (0.5, 0.0, 0.0))  # 0.5 m along the path
    decider.on_odom((1.0, 0.2, 0.0))  # 0.2 m off it: 0.3 m along, from the foot
    np.testing.assert_allclose(decider.on_futures('odom').target, (1.3, 0.0, 0.0))
    # the vertex rule: the first waypoint >= 0.5 m ahead
    decider.config = dataclasses.replace(decider.config, waypoint_along_path=False)
    decider.on_odom((0.0, 0.0, 0.0))
    np.testing.assert_allclose(decider.on_futures('odom').target, (1.0, 0.0, 0.0))
    decider.on_odom((1.9, 0.1, 0.0))
    np.testing.assert_allclose(decider.on_futures('odom').target, goal)
    # with waypoint_corner_rad, short of the corner the corner comes first
    decider.config = dataclasses.replace(decider.config, waypoint_corner_rad=0.6)
    np.testing.assert_allclose(decider.on_futures('odom').target, (2.0, 0.0, 0.0))
    decider.on_odom((2.0, 0.3, 0.0))  # round it: the goal
    np.testing.assert_allclose(decider.on_futures('odom').target, goal)
    decider.config = dataclasses.replace(decider.config, waypoint_corner_rad=math.pi,
                                         waypoint_along_path=True)
    # stale: straight to the goal
    clock.now += 2.5
    decider.on_odom((0.0, 0.0, 0.0))
    np.testing.assert_allclose(decider.on_futures('odom').target, goal)
    # a chain to another goal is not used
    decider.on_waypoints([(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, -2.0, 0.0)], 'odom')
    np.testing.assert_allclose(decider.on_futures('odom').target, goal)
    # goal_reached is judged on the goal, not on a waypoint
    decider.on_waypoints(chain, 'odom')
    assert decider.on_odom((1.0, 0.0, 0.0)).state == PLANNING


def test_a_chain_that_comes_back_beside_the_robot_is_joined_there(decider):
    # out to a keyframe at (0.4, 0.4) and back past the robot (test_waypoints.py)
    goal = (-1.0, 0.4, 3.1)
    decider.on_odom((0.05, 0.25, 3.1))
    decider.on_goal(goal, 'odom', EXPLICIT)
    decider.on_waypoints([(0.0, 0.0, 0.8), (0.4, 0.4, 3.1), goal], 'odom')
    decision = decider.on_futures('odom')
    assert decision.state == PLANNING and decision.plan
    np.testing.assert_allclose(decision.target, (-0.3, 0.4, 3.1), atol=1e-12)
    decider.config = dataclasses.replace(decider.config, waypoint_detour_reach_m=0.0)
    np.testing.assert_allclose(decider.on_futures('odom').target[:2],
                               (0.35 * math.sqrt(2) - 0.1, 0.4), atol=1e-12)


def test_a_target_behind_is_turned_to_on_the_spot_first(decider):
    decider.on_odom((0.0, 0.0, 2.0))  # the goal 1.3 rad off to the left: the MPC's
    decider.on_goal((-1.5, -0.3, 0.0), 'odom', EXPLICIT)
    assert decider.on_futures('odom').plan
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_goal((-1.5, -0.3, 0.0), 'odom', EXPLICIT)  # behind, a little to the right
    decision = decider.on_futures('odom')
    assert decision.state == PLANNING and decision.steer and not decision.plan
    v, omega = decider.steer_command()
    assert v == 0.0 and omega < 0.0  # the shorter way round: clockwise
    # turned to within rotate_to_target_rad (1.6) but not its quarter: still turning
    decider.on_odom((0.0, 0.0, -2.0))
    assert decider.on_futures('odom').steer
    # within a quarter of it: the MPC plans again
    decider.on_odom((0.0, 0.0, -2.8))
    decision = decider.on_futures('odom')
    assert decision.plan and not decision.steer
    # facing away again (1.8 rad off): turning; pi turns the rule off (a car)
    decider.on_odom((0.0, 0.0, 1.5))
    assert decider.on_futures('odom').steer
    decider.config = dataclasses.replace(decider.config, rotate_to_target_rad=math.pi)
    assert decider.on_futures('odom').plan
