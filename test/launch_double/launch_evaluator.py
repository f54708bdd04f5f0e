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
"""TEST DOUBLE of the ROS 2 launch API: launch cannot be installed here; this evaluates our
launch files in tests only.

evaluate_launch_file(path, launch_arguments): import a launch file, call its
generate_launch_description(), execute its actions in order with the given arguments and return
the nodes it would start, substitutions resolved (the dicts recorded by launch_ros.actions.Node).
"""

import importlib.util
import pathlib

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch_ros.actions import Node


def load_launch_module(path):
    path = pathlib.Path(path)
    spec = importlib.util.spec_from_file_location(path.name.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate_launch_file(path, launch_arguments=None) -> list[dict]:
    """The evaluated nodes of a launch file; undeclared argument names raise ValueError."""
    description = load_launch_module(path).generate_launch_description()
    if not isinstance(description, LaunchDescription):
        raise TypeError(f'{path}: generate_launch_description() returned {description!r}')
    declared = [e.name for e in description.entities if isinstance(e, DeclareLaunchArgument)]
    unknown = sorted(set(launch_arguments or {}) - set(declared))
    if unknown:
        raise ValueError(f'{path}: arguments {unknown} are not declared (declared: {declared})')
    context = LaunchContext()
    context.launch_configurations.update({k: str(v) for k, v in (launch_arguments or {}).items()})
    nodes = []
    for entity in description.entities:
        entity.execute(context)
        if isinstance(entity, Node):
            nodes.append(entity.evaluated)
    return nodes


def declared_arguments(path) -> dict[str, object]:
    """Declared argument name -> DeclareLaunchArgument, in order."""
    description = load_launch_module(path).generate_launch_description()
    return {e.name: e for e in description.entities if isinstance(e, DeclareLaunchArgument)}
