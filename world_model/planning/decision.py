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
"""What the planner decides, without ROS: which goal is active and whether the robot may drive.

The planner node feeds every input to a `PlannerDecider` (odometry, goals, surprise, futures,
cancel, watchdog ticks) and carries out the `Decision` it gets back: publish a zero command,
restart the MPC from rest, run a planning cycle, log, publish the status. Freshness is judged
on an injectable steady clock (a callable returning seconds), so the rules are testable without
DDS or real time. The robot's behaviour (a stall, the back-off, the final approach's stall, the
settle at the goal) is timed on the odometry stamps (the ROS clock; under use_sim_time a lockstep
simulator's robot stalls and settles in its own seconds, as Nav2's progress checker does):

- goals: an explicit planner/goal_pose outranks the world model's goal_pose_estimate until it is
  reached; an estimate within goal_hold_radius of a goal just reached is the same goal (hold);
  base_link goals are placed with the current odometry, odom (or empty) frames are used as is.
- watchdog: idle without a goal, goal_reached at the goal, otherwise stopped while odometry or
  futures are stale or the world model is surprised, else planning.
- at the goal (world_model.planning.arrival): the position within goal_tolerance, kept while
  the robot stays within twice it, then the heading within goal_yaw_tolerance, held for
  goal_settle_s; meanwhile the node publishes steer_command() (a turn on the spot) instead of
  planning. An approach that stalls short of the goal ends with a final approach along the goal
  heading, steered the same way. A refined estimate that moves the goal away sends the robot on.
- memory goals: while world_model/goal_status says the goal image is not placed in the map
  (localising, unknown) and no explicit goal is active, the state is goal_unknown and the robot
  explores until the map places the goal: the MPC drives to a point ahead and to the side, so
  it circles and sees every heading (with spin_to_join, while the session has not joined the
  map it turns on the spot instead: steer_command()); an estimate goal is dropped as soon as
  the status leaves localised (a new odometry session makes it meaningless).
- waypoints: with a fresh world_model/waypoints chain ending at the active goal, the MPC drives
  to a point along it (world_model.planning.waypoints); goal_reached is judged on the goal.
- a target behind: more than rotate_to_target_rad off the heading (further than
  approach_radius_m, the robot not near the goal: Arrival.near), the node turns on the spot
  toward it (steer_command()) until within a quarter of that, then the MPC plans again.
- surprise hysteresis: stop above surprise_threshold; resume after resume_cycles consecutive
  messages below surprise_resume_threshold (a message in between restarts the count).
- recovery: driving whose commands asked for translation for stall_time_s, or whose plans stood
  still for standstill_time_s, while the odometry moved less than stall_distance_m
  (world_model.planning.stall) is a stall; the state is recovering for recovery_time_s, the node
  publishes recovery_command() (backing up while turning, left and right in turn), then the MPC
  plans again from rest.
"""

from collections.abc import Callable
import dataclasses
import math
import time

import numpy as np

from world_model import geometry
from world_model.planning.arrival import Arrival
from world_model.planning.decision_config import DecisionConfig
from world_model.planning.planner_config import PlannerConfig
from world_model.planning.rate_window import RateWindow
from world_model.planning.stall import Recovery, idle_command
from world_model.planning.status import (
    DRIVING_STATES,
    FUTURES_STALE,
    GOAL_LOCALISED,
    GOAL_LOCALISING,
    GOAL_NOT_FOUND,
    GOAL_REACHED,
    GOAL_STATUSES,
    GOAL_UNKNOWN,
    IDLE,
    MOVING_STATES,
    ODOM_STALE,
    PLANNING,
    RECOVERING,
    SURPRISED,
    WATCHDOG_STATES,
)
from world_model.planning.waypoints import next_waypoint

EXPLICIT = 'explicit'  # planner/goal_pose
ESTIMATE = 'estimate'  # world_model/goal_pose_estimate
GOAL_TOPICS = {EXPLICIT: 'planner/goal_pose', ESTIMATE: 'world_model/goal_pose_estimate'}
RATE_WINDOW_S = 2.0

Clock = Callable[[], float]


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the node must do after one input or watchdog tick."""

    state: str  # planner/status after this step
    goal: np.ndarray | None  # the active goal (x, y, yaw) in the odom frame
    target: np.ndarray | None = None  # plan cycles drive here: waypoint, goal or exploration
    changed: bool = False  # the state changed: publish planner/status
    stop: bool = False  # publish a zero command now: the robot was driving
    restart: bool = False  # reset the MPC from rest and publish its proposal
    plan: bool = False  # futures only: run one planning cycle on them
    recover: bool = False  # futures only: publish recovery_command() instead
    steer: bool = False  # futures only: publish steer_command() instead (the goal's last metres)
    rejected: tuple[str, str] | None = None  # (kind, reason) of an input that was ignored
    notes: tuple[tuple[str, str], ...] = ()  # ('info' or 'warning', line) for the log


class PlannerDecider:
    """Goal arbitration, surprise hysteresis and the watchdog state of the planner node."""

    def __init__(self, planner_config: PlannerConfig, config: DecisionConfig,
                 clock: Clock = time.monotonic):
        self.planner_config = planner_config
        self.config = config
        self.clock = clock
        self.state = IDLE
        self.goal = None  # (x, y, yaw) in the odom frame
        self.goal_source = None  # EXPLICIT or ESTIMATE
        self.goal_reached = False
        self.arrival = Arrival()  # the goal check and the final approach
        self.odom_pose = None
        self.odom_time = None  # steady-clock arrival times
        self.robot_time = None  # the last odometry stamp [s] (steady time when unstamped)
        self.futures_time = None
        self.surprised = False
        self.calm_messages = 0
        self.last_surprise = math.nan
        self.watchdog_trips = 0
        self.plan_rate = RateWindow(RATE_WINDOW_S, clock)
        self.goal_status = None  # world_model/goal_status, None until one came
        self.waypoints, self.waypoints_time = None, None  # [M, 3] odom frame
        self.recovery = Recovery()
        self.command_v, self.idle = 0.0, False  # the last planned v; it stood still
        self.rotating = 0.0  # turning on the spot to a target behind: the bearing error [rad]

    # -- the decision step ---------------------------------------------------------------------
    def decide(self, notes=()) -> Decision:
        """The state the inputs call for, and what to do if it differs from the current one."""
        now, config, notes = self.clock(), self.config, list(notes)
        # where we should be
        if self.goal is None and not self.goal_unknown():
            state = IDLE
        elif self.goal_reached:
            state = GOAL_REACHED
        elif self.odom_time is None or now - self.odom_time >= config.odom_timeout_s:
            state = ODOM_STALE
        elif self.futures_time is None or now - self.futures_time >= config.futures_timeout_s:
            state = FUTURES_STALE
        elif self.surprised:
            state = SURPRISED
        elif self.recovery.active(self.robot_time):
            state = RECOVERING
        elif self.goal is None:
            state = GOAL_UNKNOWN
        else:
            state = PLANNING
        # nothing changed
        if state == self.state:
            return Decision(state, self.goal, self.target(), notes=tuple(notes))
        # leave driving: stop
        previous, self.state = self.state, state
        if previous == RECOVERING:
            self.recovery.end()
        # safety first: no acceleration limit on stopping
        stop = previous in MOVING_STATES and state not in MOVING_STATES
        if stop and state in WATCHDOG_STATES:
            self.watchdog_trips += 1
            notes.append(('warning', f'{state}: zero velocity sent'))
        if state == GOAL_UNKNOWN:
            notes.append(('warning', f'goal_unknown: the goal is not in the map '
                                     f'({self.goal_status}); '
                                     f'{"exploring" if config.explore else "standing still"}'))
        # enter driving: from rest
        restart = state in DRIVING_STATES and previous not in DRIVING_STATES
        return Decision(state, self.goal, self.target(), changed=True, stop=stop,
                        restart=restart, notes=tuple(notes))

    def tick(self) -> Decision:
        """Watchdog: re-judge freshness with no new input."""
        return self.decide()

    # -- inputs ---------------------------------------------------------------------------------
    def on_odom(self, pose, stamp_s: float | None = None) -> Decision:
        """Odometry pose (x, y, yaw) stamped stamp_s [s] (None or 0: unstamped, steady time)."""
        pose = np.asarray(pose, dtype=np.float64)
        if not np.isfinite(pose).all():
            return self._ignore('odom', 'ignoring odometry with a non-finite pose')
        self.odom_pose, self.odom_time = pose, self.clock()
        robot_time = float(stamp_s) if stamp_s and math.isfinite(stamp_s) else self.odom_time
        if self.robot_time is not None and robot_time < self.robot_time:
            self.recovery.end()  # the stamps went back (a reset, a bag loop): timers restart
            self.arrival.restart_timers()
        self.robot_time = robot_time
        notes = []
        if self.state in DRIVING_STATES and self.recovery.observe(
                robot_time, pose, self.command_v, self.config, idle=self.idle):
            notes.append(('warning', f'{self.recovery.cause}; backing off for '
                                     f'{self.config.recovery_time_s:g} s'))
        if self.goal is not None and not self.goal_reached:
            phase = self.arrival.phase
            if self._arrived():
                self.goal_reached = True
                notes.append(('info', f'goal reached: {np.round(self.goal, 3).tolist()}'))
            elif self.arrival.phase != phase:
                notes.append(('info', f'final approach: {self.arrival.phase or "done"} at '
                                      f'{self.goal_distance():.3f} m from the goal'))
        return self.decide(notes)

    def on_goal(self, pose, frame_id: str, source: str) -> Decision:
        """A goal_pose (EXPLICIT) or goal_pose_estimate (ESTIMATE) in frame_id."""
        what = GOAL_TOPICS[source]
        goal = np.asarray(pose, dtype=np.float64)
        if not np.isfinite(goal).all():
            return self._ignore('goal', f'ignoring a {what} with a non-finite pose')
        if frame_id == self.config.base_frame:
            if self.odom_pose is None:
                return self._ignore('goal', f'ignoring a {what} in {frame_id!r}: it needs '
                                            f'odometry first')
            goal = geometry.compose(self.odom_pose, goal)  # relative to where the robot is
        elif frame_id not in ('', self.config.odom_frame):
            return self._ignore('goal', f'ignoring a {what}: frame_id {frame_id!r} is neither '
                                        f'{self.config.odom_frame!r} nor '
                                        f'{self.config.base_frame!r} (no tf here)')
        if source == ESTIMATE:
            if self.goal_source == EXPLICIT and not self.goal_reached:
                return self._keep()  # an explicit goal outranks the world model's estimate
            if self.goal is not None and self.goal_reached and np.hypot(
                    *(goal[:2] - self.goal[:2])) < self.planner_config.goal_hold_radius:
                return self._keep()  # the estimate of the goal just reached, refined: stay
            if self.goal_source == ESTIMATE and not self.goal_reached:
                self.goal = goal  # refinement of the goal being pursued
                if self.odom_pose is not None and self._arrived():
                    self.goal_reached = True
                    return self.decide([('info', f'goal reached: '
                                                 f'{np.round(self.goal, 3).tolist()}')])
                return self._keep()
        self.goal, self.goal_source, self.goal_reached = goal, source, False
        self.arrival.reset()
        notes = [('info', f'new {source} goal: {np.round(goal, 3).tolist()}')]
        if self.odom_pose is not None and self._arrived():
            self.goal_reached = True
        return self.decide(notes)

    def on_surprise(self, value: float) -> Decision:
        if not math.isfinite(value):
            return self._ignore('surprise', f'ignoring non-finite surprise {value!r}')
        self.last_surprise = value
        threshold, notes = self.config.surprise_threshold, []
        if value > threshold:
            if not self.surprised:
                notes.append(('warning', f'surprise {value:.2f} > {threshold}: stopping'))
            self.surprised, self.calm_messages = True, 0
        elif self.surprised:
            calm = value < self.config.surprise_resume_threshold
            self.calm_messages = self.calm_messages + 1 if calm else 0
            if self.calm_messages >= self.config.resume_cycles:
                self.surprised = False
                notes.append(('info', 'surprise settled: resuming'))
        return self.decide(notes)

    def on_cancel(self) -> Decision:
        self.goal, self.goal_source, self.goal_reached = None, None, False
        self.arrival.reset()
        return self.decide()

    def on_goal_status(self, status: str) -> Decision:
        """world_model/goal_status: an estimate goal is dropped once it is not localised."""
        if status not in GOAL_STATUSES:
            return self._ignore('goal', f'ignoring world_model/goal_status {status!r}: not one '
                                        f'of {", ".join(GOAL_STATUSES)}')
        self.goal_status, notes = status, []
        if status != GOAL_LOCALISED and self.goal_source == ESTIMATE:
            notes.append(('info', f'goal estimate dropped: the goal is {status}'))
            self.goal, self.goal_source, self.goal_reached = None, None, False
            self.waypoints = None
            self.arrival.reset()
        return self.decide(notes)

    def on_waypoints(self, chain, frame_id: str) -> Decision:
        """world_model/waypoints: [M, 3] poses ending at the goal (M = 0 clears the chain)."""
        chain = np.asarray(chain, dtype=np.float64).reshape(-1, 3)
        if frame_id not in ('', self.config.odom_frame):
            return self._ignore('goal', f'ignoring world_model/waypoints in {frame_id!r}: not '
                                        f'the odom frame {self.config.odom_frame!r}')
        if not np.isfinite(chain).all():
            return self._ignore('goal', 'ignoring world_model/waypoints with non-finite poses')
        self.waypoints = chain if len(chain) else None
        self.waypoints_time = self.clock()
        return self._keep()

    def on_futures(self, frame_id: str) -> Decision:
        """Decoded futures arrived in frame_id; plan on them if the robot may drive."""
        if frame_id not in ('', self.config.odom_frame):
            return self._ignore('futures', f'ignoring bad predicted futures: frame_id '
                                           f'{frame_id!r} is not the odom frame '
                                           f'{self.config.odom_frame!r}')
        self.futures_time = self.clock()
        decision = self.decide()
        plan = decision.state in DRIVING_STATES and decision.target is not None
        self._rotate_to(decision.target if plan and decision.state == PLANNING else None)
        steer = plan and (self.spinning() or self.goal is not None and self.arrival.steering
                          or self.rotating != 0.0)
        return dataclasses.replace(decision, plan=plan and not steer, steer=steer,
                                   recover=decision.state == RECOVERING)

    def cycle_planned(self, command=(0.0, 0.0)):
        """A planning cycle published command (v, omega) (counted for plan_rate_hz)."""
        self.plan_rate.record()
        self.command_v, self.idle = float(command[0]), idle_command(command)

    def steered(self):
        """A steer_command() was published instead of a planning cycle."""
        self.command_v, self.idle = 0.0, False

    def recovery_command(self) -> tuple[float, float]:
        """(v, omega) to publish while recovering."""
        return self.recovery.command(self.config)

    def steer_command(self) -> tuple[float, float]:
        """(v, omega) to publish while the arrival steers (at the goal, final approach), the
        robot spins to join the map, or it turns to a target behind."""
        rate = min(self.config.turn_rate, self.planner_config.omega_max)
        if self.spinning():
            return 0.0, math.copysign(rate, self.config.explore_angle_rad)
        if self.rotating != 0.0:  # set by on_futures only while the arrival does not steer
            return 0.0, math.copysign(rate, self.rotating)
        return self.arrival.command(self.odom_pose, self.goal, self.planner_config, self.config)

    # -- views ----------------------------------------------------------------------------------
    def goal_unknown(self) -> bool:
        """The world model has a goal it cannot place in the map yet."""
        return self.goal_status in (GOAL_LOCALISING, GOAL_NOT_FOUND)

    def spinning(self) -> bool:
        """Exploring by turning on the spot: this session has not joined the map yet."""
        config = self.config
        return self.goal is None and self.goal_status == GOAL_LOCALISING and config.explore \
            and config.spin_to_join and self.odom_pose is not None
    def target(self) -> np.ndarray | None:
        """Where a planning cycle drives: the next waypoint, the goal, or an exploration point."""
        config = self.config
        if self.goal is None:
            if not self.goal_unknown() or self.odom_pose is None:
                return None
            if not config.explore:
                return self.odom_pose.copy()  # hold position
            angle, radius = config.explore_angle_rad, config.explore_radius_m
            return geometry.compose(self.odom_pose, np.array(
                [radius * math.cos(angle), radius * math.sin(angle), angle]))
        chain = self.waypoints
        if self.arrival.steering:
            return self.goal  # the goal's last metres: no waypoint ahead
        fresh = chain is not None and self.waypoints_time is not None and \
            self.clock() - self.waypoints_time < config.waypoints_timeout_s
        if not fresh or self.odom_pose is None or \
                np.hypot(*(chain[-1, :2] - self.goal[:2])) > self.planner_config.goal_hold_radius:
            return self.goal
        return next_waypoint(chain, self.odom_pose, config.waypoint_lookahead_m,
                             config.waypoint_corner_rad, config.waypoint_along_path,
                             config.waypoint_detour_reach_m)

    def _rotate_to(self, target):
        """Start, go on with or end the turn on the spot to a target behind (hysteresis)."""
        config, pose = self.config, self.odom_pose
        if target is None or pose is None or self.arrival.steering or self.arrival.near or \
                np.hypot(*(target[:2] - pose[:2])) <= config.approach_radius_m:
            self.rotating = 0.0
            return
        error = geometry.wrap_angle(math.atan2(target[1] - pose[1], target[0] - pose[0])
                                    - pose[2])
        limit = config.rotate_to_target_rad
        if limit < math.pi and (abs(error) > limit or
                                self.rotating != 0.0 and abs(error) > limit / 4):
            self.rotating = float(error)
        else:
            self.rotating = 0.0

    def goal_distance(self) -> float:
        if self.goal is None or self.odom_pose is None:
            return math.nan
        return float(np.hypot(*(self.odom_pose[:2] - self.goal[:2])))

    def _arrived(self) -> bool:
        """The goal check on the current odometry (updates the arrival state)."""
        return self.arrival.update(self.robot_time, self.odom_pose, self.goal,
                                   self.planner_config, self.config)

    def age(self, stamp) -> str:
        """Seconds since a steady-clock arrival time, for diagnostics."""
        return 'never' if stamp is None else f'{self.clock() - stamp:.3f}'

    def _keep(self) -> Decision:
        return Decision(self.state, self.goal, self.target())

    def _ignore(self, kind: str, reason: str) -> Decision:
        return Decision(self.state, self.goal, self.target(), rejected=(kind, reason))
