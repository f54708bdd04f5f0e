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
"""LatentMPC: a warm-started receding-horizon planner around MPPI or CEM updates.

Online (planner node), one update per control cycle:
    samples = mpc.propose()          # [K, H, 2] -> world model rolls them out
    command = mpc.update(samples, costs)   # costs [K] of those rollouts; plan shifts one step
Offline (tests, benchmarks): `mpc.plan(rollout_fn, state)` runs `iterations` updates against a
rollout function and returns the first command. As in TD-MPC2, the previous plan shifted by one
step seeds the next cycle, and the shifted plan itself is always one of the candidates.
"""

from collections.abc import Callable

import numpy as np

from world_model.config import validate
from world_model.planning.candidates import default_candidates
from world_model.planning.cem import cem_update
from world_model.planning.mppi import mppi_update
from world_model.planning.objectives import Rollout, trajectory_costs
from world_model.planning.planner_config import PlannerConfig

RolloutFn = Callable[[object, np.ndarray], Rollout]


def unicycle_rollout(pose, actions: np.ndarray, dt: float) -> np.ndarray:
    """Exact-heading-midpoint unicycle integration: poses [K, H, 3] after each step from pose."""
    actions = np.asarray(actions, dtype=np.float64)
    x0, y0, yaw0 = (float(p) for p in pose)
    v, omega = actions[..., 0], actions[..., 1]
    yaw = yaw0 + np.cumsum(omega * dt, axis=-1)
    mid_yaw = yaw - 0.5 * omega * dt  # heading half-way through each step
    x = x0 + np.cumsum(v * dt * np.cos(mid_yaw), axis=-1)
    y = y0 + np.cumsum(v * dt * np.sin(mid_yaw), axis=-1)
    yaw = np.pi - np.mod(np.pi - yaw, 2.0 * np.pi)
    return np.stack([x, y, yaw], axis=-1)


def fit_horizon(actions: np.ndarray, horizon: int) -> np.ndarray:
    """Truncate [K, H', 2] to H steps, or pad by repeating each sequence's last action."""
    actions = np.asarray(actions, dtype=np.float64)
    steps = actions.shape[1]
    if steps >= horizon:
        return actions[:, :horizon]
    pad = np.repeat(actions[:, -1:], horizon - steps, axis=1)
    return np.concatenate([actions, pad], axis=1)


def action_bounds(config: PlannerConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low (2,), high (2,), largest change per step (2,)) of (v, omega)."""
    low = np.array([config.v_min, -config.omega_max])
    high = np.array([config.v_max, config.omega_max])
    step = np.array([config.accel_linear, config.accel_angular]) * config.control_period
    return low, high, step


def enforce_limits(actions: np.ndarray, last_command, config: PlannerConfig) -> np.ndarray:
    """Clip [K, H, 2] to the speed limits and to the accel limits, starting at last_command.

    Each step is first kept within one step of acceleration from the previous one, then inside
    the speed box; because the previous step is inside the box, the result satisfies both.
    """
    out = np.array(actions, dtype=np.float64, copy=True)
    low, high, step = action_bounds(config)
    previous = np.broadcast_to(np.clip(np.asarray(last_command, dtype=np.float64), low, high),
                               out[:, 0].shape)
    for h in range(out.shape[1]):  # H is small; each step is vectorised over K
        out[:, h] = np.clip(np.clip(out[:, h], previous - step, previous + step), low, high)
        previous = out[:, h]
    return out


class LatentMPC:
    """Holds the nominal plan [H, 2] (and, for CEM, the sampling std) between cycles."""

    def __init__(self, config: PlannerConfig, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.goal = None  # (x, y, yaw) used by plan(); the node costs futures itself
        self.weights = None  # [K] weights of the last update (MPPI softmax or CEM elites)
        self.iteration_costs = []  # cost of the nominal at each iteration of the last plan()
        self.config = validate(config)
        self.reset()

    @property
    def noise(self) -> np.ndarray:
        return np.array([self.config.noise_v, self.config.noise_omega])

    def reset(self, last_command=(0.0, 0.0)):
        """Forget the plan: nominal = decelerate to a stop from last_command."""
        self.last_command = np.asarray(last_command, dtype=np.float64).reshape(2)
        zeros = np.zeros((1, self.config.horizon, 2))
        self.nominal = enforce_limits(zeros, self.last_command, self.config)[0]
        self.std = np.broadcast_to(self.noise, self.nominal.shape).copy()
        self.weights = None

    def reconfigure(self, config: PlannerConfig):
        """Apply new parameters; a new method, K or H restarts the plan from last_command."""
        config = validate(config)
        old, self.config = self.config, config
        if (old.method, old.num_samples, old.horizon) != (
                config.method, config.num_samples, config.horizon):
            self.reset(self.last_command)
        else:
            self.nominal = enforce_limits(self.nominal[None], self.last_command, config)[0]
            self.std = np.broadcast_to(self.noise, self.nominal.shape).copy()

    def shift(self):
        """Warm start: drop the executed step, repeat the last one (fresh std at the tail)."""
        self.nominal = np.concatenate([self.nominal[1:], self.nominal[-1:]])
        self.std = np.concatenate([self.std[1:], self.noise[None]])

    def primitives(self) -> np.ndarray:
        """Default candidates at this config's speeds, [P, H, 2]."""
        return default_candidates(self.config.horizon, v=0.6 * self.config.v_max,
                                  omega=0.6 * self.config.omega_max).astype(np.float64)

    def propose(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """Candidates [K, H, 2] within the limits: [nominal, stop, primitives..., noisy...]."""
        rng = self.rng if rng is None else rng
        count, horizon = self.config.num_samples, self.config.horizon
        anchors = [self.nominal[None], np.zeros((1, horizon, 2))]
        if self.config.primitives:
            anchors.append(self.primitives()[:-1])  # its last one is stop, already in
        anchors = np.concatenate(anchors)[:count]
        noise = rng.standard_normal((count - anchors.shape[0], horizon, 2)) * self.std
        samples = np.concatenate([anchors, self.nominal[None] + noise])
        return enforce_limits(samples, self.last_command, self.config)

    def refine(self, samples: np.ndarray, costs: np.ndarray) -> np.ndarray:
        """One MPPI / CEM update of the nominal from (samples [K, H', 2], costs [K]); weights."""
        samples = fit_horizon(samples, self.config.horizon)
        costs = np.asarray(costs, dtype=np.float64).reshape(-1)
        if costs.shape[0] != samples.shape[0]:
            raise ValueError(f'costs has {costs.shape[0]} entries for {samples.shape[0]} samples')
        if self.config.method == 'mppi':
            nominal, weights = mppi_update(samples, costs, self.config.temperature)
        else:
            nominal, self.std, weights = cem_update(
                samples, costs, self.config.elite_fraction,
                min_std=self.config.cem_min_std * self.noise)
        # Samples may come from another cycle or the default set: keep the plan feasible.
        self.nominal = enforce_limits(nominal[None], self.last_command, self.config)[0]
        self.weights = weights
        return weights

    def commit(self) -> np.ndarray:
        """Take the first action of the nominal as the command (2,), then shift the plan."""
        command = self.nominal[0].copy()
        self.last_command = command
        self.shift()
        return command

    def update(self, samples: np.ndarray, costs: np.ndarray) -> np.ndarray:
        """One control cycle: refine on the rolled-out samples, return the command (v, omega)."""
        self.refine(samples, costs)
        return self.commit()

    def plan(self, rollout_fn: RolloutFn, state, rng: np.random.Generator | None = None):
        """Offline: `iterations` propose -> rollout_fn(state, samples) -> cost -> refine; command.

        Costs use self.goal (x, y, yaw) in the frame of the rollout's poses.
        """
        if self.config.method == 'cem':
            self.std = np.broadcast_to(self.noise, self.nominal.shape).copy()
        self.iteration_costs = []
        for _ in range(self.config.iterations):
            samples = self.propose(rng)
            rollout = rollout_fn(state, samples)
            costs = trajectory_costs(self.config, samples, rollout.poses, self.goal,
                                     rollout.goal_dist, rollout.uncertainty, rollout.collision,
                                     self.last_command)
            self.iteration_costs.append(float(costs[0]))  # costs[0]: the current nominal
            self.refine(samples, costs)
        return self.commit()
