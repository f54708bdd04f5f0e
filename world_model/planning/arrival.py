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
"""The goal check, and a final approach along the goal heading when the MPC stalls short of it.

Arrival is Nav2's stateful goal checker: the position within goal_tolerance, kept while the
robot stays within twice it, then the heading within goal_yaw_tolerance, both held for
goal_settle_s. The hold gives an image goal's estimate, which is sharpest from the goal heading,
the time to move the goal once the robot faces that way; a goal moved away clears the position.

An image goal's estimate is least precise from a heading the goal view was not taken from: the
relative-pose head is sharp within 15 deg of the view and 4-8 times worse beyond 45 deg
(BENCHMARKS.md), and the learned futures cannot resolve the last 0.1 m. Once the robot is no
approach_progress_m closer to the goal than approach_stall_s ago, near it (within
approach_radius_m, left only beyond NEAR_LEAVE times it: an estimate jittering across the radius
must not drop a final approach for a turn to the goal and take it up again, for good), it
therefore makes a final approach, as Nav2's rotation shim and docking controllers do:
- turn: on the spot to within approach_yaw_tolerance of the goal heading;
- line: forward or back along the goal's axis at up to approach_speed, steering onto the axis,
  until abreast of the goal (turning again if the heading is lost); the estimate refined on the
  way moves the goal, and the robot.
Then the MPC takes over again. A robot stalled beside the goal (more than AIM_LATERAL_M across
its axis, as after floor homing moved the goal sideways), or 2 AIM_LATERAL_M beside a goal moved
during a turn or line, cannot mend that along the axis; it turns to face the goal's position
instead (aim), drives straight to it (go), and turns to the goal heading there. A final
approach never counts as arrival. At the goal position the robot turns to the goal heading the
same way (turn_command).
"""

from collections import deque
import math

import numpy as np

from world_model import geometry

TURN, LINE, AIM, GO = 'turn', 'line', 'aim', 'go'
AIM_LATERAL_M = 0.15  # [m] stalled this far across the goal's axis: aim at its position
AIM_TOLERANCE = 0.15  # [rad] go once facing the goal's position this closely...
GO_ABORT = 0.5  # [rad] ...and aim again when it drifts this far off
TURN_GAIN = 2.0  # [1/s] turn rate per rad of heading error
MIN_TURN = 0.15  # [rad/s] below this the base may not move at all
LINE_GAIN = 1.0  # [1/s] speed per m along the goal axis
LATERAL_GAIN = 10.0  # [1/m^2] steering per m off the axis per m/s of speed
NEAR_LEAVE = 1.5  # the approach region is left beyond this many approach_radius_m


class Arrival:
    """Position hysteresis, heading check and the final approach, for one goal."""

    def __init__(self):
        self.xy_reached = False  # the position part of the goal check, with hysteresis
        self.phase = None  # TURN, LINE, AIM or GO during a final approach
        self.near = False  # within approach_radius_m of the goal, with hysteresis
        self.window = deque()  # (t, distance to the goal) over the last approach_stall_s
        self.held_since = None  # robot time position and heading came within tolerance

    @property
    def steering(self) -> bool:
        """command() drives instead of the MPC: turning at the goal or a final approach."""
        return self.xy_reached or self.phase is not None

    @property
    def stage(self) -> str:
        """For diagnostics: 'mpc', 'final approach: turn' / 'line' / 'aim' / 'go', or 'at goal'.
        """
        if self.xy_reached:
            return 'at goal'
        return f'final approach: {self.phase}' if self.phase else 'mpc'

    def reset(self):
        """A new goal, a cancel, or a dropped estimate."""
        self.__init__()

    def restart_timers(self):
        """The robot's clock went back: the stall window and the settle start afresh."""
        self.window.clear()
        self.held_since = None

    def update(self, now: float, pose, goal, planner_config, config) -> bool:
        """Judge the goal on one pose at robot time now; True: arrived (position and heading).

        planner_config: PlannerConfig (goal tolerances); config: DecisionConfig (the approach).
        """
        distance = math.hypot(pose[0] - goal[0], pose[1] - goal[1])
        yaw_error = abs(geometry.wrap_angle(pose[2] - goal[2]))
        tolerance = planner_config.goal_tolerance
        # position with hysteresis
        if distance < tolerance:
            self.xy_reached = True
        elif distance > 2.0 * tolerance:
            self.xy_reached = False
        # near the goal, with hysteresis: an estimate that jitters across approach_radius_m
        # switched a robot with the goal behind it between a final approach (turn to the goal
        # heading) and turning to the goal, for good (BENCHMARKS.md, ninth session)
        if distance <= config.approach_radius_m:
            self.near = True
        elif distance > NEAR_LEAVE * config.approach_radius_m:
            self.near = False
        stalled = self._stalled(now, distance, config)
        # final approach phases
        along, lateral, _ = geometry.relative(goal, pose)  # the robot in the goal's frame
        bearing = abs(_bearing_error(pose, goal))
        if self.xy_reached or not self.near:
            self.phase = None
        elif self.phase == AIM and bearing <= AIM_TOLERANCE:
            self.phase = GO
        elif self.phase == GO and bearing > GO_ABORT:
            self.phase = AIM
        elif self.phase in (AIM, GO):
            pass  # until the position is reached (xy_reached) or the robot leaves
        elif self.phase is not None and abs(lateral) > 2.0 * AIM_LATERAL_M:
            self.phase = AIM  # the estimate moved the goal sideways: the line cannot follow
        elif self.phase == TURN and yaw_error <= config.approach_yaw_tolerance:
            self.phase = LINE
        elif self.phase == LINE and (abs(along) < 0.5 * tolerance or
                                     (along > 0.0 and planner_config.v_min >= 0.0)):
            self.phase = None  # abreast of the goal (or behind a base that cannot reverse)
            self.window.clear()
        elif self.phase == LINE and yaw_error > 4.0 * config.approach_yaw_tolerance:
            self.phase = TURN  # steered off the heading (or the estimate turned): again
        elif self.phase is None and config.approach and stalled:
            self.phase = AIM if abs(lateral) > AIM_LATERAL_M else TURN
        # arrival, once held
        if not (self.xy_reached and yaw_error <= planner_config.goal_yaw_tolerance):
            self.held_since = None
            return False
        if self.held_since is None:
            self.held_since = now
        return now - self.held_since >= config.goal_settle_s

    def _stalled(self, now: float, distance: float, config) -> bool:
        """No approach_progress_m closer than approach_stall_s ago (estimate jitter averages out).
        """
        window = self.window
        window.append((now, distance))
        while len(window) > 1 and now - window[1][0] >= config.approach_stall_s:
            window.popleft()  # the oldest kept sample is the newest one stall_s old
        since, before = window[0]
        return now - since >= config.approach_stall_s and \
            distance > before - config.approach_progress_m

    def command(self, pose, goal, planner_config, config) -> tuple[float, float]:
        """(v, omega) while steering: along the goal axis (LINE), else turning on the spot."""
        turn_rate = min(config.turn_rate, planner_config.omega_max)
        if self.phase in (AIM, GO):
            error = _bearing_error(pose, goal)
            omega = float(np.clip(TURN_GAIN * error, -turn_rate, turn_rate))
            if self.phase == AIM:
                return 0.0, (math.copysign(max(MIN_TURN, abs(omega)), error)
                             if abs(error) > 0.5 * AIM_TOLERANCE else 0.0)
            distance = math.hypot(goal[0] - pose[0], goal[1] - pose[1])
            v = min(planner_config.v_max, config.approach_speed, LINE_GAIN * distance)
            return float(v), omega
        if self.phase != LINE:
            return 0.0, turn_command(pose, goal, turn_rate, config.approach_yaw_tolerance)
        along, lateral, yaw = geometry.relative(goal, pose)
        v = float(np.clip(-LINE_GAIN * along, max(planner_config.v_min, -config.approach_speed),
                          min(planner_config.v_max, config.approach_speed)))
        omega = -TURN_GAIN * geometry.wrap_angle(yaw) - LATERAL_GAIN * v * lateral
        return v, float(np.clip(omega, -turn_rate, turn_rate))


def _bearing_error(pose, goal) -> float:
    """[rad] how far the robot's heading is from facing the goal's position."""
    return geometry.wrap_angle(math.atan2(goal[1] - pose[1], goal[0] - pose[0]) - pose[2])


def turn_command(pose, goal, turn_rate: float, tolerance: float) -> float:
    """The turn rate toward the goal heading: none within half tolerance, else clipped P."""
    error = geometry.wrap_angle(goal[2] - pose[2])
    if abs(error) < 0.5 * tolerance:
        return 0.0
    return math.copysign(min(turn_rate, max(MIN_TURN, TURN_GAIN * abs(error))), error)
