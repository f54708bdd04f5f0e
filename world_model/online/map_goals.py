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
"""Goals from memory: where the goal view is (latent map), in this session's odometry frame,
and the waypoint chain to it.

Each frame, MapGoals answers with a GoalView: the goal status of world_model/goal_status
(world_model.planning.status), the estimate with its std, and the chain. Localising retrieves
the keyframes nearest the goal latent and composes their poses with the relative-pose head
(LatentMap.localise); it runs every frame until a fix exists, then every goal_refresh_frames
(a failed refresh keeps the last fix). The route (graph search over the map) is refreshed every
route_refresh_frames. Fixes and routes live in the map frame and are drawn into odometry with
the session's current map_T_odom, so a refined join moves them with it. The goal is the end
of the chain, composed along the graph's edges from the robot (goal_at_route_end; no join
error in it), or else the fix drawn so, the chain's last waypoint set to it.

Homing: once the current view and the goal view overlap (the relative-pose head puts the goal
within homing_distance_m with a std below homing_sigma_m), the goal is measured from the current
view directly. Each frame's measurement, homing or the map's, goes through a GoalFilter
(goal_filter.py, goal_filter_keep; 0: each frame's as it is): homing is trusted along the view's
axis, the map across it. With the goal's pixels and a FloorHoming (floor_homing.py), homing
views are also aligned with the goal view on the floor they share, off the frame's thread; a
trusted alignment measures the goal in every direction (FLOOR_SIGMA_M), the side included.

A fix the robot stands at (within REJECT_RADIUS_M) for reject_s seconds of frame stamps without
the head homing on the goal view was a look-alike place: its keyframes are left out of the next
localisations of this goal (0: never). A named goal's remembered pose is never dropped.
"""

from typing import NamedTuple

import numpy as np

from world_model import geometry
from world_model.memory.map_consensus import view_information
from world_model.memory.map_keyframes import Fix
from world_model.online.goal_filter import GoalFilter
from world_model.planning.status import (
    GOAL_LOCALISED,
    GOAL_LOCALISING,
    GOAL_NONE,
    GOAL_NOT_FOUND,
)


class GoalView(NamedTuple):
    status: str  # world_model.planning.status GOAL_*
    pose: np.ndarray | None  # the goal in this session's odom frame
    std: np.ndarray | None  # (x, y, yaw) std of the estimate
    waypoints: np.ndarray | None  # [M, 3] odom frame, ending at the goal; None: no route
    support: int = 0  # keyframes that agreed on the fix


NO_GOAL = GoalView(GOAL_NONE, None, None, None)
MAP_SIGMA_FLOOR_M = 0.1  # a fix's spread says how its views agree, not how right they are
FLOOR_SIGMA_M = 0.05  # trusted floor alignments: 0.022 m median, p90 0.04-0.05 m (BENCHMARKS)
FLOOR_SIGMA_RAD = 0.05
REJECT_RADIUS_M = 0.35


class MapGoals:
    """Per-frame goal localisation and routing on a LatentMap (world_model.memory)."""

    def __init__(self, latent_map, relpose, goal_refresh_frames: int = 5,
                 route_refresh_frames: int = 10, homing_distance_m: float = 1.0,
                 homing_sigma_m: float = 0.15, filter_keep: float = 0.8,
                 goal_at_route_end: bool = True, floor=None, reject_s: float = 0.0):
        self.map, self.relpose = latent_map, relpose
        self.goal_refresh_frames, self.route_refresh_frames = goal_refresh_frames, \
            route_refresh_frames
        self.homing_distance_m, self.homing_sigma_m = homing_distance_m, homing_sigma_m
        self.goal_at_route_end = goal_at_route_end
        self.floor = floor  # FloorHoming, or None: the head alone homes
        self.reject_s = reject_s
        self.rejections = 0  # fixes found wrong, over all goals (diagnostics)
        self.filter = GoalFilter(filter_keep)
        self.reset()

    def reset(self):
        """Forget the fix and the route (a new goal)."""
        self.fix, self.route_map = None, None
        self._since_fix = self._since_route = 0
        self._near_since = None  # stamp [ns] since when the robot stands at an unconfirmed fix
        self.rejected = set()  # keyframe ids of this goal's fixes found wrong
        self.filter.reset()
        self._session = None
        if self.floor is not None:
            self.floor.reset()

    def update(self, pose, latent, goal_latent, goal_map_pose=None, image=None,
               goal_image=None, stamp_ns: int | None = None) -> GoalView:
        """The goal (latent [D], or None) seen from odometry pose with the current view.

        goal_map_pose: where the goal is known to be in the map (a named goal remembered in a
        joined session); the latent then only finds the keyframes to route to. image and
        goal_image (rgb, one camera): the views floor homing aligns, when both are given.
        stamp_ns: the frame's stamp (the time a fix is stood at; None: no fix is dropped).
        """
        if goal_latent is None:
            return NO_GOAL
        latent_map = self.map
        if latent_map.session != self._session:  # a new odometry frame
            self.filter.reset()
            if self.floor is not None:
                self.floor.reset()
            self._session = latent_map.session
        lateral = latent_map.config.fix_lateral_sigma_scale
        # homing
        rel, sigma = self.relpose(np.asarray(latent)[None], np.asarray(goal_latent)[None])
        if np.hypot(*rel[0, :2]) <= self.homing_distance_m and \
                sigma[0, :2].max() <= self.homing_sigma_m:
            goal = self.filter.update(geometry.compose(pose, rel[0]), view_information(
                pose[2], sigma[0, :2], lateral)[0], sigma[0, 2])
            if self.floor is not None and image is not None and goal_image is not None:
                goal = self._floor_homing(pose, image, goal_image, goal)
            self._near_since = None
            return GoalView(GOAL_LOCALISED, goal, sigma[0].copy(), None, 1)
        if not latent_map.joined:
            self.route_map = None  # routes start from the robot: unknown until joined
            return GoalView(GOAL_LOCALISING, None, None, None)
        # localise
        self._since_fix += 1
        if self.fix is None or self._since_fix >= self.goal_refresh_frames:
            fix = latent_map.localise(goal_latent, exclude=self.rejected)
            self._since_fix = 0
            if goal_map_pose is not None:
                ids, support = (fix.keyframe_ids, fix.support) if fix is not None else ((), 0)
                fix = Fix(np.asarray(goal_map_pose, np.float64), np.zeros(3), ids, support)
            if fix is not None:
                self.fix = fix
        if self.fix is None:
            return GoalView(GOAL_NOT_FOUND, None, None, None)
        # route
        self._since_route += 1
        if self.route_map is None or self._since_route >= self.route_refresh_frames:
            start = latent_map.to_map(pose)
            self.route_map = np.array(latent_map.route(start, self.fix, latent=latent),
                                      np.float64).reshape(-1, 3)
            self._since_route = 0
        goal_pose = latent_map.to_odom(self.fix.pose)
        waypoints = None
        if len(self.route_map):
            waypoints = np.stack([latent_map.to_odom(p) for p in self.route_map])
            if self.goal_at_route_end:  # composed from here along the edges: no join error
                goal_pose = waypoints[-1]
        spread = max(float(self.fix.std[:2].max()), MAP_SIGMA_FLOOR_M)
        goal_pose = self.filter.update(goal_pose, view_information(0.0, (spread, spread), 1.0)[0],
                                       max(float(self.fix.std[2]), 0.05))
        if waypoints is not None:
            waypoints[-1] = goal_pose
        if goal_map_pose is None and self._unconfirmed_at(pose, goal_pose, stamp_ns):
            return GoalView(GOAL_NOT_FOUND, None, None, None)  # localised afresh next frame
        return GoalView(GOAL_LOCALISED, goal_pose, self.fix.std.copy(), waypoints,
                        self.fix.support)

    def _floor_homing(self, pose, image, goal_image, goal) -> np.ndarray:
        # fuse the newest trusted floor alignment; queue this view from the estimate so far
        done = self.floor.take()
        if done is not None and done.alignment.trusted:
            information = np.eye(2) / FLOOR_SIGMA_M ** 2
            goal = self.filter.update(geometry.compose(done.pose, done.alignment.pose),
                                      information, FLOOR_SIGMA_RAD)
        self.floor.submit(pose, image, goal_image, geometry.relative(pose, goal))
        return goal

    def _unconfirmed_at(self, pose, goal_pose, stamp_ns) -> bool:
        # True when the robot stood at the fix for reject_s without homing: the fix is dropped
        if not self.reject_s or stamp_ns is None or \
                np.hypot(*(np.asarray(goal_pose)[:2] - pose[:2])) >= REJECT_RADIUS_M:
            self._near_since = None
            return False
        if self._near_since is None or stamp_ns < self._near_since:
            self._near_since = stamp_ns  # arrived (or the clock went back)
        if (stamp_ns - self._near_since) * 1e-9 < self.reject_s:
            return False
        self.rejected.update(self.fix.keyframe_ids)
        self.rejections += 1
        self.fix = self.route_map = self._near_since = None
        self.filter.reset()
        return True
