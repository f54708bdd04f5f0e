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
"""Cost terms of the latent MPC: vectorised over [K, H] predictions, reduced to costs [K].

Every term is averaged over the horizon with weights that sum to one, so a weight means the
same thing at any H. Goal terms (pose, heading, latent) use the configured horizon weighting;
the others (action, smoothness, collision, uncertainty) always use every step.
"""

import dataclasses

import numpy as np

from world_model.planning.planner_config import PlannerConfig


@dataclasses.dataclass
class Rollout:
    """What a rollout function predicts for K action sequences of H steps (None: unknown)."""

    poses: np.ndarray  # [K, H, 3] (x, y, yaw) after each step, in the goal's frame
    goal_dist: np.ndarray | None = None  # [K, H] latent distance to the goal (NaN: no goal)
    uncertainty: np.ndarray | None = None  # [K, H]
    collision: np.ndarray | None = None  # [K, H] probability


def horizon_weights(horizon: int, weighting: str) -> np.ndarray:
    """Step weights [H] summing to 1: uniform ('sum') or all on the last step ('terminal')."""
    if weighting == 'sum':
        return np.full(horizon, 1.0 / horizon)
    if weighting == 'terminal':
        weights = np.zeros(horizon)
        weights[-1] = 1.0
        return weights
    raise ValueError(f"horizon weighting {weighting!r} is not one of 'sum', 'terminal'")


def pose_distance(poses: np.ndarray, goal) -> np.ndarray:
    """Planar distance [K, H] from each predicted pose to the goal position."""
    return np.hypot(poses[..., 0] - goal[0], poses[..., 1] - goal[1])


def heading_error(poses: np.ndarray, goal) -> np.ndarray:
    """1 - cos(yaw error) in [0, 2], [K, H]: smooth and free of the wrap-around."""
    return 1.0 - np.cos(poses[..., 2] - goal[2])


def bearing_error(poses: np.ndarray, goal, fade_distance: float) -> np.ndarray:
    """1 - cos(angle between heading and the direction to the goal), [K, H].

    Faded out within fade_distance of the goal, where the direction is ill-defined. It makes a
    short horizon turn toward a goal behind the robot instead of creeping there in reverse.
    """
    dx, dy = goal[0] - poses[..., 0], goal[1] - poses[..., 1]
    error = 1.0 - np.cos(np.arctan2(dy, dx) - poses[..., 2])
    return error * np.clip(np.hypot(dx, dy) / fade_distance, 0.0, 1.0)


def action_magnitude(actions: np.ndarray, config: PlannerConfig) -> np.ndarray:
    """Squared action normalised by the limits, [K, H]."""
    v_scale = max(config.v_max, -config.v_min, 1e-6)
    omega_scale = max(config.omega_max, 1e-6)
    return (actions[..., 0] / v_scale) ** 2 + (actions[..., 1] / omega_scale) ** 2


def action_change(actions: np.ndarray, last_command, config: PlannerConfig) -> np.ndarray:
    """Squared step-to-step change normalised by one step of the accel limits, [K, H]."""
    previous = np.concatenate(
        [np.broadcast_to(np.asarray(last_command, dtype=actions.dtype),
                         (actions.shape[0], 1, 2)), actions[:, :-1]], axis=1)
    delta = actions - previous
    dv = delta[..., 0] / (config.accel_linear * config.control_period)
    domega = delta[..., 1] / (config.accel_angular * config.control_period)
    return dv ** 2 + domega ** 2


def cost_terms(config: PlannerConfig, actions: np.ndarray, poses: np.ndarray | None = None,
               goal=None, goal_dist=None, uncertainty=None, collision=None,
               last_command=(0.0, 0.0)) -> dict:
    """Weighted cost terms, each [K]; a term whose inputs are missing is left out.

    goal: (x, y, yaw) in the frame of poses, or None. goal_dist NaN entries cost 0, and an
    all-NaN goal_dist disables the latent term (the world model has no goal latent). At the goal
    position the robot turns to the goal heading without the MPC (world_model.planning.arrival).
    """
    actions = np.asarray(actions, dtype=np.float64)
    if actions.ndim != 3 or actions.shape[-1] != 2:
        raise ValueError(f'actions must be [K, H, 2], got {actions.shape}')
    num, horizon = actions.shape[:2]

    def check(name, value, trailing=()):
        value = np.asarray(value, dtype=np.float64)
        if value.shape != (num, horizon, *trailing):
            raise ValueError(f'{name} must be {[num, horizon, *trailing]} like actions, '
                             f'got {list(value.shape)}')
        return value

    goal_weights = horizon_weights(horizon, config.horizon_weighting)
    step_weights = horizon_weights(horizon, 'sum')
    terms = {}
    if goal is not None and poses is not None:
        poses = check('poses', poses, (3,))
        goal = np.asarray(goal, dtype=np.float64)
        if config.w_pose > 0.0:
            terms['pose'] = config.w_pose * (pose_distance(poses, goal) @ goal_weights)
        if config.w_bearing > 0.0:
            fade = 3.0 * config.goal_tolerance
            terms['bearing'] = config.w_bearing * (bearing_error(poses, goal, fade) @ step_weights)
        if config.w_heading > 0.0:
            terms['heading'] = config.w_heading * (heading_error(poses, goal) @ goal_weights)
    if goal_dist is not None and config.w_latent > 0.0:
        goal_dist = check('goal_dist', goal_dist)
        known = np.isfinite(goal_dist)
        if known.any():
            terms['latent'] = config.w_latent * (np.where(known, goal_dist, 0.0) @ goal_weights)
    if config.w_action > 0.0:
        terms['action'] = config.w_action * (action_magnitude(actions, config) @ step_weights)
    if config.w_smooth > 0.0:
        terms['smooth'] = config.w_smooth * (
            action_change(actions, last_command, config) @ step_weights)
    if collision is not None and config.w_collision > 0.0:
        collision = np.nan_to_num(check('collision', collision), nan=1.0)
        terms['collision'] = config.w_collision * (collision @ step_weights)
    if uncertainty is not None and config.w_uncertainty > 0.0:
        uncertainty = np.nan_to_num(check('uncertainty', uncertainty), nan=0.0)
        terms['uncertainty'] = config.w_uncertainty * (uncertainty @ step_weights)
    return terms


def trajectory_costs(config: PlannerConfig, actions: np.ndarray, poses: np.ndarray | None = None,
                     goal=None, goal_dist=None, uncertainty=None, collision=None,
                     last_command=(0.0, 0.0)) -> np.ndarray:
    """Total cost [K] of K candidates: the sum of cost_terms()."""
    terms = cost_terms(config, actions, poses, goal, goal_dist, uncertainty, collision,
                       last_command)
    total = np.zeros(np.shape(actions)[0])
    for value in terms.values():
        total += value
    return total
