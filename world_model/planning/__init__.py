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
"""Sampling-based latent MPC (cost terms, MPPI and CEM updates, warm-started receding horizon)
and the planner's decisions (goal arbitration, watchdog state: decision.py).

ROS-free. The planner node feeds it the world model's predicted futures; offline code (tests,
scripts/bench_planner.py) feeds it an analytic rollout instead.
"""

from world_model.planning.candidates import CANDIDATE_NAMES, default_candidates, fan_candidates
from world_model.planning.decision import Decision, DecisionConfig, PlannerDecider
from world_model.planning.mpc import LatentMPC, enforce_limits, fit_horizon, unicycle_rollout
from world_model.planning.objectives import Rollout, cost_terms, trajectory_costs
from world_model.planning.planner_config import PlannerConfig

__all__ = [
    'CANDIDATE_NAMES',
    'Decision',
    'DecisionConfig',
    'LatentMPC',
    'PlannerConfig',
    'PlannerDecider',
    'Rollout',
    'cost_terms',
    'default_candidates',
    'fan_candidates',
    'enforce_limits',
    'fit_horizon',
    'trajectory_costs',
    'unicycle_rollout',
]
