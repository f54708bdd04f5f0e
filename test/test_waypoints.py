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
"""world_model.planning.waypoints: the next waypoint of a chain around a corner."""

import numpy as np
import pytest

from world_model.planning.waypoints import (
    foot_past_detours,
    nearest_segment,
    next_waypoint,
    point_along,
    turns,
)

# Through a door at (0, 0) of a wall along x = 0: left room, door, right room.
CHAIN = np.array([(-1.5, 1.0, 0.0), (-0.8, 0.3, 0.0), (-0.3, 0.0, 0.0), (0.3, 0.0, 0.0),
                  (0.9, 0.6, 0.0), (1.4, 1.2, 0.0)])


def test_nearest_segment_follows_the_robot_along_the_chain():
    assert nearest_segment(CHAIN, (-1.4, 1.0)) == 0
    assert nearest_segment(CHAIN, (0.0, 0.1)) == 2
    assert nearest_segment(CHAIN, (1.3, 1.3)) == 4
    assert nearest_segment(CHAIN[:1], (5.0, 5.0)) == 0


def test_next_waypoint_leads_through_the_door_not_across_the_wall():
    # left of the door, the goal is straight across the wall; the waypoint is at the door
    target = next_waypoint(CHAIN, (-0.8, 0.35, 0.0), lookahead=0.5)
    np.testing.assert_allclose(target, CHAIN[2])
    assert target[0] < 0.0  # still on the robot's side of the wall
    # in the door: the nearer waypoint is within the lookahead, so the next one, in the room
    np.testing.assert_allclose(next_waypoint(CHAIN, (-0.1, 0.0, 0.0), 0.5), CHAIN[4])
    # near the end: the goal itself
    np.testing.assert_allclose(next_waypoint(CHAIN, (1.2, 1.0, 0.0), 0.5), CHAIN[-1])
    np.testing.assert_allclose(next_waypoint(CHAIN[-1:], (0.0, 0.0, 0.0), 0.5), CHAIN[-1])


def test_a_corner_is_driven_to_not_cut():
    # down the left room, a right-angle turn into the door at (-0.3, 0), across it
    chain = np.array([(-0.3, 1.2, 0.0), (-0.3, 0.6, 0.0), (-0.3, 0.0, 0.0), (0.3, 0.0, 0.0),
                      (0.9, 0.0, 0.0)])
    np.testing.assert_allclose(turns(chain), [0.0, 0.0, np.pi / 2, 0.0, 0.0], atol=1e-12)
    robot = (-0.3, 0.3, -np.pi / 2)
    # without the rule, the waypoint past the corner: the line to it cuts the jamb
    np.testing.assert_allclose(next_waypoint(chain, robot, 0.5), chain[3])
    np.testing.assert_allclose(next_waypoint(chain, robot, 0.5, corner_rad=0.6), chain[2])
    # within a quarter of the lookahead the corner is passed
    np.testing.assert_allclose(next_waypoint(chain, (-0.3, 0.1, 0.0), 0.5, 0.6), chain[3])
    # pi: not even a reversal is special
    back = np.array([(0.0, 0.0, 0.0), (0.3, 0.0, 0.0), (-0.6, 0.0, 0.0)])
    np.testing.assert_allclose(next_waypoint(back, (0.0, 0.0, 0.0), 0.5), back[2])
    # a gentle bend is no corner
    bend = np.array([(0.0, 0.0, 0.0), (0.4, 0.0, 0.0), (0.8, 0.2, 0.0), (1.2, 0.4, 0.0)])
    np.testing.assert_allclose(next_waypoint(bend, (0.0, 0.0, 0.0), 0.5, 0.6), bend[2])


def test_point_along_follows_the_path_by_arc_length():
    # on the chain: 0.5 m of path ahead, between two waypoints, heading the next one's
    chain = CHAIN.copy()
    chain[:, 2] = 0.1 * np.arange(len(chain))  # distinct headings
    target = point_along(chain, (-0.8, 0.3, 0.0), 0.5)
    np.testing.assert_allclose(np.hypot(*(target[:2] - chain[1, :2])), 0.5)
    assert np.cross(chain[2, :2] - chain[1, :2], target[:2] - chain[1, :2]) == pytest.approx(0)
    assert target[2] == chain[2, 2]
    # across a waypoint: the path length is summed over both segments
    target = point_along(CHAIN, (-0.3, 0.0, 0.0), 0.8)
    np.testing.assert_allclose(target[:2], (0.3 + 0.2 / np.sqrt(2), 0.2 / np.sqrt(2)))
    # near the end, and a chain of one pose: the goal
    np.testing.assert_allclose(point_along(CHAIN, (1.2, 1.0, 0.0), 0.5), CHAIN[-1])
    np.testing.assert_allclose(point_along(CHAIN[-1:], (0.0, 0.0, 0.0), 0.5), CHAIN[-1])


def test_point_along_rejoins_the_path_beside_a_jamb():
    # beside the door's jamb (wall x = 0 above y = 0.45), 0.6 m off the path: the waypoint
    # ahead lies across the jamb's end; the point along the path is the foot, in the door
    robot = (-0.1, 0.6, 0.0)
    vertex = next_waypoint(CHAIN, robot, 0.5)
    crossing = robot[1] + (vertex[1] - robot[1]) * (0.0 - robot[0]) / (vertex[0] - robot[0])
    assert crossing >= 0.45 - 1e-9  # the straight line to it meets the wall's end
    np.testing.assert_allclose(point_along(CHAIN, robot, 0.5)[:2], (-0.1, 0.0), atol=1e-12)
    # 0.2 m off, in the door: 0.3 m of path past the foot (0, 0)
    np.testing.assert_allclose(point_along(CHAIN, (0.0, 0.2, 0.0), 0.5)[:2], (0.3, 0.0),
                               atol=1e-12)


def test_point_along_skips_a_detour_that_comes_back_beside_the_robot():
    # the route runs out to a keyframe at (0.4, 0.4) and back along y = 0.4 to the goal: from
    # (0.05, 0.25) the path's nearest stretch (0.14 m) leads away from the goal; the stretch
    # back passes 0.15 m from the robot, by 0.43 m more path than the straight line: joined there
    chain = np.array([(0.0, 0.0, 0.8), (0.4, 0.4, 3.1), (-1.0, 0.4, 3.1)])
    robot = (0.05, 0.25, 3.1)
    assert nearest_segment(chain, robot) == 0
    i, foot = foot_past_detours(chain, robot, 0.2)
    assert i == 1
    np.testing.assert_allclose(foot, (0.05, 0.4), atol=1e-12)
    np.testing.assert_allclose(point_along(chain, robot, 0.5, 0.2), (-0.3, 0.4, 3.1), atol=1e-12)
    np.testing.assert_allclose(next_waypoint(chain, robot, 0.5, along_path=True, detour_reach=0.2),
                               (-0.3, 0.4, 3.1), atol=1e-12)
    # without the skip (reach 0, the default) the target is on the way out, beside the robot
    np.testing.assert_allclose(point_along(chain, robot, 0.5)[:2],
                               (0.35 * np.sqrt(2) - 0.1, 0.4), atol=1e-12)
    # a straight chain has no detour: the next stretch, as near, does not move the foot ahead
    line = np.array([(0.0, 0.0, 0.0), (0.2, 0.0, 0.0), (0.4, 0.0, 0.0), (1.0, 0.0, 0.0)])
    assert foot_past_detours(line, (0.1, 0.1), 0.2)[0] == 0
    np.testing.assert_allclose(point_along(line, (0.1, 0.1, 0.0), 0.5, 0.2)[:2], (0.5, 0.0),
                               atol=1e-12)


def test_point_along_keeps_a_chain_that_comes_back_beyond_a_wall():
    # two rooms (ROS-free, seed 4242, episode 45): down the left side of the divider x = 0,
    # through the door at y = 0.1 and back up the right side; the robot pressed against the
    # divider at (-0.23, 1.18) is 0.36 m from the near leg and 0.49 m from the far one, which
    # a foot past the detour would have put its target beyond the wall
    chain = np.array([(-0.59, 1.07, -1.6), (-0.58, 0.92, -1.6), (-0.64, 0.54, -1.6),
                      (-0.71, 0.28, -1.6), (-0.62, 0.08, 0.0), (0.31, 0.08, 1.4),
                      (0.38, 0.61, 1.6), (0.26, 1.27, 1.6)])
    robot = (-0.23, 1.18, 1.3)
    assert foot_past_detours(chain, robot, 0.2)[0] == 0
    assert point_along(chain, robot, 0.5, 0.2)[0] < 0.0  # on the robot's side of the divider
    assert foot_past_detours(chain, robot, 0.5)[0] == 6  # a reach wider than the wall gap
    # reach 0 never joins, even where the chain crosses itself exactly at the robot
    loop = np.array([(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, 1.0, 0.0), (0.5, 1.0, 0.0),
                     (0.5, -1.0, 0.0)])
    assert foot_past_detours(loop, (0.5, 0.0), 0.0)[0] == 0
    assert foot_past_detours(loop, (0.5, 0.0), 0.2)[0] == 3


def test_next_waypoint_refuses_a_malformed_chain():
    with pytest.raises(ValueError, match=r'\[M, 3\]'):
        next_waypoint(np.zeros((0, 3)), (0, 0, 0), 0.5)
    with pytest.raises(ValueError):
        next_waypoint(np.zeros((4, 2)), (0, 0, 0), 0.5)
