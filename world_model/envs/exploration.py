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
"""Exploration driver and episode generation for the simulator (data without ROS or bags).

ExplorationPolicy draws smooth random commands (an Ornstein-Uhlenbeck process around a forward
cruise speed, so the robot sweeps arcs across the arena) and, after a collision, backs off:
it reverses while turning for a few steps, then resumes. `generate_episodes` runs DiffDriveSim
with this policy and returns world_model.data.episode.Episode objects, the same structure the
bag reader produces, so training can start before any bag exists.
"""

import dataclasses

import numpy as np

from world_model.data.episode import Episode
from world_model.envs.diff_drive_sim import DiffDriveSim, SimStep
from world_model.envs.sim_config import SimConfig


@dataclasses.dataclass(frozen=True)
class ActionLimits:
    """Command limits: v in [-max_reverse, max_linear], omega in [-max_angular, max_angular]."""

    max_linear: float = 0.5
    max_reverse: float = 0.25
    max_angular: float = 1.5

    @classmethod
    def from_config(cls, config: SimConfig) -> 'ActionLimits':
        return cls(config.max_linear_speed, config.max_reverse_speed, config.max_angular_speed)

    def clip(self, action) -> np.ndarray:
        action = np.asarray(action, dtype=float)
        return np.array([np.clip(action[0], -self.max_reverse, self.max_linear),
                         np.clip(action[1], -self.max_angular, self.max_angular)])


class ExplorationPolicy:
    """Seeded smooth random (v, omega) with momentum, a back-off manoeuvre after contact and,
    with pause_prob > 0, standstills.

    The shipped model's data has no standstills, and it predicts motion for a zero command
    (BENCHMARKS.md); pause_prob adds them to a collection.
    """

    def __init__(self, seed: int = 0, limits: ActionLimits | None = None,
                 cruise: float = 0.75, theta: float = 0.1, sigma: float = 0.22,
                 backoff_steps: int = 6, pause_prob: float = 0.0,
                 pause_steps: tuple[int, int] = (3, 15)):
        if not 0.0 <= pause_prob <= 1.0:
            raise ValueError(f'pause_prob={pause_prob!r}: allowed [0, 1]')
        self.limits = limits or ActionLimits()
        self.cruise = cruise  # mean forward speed as a fraction of max_linear
        self.theta = theta  # OU pull towards the mean, per step
        self.sigma = sigma  # OU noise per step, as a fraction of each limit
        self.backoff_steps = backoff_steps
        self.pause_prob = pause_prob  # chance per step of starting a standstill
        self.pause_steps = pause_steps  # its length, inclusive range
        self.reset(seed)

    def reset(self, seed: int):
        self._rng = np.random.default_rng([seed, 104729])
        self._pause_rng = np.random.default_rng([seed, 15485863])  # keeps _rng's sequence
        self._state = np.array([self.cruise, 0.0])  # normalised (v / max_linear, w / max_ang)
        self._backoff = 0
        self._backoff_turn = 0.0
        self._pause = 0

    def __call__(self, step: SimStep | None = None) -> np.ndarray:
        return self.act(None if step is None else step.collision)

    def act(self, collision: bool | None = False) -> np.ndarray:
        """The next command; pass whether the last step reported a collision."""
        lim, rng = self.limits, self._rng
        if collision and self._backoff == 0:
            self._backoff = self.backoff_steps
            self._backoff_turn = rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 1.0)
        if self._backoff > 0:
            self._backoff -= 1
            # Reverse in an arc, then restart gently so the next approach comes at a new angle.
            self._state = np.array([0.2, self._backoff_turn])
            reverse = -0.8 * lim.max_reverse if self._backoff > self.backoff_steps // 3 else 0.0
            return lim.clip([reverse, self._backoff_turn * lim.max_angular])
        if self._pause == 0 and self.pause_prob > 0 and self._pause_rng.random() < self.pause_prob:
            self._pause = int(self._pause_rng.integers(self.pause_steps[0],
                                                       self.pause_steps[1] + 1))
        if self._pause > 0:  # stand still, then resume the motion it interrupted
            self._pause -= 1
            return np.zeros(2)
        mean = np.array([self.cruise, 0.0])
        self._state += self.theta * (mean - self._state) + self.sigma * rng.normal(size=2)
        self._state = np.clip(self._state, [-0.3, -1.0], [1.0, 1.0])
        return lim.clip([self._state[0] * lim.max_linear, self._state[1] * lim.max_angular])


def sim_to_episode(steps: list[SimStep], actions, start_ns: int = 0) -> Episode:
    """Episode from T SimSteps and the T commands issued after each of them."""
    actions = np.asarray(actions, dtype=np.float32).reshape(len(steps), 2)
    stamps = np.array([start_ns + round(s.time * 1e9) for s in steps], dtype=np.int64)
    return Episode(
        images=np.stack([s.image for s in steps]),
        stamps_ns=stamps,
        odom_pose=np.stack([s.odom_pose for s in steps]).astype(np.float32),
        odom_twist=np.stack([s.odom_twist for s in steps]).astype(np.float32),
        actions=actions,
        ground_truth=np.stack([s.true_pose for s in steps]).astype(np.float32),
        collisions=np.array([s.collision for s in steps], dtype=bool),
    ).check()


def explore(sim: DiffDriveSim, policy: ExplorationPolicy, steps: int, seed: int,
            layout: str | None = None):
    """Reset sim and policy with seed; yield `steps` (SimStep, command issued after it).

    The last command is yielded but not applied (nothing observes its effect).
    """
    policy.reset(seed)
    step = sim.reset(seed=seed, layout=layout)
    for t in range(steps):
        action = policy(step)
        yield step, action
        if t + 1 < steps:
            step = sim.step(action)


def rollout_episode(sim: DiffDriveSim, policy: ExplorationPolicy, steps: int, seed: int,
                    layout: str | None = None, start_ns: int = 0) -> Episode:
    """One Episode of `steps` frames from `explore`, stamped from start_ns."""
    record = list(explore(sim, policy, steps, seed, layout))
    return sim_to_episode([s for s, _ in record], [a for _, a in record], start_ns)


def episode_seeds(seed: int, n: int) -> list[int]:
    """n distinct, reproducible per-episode seeds derived from one seed."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def generate_episodes(n: int, steps: int, seed: int = 0, layout: str | None = None,
                      sim_config: SimConfig | None = None) -> list[Episode]:
    """n episodes of `steps` frames each from the exploration policy, clocks chained in time."""
    config = sim_config or SimConfig()
    episodes, start_ns = [], 0
    period_ns = round(config.control_period * 1e9)
    with DiffDriveSim(config) as sim:
        policy = ExplorationPolicy(seed, ActionLimits.from_config(config))
        for episode_seed in episode_seeds(seed, n):
            episode = rollout_episode(sim, policy, steps, episode_seed, layout, start_ns)
            episodes.append(episode)
            start_ns = int(episode.stamps_ns[-1]) + period_ns
    return episodes
