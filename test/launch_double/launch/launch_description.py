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

LaunchDescription: an ordered list of actions, as returned by generate_launch_description().
"""


class LaunchDescription:
    def __init__(self, initial_entities=None, *, deprecated_reason=None):
        self._entities = list(initial_entities or [])
        for entity in self._entities:
            if not hasattr(entity, 'execute'):
                raise TypeError(f'LaunchDescription entities must be actions, got {entity!r}')

    @property
    def entities(self):
        return list(self._entities)

    def add_action(self, action):
        self._entities.append(action)
