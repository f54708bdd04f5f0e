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
"""The launch files start exactly the nodes `jepa-agent run` starts, for every profile.

`launch` cannot be installed here, so the launch files are evaluated with the test double in
test/launch_double (put on sys.path by the fixture below, for these tests only). Each evaluated
launch_ros Node is compared with the --ros-args of the child process the launcher would start.
"""

import argparse
import ast
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from agent_node.bringup import profiles
from agent_node.bringup import run_cmd as launcher

REPO = pathlib.Path(__file__).resolve().parent.parent
DOUBLE = REPO / 'test' / 'launch_double'
LAUNCH = REPO / 'launch'
BANNER = ('TEST DOUBLE of the ROS 2 launch API: launch cannot be installed here; this evaluates '
          'our launch files in tests only.')
ALLOWED_IMPORTS = {'launch', 'launch_ros', 'ament_index_python', 'os', 'agent_node', 'world_model'}


@pytest.fixture(scope='module')
def evaluator():
    sys.path.insert(0, str(DOUBLE))
    try:
        import launch_evaluator

        yield launch_evaluator
    finally:
        sys.path.remove(str(DOUBLE))
        for name in list(sys.modules):
            if name.split('.')[0] in ('launch', 'launch_ros', 'launch_evaluator'):
                del sys.modules[name]


def from_launch(node) -> dict:
    """Comparable form of a node evaluated by the launch double."""
    kinds = [kind for kind, _ in node['parameter_entries']]
    assert kinds == sorted(kinds, key=lambda k: k != 'file'), 'parameter files must come first'
    parameters = {}
    for kind, value in node['parameter_entries']:
        if kind == 'dict':
            parameters.update(value)
    return {'package': node['package'], 'executable': node['executable'], 'name': node['name'],
            'param_files': [os.path.realpath(v) for k, v in node['parameter_entries']
                            if k == 'file'],
            'parameters': parameters, 'remappings': node['remappings'],
            'arguments': node['arguments'] + node['ros_arguments']}


def from_launcher(spec, argv) -> dict:
    """Comparable form of a launcher child: parse its --ros-args like rcl does."""
    ros = argv[argv.index('--ros-args') + 1:]
    name, files, parameters, remaps = None, [], {}, []
    for flag, value in zip(ros[::2], ros[1::2]):
        if flag == '--params-file':
            files.append(os.path.realpath(value))
        elif flag == '-p':
            key, _, text = value.partition(':=')
            parameters[key] = yaml.safe_load(text)  # rcl parses -p values as YAML
        elif flag == '-r' and value.startswith('__node:='):
            name = value.partition(':=')[2]
        elif flag == '-r':
            remaps.append(tuple(value.split(':=', 1)))
        else:
            raise AssertionError(f'unexpected ros argument {flag} {value}')
    return {'package': spec.package, 'executable': spec.executable, 'name': name,
            'param_files': files, 'parameters': parameters, 'remappings': remaps,
            'arguments': []}


def launcher_nodes(cli_args) -> list[dict]:
    parser = argparse.ArgumentParser()
    launcher.add_arguments(parser)
    _profile, _values, specs = launcher.plan(parser.parse_args(cli_args))
    return [from_launcher(s, ['prog', *launcher.ros_arguments(s)]) for s in specs]


SHARE = profiles.share_directory()
CASES = {
    'robot-defaults': ('agent.launch.py', {}, [f'{SHARE}/config/robot.yaml']),
    'robot-overrides': (
        'agent.launch.py',
        {'model_dir': '/tmp/jepa_model', 'use_sim_time': 'true', 'camera_topic': '/front/image',
         'odom_topic': '/wheel/odom', 'cmd_vel_topic': '/base/cmd_vel',
         'camera_info_topic': '/front/camera_info'},
        [f'{SHARE}/config/robot.yaml', '--model-dir', '/tmp/jepa_model', '--use-sim-time',
         '--remap', 'camera/image_raw:=/front/image', '--remap', 'odom:=/wheel/odom',
         '--remap', 'cmd_vel:=/base/cmd_vel',
         '--remap', 'camera/camera_info:=/front/camera_info']),
    'robot-own-config': ('agent.launch.py', {'config': str(REPO / 'config' / 'robot.yaml')},
                         [str(REPO / 'config' / 'robot.yaml'), '--profile', 'robot']),
    'sim-demo-defaults': ('sim_demo.launch.py', {}, [str(REPO / 'config' / 'sim_demo.yaml')]),
    'sim-demo-wall-clock': ('sim_demo.launch.py', {'use_sim_time': 'false'},
                            [str(REPO / 'config' / 'sim_demo.yaml'), '--no-use-sim-time']),
    'gazebo-defaults': ('gazebo.launch.py', {}, [str(REPO / 'config' / 'gazebo.yaml')]),
    'gazebo-robot-name': ('gazebo.launch.py', {'robot_name': 'diffbot'},
                          [str(REPO / 'config' / 'gazebo.yaml'), '--robot-name', 'diffbot']),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_launch_file_starts_what_jepa_agent_run_starts(evaluator, case):
    launch_file, launch_args, cli_args = CASES[case]
    launched = [from_launch(n) for n in evaluator.evaluate_launch_file(LAUNCH / launch_file,
                                                                        launch_args)]
    started = launcher_nodes(cli_args)
    assert [n['name'] for n in launched] == [n['name'] for n in started]
    for a, b in zip(launched, started):
        assert a == b, f'{case}: node {a["name"]} differs'


def test_launch_files_resolve_the_expected_topics_and_parameters(evaluator):
    nodes = {n['name']: n for n in evaluator.evaluate_launch_file(
        LAUNCH / 'gazebo.launch.py', {'robot_name': 'diffbot'})}
    assert sorted(nodes) == ['gz_bridge', 'planner_node', 'world_model_node']
    wm = from_launch(nodes['world_model_node'])
    assert dict(wm['remappings']) == {'camera/image_raw': '/camera',
                                      'camera/camera_info': '/camera_info',
                                      'odom': '/model/diffbot/odometry',
                                      'cmd_vel': '/model/diffbot/cmd_vel'}
    assert wm['parameters'] == {'use_sim_time': True,
                                'model_dir': os.path.join(SHARE, 'models', 'default')}
    bridge = from_launch(nodes['gz_bridge'])
    assert (bridge['package'], bridge['executable']) == ('ros_gz_bridge', 'parameter_bridge')
    assert bridge['parameters'] == {'use_sim_time': True, 'config_file': os.path.join(
        SHARE, 'config', 'gz_bridge.yaml')}
    sim = {n['name']: from_launch(n) for n in evaluator.evaluate_launch_file(
        LAUNCH / 'sim_demo.launch.py')}
    assert list(sim) == ['sim_node', 'world_model_node', 'planner_node']
    assert sim['planner_node']['parameters'] == {'use_sim_time': False}
    assert sim['sim_node']['param_files'] == [os.path.realpath(REPO / 'config' /
                                                               'sim_demo.yaml')]


def test_undeclared_launch_argument_is_rejected(evaluator):
    with pytest.raises(ValueError, match="'robot_name'"):
        evaluator.evaluate_launch_file(LAUNCH / 'agent.launch.py', {'robot_name': 'x'})


def test_user_remap_wins_over_topic_defaults():
    nodes = launcher_nodes([str(REPO / 'config' / 'robot.yaml'), '--remap',
                            '/tf:=/robot/tf', '--remap', 'odom:=/odometry/filtered'])
    remaps = nodes[0]['remappings']
    assert remaps[0] == ('/tf', '/robot/tf')  # rcl applies the first matching rule
    assert ('odom', '/odometry/filtered') in remaps and ('odom', 'odom') not in remaps


def test_shipped_bridge_config_bridges_every_topic_the_gazebo_nodes_use():
    values = profiles.resolve_arguments('gazebo', SHARE)
    assert profiles.bridge_problems(values) == []
    topics = profiles.bridge_topics(values['bridge_config'])
    assert topics == {'/clock': 'GZ_TO_ROS', '/model/robot/odometry': 'GZ_TO_ROS',
                      '/model/robot/cmd_vel': 'ROS_TO_GZ', '/camera': 'GZ_TO_ROS',
                      '/camera_info': 'GZ_TO_ROS'}
    entries = yaml.safe_load((REPO / 'config' / 'gz_bridge.yaml').read_text())
    for entry in entries:
        assert set(entry) == {'ros_topic_name', 'gz_topic_name', 'ros_type_name',
                              'gz_type_name', 'direction'}
        assert entry['gz_type_name'].startswith('gz.msgs.')
    other = dict(values, robot_name='diffbot', odom_topic='/model/diffbot/odometry')
    assert profiles.bridge_problems(other) == [
        f"'/model/diffbot/odometry' (used as odom) is not bridged by {values['bridge_config']}"]


def test_profile_is_inferred_from_the_config_name_or_refused_clearly():
    assert profiles.profile_for_config('/x/sim_demo.yaml') == 'sim_demo'
    with pytest.raises(ValueError, match=r'cannot infer the profile .*--profile'):
        profiles.profile_for_config('/x/my_robot.yaml')
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['robot_name'\]"):
        profiles.resolve_arguments('robot', SHARE, {'robot_name': 'x'})


def test_missing_node_package_fails_with_a_message_not_a_traceback(capsys):
    parser = argparse.ArgumentParser()
    launcher.add_arguments(parser)
    code = launcher.run(parser.parse_args([str(REPO / 'config' / 'gazebo.yaml')]))
    err = capsys.readouterr().err
    assert code == launcher.EXIT_USAGE
    assert "node 'gz_bridge' needs package 'ros_gz_bridge'" in err
    assert 'ros-jazzy-ros-gz-bridge' in err and 'Traceback' not in err


def test_bad_config_and_remap_fail_with_a_message(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    launcher.add_arguments(parser)
    bad = tmp_path / 'robot.yaml'
    bad.write_text('world_model_node: [unclosed\n')
    assert launcher.run(parser.parse_args([str(bad)])) == launcher.EXIT_USAGE
    assert 'is not valid YAML' in capsys.readouterr().err
    assert launcher.run(parser.parse_args([str(tmp_path / 'robot.yaml'), '--remap', 'odom'])) \
        == launcher.EXIT_USAGE
    assert 'expected FROM:=TO' in capsys.readouterr().err
    missing = parser.parse_args([str(tmp_path / 'nothing' / 'sim_demo.yaml')])
    assert launcher.run(missing) == launcher.EXIT_USAGE
    assert 'does not exist' in capsys.readouterr().err


@pytest.mark.parametrize('path', sorted(LAUNCH.glob('*.launch.py')), ids=lambda p: p.name)
def test_launch_files_import_only_the_launch_api_and_our_packages(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    compile(tree, str(path), 'exec')
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, 'relative imports do not work in launch files'
            roots.add(node.module.split('.')[0])
    assert roots <= ALLOWED_IMPORTS, f'{path.name} imports {sorted(roots - ALLOWED_IMPORTS)}'
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert 'generate_launch_description' in functions


def test_console_scripts_run_the_modules_the_launcher_runs():
    scripts = dict(re.findall(r"'([\w-]+) = ([\w.]+):main'", (REPO / 'setup.py').read_text()))
    for name, module in profiles.OUR_NODES.items():
        assert scripts[name] == module


def test_launch_double_is_labelled_and_only_importable_from_tests():
    for path in DOUBLE.rglob('*.py'):
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and ' '.join(doc.split()).startswith(BANNER), path
    probe = 'import importlib.util as u; print(u.find_spec("launch"), u.find_spec("launch_ros"))'
    out = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True,
                         cwd=REPO / 'test', check=True).stdout
    assert out.split() == ['None', 'None']


def flatten(params: dict, prefix: str = '') -> dict:
    out = {}
    for key, value in params.items():
        if isinstance(value, dict):
            out.update(flatten(value, f'{prefix}{key}.'))
        else:
            out[f'{prefix}{key}'] = value
    return out


def node_configs() -> dict:
    """Node name -> [(config dataclass, parameter prefix)] as each node declares them."""
    from agent_node import planner_node, sim_node, world_model_node
    from world_model.envs import SimConfig
    from world_model.memory.latent_store import MemoryConfig
    from world_model.planning.planner_config import PlannerConfig

    return {'sim_node': [(SimConfig, ''), (sim_node.SimNodeConfig, '')],
            'planner_node': [(PlannerConfig, ''), (planner_node.PlannerNodeConfig, '')],
            'world_model_node': [(world_model_node.WorldModelNodeConfig, ''),
                                 (MemoryConfig, world_model_node.MEMORY_PREFIX)]}


@pytest.mark.parametrize('profile', profiles.PROFILES)
def test_config_files_set_only_declared_parameters_within_their_ranges(profile):
    from world_model.config import field_specs, from_dict

    data = yaml.safe_load((REPO / 'config' / f'{profile}.yaml').read_text())
    nodes = profiles.PROFILE_NODES[profile]
    assert set(data) <= {'/**', *nodes}, f'sections for nodes not in {profile}: {set(data)}'
    shared = flatten(data.get('/**', {}).get('ros__parameters', {}))
    configs = node_configs()
    used_shared = set()
    for node in nodes:
        own = flatten(data.get(node, {}).get('ros__parameters', {}))
        declared = {'use_sim_time'}
        for cls, prefix in configs[node]:
            names = {s.name for s in field_specs(cls)}
            declared |= {prefix + n for n in names}
            values = {**shared, **own}
            picked = {k[len(prefix):]: v for k, v in values.items()
                      if k.startswith(prefix) and k[len(prefix):] in names}
            from_dict(cls, picked, where=f'{profile}.yaml {node}: ')  # ranges and types
        assert set(own) <= declared, f'{node}: undeclared {sorted(set(own) - declared)}'
        assert 'use_sim_time' not in own and 'model_dir' not in own, 'set by the launch args'
        used_shared |= set(shared) & declared
    assert used_shared == set(shared), f'/**: declared by no node: {set(shared) - used_shared}'
