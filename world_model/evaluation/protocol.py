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
"""The closed-loop image-goal protocol: its one config dataclass and the prose that reports it.

ROS-free: the evaluation harness (agent_node.evaluation) runs it through the real nodes, and the
ROS-free scripts sample the same episodes (world_model.evaluation.episodes).
"""

import dataclasses

from world_model.config import ConfigError, param
from world_model.envs.sim_config import LAYOUT_NAMES, SimConfig
from world_model.planning.planner_config import PLANNER_METHODS
from world_model.planning.status import GOAL_REACHED, GOAL_UNKNOWN, PLANNING

POLICIES = ('agent', 'random')
END_REASONS = ('reached', 'budget', 'agent_stopped')


@dataclasses.dataclass
class HarnessConfig:
    """Episode protocol (goal sampling, budget, success) and how the nodes are run."""

    layout: str = param('open', choices=LAYOUT_NAMES, help='simulator layout')
    distractors: bool = param(False, help='moving distractor objects in the camera images')
    budget: int = param(200, lo=1, hi=100_000,
                        help='control steps per episode (PLDM / EB-JEPA Two-Rooms use 200)')
    success_threshold: float = param(0.3, lo=0.01, hi=10.0,
                                     help='success: ground-truth distance to the goal below '
                                          'this [m]')
    goal_min_distance: float = param(0.75, lo=0.0, hi=100.0,
                                     help='least start-goal straight-line distance [m]')
    goal_max_distance: float = param(2.5, lo=0.0, hi=100.0,
                                     help='largest start-goal straight-line distance [m]')
    pose_margin: float = param(0.05, lo=0.0, hi=1.0,
                               help='start and goal clear every block by robot radius + this')
    method: str = param('mppi', choices=PLANNER_METHODS, help='planner update rule')
    lockstep_timeout: float = param(0.3, lo=0.01, hi=10.0,
                                    help='wall seconds the simulator waits for a cmd_vel')
    watchdog_timeout: float = param(2.0, lo=0.1, hi=60.0,
                                    help='planner / world model staleness timeouts [s]: '
                                         'relaxed because lockstep pauses simulated time')
    stop_frames: int = param(5, lo=1, hi=10_000,
                             help=f"an agent episode ends when the planner has reported "
                                  f"'{GOAL_REACHED}' for this many frames")
    episode_timeout: float = param(300.0, lo=1.0, hi=86_400.0,
                                   help='wall seconds before an episode is abandoned as '
                                        'stalled (an infrastructure failure)')
    startup_timeout: float = param(120.0, lo=1.0, hi=3600.0,
                                   help='wall seconds for the nodes to come up')
    retries: int = param(1, lo=0, hi=10,
                         help='reruns of an episode that failed for an infrastructure reason '
                              '(timeout, lost ground truth, a node died)')
    snapshot_every: int = param(10, lo=1, hi=100_000,
                                help='keep the predicted futures every this many steps')
    keep_frames: bool = param(False, help='keep camera frames (for figures)')
    mapping_steps: int = param(1200, lo=0, hi=1_000_000,
                               help="control steps of the mapping tour before the agent's "
                                    'episodes (0: none, e.g. with a map from an earlier run)')

    def check(self):
        if self.goal_min_distance > self.goal_max_distance:
            raise ConfigError(f'parameter goal_min_distance={self.goal_min_distance} is out of '
                              f'range: allowed [0, goal_max_distance={self.goal_max_distance}]')


def protocol_report(config: HarnessConfig, sim_config: SimConfig) -> dict:
    """The exact protocol of a run, for reports."""
    return {
        'task': 'image goal: the goal is given only as the camera image rendered at the goal '
                'pose (without distractors); success when the ground-truth position is within '
                'the threshold of the goal position (heading not required)',
        'layout': config.layout,
        'distractors': config.distractors,
        'budget_steps': config.budget,
        'control_period_s': sim_config.control_period,
        'success_threshold_m': config.success_threshold,
        'goal_distance_m': [config.goal_min_distance, config.goal_max_distance],
        'goal_sampling': 'per-episode seeds from SeedSequence(seed); start and goal drawn with '
                         'DiffDriveSim.sample_free_pose (uniform, collision-free with margin '
                         f'{config.pose_margin} m) on the episode layout; goal redrawn until '
                         'its straight-line distance from the start is in goal_distance_m',
        'steps': 'control steps (frames) after the reset frame; steps_to_success is the first '
                 'step whose ground-truth distance is below the threshold',
        'agent_stop': f"an agent episode also ends when planner/status has been "
                      f"'{GOAL_REACHED}' for {config.stop_frames} frames (it stopped)",
        'mapping': f'before its episodes the agent builds its map for {config.mapping_steps} '
                   f'control steps (0: none; a reused map, see memory): its nodes run as in an '
                   f'episode but without a goal image (the planner is idle and publishes no '
                   f'cmd_vel) while the orchestrator drives the mapping tour '
                   f'(world_model.evaluation.mapping_tour), standing in for a teleoperator: '
                   f'seeded waypoints over the free space, room by room through the door, '
                   f'full turns on the spot at some of them, pure pursuit steered on the '
                   f"simulator's ground truth, which the nodes never see. The map persists in "
                   f"the world model node's memory file across the episodes (and node "
                   f'restarts); the random baseline builds none',
        'goal_localisation': "goal_localisation_error_m: distance from the world model's "
                             'goal_pose_estimate (odometry frame, mapped to the world through '
                             'the odometry-to-world transform of the reset frame, evaluation '
                             'only) to the true goal position; first and last estimate per '
                             'episode, median and p90 of the last over the episodes with one',
        'random_policy': 'ExplorationPolicy (smooth Ornstein-Uhlenbeck v, omega) seeded per '
                         'episode, published by the orchestrator; no world model, no planner',
        'simulator': 'sim_node in lockstep (one step per cmd_vel, or after lockstep_timeout) '
                     'publishing /clock; every node on use_sim_time',
        'method': config.method,
        'lockstep_timeout_s': config.lockstep_timeout,
        'watchdog_timeout_s': config.watchdog_timeout,
        'infrastructure_failures': f'an episode that fails outside the agent (no ground truth '
                                   f'after sim/reset, a service or the loop stalling for '
                                   f'episode_timeout={config.episode_timeout:g} s, a node '
                                   f'dying) is rerun up to {config.retries} time(s), after '
                                   f'restarting the nodes when one died or stalled; each '
                                   f'episode lists the failed attempts (retries, '
                                   f'infrastructure_errors)',
        'latency': 'per control cycle: from sim_node publishing a camera frame (DDS source '
                   'timestamp) to the orchestrator receiving the first cmd_vel published after '
                   'it (DDS reception timestamp), one host clock',
        'plan_hz': f"planner_node /diagnostics plan_rate_hz while '{PLANNING}' or "
                   f"'{GOAL_UNKNOWN}' (exploring: the same MPC cycles), once the planner has a "
                   f'rate (it reports 0 until it has planned a few cycles)',
        'control_hz': 'control steps per wall second within an episode',
    }
