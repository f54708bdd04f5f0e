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
"""The shipped parameter files apply under a namespace (-r __ns:=/robot1), read back from the
running node's parameter service: a bare 'planner_node:' key matches only /planner_node, so the
files use '/**/planner_node:'."""

import pathlib

import pytest
from ros_process import NodeProcess, call_service, peer_node, spin_until
from test_launcher import Launcher
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
NAMESPACE = '/robot1'

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def parameters(peer, node: str, names: list[str]) -> dict:
    from rcl_interfaces.srv import GetParameters
    from rclpy.parameter import parameter_value_to_python

    client = peer.create_client(GetParameters, f'{node}/get_parameters')
    assert spin_until(peer, client.service_is_ready, timeout=30.0), f'no {node}/get_parameters'
    response = call_service(peer, client, GetParameters.Request(names=names), timeout=20.0,
                            resend_after=2.0)
    peer.destroy_client(client)
    assert response is not None, f'{node}/get_parameters did not answer'
    return {n: parameter_value_to_python(v) for n, v in zip(names, response.values)}


def planner_section(config: pathlib.Path) -> dict:
    return yaml.safe_load(config.read_text())['/**/planner_node']['ros__parameters']


@pytest.mark.parametrize('profile', ['robot', 'nav2'])
def test_node_sections_apply_under_a_namespace(profile, tmp_path):
    config = REPO / 'config' / f'{profile}.yaml'
    wanted = planner_section(config)
    assert wanted['v_max'] != 0.5  # differs from the default, or this test proves nothing
    # The same values under a bare key: what the files had before. rcl ignores them here.
    bare = tmp_path / 'bare.yaml'
    bare.write_text(yaml.safe_dump({'planner_node': {'ros__parameters': wanted}}))
    names = sorted(wanted)
    with peer_node('ns_params_test') as peer:
        for params_file, expect_applied in ((config, True), (bare, False)):
            node = NodeProcess('agent_node.planner_node', remaps={'__ns': NAMESPACE},
                               params_file=params_file)
            with node:
                got = parameters(peer, f'{NAMESPACE}/planner_node', names)
            assert (got == wanted) is expect_applied, (params_file.name, got, node.output())
        assert got['v_max'] == 0.5  # the bare key left the default in force


def test_jepa_agent_run_applies_the_file_under_a_namespace_remap():
    config = REPO / 'config' / 'robot.yaml'
    wanted = planner_section(config)
    launcher = Launcher(config, '--model-dir', REPO / 'models' / 'default', '--only',
                        'planner_node', '--remap', f'__ns:={NAMESPACE}')
    try:
        with peer_node('ns_run_test') as peer:
            got = parameters(peer, f'{NAMESPACE}/planner_node', sorted(wanted))
        assert got == wanted, launcher.report()
        assert 'applies only outside a namespace' not in launcher.stderr()
    finally:
        launcher.kill()
