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

The launch files are evaluated with the real launch API where it is installed, else with the
test double in test/launch_double (put on sys.path by the fixture below, for these tests only;
`launch` cannot be installed from PyPI). Each evaluated launch_ros Node is compared with the
command line of the child process the launcher would start.
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
from agent_node.bringup.supervisor import ros_arguments

REPO = pathlib.Path(__file__).resolve().parent.parent
DOUBLE = REPO / 'test' / 'launch_double'
LAUNCH = REPO / 'launch'
MODEL = '/tmp/jepa_model'
BANNER = ('TEST DOUBLE of the ROS 2 launch API: launch cannot be installed here; this evaluates '
          'our launch files in tests only.')
ALLOWED_IMPORTS = {'launch', 'launch_ros', 'ament_index_python', 'os', 'agent_node', 'world_model'}


@pytest.fixture(scope='module')
def evaluator():
    import launch_evaluation

    print(f'launch API: {launch_evaluation.use_launch_api()}')
    try:
        yield launch_evaluation
    finally:
        launch_evaluation.forget_launch_api()


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
    arguments = argv[1:argv.index('--ros-args')]
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
            'arguments': arguments}


def launcher_nodes(cli_args) -> list[dict]:
    parser = argparse.ArgumentParser()
    launcher.add_arguments(parser)
    _profile, _values, specs = launcher.plan(parser.parse_args(cli_args))
    return [from_launcher(s, ['prog', *s.arguments, *ros_arguments(s)]) for s in specs]


SHARE = profiles.share_directory()
CASES = {
    'robot-defaults': ('agent.launch.py', {'model_dir': MODEL},
                       [f'{SHARE}/config/robot.yaml', '--model-dir', MODEL]),
    'robot-overrides': (
        'agent.launch.py',
        {'model_dir': MODEL, 'use_sim_time': 'true', 'camera_topic': '/front/image',
         'odom_topic': '/wheel/odom', 'cmd_vel_topic': '/base/cmd_vel',
         'camera_info_topic': '/front/camera_info'},
        [f'{SHARE}/config/robot.yaml', '--model-dir', '/tmp/jepa_model', '--use-sim-time',
         '--remap', 'camera/image_raw:=/front/image', '--remap', 'odom:=/wheel/odom',
         '--remap', 'cmd_vel:=/base/cmd_vel',
         '--remap', 'camera/camera_info:=/front/camera_info']),
    'robot-own-config': ('agent.launch.py', {'config': str(REPO / 'config' / 'robot.yaml'),
                                             'model_dir': MODEL},
                         [str(REPO / 'config' / 'robot.yaml'), '--profile', 'robot',
                          '--model-dir', MODEL]),
    'sim-demo-defaults': ('sim_demo.launch.py', {}, [str(REPO / 'config' / 'sim_demo.yaml')]),
    'sim-demo-wall-clock': ('sim_demo.launch.py', {'use_sim_time': 'false'},
                            [str(REPO / 'config' / 'sim_demo.yaml'), '--no-use-sim-time']),
    'gazebo-defaults': ('gazebo.launch.py', {}, [str(REPO / 'config' / 'gazebo.yaml')]),
    'gazebo-robot-name': ('gazebo.launch.py', {'robot_name': 'diffbot'},
                          [str(REPO / 'config' / 'gazebo.yaml'), '--robot-name', 'diffbot']),
    'nav2-defaults': ('nav2.launch.py', {'model_dir': MODEL},
                      [str(REPO / 'config' / 'nav2.yaml'), '--model-dir', MODEL]),
    'nav2-own-cmd-vel': ('nav2.launch.py', {'model_dir': MODEL, 'cmd_vel_topic': '/mux/jepa'},
                         [str(REPO / 'config' / 'nav2.yaml'), '--model-dir', MODEL,
                          '--remap', 'cmd_vel:=/mux/jepa']),
    'nav2-goal-defaults': ('nav2_goal.launch.py', {'model_dir': MODEL},
                           [str(REPO / 'config' / 'nav2_goal.yaml'), '--model-dir', MODEL]),
    'nav2-goal-topic': ('nav2_goal.launch.py', {'model_dir': MODEL,
                                                'nav2_goal_topic': '/robot1/goal_pose'},
                        [str(REPO / 'config' / 'nav2_goal.yaml'), '--model-dir', MODEL,
                         '--remap', 'goal_pose:=/robot1/goal_pose']),
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


def test_gazebo_topics_bridge_and_odom_frame_follow_robot_name(evaluator):
    nodes = {n['name']: from_launch(n) for n in evaluator.evaluate_launch_file(
        LAUNCH / 'gazebo.launch.py', {'robot_name': 'diffbot'})}
    assert list(nodes) == ['world_model_node', 'planner_node', 'cmd_vel_relay', 'gz_bridge']
    shared = [('camera/image_raw', '/camera'), ('camera/camera_info', '/camera_info'),
              ('odom', '/model/diffbot/odometry'), ('cmd_vel', '/model/diffbot/cmd_vel')]
    assert nodes['world_model_node']['remappings'] == shared
    assert nodes['world_model_node']['parameters'] == {
        'use_sim_time': True, 'model_dir': os.path.join(SHARE, 'models', 'default'),
        'odom_frame': 'diffbot/odom'}  # DiffDrive's default frame_id: <model>/odom
    assert nodes['planner_node']['parameters']['odom_frame'] == 'diffbot/odom'
    # planner -> planner/cmd_vel -> cmd_vel_relay (timeout) -> the bridged DiffDrive topic
    assert nodes['planner_node']['remappings'] == [('cmd_vel', 'planner/cmd_vel')] + shared
    assert nodes['cmd_vel_relay']['remappings'][:2] == [
        ('cmd_vel_in', 'planner/cmd_vel'), ('cmd_vel_out', '/model/diffbot/cmd_vel')]
    bridge = nodes['gz_bridge']
    assert (bridge['package'], bridge['executable']) == ('ros_gz_bridge', 'parameter_bridge')
    assert bridge['parameters'] == {'use_sim_time': True}
    assert bridge['arguments'] == [
        '/clock@rosgraph_msgs/msg/Clock[gz.msgs.Clock',
        '/model/diffbot/odometry@nav_msgs/msg/Odometry[gz.msgs.Odometry',
        '/model/diffbot/cmd_vel@geometry_msgs/msg/Twist]gz.msgs.Twist',
        '/camera@sensor_msgs/msg/Image[gz.msgs.Image',
        '/camera_info@sensor_msgs/msg/CameraInfo[gz.msgs.CameraInfo']
    # every topic our nodes use on the Gazebo side is bridged, in the right direction
    bridged = {a.split('@')[0]: a for a in bridge['arguments']}
    for _topic, target in shared:
        assert target in bridged, target
    assert ']' in bridged['/model/diffbot/cmd_vel'] and '[' in bridged['/camera']


def test_sim_demo_and_nav2_profiles_resolve_the_expected_nodes(evaluator):
    sim = {n['name']: from_launch(n) for n in evaluator.evaluate_launch_file(
        LAUNCH / 'sim_demo.launch.py')}
    assert list(sim) == ['sim_node', 'world_model_node', 'planner_node']
    assert sim['planner_node']['parameters'] == {'use_sim_time': False}
    assert sim['sim_node']['param_files'] == [os.path.realpath(REPO / 'config' /
                                                               'sim_demo.yaml')]
    nav2 = {n['name']: from_launch(n) for n in evaluator.evaluate_launch_file(
        LAUNCH / 'nav2.launch.py', {'model_dir': MODEL})}
    assert list(nav2) == ['world_model_node', 'planner_node']
    # into Nav2's chain at the collision monitor's input (nav2_bringup Jazzy: cmd_vel_in_topic)
    assert ('cmd_vel', 'cmd_vel_smoothed') in nav2['planner_node']['remappings']
    assert nav2['world_model_node']['parameters']['model_dir'] == MODEL
    goal = {n['name']: from_launch(n) for n in evaluator.evaluate_launch_file(
        LAUNCH / 'nav2_goal.launch.py', {'model_dir': MODEL})}
    assert list(goal) == ['world_model_node', 'nav2_goal_relay']  # no planner: Nav2 drives
    assert ('goal_pose', 'goal_pose') in goal['nav2_goal_relay']['remappings']
    assert all(src != 'cmd_vel' for n in goal.values() for src, _ in n['remappings'])


@pytest.mark.parametrize('launch_file', ['agent.launch.py', 'nav2.launch.py',
                                         'nav2_goal.launch.py'])
def test_real_robot_launch_files_refuse_to_start_without_model_dir(evaluator, launch_file):
    with pytest.raises(RuntimeError, match='Required launch argument "model_dir" was not '
                                           'provided'):
        evaluator.evaluate_launch_file(LAUNCH / launch_file)
    assert evaluator.declared_arguments(LAUNCH / launch_file)['model_dir'].default_value is None


@pytest.mark.parametrize('config', ['robot', 'nav2', 'nav2_goal'])
def test_jepa_agent_run_refuses_a_real_robot_profile_without_model_dir(config):
    proc = subprocess.run([sys.executable, '-m', 'agent_node.cli', 'run',
                           str(REPO / 'config' / f'{config}.yaml')], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == launcher.EXIT_USAGE, proc.stderr
    assert f"profile '{config}' needs model_dir" in proc.stderr
    assert 'simulator-trained' in proc.stderr and 'Traceback' not in proc.stderr
    assert 'started' not in proc.stderr  # no node was started


def test_user_remap_wins_over_topic_defaults():
    nodes = launcher_nodes([str(REPO / 'config' / 'robot.yaml'), '--model-dir', MODEL,
                            '--remap', '/tf:=/robot/tf', '--remap', 'odom:=/odometry/filtered'])
    remaps = nodes[0]['remappings']
    assert remaps[0] == ('/tf', '/robot/tf')  # rcl applies the first matching rule
    assert ('odom', '/odometry/filtered') in remaps and ('odom', 'odom') not in remaps


def test_profile_is_inferred_from_the_config_name_or_refused_clearly():
    assert profiles.profile_for_config('/x/sim_demo.yaml') == 'sim_demo'
    with pytest.raises(ValueError, match=r'cannot infer the profile .*--profile'):
        profiles.profile_for_config('/x/my_robot.yaml')
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['robot_name'\]"):
        profiles.resolve_arguments('robot', SHARE, {'robot_name': 'x'})
    with pytest.raises(ValueError, match="profile 'nav2' needs model_dir"):
        profiles.resolve_arguments('nav2', SHARE)
    assert profiles.resolve_arguments('gazebo', SHARE)['model_dir'] == \
        profiles.default_model_dir(SHARE)


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
    assert launcher.run(parser.parse_args([str(bad), '--model-dir', MODEL])) == \
        launcher.EXIT_USAGE
    assert 'is not valid YAML' in capsys.readouterr().err
    assert launcher.run(parser.parse_args([str(tmp_path / 'robot.yaml'), '--model-dir', MODEL,
                                           '--remap', 'odom'])) == launcher.EXIT_USAGE
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


def test_config_sections_without_a_namespace_wildcard_are_warned_about(tmp_path):
    config = tmp_path / 'robot.yaml'
    config.write_text('planner_node:\n  ros__parameters: {v_max: 0.3}\n'
                      '/**/world_model_node:\n  ros__parameters: {threads: 1}\n'
                      '/**/someone_else:\n  ros__parameters: {x: 1}\n')
    specs = profiles.node_specs('robot', profiles.resolve_arguments(
        'robot', SHARE, {'config': str(config), 'model_dir': MODEL}))
    warnings = launcher.check_config(config, 'robot', specs)
    assert len(warnings) == 2, warnings
    assert "'planner_node'" in warnings[0] and 'write /**/planner_node:' in warnings[0]
    assert "'/**/someone_else'" in warnings[1] and 'matches no node' in warnings[1]


def test_launch_double_is_labelled_and_only_importable_from_tests():
    for path in DOUBLE.rglob('*.py'):
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and ' '.join(doc.split()).startswith(BANNER), path
    # Outside the fixture `import launch` finds the real API (a ROS 2 install) or nothing.
    probe = ('import importlib.util as u\n'
             'for m in ("launch", "launch_ros"):\n'
             '    s = u.find_spec(m)\n'
             '    print(s.origin if s else None)')
    out = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True,
                         cwd=REPO / 'test', check=True).stdout.split()
    assert len(out) == 2 and not any(str(DOUBLE) in origin for origin in out), out


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
    from world_model.command_timeout import CommandTimeoutConfig
    from world_model.envs import SimConfig
    from world_model.goal_forwarding import GoalForwardingConfig
    from world_model.memory.latent_store import MemoryConfig
    from world_model.planning.planner_config import PlannerConfig

    return {'sim_node': [(SimConfig, ''), (sim_node.SimNodeConfig, '')],
            'planner_node': [(PlannerConfig, ''), (planner_node.PlannerNodeConfig, '')],
            'world_model_node': [(world_model_node.WorldModelNodeConfig, ''),
                                 (MemoryConfig, world_model_node.MEMORY_PREFIX)],
            'cmd_vel_relay': [(CommandTimeoutConfig, '')],
            'nav2_goal_relay': [(GoalForwardingConfig, '')]}


@pytest.mark.parametrize('profile', profiles.PROFILES)
def test_config_files_set_only_declared_parameters_within_their_ranges(profile):
    from world_model.config import field_specs, from_dict

    data = yaml.safe_load((REPO / 'config' / f'{profile}.yaml').read_text())
    nodes = profiles.PROFILE_NODES[profile]
    # /**/<node> matches the node in any namespace; a bare <node>: only /<node>.
    assert set(data) <= {'/**', *(f'/**/{n}' for n in nodes)}, f'{profile}: {set(data)}'
    shared = flatten(data.get('/**', {}).get('ros__parameters', {}))
    configs = node_configs()
    used_shared = set()
    for node in nodes:
        own = flatten(data.get(f'/**/{node}', {}).get('ros__parameters', {}))
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
