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

The nodes and their arguments (`ros2 launch jepa_agent sim_demo.launch.py --show-args`) are
defined once in agent_node.bringup.profiles (profile 'sim_demo'), which
`jepa-agent run config/sim_demo.yaml` uses too.
"""

from agent_node.bringup.profiles import launch_description


def generate_launch_description():
    return launch_description('sim_demo')
