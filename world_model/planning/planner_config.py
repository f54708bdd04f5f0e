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
"""PlannerConfig: sampling, limits and cost weights of the latent MPC (MPPI or CEM)."""

import dataclasses
import math

from world_model.config import ConfigError, param

PLANNER_METHODS = ('mppi', 'cem')
HORIZON_WEIGHTINGS = ('sum', 'terminal')


@dataclasses.dataclass
class PlannerConfig:
    """One MPPI / CEM update per control cycle over K candidate (v, omega) sequences of H steps.

    Cost terms are averaged over the horizon (weights sum to 1), so the weights and the MPPI
    temperature keep their meaning when H changes.
    """

    method: str = param('mppi', choices=PLANNER_METHODS, help='sampling-based update rule')
    num_samples: int = param(128, lo=8, hi=8192, help='candidate sequences K per cycle')
    horizon: int = param(10, lo=1, hi=200, help='steps H per candidate sequence')
    iterations: int = param(4, lo=1, hi=100,
                            help='updates per plan() call (offline planning only; the node '
                                 'does one update per futures message)')
    control_period: float = param(0.1, lo=0.005, hi=1.0, help='seconds per step [s]')
    temperature: float = param(0.3, lo=1e-4, hi=1e4,
                               help='MPPI lambda in units of the cost spread (std over the '
                                    'candidates): lower trusts the best candidates more')
    elite_fraction: float = param(0.1, lo=0.01, hi=1.0,
                                  help='CEM: fraction of candidates kept as elites')
    cem_min_std: float = param(0.2, lo=0.0, hi=1.0,
                               help='CEM: floor of the sampling std as a fraction of the noise')
    noise_v: float = param(0.1, lo=0.0, hi=5.0, help='sampling std of v per step [m/s]')
    noise_omega: float = param(0.4, lo=0.0, hi=10.0,
                               help='sampling std of omega per step [rad/s]')
    primitives: bool = param(True, help='add the default candidates (forward, turns, stop) '
                                        'to every proposal')
    v_max: float = param(0.5, lo=0.0, hi=10.0, help='forward speed limit [m/s]')
    v_min: float = param(-0.1, lo=-10.0, hi=0.0, help='reverse speed limit (<= 0) [m/s]')
    omega_max: float = param(1.5, lo=0.0, hi=20.0, help='turn rate limit [rad/s]')
    accel_linear: float = param(1.0, lo=0.01, hi=100.0, help='linear accel limit [m/s^2]')
    accel_angular: float = param(4.0, lo=0.01, hi=200.0, help='angular accel limit [rad/s^2]')
    w_pose: float = param(1.0, lo=0.0, hi=1e4,
                          help='weight of the distance from predicted pose to goal [1/m]')
    w_heading: float = param(0.05, lo=0.0, hi=1e4,
                             help='weight of 1 - cos(yaw error) to the goal heading')
    w_bearing: float = param(0.2, lo=0.0, hi=1e4,
                             help='weight of 1 - cos(angle from heading to the goal direction), '
                                  'faded out within 3 x goal_tolerance of the goal')
    # Off by default: with a forward (ego-centric) camera the latent distance to a far goal view
    # is a poor navigation cost; on 10 seeded open-arena episodes (scripts in BENCHMARKS.md)
    # success fell from 8/10 at 0 to 5/10 at 0.03 and 1/10 at 1.0. Goals are reached through
    # the pose-delta probe of the predicted latents and a goal pose instead.
    w_latent: float = param(0.0, lo=0.0, hi=1e4,
                            help='weight of the predicted latent distance to the goal latent')
    w_action: float = param(0.01, lo=0.0, hi=1e4,
                            help='weight of the squared action magnitude (limit-normalised)')
    w_smooth: float = param(0.05, lo=0.0, hi=1e4,
                            help='weight of the squared step-to-step action change '
                                 '(normalised by the acceleration limits)')
    w_collision: float = param(5.0, lo=0.0, hi=1e6,
                               help='weight of the predicted collision probability')
    w_uncertainty: float = param(0.5, lo=0.0, hi=1e4,
                                 help='weight of the predicted per-step uncertainty')
    horizon_weighting: str = param('sum', choices=HORIZON_WEIGHTINGS,
                                   help="goal terms over every step ('sum', default: EB-JEPA "
                                        "found it beats last-step-only) or the last ('terminal')")
    # Image goals end where the robot believes the goal is, so the stop radius adds to the
    # estimate's error: 50 open-arena episodes (BENCHMARKS.md) reached 76% at 0.15, 82% at 0.08
    # and 84% at 0.05.
    goal_tolerance: float = param(0.05, lo=0.01, hi=10.0,
                                  help='goal position reached this close [m] (kept while '
                                       'within twice it) ...')
    goal_yaw_tolerance: float = param(0.3, lo=0.01, hi=math.pi,
                                      help='... then goal reached with the heading this close '
                                           'to the goal heading (pi: any heading) [rad]')
    goal_hold_radius: float = param(0.25, lo=0.01, hi=10.0,
                                    help='after reaching a goal, world-model goal estimates '
                                         'within this distance of it are the same goal: the '
                                         'robot stays put (>= goal_tolerance) [m]')

    def check(self):
        if self.goal_hold_radius < self.goal_tolerance:
            raise ConfigError(f'parameter goal_hold_radius={self.goal_hold_radius} is below '
                              f'goal_tolerance={self.goal_tolerance}: allowed [goal_tolerance, '
                              f'10.0]')
        if self.v_max <= 0.0 and self.omega_max <= 0.0:
            raise ConfigError('parameters v_max and omega_max are both 0: the robot cannot '
                              'move; allowed: at least one of them > 0')
