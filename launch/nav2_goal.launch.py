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
"""Image goal -> Nav2 goal: the world model localises a goal image, Nav2 drives there.
ros2 launch jepa_agent nav2_goal.launch.py model_dir:=DIR [config:=FILE] [use_sim_time:=true]
    [camera_topic:=...] [camera_info_topic:=...] [odom_topic:=...]
    [nav2_goal_topic:=goal_pose (bt_navigator's goal topic)]

model_dir is required: the shipped model was trained in the simulator, not on this robot.

The nodes and their arguments (`ros2 launch jepa_agent nav2_goal.launch.py --show-args`) are
defined once in agent_node.bringup.profiles (profile 'nav2_goal'), which
`jepa-agent run config/nav2_goal.yaml` uses too.
"""

from agent_node.bringup.profiles import launch_description


def generate_launch_description():
    return launch_description('nav2_goal')
