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
"""Evaluate our launch files in tests: with the real launch API when it is installed (a ROS 2
machine), else with the test double in test/launch_double (PyPI has no launch).

use_launch_api() makes `import launch` work and says which API it is; evaluate_launch_file(path,
launch_arguments) then runs the file's DeclareLaunchArgument actions with the given arguments
(undeclared ones are set too and ignored, as `ros2 launch` does) and returns, for each
launch_ros Node, what it would start, substitutions resolved, in one shape for both APIs:
package, executable, name, parameter_entries [('file', path) | ('dict', {name: value})],
remappings, arguments, ros_arguments.
"""

import importlib.util
import os
import pathlib
import sys

import yaml

DOUBLE = pathlib.Path(__file__).resolve().parent / 'launch_double'
_LAUNCH_MODULES = ('launch', 'launch_ros')


def use_launch_api(force_double: bool = False) -> str:
    """'real' if launch and launch_ros import here, else put the double first: 'double'."""
    if not force_double and all(importlib.util.find_spec(m) for m in _LAUNCH_MODULES):
        return 'real'
    sys.path.insert(0, str(DOUBLE))
    return 'double'


def forget_launch_api():
    """Undo use_launch_api(): the double leaves sys.path and sys.modules."""
    if str(DOUBLE) in sys.path:
        sys.path.remove(str(DOUBLE))
    for name in list(sys.modules):
        if name.split('.')[0] in _LAUNCH_MODULES:
            del sys.modules[name]


def is_double() -> bool:
    import launch

    return pathlib.Path(launch.__file__).resolve().is_relative_to(DOUBLE)


def load_launch_module(path):
    path = pathlib.Path(path)
    spec = importlib.util.spec_from_file_location(path.name.replace('.', '_'), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launch_description(path):
    from launch import LaunchDescription

    description = load_launch_module(path).generate_launch_description()
    if not isinstance(description, LaunchDescription):
        raise TypeError(f'{path}: generate_launch_description() returned {description!r}')
    return description


def declared_arguments(path) -> dict[str, object]:
    """Declared argument name -> DeclareLaunchArgument, in order."""
    from launch.actions import DeclareLaunchArgument

    return {e.name: e for e in launch_description(path).entities
            if isinstance(e, DeclareLaunchArgument)}


def evaluate_launch_file(path, launch_arguments=None) -> list[dict]:
    return evaluate_description(launch_description(path), launch_arguments, where=path)


def evaluate_description(description, launch_arguments=None, where='') -> list[dict]:
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument
    from launch_ros.actions import Node

    context = LaunchContext()
    context.launch_configurations.update({k: str(v) for k, v in (launch_arguments or {}).items()})
    nodes = []
    for entity in description.entities:
        if isinstance(entity, Node):
            nodes.append(_double_node(entity, context) if is_double()
                         else _real_node(entity, context))
        elif isinstance(entity, DeclareLaunchArgument):
            entity.execute(context)
        else:
            raise TypeError(f'{where}: unexpected launch entity {entity!r}')
    return nodes


def _double_node(node, context) -> dict:
    node.execute(context)
    return node.evaluated


def _real_node(node, context) -> dict:
    """launch_ros (jazzy) Node: substitutions performed without starting the process.

    Reads Node's private expansion results (jazzy actions/node.py); dict parameters come back
    from the temporary files launch_ros writes them to.
    """
    from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions

    def text(value):
        return perform_substitutions(context, normalize_to_list_of_substitutions(value))

    node._perform_substitutions(context)
    entries = []
    for value, is_file in node._Node__expanded_parameter_arguments or []:
        if not is_file:
            key, _, rule = value.partition(':=')
            entries.append(('dict', {key: yaml.safe_load(rule)}))
        elif pathlib.Path(value).name.startswith('launch_params_'):
            with open(value, encoding='utf-8') as f:
                data = yaml.load(f, Loader=yaml.FullLoader)  # launch_ros dumps tuples
            os.unlink(value)
            params = next(iter(data.values()))['ros__parameters']
            entries.append(('dict', {k: list(v) if isinstance(v, tuple) else v
                                     for k, v in params.items()}))
        else:
            entries.append(('file', value))
    return {
        'package': node.node_package,
        'executable': node.node_executable,
        'name': node._Node__expanded_node_name,
        'parameter_entries': entries,
        'remappings': [tuple(r) for r in node.expanded_remapping_rules or []],
        'arguments': [text(a) for a in node._Node__arguments or []],
        'ros_arguments': [text(a) for a in node._Node__ros_arguments or []],
    }
