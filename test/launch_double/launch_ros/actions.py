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
process: parameter dict values that are substitutions are performed and then YAML-parsed
(so 'true' becomes a bool), plain values are kept, other parameter entries are file paths.
"""

from launch.substitutions import (
    Substitution,
    normalize_to_list_of_substitutions,
    perform_substitutions,
)
import yaml

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

        entries = []
        for entry in self.parameters:
            if isinstance(entry, dict):
                entries.append(('dict', _evaluate_parameter_dict(context, entry)))
            else:
                entries.append(('file', text(entry)))
        remaps = []
        for rule in self.remappings:
            src, dst = rule
            remaps.append((text(src), text(dst)))
        self.evaluated = {
            'package': text(self.package),
            'executable': text(self.executable),
            'name': text(self.name),
            'namespace': text(self.namespace),
            'parameter_entries': entries,
            'remappings': remaps,
            'ros_arguments': [text(a) for a in self.ros_arguments],
            'arguments': [text(a) for a in self.arguments],
            'output': self.kwargs.get('output'),
        }


def _evaluate_value(context, value):
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value  # launch_ros keeps plain strings as strings
    if isinstance(value, Substitution) or (
            isinstance(value, (list, tuple)) and any(isinstance(v, Substitution) for v in value)):
        performed = perform_substitutions(context, normalize_to_list_of_substitutions(value))
        try:
            parsed = yaml.safe_load(performed)
        except yaml.YAMLError:
            return performed
        return parsed if isinstance(parsed, (bool, int, float, str)) else performed
    if isinstance(value, (list, tuple)):
        return [_evaluate_value(context, v) for v in value]
    raise TypeError(f'unsupported parameter value {value!r}')


def _evaluate_parameter_dict(context, parameters, prefix=''):
    out = {}
    for key, value in parameters.items():
        name = prefix + perform_substitutions(context, key)
        if isinstance(value, dict):
            out.update(_evaluate_parameter_dict(context, value, prefix=name + '.'))
        else:
            out[name] = _evaluate_value(context, value)
    return out
