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
WATCHDOG_STATES = (FUTURES_STALE, ODOM_STALE, SURPRISED)
STATES = (IDLE, PLANNING, GOAL_REACHED, *WATCHDOG_STATES)
