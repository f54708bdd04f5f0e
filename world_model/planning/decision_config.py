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
"""When the planner may drive: the configuration of world_model.planning.decision."""

import dataclasses
import math

from world_model.config import ConfigError, param


@dataclasses.dataclass
class DecisionConfig:
    """When the planner may drive: freshness, surprise, recovery, the goal's last metres."""

    futures_timeout_s: float = param(0.15, lo=0.01, hi=10.0,
                                     help='stop when no predicted futures for this long '
                                          '[s, steady clock]')
    odom_timeout_s: float = param(0.3, lo=0.01, hi=10.0,
                                  help='stop when no odometry for this long [s, steady clock]')
    # Normal driving stays below 5 in 99.8% of frames, a kidnapped robot reads 11 or more
    # (scripts/eval_surprise.py, BENCHMARKS.md); at 3.0 about 1% of frames stopped the robot.
    surprise_threshold: float = param(5.0, lo=0.0, hi=1e6,
                                      help='stop when the normalised surprise exceeds this')
    surprise_resume_threshold: float = param(2.0, lo=0.0, hi=1e6,
                                             help='resume once surprise stays below this ...')
    resume_cycles: int = param(5, lo=1, hi=100000,
                               help='... for this many consecutive surprise messages')
    waypoint_lookahead_m: float = param(0.5, lo=0.05, hi=100.0,
                                        help='drive to a target this far ahead on the '
                                             'world_model/waypoints chain [m]')
    # two rooms, 50 episodes of seed 4242: 0.6 rad gave 58% (collision steps 7.5 per episode)
    # against 64% (9.4) without; within the spread, so off by default
    waypoint_corner_rad: float = param(math.pi, lo=0.0, hi=math.pi,
                                       help='without waypoint_along_path: first, a '
                                            'waypoint where the chain turns this much [rad] '
                                            "(a door's corner: driven to, not cut); pi: "
                                            'corners are not special')
    # Closed loop, two rooms, 50 episodes (BENCHMARKS.md, eleventh session): contact steps per
    # episode 5.7 -> 2.0 (seed 4242) and 4.1 -> 0.9 (seed 1000), success 84 -> 84% and 74 -> 78%;
    # slower: 4-12 more steps per episode reached (every table row)
    waypoint_along_path: bool = param(True, help='drive to the chain point '
                                                 'waypoint_lookahead_m of path past the robot, '
                                                 'less its distance off the path (it rejoins the '
                                                 'path first, beside a jamb too); false: the '
                                                 'first chain waypoint that far '
                                                 '(waypoint_corner_rad)')
    # ROS-free, 200 episodes (BENCHMARKS.md, twelfth session): 176 against 174 reached without
    # it; 0.15 m beyond the nearest stretch joined a chain across the divider (9 contact steps)
    waypoint_detour_reach_m: float = param(0.2, lo=0.0, hi=10.0,
                                           help='along the path, a later stretch of the chain '
                                                'this near the robot that the path reaches by '
                                                'a detour (0.2 m more than the straight line) '
                                                'is joined where it comes back [m]; keep it '
                                                "below the robot's width, so that no wall fits "
                                                'between; 0: never')
    waypoints_timeout_s: float = param(2.0, lo=0.05, hi=3600.0,
                                       help='a waypoint chain older than this is ignored: '
                                            'drive straight to the goal [s, steady clock]')
    explore: bool = param(True, help='explore while the goal is not in the map '
                                     '(goal_unknown); false: stand still')
    spin_to_join: bool = param(False, help='while this odometry session has not joined the '
                                           'map (goal localising), explore by turning on the '
                                           'spot at turn_rate: views from every heading, as '
                                           'map.join_min_turn_rad needs; false: circle')
    explore_radius_m: float = param(0.6, lo=0.05, hi=100.0,
                                    help='exploring, drive to a point this far ahead ... [m]')
    explore_angle_rad: float = param(0.8, lo=-math.pi, hi=math.pi,
                                     help='... at this bearing (positive: left) [rad]')
    recovery: bool = param(True, help='back off when driving makes no progress (a stall)')
    stall_time_s: float = param(1.0, lo=0.1, hi=60.0,
                                help='a stall: every command of this long asked for translation '
                                     '... [s, odometry stamps]')
    stall_distance_m: float = param(0.03, lo=0.001, hi=10.0,
                                    help='... and the odometry moved less than this [m]')
    standstill_time_s: float = param(3.0, lo=0.1, hi=600.0,
                                     help='planning that chose to stand still this long, the '
                                          'odometry moving less than stall_distance_m, is a '
                                          'stall too [s, odometry stamps]')
    recovery_time_s: float = param(1.0, lo=0.1, hi=60.0,
                                   help='back off for this long [s, odometry stamps] ...')
    recovery_speed: float = param(0.1, lo=0.0, hi=5.0,
                                  help='... reversing at this speed [m/s] ...')
    recovery_turn: float = param(0.8, lo=0.0, hi=10.0,
                                 help='... while turning at this rate, left and right in turn '
                                      '[rad/s]')
    approach: bool = param(True, help='an approach that stalls short of the goal ends with a '
                                      'final approach: turn to the goal heading, then along '
                                      'it (beside the goal: turn to it, drive there) ...')
    approach_radius_m: float = param(0.4, lo=0.0, hi=100.0,
                                     help='... within this distance of the goal ... [m]')
    approach_stall_s: float = param(1.5, lo=0.1, hi=60.0,
                                    help='... once the robot is no closer to the goal than '
                                         'this long ago ...')
    approach_progress_m: float = param(0.02, lo=0.001, hi=10.0,
                                       help='... by this much [s, odometry stamps; m]')
    # Homing is sharp only close to the goal view's heading: 0.3 m ahead of a goal, 0.3 rad off
    # its heading, it placed the goal 0.27 m off; facing its heading, 0.02-0.16 m (one demo goal).
    approach_yaw_tolerance: float = param(0.1, lo=0.01, hi=math.pi,
                                          help='final approach: turn to within this of the goal '
                                               'heading [rad] ...')
    approach_speed: float = param(0.1, lo=0.01, hi=10.0,
                                  help='... then drive along it at up to this speed [m/s]')
    goal_settle_s: float = param(1.0, lo=0.0, hi=60.0,
                                 help='goal reached once position and heading stayed within '
                                      'tolerance this long: a goal estimate from the goal '
                                      'heading may still move it [s, odometry stamps]')
    turn_rate: float = param(0.8, lo=0.01, hi=20.0,
                             help='at the goal position and in a final approach, turn on the '
                                  'spot toward the goal heading at up to this rate [rad/s]')
    # A target behind the robot: turning left and turning right score alike, and MPPI's mean
    # of both stood still (open arena, 2 of 50 episodes froze for 130-200 steps)
    rotate_to_target_rad: float = param(1.6, lo=0.1, hi=math.pi,
                                        help='a target (waypoint or goal) further than '
                                             'approach_radius_m, more than this off the '
                                             'heading, the robot not near the goal (within '
                                             'approach_radius_m, left beyond 1.5 times it), '
                                             'is turned to on the spot at turn_rate first, '
                                             "until within a quarter of it (as Nav2 RPP's "
                                             'rotate_to_heading); pi: off (a car-like base) '
                                             '[rad]')
    base_frame: str = param('base_link', help='robot body frame (cmd_vel, relative goals)')
    odom_frame: str = param('odom', help='frame of the futures, odometry and goals')

    def check(self):
        if self.surprise_resume_threshold > self.surprise_threshold:
            raise ConfigError(f'parameter surprise_resume_threshold='
                              f'{self.surprise_resume_threshold} is out of range: allowed '
                              f'[0.0, surprise_threshold={self.surprise_threshold}]')
