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

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE_NAME = 'jepa_agent'


def share_tree(folder):
    """data_files entries that mirror folder/ under share/jepa_agent/folder/."""
    entries = []
    for root, _dirs, files in os.walk(folder):
        paths = [os.path.join(root, f) for f in sorted(files) if not f.startswith('.')]
        if paths:
            entries.append((os.path.join('share', PACKAGE_NAME, root), paths))
    return entries


setup(
    name=PACKAGE_NAME,
    version='0.1.0',
    packages=find_packages(include=['agent_node', 'agent_node.*', 'world_model', 'world_model.*']),
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE_NAME]),
        ('share/' + PACKAGE_NAME, ['package.xml']),
        ('share/' + PACKAGE_NAME + '/launch', glob('launch/*.launch.py')),
        *share_tree('config'),
        *share_tree('models'),
    ],
    install_requires=['setuptools'],
    zip_safe=True,
    maintainer='jepa_agent developers',
    maintainer_email='dev@jepa-agent.local',
    description='JEPA world-model agent for ROS 2: latent prediction, memory and MPC planning.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'sim_node = agent_node.sim_node:main',
            'world_model_node = agent_node.world_model_node:main',
            'planner_node = agent_node.planner_node:main',
            'cmd_vel_relay = agent_node.cmd_vel_relay_node:main',
            'nav2_goal_relay = agent_node.nav2_goal_relay_node:main',
            'jepa-agent = agent_node.cli:main',
        ],
    },
)
