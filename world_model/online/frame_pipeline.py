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
"""The world model's per-frame algorithm, ROS-free: one camera frame + odometry in, futures out.

FramePipeline.step() encodes a frame, restarts the predictor history when the time line or the
odometry breaks, measures surprise against the prediction made one control period earlier,
writes the latent memory, rolls out K candidate action sequences (the planner's proposal, or a
default fan), scores them with the planner's objective and localises the active goal.
world_model_node turns its FrameResult into messages; the evaluation scripts use it as is.

With a store, the frames build a latent map (world_model.memory.LatentMap): each odometry
origin (start, reset, jump) is a session joined to the map by place recognition, and goals
(images, named goals) are localised in it and routed to through its graph (online/map_goals.py).
Without a store a goal image has no pose (goal_pose None, status 'unknown'). With floor_homing
and the camera's geometry, a goal image's last metre is also measured by aligning the current
view with it on the floor (floor_alignment.py, on floor_homing.py's worker thread).

The model is anything with the OnnxWorldModel interface: encode, predict_next, rollout,
relative_pose, history_length and metadata['control_period'].
"""

import dataclasses
import math
from typing import NamedTuple

import numpy as np

from world_model import geometry
from world_model.memory.latent_map import LatentMap, MapConfig
from world_model.online.goals import ActiveGoal, GoalError
from world_model.online.latent_timeline import Frame, LatentTimeline, odometry_jumped
from world_model.online.map_goals import NO_GOAL, GoalView, MapGoals
from world_model.online.pipeline_config import (
    FramePipelineConfig,
    camera_geometry,
    floor_homing,
)
from world_model.online.surprise import SurpriseMeter, moving
from world_model.planning.candidates import fan_candidates
from world_model.planning.objectives import trajectory_costs
from world_model.planning.planner_config import PlannerConfig
from world_model.planning.status import GOAL_NOT_FOUND


class Proposal(NamedTuple):
    """The planner's latest candidates and when they came (steady clock)."""

    actions: np.ndarray  # [K, H, 2] (v, omega)
    received_s: float


@dataclasses.dataclass
class FrameResult:
    """Everything one frame produces; arrays are [K, H] over candidates and steps.

    collision may be a view of the runtime's buffers: valid until the next step.
    """

    stamp_ns: int
    latent: np.ndarray  # [D]
    pose: np.ndarray  # the odometry pose the futures start from
    actions: np.ndarray  # [K, H, 2] the candidates rolled out
    poses: np.ndarray  # [K, H, 3] predicted poses, odom frame
    goal_dist: np.ndarray  # latent L2 distance to the goal latent; NaN without a goal
    uncertainty: np.ndarray  # running one-step error scale x sqrt(step)
    collision: np.ndarray  # predicted contact probability
    costs: np.ndarray  # [K] the planner's objective (world_model.planning.objectives)
    highlighted: int  # the candidate to show: the planner's nominal, else the cheapest
    source: str  # 'proposal' or 'default'
    surprise: tuple[float, float, float] | None  # (normalised, error, scale) of this frame
    goal_pose: np.ndarray | None  # the active goal in the odom frame
    odom_jump: tuple[np.ndarray, np.ndarray] | None  # (previous pose, pose): history restarted
    goal: GoalView = NO_GOAL  # goal status, estimate std and waypoint chain (odom frame)


class FramePipeline:
    """Per-frame state of the world model: latent time line, surprise, goal, candidates.

    store (a LatentStore, optional) receives the history of every frame, holds the named goals
    and the latent map (map_config); its persisted history seeds the time line (the first frame
    decides whether it is recent enough to use). objective costs the candidates as the planner
    does (default: PlannerConfig() at the model's control period).
    """

    def __init__(self, model, config: FramePipelineConfig | None = None, store=None,
                 objective: PlannerConfig | None = None, map_config: MapConfig | None = None):
        self.model, self.store = model, store
        self.config = config or FramePipelineConfig()
        period = float(model.metadata.get('control_period', 0.1))
        self.objective = objective or dataclasses.replace(PlannerConfig(),
                                                          control_period=period)
        self.timeline = LatentTimeline(model.history_length, period)
        self.surprise = SurpriseMeter(self.config.surprise_ema, self.config.surprise_min_scale,
                                      self.config.surprise_clip)
        self.goal: ActiveGoal | None = None
        self.current = None  # (latent, odom pose) of the newest frame
        self.last_surprise = (math.nan, math.nan, math.nan)
        self._restart_requested = False
        self._default_key, self._default_set = None, None
        self.map = self.map_goals = None
        if store is not None:
            self.map = LatentMap(store, model.relative_pose, map_config)
            cfg = self.config
            self.map_goals = MapGoals(self.map, model.relative_pose, cfg.goal_refresh_frames,
                                      cfg.route_refresh_frames, cfg.homing_distance_m,
                                      cfg.homing_sigma_m, cfg.goal_filter_keep,
                                      cfg.goal_at_route_end, floor_homing(cfg),
                                      cfg.goal_reject_s)
            for latent, stamp in zip(store.history(), store.history_stamps()):
                self.timeline.add(Frame(int(stamp), latent, np.zeros(2, np.float32), None))

    def reconfigure(self, config: FramePipelineConfig):
        """Apply changed parameters; the state (history, scale, goal) is kept."""
        self.config = config
        self.surprise.ema = config.surprise_ema
        self.surprise.min_scale = config.surprise_min_scale
        self.surprise.clip = config.surprise_clip
        if self.map_goals is not None:
            self.map_goals.goal_refresh_frames = config.goal_refresh_frames
            self.map_goals.route_refresh_frames = config.route_refresh_frames
            self.map_goals.homing_distance_m = config.homing_distance_m
            self.map_goals.homing_sigma_m = config.homing_sigma_m
            self.map_goals.filter.keep = config.goal_filter_keep
            self.map_goals.goal_at_route_end = config.goal_at_route_end
            self.map_goals.reject_s = config.goal_reject_s
            floor = self.map_goals.floor
            if (floor.aligner.camera if floor else None) != camera_geometry(config):
                if floor is not None:
                    floor.close()
                self.map_goals.floor = floor_homing(config)  # switched, or a new camera

    def close(self):
        """Stop the floor homing worker, if any (the store is its owner's to close)."""
        if self.map_goals is not None and self.map_goals.floor is not None:
            self.map_goals.floor.close()

    def restart_history(self):
        """The next frame starts a new predictor history (the stamps went back: a reset)."""
        self._restart_requested = True

    def step(self, stamp_ns: int, rgb: np.ndarray, pose, twist, proposal: Proposal | None,
             steady_s: float) -> FrameResult:
        """One frame: uint8 RGB [H, W, 3], odometry (x, y, yaw) and (v, omega) at stamp_ns."""
        model = self.model
        pose = np.asarray(pose, np.float64)
        twist = np.asarray(twist, np.float32)

        # encode
        latent = model.encode(rgb)[0]
        frame = Frame(int(stamp_ns), latent, twist, pose)

        # history restart
        odom_jump, new_origin = self._restart_if_broken(frame)

        # surprise
        surprise = self._measure_surprise(frame)
        self.timeline.add(frame)
        history = self.timeline.history(frame)

        # memory
        if self.store is not None:
            self.store.push_history(frame.stamp_ns, latent)
            if new_origin:
                self.map.start_session()  # a reset or jump: join the map afresh
            self.map.observe(frame.stamp_ns, pose, latent)
        self.current = (latent, pose)

        # rollout
        actions, source = self.candidates(proposal, steady_s)
        futures = model.rollout(history, twist, actions)
        num, horizon = actions.shape[:2]
        poses = geometry.compose(pose, futures.poses)
        steps = np.sqrt(np.arange(1, horizon + 1, dtype=np.float32))
        uncertainty = np.broadcast_to((self.surprise.scale or 0.0) * steps, (num, horizon))

        # goal estimate
        goal, view = self.goal, NO_GOAL
        if goal is not None and self.map_goals is not None:
            view = self.map_goals.update(pose, latent, goal.latent, goal.pose, rgb, goal.image,
                                         frame.stamp_ns)
        elif goal is not None:  # no memory, no map: a goal image cannot be placed
            view = GoalView(GOAL_NOT_FOUND, None, None, None)
        goal_pose = view.pose

        # goal scoring
        if goal is not None:
            goal_dist = np.linalg.norm(futures.latents - goal.latent, axis=-1)
        else:
            goal_dist = np.full((num, horizon), np.nan, np.float32)
        costs = trajectory_costs(self.objective, actions, poses, goal_pose, goal_dist,
                                 uncertainty, futures.collision, last_command=twist)
        # A proposal's candidate 0 is the planner's nominal plan (LatentMPC.propose)
        highlighted = 0 if source == 'proposal' else int(np.argmin(
            np.nan_to_num(costs, nan=np.inf)))

        return FrameResult(frame.stamp_ns, latent, pose, actions, poses, goal_dist, uncertainty,
                           futures.collision, costs, highlighted, source, surprise, goal_pose,
                           odom_jump, view)

    def candidates(self, proposal: Proposal | None, steady_s: float) -> tuple[np.ndarray, str]:
        """The proposal while it is fresh, else the default fan; (actions [K, H, 2], source)."""
        cfg = self.config
        if proposal is not None and steady_s - proposal.received_s <= cfg.proposal_timeout_s:
            return proposal.actions, 'proposal'
        key = (cfg.num_candidates, cfg.horizon, cfg.default_v, cfg.default_omega)
        if self._default_key != key:
            self._default_set, self._default_key = fan_candidates(*key), key
        return self._default_set, 'default'

    def _restart_if_broken(self, frame: Frame):
        """Clear the time line across a reset, a gap or an odometry jump.

        Returns (the jump or None, whether the odometry origin changed: a reset or a jump).
        """
        cfg, last = self.config, self.timeline.last()
        jumped = False
        if last is not None and last.pose is not None:
            dt = min(max(frame.stamp_ns - last.stamp_ns, 0) * 1e-9, cfg.history_max_age_s)
            speeds = np.maximum(np.abs(last.twist), np.abs(frame.twist)).astype(np.float64)
            jumped = odometry_jumped(last.pose, frame.pose, cfg.odom_jump_m, cfg.odom_jump_rad,
                                     explained=speeds * dt)
        gap_ok = last is None or 0 < frame.stamp_ns - last.stamp_ns <= int(
            cfg.history_max_age_s * 1e9)
        new_origin = self._restart_requested or jumped
        if new_origin or not gap_ok:
            self._restart_requested = False
            self.timeline.clear()
        return ((last.pose, frame.pose) if jumped else None), new_origin

    def _measure_surprise(self, frame: Frame):
        """Error of the latent predicted one control period earlier, over the running scale.

        The scale learns only while moving: a standing robot's near-perfect predictions would
        shrink it and make its first motion a spike.
        """
        timeline = self.timeline
        previous = timeline.nearest(frame.stamp_ns - timeline.period_ns, timeline.period_ns // 2)
        if previous is None or previous.stamp_ns >= frame.stamp_ns:
            return None
        predicted = self.model.predict_next(timeline.history(previous), previous.twist,
                                            frame.twist)
        error = float(np.linalg.norm(predicted - frame.latent))
        self.last_surprise = self.surprise.update(error, learn=moving(previous.twist,
                                                                      frame.twist))
        return self.last_surprise

    # -- goals ------------------------------------------------------------------------------
    def set_goal_image(self, rgb: np.ndarray) -> ActiveGoal:
        """Make the view in rgb the goal; the latent map localises it."""
        latent = self.model.encode(rgb)[0]
        self._set_goal(ActiveGoal('', latent, None, np.array(rgb, np.uint8)))
        return self.goal

    def _set_goal(self, goal: ActiveGoal | None):
        self.goal = goal
        if self.map_goals is not None:
            self.map_goals.reset()

    def remember(self, name: str) -> np.ndarray:
        """Store the newest frame's latent and map pose as goal name; its odometry pose.

        The map pose is None while this session is not joined to the map: the goal is then
        localised by its latent when activated.
        """
        if self.current is None or self.store is None:
            raise GoalError(f'cannot remember {name!r}: no frame processed yet')
        latent, pose = self.current
        self.store.set_goal(name, latent, self.map.to_map(pose))
        return pose

    def activate_goal(self, name: str) -> ActiveGoal:
        """Make the stored goal name active; GoalError when the memory has no such goal."""
        if self.store is None:
            raise GoalError(f'cannot activate {name!r}: no latent memory')
        try:
            stored = self.store.get_goal(name)
        except KeyError as exc:
            raise GoalError(str(exc.args[0])) from None
        # the remembered pose is in the map frame
        pose = None if stored.pose is None else np.asarray(stored.pose, dtype=np.float64)
        self._set_goal(ActiveGoal(name, stored.latent, pose))
        return self.goal

    def clear_goal(self):
        self._set_goal(None)
