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
"""`jepa-agent run CONFIG.yaml`: start a profile's nodes as child processes, like `ros2 launch`.

For machines without the launch tools (the PyPI ROS wheels ship none). The nodes come from
agent_node.bringup.profiles, as in launch/*.launch.py, so both start the same set:

    jepa-agent run config/sim_demo.yaml
    jepa-agent run my_robot.yaml --profile robot --model-dir models/mine --remap odom:=/wheel_odom

The robot, nav2 and nav2_goal profiles refuse to start without --model-dir: the shipped model
was trained in the simulator.

Each node's output is forwarded line by line with a `[node_name]` prefix. SIGINT or SIGTERM stops
all nodes (SIGINT to each, then SIGTERM, then SIGKILL after a timeout) and exits 0; a node that
exits on its own stops the others and makes the command exit 1, naming the node.
"""

import argparse
import pathlib
import sys

import yaml

from agent_node.bringup import profiles
from agent_node.bringup.supervisor import Child, LaunchError, Supervisor, node_command

NAME = 'jepa-agent run'
EXIT_USAGE = 2


def add_arguments(parser):
    parser.add_argument('config', help='ROS parameters YAML: config/<profile>.yaml '
                        f'({", ".join(profiles.PROFILES)}) or your copy of one')
    parser.add_argument('--profile', choices=profiles.PROFILES,
                        help='which nodes to start; default: the config file name')
    parser.add_argument('--model-dir', help='exported world model directory; required by '
                        'the robot, nav2 and nav2_goal profiles (sim_demo and gazebo default '
                        'to the shipped, simulator-trained share/jepa_agent/models/default)')
    parser.add_argument('--use-sim-time', action=argparse.BooleanOptionalAction, default=None,
                        help='follow /clock (default: on for gazebo, off otherwise)')
    parser.add_argument('--remap', action='append', default=[], metavar='FROM:=TO',
                        help='topic remapping for our nodes, e.g. odom:=/wheel_odom (repeatable)')
    parser.add_argument('--robot-name', help='gazebo profile: Gazebo model name of the robot')
    parser.add_argument('--only', metavar='NODE[,NODE...]',
                        help="start only these nodes of the profile, e.g. 'sim_node'")
    parser.add_argument('--shutdown-timeout', type=float, default=5.0,
                        help='seconds to wait after SIGINT, and again after SIGTERM, before '
                        'escalating')


# ----------------------------------------------------------------------------- planning

def profile_arguments(args) -> tuple[str, dict, list]:
    """(profile, overrides of the profile arguments, extra remaps) from the command line."""
    profile = args.profile or profiles.profile_for_config(args.config)
    overrides = {'config': str(pathlib.Path(args.config).resolve())}
    if args.model_dir is not None:
        overrides['model_dir'] = str(pathlib.Path(args.model_dir).resolve())
    if args.use_sim_time is not None:
        overrides['use_sim_time'] = 'true' if args.use_sim_time else 'false'
    if getattr(args, 'robot_name', None) is not None:
        if profile != 'gazebo':
            raise LaunchError(f'--robot-name only applies to the gazebo profile, not '
                              f'{profile!r}')
        overrides['robot_name'] = args.robot_name
    topic_argument = {topic: arg for arg, topic in profiles.topic_arguments(profile)}
    extra = []
    for rule in args.remap:
        src, sep, dst = rule.partition(':=')
        if not sep or not src or not dst:
            raise LaunchError(f'--remap {rule!r}: expected FROM:=TO, e.g. odom:=/wheel_odom')
        if src in topic_argument:
            overrides[topic_argument[src]] = dst
        else:
            extra.append((src, dst))
    return profile, overrides, extra


def plan(args) -> tuple[str, dict, list]:
    """(profile, argument values, node specs) for the command line; LaunchError if invalid."""
    try:
        profile, overrides, extra = profile_arguments(args)
        values = profiles.resolve_arguments(profile, profiles.share_directory(), overrides)
        specs = profiles.node_specs(profile, values, extra_remaps=extra)
    except ValueError as exc:
        raise LaunchError(str(exc)) from None
    if getattr(args, 'only', None):
        names = [n.strip() for n in args.only.split(',') if n.strip()]
        unknown = [n for n in names if n not in [s.name for s in specs]]
        if unknown or not names:
            raise LaunchError(f'--only {args.only!r}: profile {profile!r} has the nodes '
                              f'{", ".join(s.name for s in specs)}')
        specs = [s for s in specs if s.name in names]
    return profile, values, specs


def check_config(path, profile: str, specs) -> list[str]:
    """LaunchError for an unreadable config; warnings for sections that match no node."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise LaunchError(f'config file {str(path)!r} does not exist')
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except yaml.YAMLError as exc:
        raise LaunchError(f'config file {str(path)!r} is not valid YAML: {exc}') from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise LaunchError(f'config file {str(path)!r} must map node names to '
                          f'{{ros__parameters: ...}} sections')
    names = [s.name for s in specs if s.param_files]
    warnings = []
    for section, body in data.items():
        if not isinstance(body, dict) or 'ros__parameters' not in body:
            raise LaunchError(f'config file {str(path)!r}: section {section!r} has no '
                              f'ros__parameters mapping')
        section = str(section)
        node = section.rsplit('/', 1)[-1]
        if '*' in node:
            continue
        if node not in names:
            warnings.append(f'config section {section!r} in {path} matches no node of profile '
                            f'{profile!r} (nodes: {", ".join(names)})')
        elif not section.startswith('/**/'):
            # rcl matches 'name:' only against the fully qualified /name.
            warnings.append(f'config section {section!r} in {path} applies only outside a '
                            f'namespace; write /**/{node}: to match it in any namespace')
    return warnings


# ----------------------------------------------------------------------------- entry point

def run(args) -> int:
    try:
        profile, values, specs = plan(args)
        warnings = check_config(values['config'], profile, specs)
        if any('model_dir' in s.parameters for s in specs):
            if not pathlib.Path(values['model_dir']).is_dir():
                warnings.append(f'model_dir {values["model_dir"]!r} does not exist')
        children = [Child(spec.name, node_command(spec)) for spec in specs]
    except LaunchError as exc:
        print(f'{NAME}: error: {exc}', file=sys.stderr)
        return EXIT_USAGE
    for warning in warnings:
        print(f'{NAME}: warning: {warning}', file=sys.stderr)
    print(f'{NAME}: profile {profile!r}, config {values["config"]}: '
          f'{", ".join(c.name for c in children)}', file=sys.stderr)
    return Supervisor(children, shutdown_timeout=args.shutdown_timeout).run()
