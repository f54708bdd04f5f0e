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
"""Arrival: the held goal check, the turn on the spot and the final approach, without ROS.

The last tests drive it through PlannerDecider on a fake steady clock (test_planner_decision).
"""

import math

import numpy as np
import pytest

from world_model import geometry
from world_model.planning.arrival import AIM, GO, LINE, TURN, Arrival, turn_command
from world_model.planning.decision import EXPLICIT, PlannerDecider
from world_model.planning.decision_config import DecisionConfig
from world_model.planning.planner_config import PlannerConfig
from world_model.planning.status import GOAL_REACHED, PLANNING

PLANNER = PlannerConfig()  # goal_tolerance 0.05, goal_yaw_tolerance 0.3, v_min -0.1
CONFIG = DecisionConfig()  # approach within 0.4 m after 1.5 s without 0.02 m of change


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def planning(decider, goal):
    """Fresh odometry at the origin, a goal and fresh futures: the planner drives."""
    decider.on_odom((0.0, 0.0, 0.0))
    decider.on_goal(goal, 'odom', EXPLICIT)
    assert decider.on_futures('odom').plan


def drive(arrival, pose, goal, seconds, dt=0.1, config=CONFIG):
    """Integrate the arrival's own commands (a unicycle); returns (pose, arrived, phases)."""
    pose, phases = np.asarray(pose, dtype=np.float64), []
    for step in range(round(seconds / dt)):
        if arrival.update(step * dt, pose, goal, PLANNER, config):
            return pose, True, phases
        phases.append(arrival.phase)
        if arrival.steering:
            v, omega = arrival.command(pose, goal, PLANNER, config)
            pose = geometry.compose(pose, (v * dt, 0.0, omega * dt))
    return pose, False, phases


def test_turn_command_turns_the_short_way_clipped_and_stops_within_half_tolerance():
    assert turn_command((0, 0, 0.0), (0, 0, 1.0), 0.8, 0.1) == 0.8  # 2 x 1.0 rad, clipped
    assert turn_command((0, 0, 3.0), (0, 0, -3.0), 0.8, 0.1) > 0.0  # across +-pi: left
    assert turn_command((0, 0, 0.0), (0, 0, -0.2), 0.8, 0.1) == pytest.approx(-0.4)
    assert turn_command((0, 0, 0.0), (0, 0, 0.06), 0.8, 0.1) == 0.15  # the minimum rate
    assert turn_command((0, 0, 0.0), (0, 0, 0.04), 0.8, 0.1) == 0.0  # within 0.05


def test_the_goal_is_reached_only_once_position_and_heading_held_for_goal_settle_s():
    arrival, goal = Arrival(), (1.0, 0.0, 0.0)
    assert arrival.stage == 'mpc'
    assert not arrival.update(0.0, (0.98, 0.0, 0.1), goal, PLANNER, CONFIG)
    assert arrival.xy_reached and arrival.steering and arrival.stage == 'at goal'
    assert not arrival.update(0.9, (0.98, 0.0, 0.1), goal, PLANNER, CONFIG)
    assert arrival.update(1.0, (0.98, 0.0, 0.1), goal, PLANNER, CONFIG)  # held 1.0 s
    moved = Arrival()
    moved.update(0.0, (0.98, 0.0, 0.1), goal, PLANNER, CONFIG)
    # the estimate moved the goal 0.2 m on meanwhile: the position is left, the count restarts
    assert not moved.update(0.5, (0.98, 0.0, 0.1), (1.2, 0.0, 0.0), PLANNER, CONFIG)
    assert not moved.xy_reached
    assert not moved.update(1.5, (1.18, 0.0, 0.1), (1.2, 0.0, 0.0), PLANNER, CONFIG)
    assert moved.update(2.5, (1.18, 0.0, 0.1), (1.2, 0.0, 0.0), PLANNER, CONFIG)


def test_a_stalled_approach_within_the_radius_starts_a_final_approach():
    goal = (0.0, 0.0, 0.0)
    arrival = Arrival()
    for t in np.arange(0.0, 1.41, 0.1):
        arrival.update(t, (0.25, 0.1, 2.0), goal, PLANNER, CONFIG)
    assert arrival.phase is None and not arrival.steering  # 1.4 s: the MPC still drives
    arrival.update(1.5, (0.25, 0.1, 2.0), goal, PLANNER, CONFIG)
    assert arrival.phase == TURN and arrival.steering
    assert arrival.stage == 'final approach: turn'
    jittery = Arrival()  # hovering while the estimate jitters by 0.03 m: still a stall
    for i, t in enumerate(np.arange(0.0, 2.01, 0.1)):
        jittery.update(t, (0.25 + 0.03 * (-1) ** i, 0.1, 2.0), goal, PLANNER, CONFIG)
    assert jittery.phase == TURN
    creeping = Arrival()  # 0.03 m closer each 0.5 s is progress
    for i, t in enumerate(np.arange(0.0, 3.01, 0.5)):
        creeping.update(t, (0.35 - 0.03 * i, 0.0, 2.0), goal, PLANNER, CONFIG)
    assert creeping.phase is None
    far = Arrival()  # stalled 0.5 m away: the MPC's business (a wall, a recovery)
    for t in np.arange(0.0, 3.01, 0.5):
        far.update(t, (0.5, 0.0, 2.0), goal, PLANNER, CONFIG)
    assert far.phase is None
    off = Arrival()
    for t in np.arange(0.0, 3.01, 0.5):
        off.update(t, (0.25, 0.1, 2.0), goal, PLANNER, DecisionConfig(approach=False))
    assert off.phase is None


def test_the_line_drives_back_to_a_goal_behind_and_steers_onto_its_axis():
    arrival, goal = Arrival(), (0.0, 0.0, 0.0)
    arrival.phase = LINE
    v, omega = arrival.command((0.3, 0.05, 0.0), goal, PLANNER, CONFIG)
    assert v == pytest.approx(-0.1)  # behind the robot: reverse, at v_min
    assert omega > 0.0  # reversing left of the axis: turn left, the tail swings right
    v, omega = arrival.command((-0.05, -0.02, 0.0), goal, PLANNER, CONFIG)
    assert v == pytest.approx(0.05) and omega > 0.0  # ahead, right of the axis: forward, left


@pytest.mark.parametrize('start', [(0.3, 0.02, -2.0), (-0.3, -0.02, 2.5), (0.25, 0.0, math.pi)])
def test_a_robot_stalled_short_of_the_goal_ends_at_it_facing_its_heading(start):
    """The whole final approach on a unicycle: stall, turn, line, turn at the goal, held."""
    goal = np.array([0.0, 0.0, 0.0])
    arrival = Arrival()
    pose, arrived, phases = drive(arrival, start, goal, 20.0)
    assert arrived, (pose, phases[-5:])
    assert np.hypot(*pose[:2]) < PLANNER.goal_tolerance
    assert abs(geometry.wrap_angle(pose[2])) <= PLANNER.goal_yaw_tolerance
    assert TURN in phases and LINE in phases


def test_a_base_that_cannot_reverse_hands_a_goal_behind_it_back_to_the_mpc():
    forward_only = PlannerConfig(v_min=0.0)
    arrival, goal = Arrival(), (0.0, 0.0, 0.0)
    arrival.phase = LINE
    arrival.update(0.0, (0.2, 0.0, 0.0), goal, forward_only, CONFIG)  # the goal behind
    assert arrival.phase is None and not arrival.steering
    arrival.phase = LINE
    arrival.update(0.1, (-0.2, 0.0, 0.0), goal, forward_only, CONFIG)  # the goal ahead: drive
    assert arrival.phase == LINE
    assert arrival.command((-0.2, 0.0, 0.0), goal, forward_only, CONFIG)[0] > 0.0


def test_a_lateral_offset_the_line_cannot_remove_hands_back_to_the_mpc():
    arrival, goal = Arrival(), np.array([0.0, 0.0, 0.0])
    pose, arrived, phases = drive(arrival, (0.2, 0.12, 0.0), goal, 4.5)  # within AIM_LATERAL_M
    line_end = len(phases) - phases[::-1].index(LINE)
    assert not arrived and line_end < len(phases)
    assert phases[line_end] is None and not arrival.steering  # abreast: the MPC plans again
    assert abs(geometry.relative(goal, pose)[0]) < PLANNER.goal_tolerance


@pytest.mark.parametrize('start', [(0.0, 0.4, 0.0), (-0.1, -0.3, 0.2), (0.1, 0.25, -0.3)])
def test_a_robot_stalled_beside_the_goal_aims_at_it_drives_there_and_turns(start):
    """Beside the goal at about its heading (floor homing moved the goal sideways): a line
    along the goal's axis cannot get there; facing the goal's position and driving can."""
    arrival, goal = Arrival(), np.array([0.0, 0.0, 0.0])
    pose, arrived, phases = drive(arrival, start, goal, 20.0)
    assert arrived, (pose, phases[-5:])
    assert AIM in phases and GO in phases and LINE not in phases
    assert np.hypot(*pose[:2]) < PLANNER.goal_tolerance
    assert abs(geometry.wrap_angle(pose[2])) <= PLANNER.goal_yaw_tolerance
    assert len(phases) < 150  # about 10 s: within an episode's budget


def test_a_goal_moved_sideways_during_a_line_is_aimed_at_instead():
    arrival, goal = Arrival(), np.array([0.0, 0.0, 0.0])
    arrival.near, arrival.phase = True, LINE
    arrival.update(0.0, (0.2, 0.05, 0.0), goal, PLANNER, CONFIG)
    assert arrival.phase == LINE
    arrival.update(0.1, (0.2, 0.05, 0.0), np.array([0.0, 0.4, 0.0]), PLANNER, CONFIG)
    assert arrival.phase == AIM  # 0.35 m across the new goal's axis


def test_an_estimate_jittering_across_the_approach_radius_keeps_the_final_approach():
    """0.4 m from the goal, the estimate moving by 0.1 m: the approach region is left only
    beyond 1.5 x approach_radius_m, so the final approach is not dropped and taken up in turn."""
    arrival, goal = Arrival(), np.array([0.0, 0.0, 0.0])
    for t in np.arange(0.0, 1.61, 0.1):
        arrival.update(t, (0.35, 0.0, -0.9), goal, PLANNER, CONFIG)
    assert arrival.near and arrival.phase == TURN
    arrival.update(1.7, (0.45, 0.0, -0.9), goal, PLANNER, CONFIG)
    assert arrival.near and arrival.phase == TURN
    arrival.update(1.8, (0.65, 0.0, -0.9), goal, PLANNER, CONFIG)
    assert not arrival.near and arrival.phase is None


def test_near_the_goal_the_decider_does_not_turn_to_it_on_the_spot():
    """A goal behind the robot 0.45 m away: turned to on the spot when coming from afar, but
    not after the robot was within approach_radius_m (the final approach's business)."""
    goal = (0.0, 0.0, 0.0)
    far = PlannerDecider(PlannerConfig(), DecisionConfig(), clock=lambda: 0.0)
    far.on_odom((0.45, 0.0, -0.9))
    far.on_goal(goal, 'odom', EXPLICIT)
    assert far.on_futures('odom').steer and far.rotating < 0.0  # the short way: right
    near = PlannerDecider(PlannerConfig(), DecisionConfig(), clock=lambda: 0.0)
    near.on_odom((0.35, 0.0, -0.9))
    near.on_goal(goal, 'odom', EXPLICIT)
    near.on_odom((0.45, 0.0, -0.9))
    decision = near.on_futures('odom')
    assert decision.plan and not decision.steer and near.rotating == 0.0


def test_at_the_goal_position_the_turn_is_steered_not_planned():
    decider = PlannerDecider(PlannerConfig(), DecisionConfig(), clock=lambda: 0.0)
    planning(decider, goal=(0.5, 0.0, 1.5))
    decider.on_odom((0.48, 0.0, 0.1))  # at the position, 1.4 rad off the heading
    decision = decider.on_futures('odom')
    assert decision.steer and not decision.plan and decision.state == PLANNING
    assert decider.steer_command() == (0.0, 0.8)  # on the spot, left, at turn_rate
    decider.steered()
    assert decider.command_v == 0.0


def test_a_goal_is_reached_once_held_and_a_stalled_approach_is_steered():
    clock = FakeClock()
    decider = PlannerDecider(PlannerConfig(), DecisionConfig(), clock=clock)  # settle 1.0 s
    planning(decider, goal=(0.5, 0.0, 0.0))
    assert decider.on_odom((0.48, 0.0, 0.1)).state == PLANNING  # within tolerance: held ...
    clock.now = 0.99
    decider.on_futures('odom')
    assert decider.on_odom((0.48, 0.0, 0.1)).state == PLANNING
    clock.now = 1.0
    decision = decider.on_odom((0.48, 0.0, 0.1))  # ... for goal_settle_s
    assert decision.state == GOAL_REACHED and decision.stop
    stalled = PlannerDecider(PlannerConfig(), DecisionConfig(), clock=clock)
    planning(stalled, goal=(0.8, 0.0, 0.0))
    notes = []
    for _ in range(16):  # 0.2 m short, not moving, for 1.5 s
        clock.now += 0.1
        stalled.on_futures('odom')
        notes += stalled.on_odom((0.6, 0.0, 2.0)).notes
    assert notes == [('info', 'final approach: turn at 0.200 m from the goal')]
    assert stalled.on_futures('odom').steer
    assert stalled.steer_command() == (0.0, -0.8)  # the short way to the goal heading
