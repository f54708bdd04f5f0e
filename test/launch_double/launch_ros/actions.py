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

launch_ros.actions.Node with the real keyword arguments. execute() evaluates the substitutions
the way launch_ros does and records the result in `evaluated` (a dict) instead of starting a
process. Behaviour copied from launch_ros's jazzy branch (ros2/launch_ros
62c56e53e86812023697fe330c83d327f54e7b18: actions/node.py, utilities/normalize_parameters.py,
utilities/evaluate_parameters.py):
- the node name must be a valid ROS name (rclpy's validate_node_name raises otherwise);
- a parameter file that does not exist is skipped with a warning ('Parameter file path is not a
  file: ...'), not an error; the warning is also kept in evaluated['warnings'];
- a parameter dict value that is a substitution is performed and YAML-parsed ('' stays '',
  'true' becomes True); a result that is not a scalar or a non-empty uniform list raises
  TypeError, as does an empty list value or a list of mixed types;
- plain str, bool, int and float values are kept; an int/float list becomes floats.
"""

import logging
import os
import re

from launch.substitutions import (
    Substitution,
    normalize_to_list_of_substitutions,
    perform_substitutions,
)
import yaml

_LOGGER = logging.getLogger('launch_ros.actions.node')
_NODE_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


class InvalidNodeNameException(ValueError):  # noqa: N818 (rclpy's name)
    """rclpy.exceptions.InvalidNodeNameException: raised by validate_node_name."""

# Keyword arguments launch_ros.actions.Node passes on to launch.actions.ExecuteProcess.
_EXECUTE_PROCESS_KWARGS = {
    'output', 'emulate_tty', 'respawn', 'respawn_delay', 'sigterm_timeout', 'sigkill_timeout',
    'cwd', 'env', 'additional_env', 'shell', 'log_cmd', 'on_exit', 'prefix', 'output_format',
    'cached_output', 'condition',
}


class Node:
    def __init__(self, *, executable, package=None, name=None, namespace=None, exec_name=None,
                 parameters=None, remappings=None, ros_arguments=None, arguments=None,
                 **kwargs):
        unknown = sorted(set(kwargs) - _EXECUTE_PROCESS_KWARGS)
        if unknown:
            raise TypeError(f'Node got unexpected keyword arguments {unknown}')
        if parameters is not None and not isinstance(parameters, (list, tuple)):
            raise TypeError(f'Node parameters must be a list, got {parameters!r}')
        self.package = package
        self.executable = executable
        self.name = name
        self.namespace = namespace
        self.parameters = list(parameters or [])
        self.remappings = list(remappings or [])
        self.ros_arguments = list(ros_arguments or [])
        self.arguments = list(arguments or [])
        self.kwargs = kwargs
        self.evaluated = None

    def execute(self, context):
        def text(value):
            return None if value is None else perform_substitutions(context, value)

        name = text(self.name)
        if name is not None and not _NODE_NAME.fullmatch(name):
            raise InvalidNodeNameException(f'Invalid node name: {name!r}: node names must be '
                                           f'non-empty, alphanumerics and underscores, not '
                                           f'starting with a number')
        entries, warnings = [], []
        for entry in self.parameters:
            if isinstance(entry, dict):
                entries.append(('dict', _evaluate_parameter_dict(context, entry)))
                continue
            path = os.path.abspath(text(entry))  # launch_ros evaluates files to a Path
            if not os.path.isfile(path):
                warnings.append(f'Parameter file path is not a file: {path}')
                _LOGGER.warning(warnings[-1])
                continue
            entries.append(('file', path))
        remaps = []
        for rule in self.remappings:
            src, dst = rule
            remaps.append((text(src), text(dst)))
        self.evaluated = {
            'package': text(self.package),
            'executable': text(self.executable),
            'name': name,
            'namespace': text(self.namespace),
            'parameter_entries': entries,
            'remappings': remaps,
            'ros_arguments': [text(a) for a in self.ros_arguments],
            'arguments': [text(a) for a in self.arguments],
            'output': self.kwargs.get('output'),
            'warnings': warnings,
        }


def _uniform(items, name):
    """A non-empty list of one scalar type (ints and floats: floats), else TypeError."""
    kinds = {type(i) for i in items}
    if not items or not kinds <= {bool, int, float, str} or (
            len(kinds) > 1 and kinds != {int, float}):
        raise TypeError(f'Expected a non-empty sequence, with items of uniform type. Allowed '
                        f'sequence item types are bool, int, float, str. Got inconsistent input '
                        f'for "{name}"')
    return [float(i) for i in items] if kinds == {int, float} else list(items)


def _evaluate_value(context, value, name):
    if isinstance(value, (bool, int, float, str)):
        return value  # launch_ros keeps plain values (a str goes through yaml.dump and back)
    if isinstance(value, Substitution) or (
            isinstance(value, (list, tuple)) and value
            and any(isinstance(v, Substitution) for v in value)):
        performed = perform_substitutions(context, normalize_to_list_of_substitutions(value))
        try:
            parsed = yaml.safe_load(performed or "''")
        except yaml.YAMLError:
            raise TypeError(f'Unable to parse the value of parameter {name} as yaml') from None
        if isinstance(parsed, (bool, int, float, str)):
            return parsed
        if isinstance(parsed, list):
            return _uniform(parsed, name)
        raise TypeError(f'Allowed value types are bytes, bool, int, float, str, Sequence[bool], '
                        f'Sequence[int], Sequence[float], Sequence[str]. Got {type(parsed)} for '
                        f'"{name}"')
    if isinstance(value, (list, tuple)):
        return _uniform(list(value), name)
    raise TypeError(f'Unexpected type for parameter value {value!r}')


def _evaluate_parameter_dict(context, parameters, prefix=''):
    out = {}
    for key, value in parameters.items():
        name = prefix + perform_substitutions(context, key)
        if isinstance(value, dict):
            out.update(_evaluate_parameter_dict(context, value, prefix=name + '.'))
        else:
            out[name] = _evaluate_value(context, value, name)
    return out
