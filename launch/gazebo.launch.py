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
"""The agent on a Gazebo robot, through ros_gz_bridge (parameter_bridge), on simulation time.
ros2 launch jepa_agent gazebo.launch.py [robot_name:=NAME] [model_dir:=DIR] [config:=FILE]

The bridge's topic arguments, the remaps and the odometry frame (<robot_name>/odom) follow
robot_name; cmd_vel_relay between the planner and the bridge sends zero velocity when the
planner's commands stop (Gazebo's DiffDrive would keep the last one).

The nodes and their arguments (`ros2 launch jepa_agent gazebo.launch.py --show-args`) are
defined once in agent_node.bringup.profiles (profile 'gazebo'), which
`jepa-agent run config/gazebo.yaml` uses too.
"""

from agent_node.bringup.profiles import launch_description


def generate_launch_description():
    return launch_description('gazebo')
