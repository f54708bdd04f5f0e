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
"""Our launch files meet launch/launch_ros as `ros2 launch` runs them (Jazzy), with the real API
where it is installed and the test double otherwise: so the double cannot drift from the real
behaviour unnoticed on a machine that has both.
"""

import pytest
from test_launch import LAUNCH, MODEL, from_launch


@pytest.fixture(scope='module')
def api():
    import launch_evaluation

    print(f'launch API: {launch_evaluation.use_launch_api()}')
    try:
        yield launch_evaluation
    finally:
        launch_evaluation.forget_launch_api()


def test_undeclared_launch_argument_is_ignored_like_ros2_launch(api):
    plain = api.evaluate_launch_file(LAUNCH / 'agent.launch.py', {'model_dir': MODEL})
    extra = api.evaluate_launch_file(LAUNCH / 'agent.launch.py',
                                           {'model_dir': MODEL, 'robot_name': 'x'})
    assert [from_launch(n) for n in extra] == [from_launch(n) for n in plain]


def test_a_missing_parameter_file_is_skipped_like_ros2_launch(api, tmp_path):
    missing = tmp_path / 'nothing.yaml'
    nodes = api.evaluate_launch_file(LAUNCH / 'agent.launch.py',
                                           {'model_dir': MODEL, 'config': str(missing)})
    for node in nodes:
        assert from_launch(node)['param_files'] == []
        assert from_launch(node)['parameters']['use_sim_time'] is False  # still applied
        if 'warnings' in node:  # the double keeps what the real launch logs
            assert node['warnings'] == [f'Parameter file path is not a file: {missing}']


def evaluate_parameter(api, value, name='jepa_node'):
    """The value launch_ros gives parameter p = value (a LaunchConfiguration 'v' is set to
    the string in the tuple form ('v', text))."""
    from launch import LaunchDescription
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    arguments = {}
    if isinstance(value, tuple):
        arguments['v'] = value[1]
        value = LaunchConfiguration('v')
    node = Node(package='jepa_agent', executable='planner_node', name=name,
                parameters=[{'p': value}])
    [evaluated] = api.evaluate_description(LaunchDescription([node]), arguments)
    return from_launch(evaluated)['parameters']['p']


@pytest.mark.parametrize('value, expected', [
    (('v', ''), ''), (('v', 'true'), True), (('v', '3'), 3), (('v', '0.5'), 0.5),
    (('v', 'models/x'), 'models/x'), (('v', '[1, 2]'), [1, 2]), ('true', 'true'),
    ('', ''), (False, False), ([1, 2.5], [1.0, 2.5]), (['a', 'b'], ['a', 'b'])])
def test_parameter_values_are_evaluated_like_launch_ros(api, value, expected):
    result = evaluate_parameter(api, value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize('value', [('v', '[]'), ('v', '{a: 1}'), ('v', '[1, a]'), [],
                                   [1, 'a'], [True, 1]])
def test_empty_or_mixed_parameter_values_raise_like_launch_ros(api, value):
    with pytest.raises(TypeError):
        evaluate_parameter(api, value)


@pytest.mark.parametrize('name', ['', '1node', 'my-node'])
def test_invalid_node_names_raise_like_launch_ros(api, name):
    with pytest.raises(Exception, match='(?i)node name'):
        evaluate_parameter(api, 1, name=name)
