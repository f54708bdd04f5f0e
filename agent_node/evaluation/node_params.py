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
"""The ROS parameters file of the evaluation harness: config/sim_demo.yaml with its overrides.

The simulator runs in lockstep on simulated time with the episode layout; the staleness
timeouts are relaxed because lockstep pauses simulated time; node overrides come last.
"""

import dataclasses
import os

import yaml

from agent_node.bringup import profiles
from world_model.config import from_dict
from world_model.envs import SimConfig
from world_model.evaluation.protocol import HarnessConfig


def merge(base: dict, extra: dict) -> dict:
    """base with extra's values, nested dictionaries merged key by key."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def node_parameters(config: HarnessConfig, memory_path: str, base_config=None,
                    node_overrides=None) -> dict:
    """The ROS parameters file of a run: config/sim_demo.yaml with lockstep overrides.

    node_overrides ({node name: {parameter: value}}) come last, e.g. planner weights to try.
    Sections are keyed '/**/<node>' as in the shipped files, so overrides merge into them.
    """
    base_config = base_config or os.path.join(profiles.share_directory(), 'config',
                                              'sim_demo.yaml')
    with open(base_config, encoding='utf-8') as f:
        base = yaml.safe_load(f) or {}
    timeout = config.watchdog_timeout
    overrides = {
        '/**/sim_node': {'ros__parameters': {
            'step_mode': 'lockstep', 'publish_clock': True,
            'lockstep_timeout': config.lockstep_timeout, 'layout': config.layout,
            'distractors': config.distractors}},
        '/**/world_model_node': {'ros__parameters': {
            'odom_timeout_s': timeout, 'memory': {'path': memory_path}}},
        '/**/planner_node': {'ros__parameters': {
            'method': config.method, 'futures_timeout_s': timeout, 'odom_timeout_s': timeout}},
    }
    for node, values in (node_overrides or {}).items():
        overrides = merge(overrides, {f'/**/{node}': {'ros__parameters': dict(values)}})
    return merge(base, overrides)


def node_config_of(parameters: dict, node: str, cls, group: str = ''):
    """cls from a parameters file's '/**' and node sections (the parameters that are its
    fields), as that node builds it; group: a nested group of them ('map': map.*)."""
    values = {}
    for section in ('/**', f'/**/{node}', node, f'/{node}'):
        found = (parameters.get(section) or {}).get('ros__parameters') or {}
        values.update((found.get(group) or {}) if group else found)
    names = {f.name for f in dataclasses.fields(cls)}
    return from_dict(cls, {k: v for k, v in values.items() if k in names})


def sim_config_of(parameters: dict) -> SimConfig:
    """The SimConfig that sim_node builds from a parameters file's '/**' and sim_node sections."""
    return node_config_of(parameters, 'sim_node', SimConfig)
