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
"""What one closed-loop episode did (EpisodeRecord) and the figures of many (summarise).

The orchestrator records into an EpisodeRecord only through its add_* / set_* methods, in the
frames it receives them in; finish() then maps what was predicted in the odometry frame into the
world frame with the ground truth of the same step.
"""

import collections
import dataclasses
import math

import numpy as np

from world_model import geometry
from world_model.evaluation.episodes import EpisodeSpec
from world_model.evaluation.success_stats import success_interval
from world_model.planning.status import GOAL_UNKNOWN


@dataclasses.dataclass
class FuturesSnapshot:
    """The predicted futures of one step, in the world frame."""

    step: int
    poses: np.ndarray  # [K, H, 3] world frame
    costs: np.ndarray  # [K] summed latent distance to the goal (NaN without a goal)


@dataclasses.dataclass
class EpisodeRecord:
    """What one episode did: outcome, ground-truth trajectory and the loop's measurements."""

    spec: EpisodeSpec
    policy: str
    success: bool = False
    steps: int = 0  # steps to success, or steps run
    end_reason: str = ''
    final_distance: float = math.nan
    min_distance: float = math.nan
    collisions: int = 0  # steps that reported contact
    wall_s: float = 0.0
    trajectory: dict = dataclasses.field(default_factory=dict)  # step -> true pose
    odometry: dict = dataclasses.field(default_factory=dict)  # step -> odom pose
    surprise: dict = dataclasses.field(default_factory=dict)  # step -> normalised surprise
    latency_ms: list = dataclasses.field(default_factory=list)
    plan_hz: list = dataclasses.field(default_factory=list)
    futures: list = dataclasses.field(default_factory=list)  # FuturesSnapshot
    goal_estimate: tuple | None = None  # last goal_pose_estimate, world frame
    # goal localisation: (step, error [m]) of the first and last estimate, None without one
    goal_first_error: tuple | None = None
    goal_last_error: tuple | None = None
    goal_unknown_frames: int = 0  # steps with planner/status 'goal_unknown'
    planner_states: list = dataclasses.field(default_factory=list)  # [step, state] on change
    goal_trace: list = dataclasses.field(default_factory=list)  # [step, x, y, yaw] world frame
    # [step, [[x, y, yaw], ...]] world frame, each time the waypoint chain changed
    waypoint_trace: list = dataclasses.field(default_factory=list)
    map_keyframes: np.ndarray | None = None  # [N, 2] world frame, last map_markers received
    map_edges: np.ndarray | None = None  # [M, 2, 2] world frame
    waypoints: np.ndarray | None = None  # [P, 3] world frame, last waypoints received
    goal_image: np.ndarray | None = None
    frames: dict = dataclasses.field(default_factory=dict)  # step -> RGB (keep_frames)
    retries: int = 0  # attempts of this episode that failed for an infrastructure reason
    infrastructure_errors: list = dataclasses.field(default_factory=list)  # their messages
    _odom_futures: list = dataclasses.field(default_factory=list, repr=False)
    _odom_estimate: tuple | None = dataclasses.field(default=None, repr=False)
    _odom_first_estimate: tuple | None = dataclasses.field(default=None, repr=False)
    _odom_estimates: list = dataclasses.field(default_factory=list, repr=False)
    _odom_map: tuple | None = dataclasses.field(default=None, repr=False)
    _odom_waypoints: np.ndarray | None = dataclasses.field(default=None, repr=False)
    _odom_chains: list = dataclasses.field(default_factory=list, repr=False)

    # -- recording (the orchestrator's API) ---------------------------------------------------
    def add_true_pose(self, step: int, pose) -> bool:
        """Keep the first ground-truth pose of a step; False for a duplicate."""
        if step in self.trajectory:
            return False
        self.trajectory[step] = np.asarray(pose, dtype=float)
        return True

    def add_odometry(self, step: int, pose):
        self.odometry[step] = np.asarray(pose, dtype=float)

    def add_collision(self):
        self.collisions += 1

    def add_latency(self, milliseconds: float):
        self.latency_ms.append(float(milliseconds))

    def add_plan_rate(self, hz: float):
        """The planner's reported rate while planning; 0 means it has no rate yet, not 0 Hz.

        (planner_node reports 0 until it has planned a few cycles in its rate window, which is
        the first report or two of every episode: counting those would halve the figures.)
        """
        if math.isfinite(hz) and hz > 0:
            self.plan_hz.append(float(hz))

    def add_surprise(self, step: int, value: float):
        if math.isfinite(value):
            self.surprise[step] = float(value)

    def add_futures(self, step: int, odom_poses: np.ndarray, costs: np.ndarray):
        """Predicted futures [K, H, 3] in the odometry frame; mapped to the world in finish()."""
        self._odom_futures.append((step, np.array(odom_poses), np.array(costs)))

    def set_goal_estimate(self, step: int, odom_pose):
        """The world model's latest goal estimate (odometry frame) as of step."""
        self._odom_estimate = (step, np.asarray(odom_pose, dtype=float))
        self._odom_estimates.append(self._odom_estimate)
        if self._odom_first_estimate is None:
            self._odom_first_estimate = self._odom_estimate

    def add_planner_state(self, step: int, state: str | None):
        """The planner's state at a new step (counted per step, not per status message)."""
        if not self.planner_states or self.planner_states[-1][1] != state:
            self.planner_states.append([step, state])
        if state == GOAL_UNKNOWN:
            self.goal_unknown_frames += 1

    def set_map(self, odom_keyframes, odom_edges):
        """The latest map markers: keyframe positions [N, 2] and edge segments [M, 2, 2]."""
        self._odom_map = (np.asarray(odom_keyframes, dtype=float).reshape(-1, 2),
                          np.asarray(odom_edges, dtype=float).reshape(-1, 2, 2))

    def set_waypoints(self, odom_poses, step: int | None = None):
        """The latest waypoint chain [P, 3] to the goal (odometry frame), as of step."""
        chain = np.asarray(odom_poses, dtype=float).reshape(-1, 3)
        last = self._odom_waypoints
        changed = last is None or last.shape != chain.shape or (
            len(chain) and np.abs(last - chain).max() > 0.01)
        if step is not None and changed:
            self._odom_chains.append((step, chain))
        self._odom_waypoints = chain

    def add_frame(self, step: int, rgb: np.ndarray):
        self.frames[step] = rgb

    def set_goal_image(self, rgb: np.ndarray):
        self.goal_image = rgb

    def observe_distance(self, step: int, distance: float):
        """The ground-truth distance to the goal at a new step, in step order."""
        self.final_distance = float(distance)
        self.min_distance = min(float(distance), float(np.nan_to_num(self.min_distance,
                                                                     nan=math.inf)))
        self.steps = step

    def add_infrastructure_error(self, message: str):
        """An earlier attempt of this episode failed outside the agent (first line kept)."""
        self.retries += 1
        self.infrastructure_errors.append(str(message).splitlines()[0] if message else '')

    def finish(self, wall_s: float):
        """End of the episode: map the kept futures and goal estimate into the world frame."""
        self.wall_s = float(wall_s)
        for step, poses, costs in self._odom_futures:
            world = self.world_from_odom(step, poses)
            if world is not None:
                self.futures.append(FuturesSnapshot(step, world.astype(np.float32), costs))
        self._odom_futures = []
        if self._odom_estimate is not None:
            step, pose = self._odom_estimate
            world = self.world_from_odom(step, pose)
            self.goal_estimate = None if world is None else tuple(float(v) for v in world)
        self._finish_map()
        if self._odom_estimates:
            world = self.world_from_reset_odom(np.stack([p for _, p in self._odom_estimates]))
            if world is not None:
                self.goal_trace = [[step, *np.round(pose, 3).tolist()] for (step, _), pose
                                   in zip(self._odom_estimates, world)]
        self._odom_estimates = []
        goal = np.asarray(self.spec.goal[:2], dtype=float)
        for name, estimate in (('goal_first_error', self._odom_first_estimate),
                               ('goal_last_error', self._odom_estimate)):
            world = None if estimate is None or len(goal) != 2 else \
                self.world_from_reset_odom(estimate[1])
            if world is not None:
                setattr(self, name, (estimate[0], float(np.hypot(*(world[:2] - goal)))))

    def _finish_map(self):
        if self._odom_map is not None:
            keyframes, edges = self._odom_map
            points = self.world_from_reset_odom(np.c_[keyframes, np.zeros(len(keyframes))])
            ends = self.world_from_reset_odom(np.c_[edges.reshape(-1, 2),
                                                    np.zeros(2 * len(edges))])
            if points is not None:
                self.map_keyframes = points[:, :2]
                self.map_edges = ends[:, :2].reshape(-1, 2, 2)
        if self._odom_waypoints is not None:
            self.waypoints = self.world_from_reset_odom(self._odom_waypoints)
        for step, chain in self._odom_chains:
            world = self.world_from_reset_odom(chain) if len(chain) else chain
            if world is not None:
                self.waypoint_trace.append([step, np.round(world, 3).tolist()])
        self._odom_chains = []

    # -- reading ------------------------------------------------------------------------------
    def world_from_odom(self, step: int, poses) -> np.ndarray | None:
        """Odometry-frame poses [..., 3] of a step mapped into the world frame (by truth)."""
        if step not in self.trajectory or step not in self.odometry:
            return None
        odometry = self.odometry[step]
        world_t_odom = geometry.compose(self.trajectory[step], geometry.invert(odometry))
        return geometry.compose(world_t_odom, poses)

    def world_from_reset_odom(self, poses) -> np.ndarray | None:
        """Odometry-frame poses [..., 3] mapped into the world by the reset frame's transform.

        The odometry frame is anchored at the true start pose (it starts there, or at zero
        there), so this is compose(true start, pose) when the odometry starts at zero. The
        reset frame's odometry can arrive before its ground truth and go unrecorded: then the
        first step with both stands in (a step or two of drift).
        """
        both = self.trajectory.keys() & self.odometry.keys()
        return self.world_from_odom(min(both), poses) if both else None

    def poses(self) -> np.ndarray:
        """[T, 3] ground-truth poses in step order."""
        return np.array([self.trajectory[k] for k in sorted(self.trajectory)]).reshape(-1, 3)

    @property
    def control_hz(self) -> float:
        return self.steps / self.wall_s if self.wall_s > 0 else math.nan

    def summary(self) -> dict:
        """JSON-ready per-episode result (the trajectory rounded to millimetres)."""
        return {
            'index': self.spec.index, 'seed': self.spec.seed, 'start': list(self.spec.start),
            'goal': list(self.spec.goal), 'start_goal_distance': _round(self.spec.distance),
            'success': self.success, 'steps': self.steps, 'end_reason': self.end_reason,
            'final_distance': _round(self.final_distance),
            'min_distance': _round(self.min_distance),
            'collisions': self.collisions, 'wall_s': _round(self.wall_s, 2),
            'control_hz': _round(self.control_hz, 2),
            'latency_ms_p50': _round(_percentile(self.latency_ms, 50), 2),
            'plan_hz': _round(_median(self.plan_hz), 2),
            'goal_estimate': None if self.goal_estimate is None else
            [round(float(v), 3) for v in self.goal_estimate],
            'goal_localisation': _localisation(self.goal_first_error, self.goal_last_error),
            'goal_unknown_frames': self.goal_unknown_frames,
            'planner_states': self.planner_states,
            'goal_trace': self.goal_trace,
            'waypoint_trace': self.waypoint_trace,
            'retries': self.retries,
            'infrastructure_errors': list(self.infrastructure_errors),
            'trajectory': np.round(self.poses(), 3).tolist(),
        }


def summarise(records: list[EpisodeRecord]) -> dict:
    """Aggregate figures of one policy's episodes."""
    n = len(records)
    wins = [e for e in records if e.success]
    latencies = [v for e in records for v in e.latency_ms]
    rates = [v for e in records for v in e.plan_hz]
    extra = {}
    if records and records[0].policy == 'agent':  # the random baseline has no world model
        extra = goal_localisation_summary(records)
    return {
        'episodes': n,
        'successes': len(wins),
        'success_rate': _round(len(wins) / n if n else math.nan),
        'success_interval_95': [_round(v) for v in success_interval(len(wins), n)],
        'final_distance_mean': _round(_mean([e.final_distance for e in records])),
        'final_distance_median': _round(_median([e.final_distance for e in records])),
        'steps_to_success_mean': _round(_mean([e.steps for e in wins]), 2),
        'steps_to_success_median': _round(_median([e.steps for e in wins]), 1),
        'collisions_per_episode': _round(_mean([e.collisions for e in records]), 3),
        'episodes_with_collision': sum(e.collisions > 0 for e in records),
        'plan_hz_median': _round(_median(rates), 2),
        'control_hz_median': _round(_median([e.control_hz for e in records]), 2),
        'latency_ms_p50': _round(_percentile(latencies, 50), 2),
        'latency_ms_p99': _round(_percentile(latencies, 99), 2),
        'end_reasons': dict(collections.Counter(e.end_reason for e in records)),
        'retries': sum(e.retries for e in records),
        'episodes_retried': sum(e.retries > 0 for e in records),
        'wall_s': _round(sum(e.wall_s for e in records), 1),
        **extra,
    }


def goal_localisation_summary(records: list[EpisodeRecord]) -> dict:
    """Goal-estimate errors over the episodes with an estimate; the share without one."""
    last = [e.goal_last_error[1] for e in records if e.goal_last_error is not None]
    first = [e.goal_first_error[1] for e in records if e.goal_first_error is not None]
    n = len(records)
    return {
        'goal_localisation_error_m': _spread(last),
        'goal_localisation_first_error_m': _spread(first),
        'no_goal_estimate_fraction': _round((n - len(last)) / n if n else math.nan),
        'goal_unknown_frames_mean': _round(_mean([e.goal_unknown_frames for e in records]), 2),
    }


def _spread(values) -> dict:
    return {'median': _round(_median(values)), 'p90': _round(_percentile(values, 90)),
            'count': len(values)}


def _localisation(first, last) -> dict | None:
    if last is None:
        return None
    return {'first_error_m': _round(first[1]), 'first_step': first[0],
            'last_error_m': _round(last[1]), 'last_step': last[0]}


def _round(value, digits=4):
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def _percentile(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def _median(values) -> float:
    return float(np.median(values)) if len(values) else math.nan


def _mean(values) -> float:
    values = [v for v in values if math.isfinite(v)]
    return float(np.mean(values)) if values else math.nan
