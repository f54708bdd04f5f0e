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
DDS or real time:

- goals: an explicit planner/goal_pose outranks the world model's goal_pose_estimate until it is
  reached; an estimate within goal_hold_radius of a goal just reached is the same goal (hold);
  base_link goals are placed with the current odometry, odom (or empty) frames are used as is.
- watchdog: idle without a goal, goal_reached within goal_tolerance, otherwise stopped while
  odometry or futures are stale or the world model is surprised, else planning.
- surprise hysteresis: stop above surprise_threshold; resume after resume_cycles consecutive
  messages below surprise_resume_threshold (a message in between restarts the count).
"""

from collections.abc import Callable
import dataclasses
import math
import time

import numpy as np

from world_model import geometry
from world_model.config import ConfigError, param
from world_model.planning.planner_config import PlannerConfig
from world_model.planning.rate_window import RateWindow
from world_model.planning.status import (
    FUTURES_STALE,
    GOAL_REACHED,
    IDLE,
    ODOM_STALE,
    PLANNING,
    SURPRISED,
    WATCHDOG_STATES,
)

EXPLICIT = 'explicit'  # planner/goal_pose
ESTIMATE = 'estimate'  # world_model/goal_pose_estimate
GOAL_TOPICS = {EXPLICIT: 'planner/goal_pose', ESTIMATE: 'world_model/goal_pose_estimate'}
RATE_WINDOW_S = 2.0

Clock = Callable[[], float]


@dataclasses.dataclass
class DecisionConfig:
    """When the planner may drive: freshness timeouts, surprise hysteresis and goal frames."""

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
    base_frame: str = param('base_link', help='robot body frame (cmd_vel, relative goals)')
    odom_frame: str = param('odom', help='frame of the futures, odometry and goals')

    def check(self):
        if self.surprise_resume_threshold > self.surprise_threshold:
            raise ConfigError(f'parameter surprise_resume_threshold='
                              f'{self.surprise_resume_threshold} is out of range: allowed '
                              f'[0.0, surprise_threshold={self.surprise_threshold}]')


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the node must do after one input or watchdog tick."""

    state: str  # planner/status after this step
    goal: np.ndarray | None  # the active goal (x, y, yaw) in the odom frame
    changed: bool = False  # the state changed: publish planner/status
    stop: bool = False  # publish a zero command now: the robot was driving
    restart: bool = False  # reset the MPC from rest and publish its proposal
    plan: bool = False  # futures only: run one planning cycle on them
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
        self.odom_pose = None
        self.odom_time = None  # steady-clock arrival times
        self.futures_time = None
        self.surprised = False
        self.calm_messages = 0
        self.last_surprise = math.nan
        self.watchdog_trips = 0
        self.plan_rate = RateWindow(RATE_WINDOW_S, clock)

    # -- the decision step ---------------------------------------------------------------------
    def decide(self, notes=()) -> Decision:
        """The state the inputs call for, and what to do if it differs from the current one."""
        now, config, notes = self.clock(), self.config, list(notes)
        # where we should be
        if self.goal is None:
            state = IDLE
        elif self.goal_reached:
            state = GOAL_REACHED
        elif self.odom_time is None or now - self.odom_time >= config.odom_timeout_s:
            state = ODOM_STALE
        elif self.futures_time is None or now - self.futures_time >= config.futures_timeout_s:
            state = FUTURES_STALE
        elif self.surprised:
            state = SURPRISED
        else:
            state = PLANNING
        # nothing changed
        if state == self.state:
            return Decision(state, self.goal, notes=tuple(notes))
        # leave planning: stop
        previous, self.state = self.state, state
        stop = previous == PLANNING  # safety first: no acceleration limit on stopping
        if stop and state in WATCHDOG_STATES:
            self.watchdog_trips += 1
            notes.append(('warning', f'{state}: zero velocity sent'))
        # enter planning: from rest
        restart = state == PLANNING  # the previous plan assumed motion that did not happen
        return Decision(state, self.goal, changed=True, stop=stop, restart=restart,
                        notes=tuple(notes))

    def tick(self) -> Decision:
        """Watchdog: re-judge freshness with no new input."""
        return self.decide()

    # -- inputs ---------------------------------------------------------------------------------
    def on_odom(self, pose) -> Decision:
        pose = np.asarray(pose, dtype=np.float64)
        if not np.isfinite(pose).all():
            return self._ignore('odom', 'ignoring odometry with a non-finite pose')
        self.odom_pose, self.odom_time = pose, self.clock()
        notes = []
        if self.goal is not None and not self.goal_reached and \
                self.goal_distance() < self.planner_config.goal_tolerance:
            self.goal_reached = True
            notes.append(('info', f'goal reached: {np.round(self.goal, 3).tolist()}'))
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
                return self._keep()
        self.goal, self.goal_source, self.goal_reached = goal, source, False
        notes = [('info', f'new {source} goal: {np.round(goal, 3).tolist()}')]
        if self.odom_pose is not None and \
                self.goal_distance() < self.planner_config.goal_tolerance:
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
        return self.decide()

    def on_futures(self, frame_id: str) -> Decision:
        """Decoded futures arrived in frame_id; plan on them if the robot may drive."""
        if frame_id not in ('', self.config.odom_frame):
            return self._ignore('futures', f'ignoring bad predicted futures: frame_id '
                                           f'{frame_id!r} is not the odom frame '
                                           f'{self.config.odom_frame!r}')
        self.futures_time = self.clock()
        decision = self.decide()
        return dataclasses.replace(decision, plan=decision.state == PLANNING)

    def cycle_planned(self):
        """A planning cycle published its command (counted for plan_rate_hz)."""
        self.plan_rate.record()

    # -- views ----------------------------------------------------------------------------------
    def goal_distance(self) -> float:
        if self.goal is None or self.odom_pose is None:
            return math.nan
        return float(np.hypot(*(self.odom_pose[:2] - self.goal[:2])))

    def age(self, stamp) -> str:
        """Seconds since a steady-clock arrival time, for diagnostics."""
        return 'never' if stamp is None else f'{self.clock() - stamp:.3f}'

    def _keep(self) -> Decision:
        return Decision(self.state, self.goal)

    def _ignore(self, kind: str, reason: str) -> Decision:
        return Decision(self.state, self.goal, rejected=(kind, reason))
