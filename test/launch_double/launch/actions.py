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

Actions: DeclareLaunchArgument (sets its launch configuration from the given arguments or its
default, in declaration order, like the real action). Messages and exception types follow
launch's jazzy branch (ros2/launch 09403fcebedb68dd259e9ab6b35bd8712b6596ec,
launch/actions/declare_launch_argument.py).
"""

from launch.substitutions import normalize_to_list_of_substitutions, perform_substitutions


class DeclareLaunchArgument:
    def __init__(self, name: str, *, default_value=None, description=None, choices=None,
                 **kwargs):
        if kwargs:
            raise TypeError(f'DeclareLaunchArgument got unexpected arguments {sorted(kwargs)}')
        if not isinstance(name, str):
            raise TypeError(f'DeclareLaunchArgument name must be a str, got {name!r}')
        self.name = name
        self.default_value = (None if default_value is None
                              else normalize_to_list_of_substitutions(default_value))
        self.description = description
        self.choices = choices

    def execute(self, context):
        if self.name not in context.launch_configurations:
            if self.default_value is None:
                raise RuntimeError(f'Required launch argument "{self.name}" was not provided.')
            context.launch_configurations[self.name] = perform_substitutions(
                context, self.default_value)
        value = context.launch_configurations[self.name]
        if self.choices is not None and value not in self.choices:
            raise RuntimeError(f'Argument "{self.name}" provided value "{value}" is not valid. '
                               f'Valid options are: {self.choices}')
