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
"""The world model's per-frame algorithm and its stateful estimators, ROS-free.

- FramePipeline (FramePipelineConfig, Proposal, FrameResult): one frame in, futures, surprise
  and the goal estimate out; ActiveGoal / GoalError: its goal;
- LatentTimeline: recent latents by stamp, sampled into predictor histories one control period
  apart, and the odometry-jump test that restarts them;
- SurpriseMeter: one-step prediction error over a running scale learnt while moving;
"""

from world_model.online.frame_pipeline import FramePipeline, FrameResult, Proposal
from world_model.online.goals import ActiveGoal, GoalError
from world_model.online.latent_timeline import Frame, LatentTimeline, odometry_jumped
from world_model.online.pipeline_config import FramePipelineConfig
from world_model.online.surprise import SurpriseMeter, moving

__all__ = ['ActiveGoal', 'Frame', 'FramePipeline', 'FramePipelineConfig', 'FrameResult',
           'GoalError', 'LatentTimeline', 'Proposal', 'SurpriseMeter', 'moving',
           'odometry_jumped']
