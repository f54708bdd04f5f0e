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
"""The QoS profiles of every jepa_agent topic (README topic table): one home, four uses.

Sensor inputs take the sensor-data profile (best effort, depth 5) so any driver connects;
every output is reliable; latched topics (goal_image, planner/status) are transient local.
"""

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data

SENSOR = qos_profile_sensor_data


def reliable(depth: int = 10) -> QoSProfile:
    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)


def latched() -> QoSProfile:
    """Reliable + transient local, depth 1: a late subscriber still gets the last message."""
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


def best_effort(depth: int = 10) -> QoSProfile:
    """Accepts reliable and best-effort publishers alike (a subscriber for any commander)."""
    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.BEST_EFFORT)
