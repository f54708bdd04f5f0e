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
"""The planner's status vocabulary (planner/status), shared by the planner and the harness."""

IDLE = 'idle'
PLANNING = 'planning'
GOAL_REACHED = 'goal_reached'  # the planner believes it has arrived
FUTURES_STALE = 'stopped: futures stale'
ODOM_STALE = 'stopped: odom stale'
SURPRISED = 'stopped: surprise'
# A goal image (or named goal) that the latent map cannot place yet: the robot explores.
GOAL_UNKNOWN = 'goal_unknown'
# Driving made no progress (world_model.planning.stall): the robot backs off, then plans again.
RECOVERING = 'recovering'
WATCHDOG_STATES = (FUTURES_STALE, ODOM_STALE, SURPRISED)
DRIVING_STATES = (PLANNING, GOAL_UNKNOWN)  # the MPC runs a cycle per futures message
MOVING_STATES = (*DRIVING_STATES, RECOVERING)  # leaving these sends a zero command
STATES = (IDLE, PLANNING, GOAL_REACHED, GOAL_UNKNOWN, RECOVERING, *WATCHDOG_STATES)

# world_model/goal_status: where the world model stands with its goal (std_msgs/String)
GOAL_NONE = 'none'  # no goal
GOAL_LOCALISING = 'localising'  # this odometry session is not joined to the map yet
GOAL_NOT_FOUND = 'unknown'  # the map has no keyframe that matches the goal
GOAL_LOCALISED = 'localised'  # goal_pose_estimate is valid in this session's odom frame
GOAL_STATUSES = (GOAL_NONE, GOAL_LOCALISING, GOAL_NOT_FOUND, GOAL_LOCALISED)
