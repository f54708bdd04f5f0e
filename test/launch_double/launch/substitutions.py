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

Substitutions: TextSubstitution, LaunchConfiguration, PathJoinSubstitution, and the helpers that
the real launch uses to normalise 'SomeSubstitutionsType' values (a str, a Substitution, or an
iterable of those, concatenated).
"""

import os


class SubstitutionFailure(RuntimeError):  # noqa: N818 (the real name)
    """A substitution that cannot be performed (as in launch.substitutions.SubstitutionFailure)."""


class Substitution:
    def perform(self, context) -> str:
        raise NotImplementedError


class TextSubstitution(Substitution):
    def __init__(self, *, text: str):
        if not isinstance(text, str):
            raise TypeError(f'TextSubstitution text must be a str, got {text!r}')
        self.text = text

    def perform(self, context) -> str:
        return self.text


def normalize_to_list_of_substitutions(subs) -> list:
    """str | Substitution | iterable of those -> list of Substitution (launch.utilities)."""
    if isinstance(subs, str):
        return [TextSubstitution(text=subs)]
    if isinstance(subs, Substitution):
        return [subs]
    try:
        items = list(subs)
    except TypeError:
        raise TypeError(f'expected str, Substitution or an iterable of them: {subs!r}') from None
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(TextSubstitution(text=item))
        elif isinstance(item, Substitution):
            out.append(item)
        else:
            raise TypeError(f'substitution list items must be str or Substitution, got {item!r}')
    return out


def perform_substitutions(context, subs) -> str:
    return ''.join(sub.perform(context) for sub in normalize_to_list_of_substitutions(subs))


class LaunchConfiguration(Substitution):
    def __init__(self, variable_name, *, default=None):
        self.variable_name = normalize_to_list_of_substitutions(variable_name)
        self.default = None if default is None else normalize_to_list_of_substitutions(default)

    def perform(self, context) -> str:
        name = perform_substitutions(context, self.variable_name)
        if name in context.launch_configurations:
            return context.launch_configurations[name]
        if self.default is None:
            raise SubstitutionFailure(f"launch configuration '{name}' does not exist")
        return perform_substitutions(context, self.default)


class PathJoinSubstitution(Substitution):
    def __init__(self, substitutions):
        self.substitutions = [normalize_to_list_of_substitutions(s) for s in substitutions]

    def perform(self, context) -> str:
        return os.path.join(*(perform_substitutions(context, s) for s in self.substitutions))
