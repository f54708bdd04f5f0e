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
"""Seeded image-goal episodes: a collision-free start and a goal at a distance in range.

Shared by the closed-loop harness (through the real nodes) and the ROS-free evaluation scripts,
so that they all run the same episodes for the same seed.
"""

import dataclasses
import math

import numpy as np

from world_model.config import ConfigError
from world_model.envs import DiffDriveSim, SimConfig
from world_model.envs.exploration import episode_seeds
from world_model.evaluation.protocol import HarnessConfig


@dataclasses.dataclass(frozen=True)
class EpisodeSpec:
    """One seeded episode: simulator seed, start and goal poses (x, y, yaw) in the world."""

    index: int
    seed: int
    start: tuple
    goal: tuple

    @property
    def distance(self) -> float:
        return math.hypot(self.goal[0] - self.start[0], self.goal[1] - self.start[1])


def plan_episodes(config: HarnessConfig, sim_config: SimConfig, count: int,
                  seed: int) -> list[EpisodeSpec]:
    """count reproducible episodes: start and goal collision-free, goal distance in range.

    Per-episode seeds come from one seed; start and goal are drawn with
    DiffDriveSim.sample_free_pose on config.layout (and that seed's obstacles for 'random').
    """
    sim_config = dataclasses.replace(sim_config, layout=config.layout,
                                     distractors=False, image_width=8, image_height=8)
    specs = []
    with DiffDriveSim(sim_config) as sim:
        for index, episode_seed in enumerate(episode_seeds(seed, count)):
            episode_seed &= 0x7FFF_FFFF  # sim_node's seed parameter is a signed 32-bit int
            sim.reset(seed=episode_seed)  # the episode's layout ('random' depends on the seed)
            rng = np.random.default_rng([episode_seed, 2])
            start = sim.sample_free_pose(rng, margin=config.pose_margin)
            for _ in range(10_000):
                goal = sim.sample_free_pose(rng, margin=config.pose_margin)
                gap = math.hypot(*(goal[:2] - start[:2]))
                if config.goal_min_distance <= gap <= config.goal_max_distance:
                    break
            else:
                raise ConfigError(
                    f'no goal at a distance in [{config.goal_min_distance}, '
                    f'{config.goal_max_distance}] m from start {np.round(start, 2).tolist()} '
                    f'in layout {config.layout!r}: widen goal_min_distance/goal_max_distance')
            specs.append(EpisodeSpec(index, int(episode_seed),
                                     tuple(round(float(v), 6) for v in start),
                                     tuple(round(float(v), 6) for v in goal)))
    return specs
