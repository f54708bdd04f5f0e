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
"""The built-in pybullet simulator with the agent: sim_node + world model + planner.
ros2 launch jepa_agent sim_demo.launch.py [model_dir:=DIR] [config:=FILE]

The nodes and their arguments are defined once in agent_node.node_sets (profile 'sim_demo'), which
`jepa-agent run config/sim_demo.yaml` uses too.
"""

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from agent_node import node_sets

PROFILE = 'sim_demo'


def generate_launch_description():
    share = get_package_share_directory(node_sets.PACKAGE)
    declared = node_sets.arguments(PROFILE, share, var=LaunchConfiguration)
    values = {arg.name: LaunchConfiguration(arg.name) for arg in declared}
    actions = [DeclareLaunchArgument(arg.name, default_value=arg.default,
                                     description=arg.description) for arg in declared]
    actions += [Node(**node_sets.launch_node_kwargs(spec))
                for spec in node_sets.node_set(PROFILE, values)]
    return LaunchDescription(actions)
