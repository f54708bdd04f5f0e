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
"""ROS-free simulation: a differential-drive robot with a forward camera in a pybullet arena."""

from world_model.envs.diff_drive_sim import DiffDriveSim, SimStep
from world_model.envs.exploration import (
    ActionLimits,
    ExplorationPolicy,
    explore,
    generate_episodes,
    rollout_episode,
    sim_to_episode,
)
from world_model.envs.layouts import LAYOUTS, Block, Layout, build_layout
from world_model.envs.sim_config import SimConfig

__all__ = ['LAYOUTS', 'ActionLimits', 'Block', 'DiffDriveSim', 'ExplorationPolicy', 'Layout',
           'SimConfig', 'SimStep', 'build_layout', 'explore', 'generate_episodes',
           'rollout_episode', 'sim_to_episode']
