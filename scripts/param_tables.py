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
"""Print the README parameter tables from the config dataclasses (the single definition).

    .venv/bin/python scripts/param_tables.py                  # print them
    .venv/bin/python scripts/param_tables.py --update README.md  # replace them in place

test/test_readme.py checks that README.md contains exactly these tables, so the documented
names, defaults and ranges cannot drift from what the nodes declare.
"""

import argparse
import importlib
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # this checkout first
from world_model.config import field_specs  # noqa: E402

# (heading, [(module, class, ROS parameter prefix)])
NODES = [
    ('sim_node', [('world_model.envs.sim_config', 'SimConfig', ''),
                  ('agent_node.sim_node', 'SimNodeConfig', '')]),
    ('world_model_node', [('agent_node.world_model_node', 'WorldModelNodeConfig', ''),
                          ('world_model.memory.latent_store', 'MemoryConfig', 'memory.'),
                          ('world_model.memory.map_config', 'MapConfig', 'map.')]),
    ('planner_node', [('world_model.planning.planner_config', 'PlannerConfig', ''),
                      ('agent_node.planner_node', 'PlannerNodeConfig', '')]),
    ('cmd_vel_relay', [('world_model.command_timeout', 'CommandTimeoutConfig', '')]),
    ('nav2_goal_relay', [('world_model.goal_forwarding', 'GoalForwardingConfig', '')]),
]


def _fmt(value):
    if isinstance(value, str):
        return f"'{value}'" if value else "''"
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def table(entries) -> str:
    lines = ['| parameter | default | allowed | description |', '| --- | --- | --- | --- |']
    for module, name, prefix in entries:
        cls = getattr(importlib.import_module(module), name)
        for spec in field_specs(cls):
            allowed = spec.allowed().replace('|', '/')
            lines.append(f'| `{prefix}{spec.name}` | `{_fmt(spec.default)}` | {allowed} | '
                         f'{spec.help.replace("|", "/")} |')
    return '\n'.join(lines)


def render() -> str:
    parts = []
    for heading, entries in NODES:
        parts.append(f'#### {heading}\n\n{table(entries)}\n')
    return '\n'.join(parts)


def replace_tables(text: str, tables: str) -> str:
    """text with its block from the first '#### <node>' heading through the last table row
    replaced by tables."""
    first = f'#### {NODES[0][0]}\n'
    start = text.index(first)
    last = text.index(f'#### {NODES[-1][0]}\n', start)
    lines = text[last:].splitlines(keepends=True)
    i = 1
    while i < len(lines) and not lines[i].startswith('|'):
        i += 1
    while i < len(lines) and lines[i].startswith('|'):
        i += 1
    return text[:start] + tables.rstrip('\n') + '\n' + text[last + len(''.join(lines[:i])):]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--update', metavar='README', help='replace the tables in this file')
    args = parser.parse_args(argv)
    tables = render()
    if args.update is None:
        print(tables)
        return 0
    path = pathlib.Path(args.update)
    path.write_text(replace_tables(path.read_text(encoding='utf-8'), tables), encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
