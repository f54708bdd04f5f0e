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
"""MapGoals (world_model/online/map_goals.py): where the goal is placed when the waypoint
chain's composed end and the fix disagree (a map bent by drift, or a straight one).

The map here is a stand-in for LatentMap (test/test_latent_map.py runs the real one): a joined
session at a known map_T_odom, a fix, and a route whose end is 0.3 m off the fix."""

import types

import numpy as np

from world_model import geometry
from world_model.memory.map_keyframes import Fix
from world_model.online.map_goals import MapGoals
from world_model.planning.status import GOAL_LOCALISED, GOAL_NOT_FOUND

MAP_T_ODOM = np.array([0.5, -0.2, 0.3])
FIX = np.array([2.0, 1.0, 0.4])  # map frame
ROUTE = [np.array([0.6, -0.1, 0.0]), np.array([1.3, 0.6, 0.2]), FIX + [0.0, 0.3, 0.0]]


class StraightMap:
    """What MapGoals asks of a LatentMap: join, fix, route and the frame change."""

    joined, session = True, 1
    config = types.SimpleNamespace(fix_lateral_sigma_scale=10.0)

    def localise(self, latent, exclude=()):
        return Fix(FIX.copy(), np.array([0.05, 0.05, 0.02]), (1, 2, 3), 3)

    def route(self, start, fix, latent=None):
        return [p.copy() for p in ROUTE]

    def to_odom(self, pose):
        return geometry.compose(geometry.invert(MAP_T_ODOM), pose)

    def to_map(self, pose):
        return geometry.compose(MAP_T_ODOM, pose)


def _far_relpose(za, zb):  # the goal view is out of sight: no homing
    n = len(za)
    return np.tile([5.0, 0.0, 0.0], (n, 1)), np.full((n, 3), 1.0)


def _goal(**kwargs):
    goals = MapGoals(StraightMap(), _far_relpose, filter_keep=0.0, **kwargs)
    return goals.update(np.zeros(3), np.zeros(8), np.ones(8))


def test_the_goal_can_be_the_fix_and_the_chain_then_ends_at_it():
    view = _goal(goal_at_route_end=False)
    assert view.status == GOAL_LOCALISED and view.support == 3
    expected = geometry.compose(geometry.invert(MAP_T_ODOM), FIX)
    np.testing.assert_allclose(view.pose, expected, atol=1e-9)
    np.testing.assert_allclose(view.waypoints[-1], expected, atol=1e-9)
    np.testing.assert_allclose(view.waypoints[:-1], [StraightMap().to_odom(p)
                                                     for p in ROUTE[:-1]], atol=1e-9)


def test_the_goal_is_the_chain_end_composed_along_the_graph():
    view = _goal()
    expected = StraightMap().to_odom(ROUTE[-1])
    np.testing.assert_allclose(view.pose, expected, atol=1e-9)
    np.testing.assert_allclose(view.waypoints[-1], expected, atol=1e-9)
    assert np.hypot(*(view.pose[:2] - _goal(goal_at_route_end=False).pose[:2])) > 0.29


class LookAlikeMap(StraightMap):
    """Two places answer the goal view: the look-alike's keyframes (1, 2, 3) win the vote until
    they are excluded, then the true place's (7, 8)."""

    TRUE_PLACE = np.array([0.5, 2.0, 1.0])

    def localise(self, latent, exclude=()):
        if {1, 2, 3} & set(exclude):
            return Fix(self.TRUE_PLACE.copy(), np.full(3, 0.05), (7, 8), 2)
        return super().localise(latent)

    def route(self, start, fix, latent=None):
        return [fix.pose.copy()]


def test_a_fix_the_robot_stands_at_without_seeing_the_goal_view_is_dropped():
    goals = MapGoals(LookAlikeMap(), _far_relpose, filter_keep=0.0, reject_s=0.4)
    at_fix = LookAlikeMap().to_odom(FIX)  # the robot drove to the look-alike place
    statuses = [goals.update(at_fix, np.zeros(8), np.ones(8), stamp_ns=int(t * 1e8)).status
                for t in range(5)]  # 0.1 s apart
    assert statuses == [GOAL_LOCALISED] * 4 + [GOAL_NOT_FOUND]
    assert goals.rejected == {1, 2, 3} and goals.rejections == 1
    view = goals.update(at_fix, np.zeros(8), np.ones(8), stamp_ns=int(5e8))  # without them
    assert view.status == GOAL_LOCALISED
    np.testing.assert_allclose(view.pose, LookAlikeMap().to_odom(LookAlikeMap.TRUE_PLACE),
                               atol=1e-9)
    goals.reset()  # a new goal: every keyframe may place it again
    assert goals.rejected == set()


def test_fixes_are_kept_when_rejection_is_off_or_the_goal_pose_is_remembered():
    at_fix = LookAlikeMap().to_odom(FIX)
    off = MapGoals(LookAlikeMap(), _far_relpose, filter_keep=0.0)
    assert all(off.update(at_fix, np.zeros(8), np.ones(8), stamp_ns=int(t * 1e8)).status
               == GOAL_LOCALISED for t in range(20))
    named = MapGoals(LookAlikeMap(), _far_relpose, filter_keep=0.0, reject_s=0.4)
    assert all(named.update(at_fix, np.zeros(8), np.ones(8), goal_map_pose=FIX,
                            stamp_ns=int(t * 1e8)).status == GOAL_LOCALISED for t in range(20))
    passing = MapGoals(LookAlikeMap(), _far_relpose, filter_keep=0.0, reject_s=0.4)
    for t in range(20):  # driving past the fix, never standing at it for 0.4 s
        pose = at_fix + ([0.0, 0.0, 0.0] if t % 3 == 0 else [1.0, 0.0, 0.0])
        assert passing.update(pose, np.zeros(8), np.ones(8),
                              stamp_ns=int(t * 1e8)).status == GOAL_LOCALISED
