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
"""A lifecycle manager asking world_model_node for an invalid transition gets success=false and a
logged reason; the node stays up, keeps serving, and valid transitions still work."""

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
import pytest
from ros_process import NodeProcess, peer_node
from test_world_model_node import NODE, WorldModelPeer, export_tiny_model, node_params

pytestmark = [pytest.mark.ros, pytest.mark.slow]

ACTIVE_HINT = "not valid in state 'active' [3]; valid transitions: deactivate [4], shutdown [7]"


@pytest.fixture(scope='module')
def tiny_model_dir(tmp_path_factory):
    return export_tiny_model(tmp_path_factory.mktemp('wm_lifecycle'))


def request(peer, transition_id=0, label='') -> bool:
    transition = Transition(id=transition_id, label=label)
    return peer.call(ChangeState, '/world_model_node/change_state',
                     ChangeState.Request(transition=transition)).success


def test_invalid_transitions_are_refused_and_the_node_keeps_serving(tiny_model_dir, tmp_path):
    params = node_params(tiny_model_dir, tmp_path / 'memory.sqlite3')
    with NodeProcess(NODE, params=params) as proc, peer_node('wm_lifecycle') as node:
        peer = WorldModelPeer(node)
        assert proc.wait_for_output('active:', timeout=60), proc.output()
        assert peer.process_one() is not None, proc.output()

        # what nav2_lifecycle_manager sends (by id): this one used to kill the process
        assert request(peer, Transition.TRANSITION_CONFIGURE) is False
        assert proc.alive(), proc.output()
        assert proc.wait_for_output(f'lifecycle transition id 1 (configure) is {ACTIVE_HINT}'
                                    ), proc.output()
        assert request(peer, label='configure') is False  # by label, as `ros2 lifecycle set`
        assert proc.wait_for_output(f"lifecycle transition 'configure' is {ACTIVE_HINT}")
        assert request(peer, 99) is False  # no such transition at all
        assert proc.wait_for_output("id 99 (unknown) is not valid in state 'active'")
        assert proc.alive() and peer.lifecycle_state() == 'active'

        report = peer.wait_diagnostics(
            lambda v: v.get('lifecycle_transitions_rejected') == '3', timeout=20)
        assert report is not None, proc.output()
        assert 'id 99' in report['lifecycle_last_rejected']
        assert any(level == 1 and 'invalid lifecycle transition request(s) refused' in message
                   for level, message, _ in peer.diagnostics), peer.diagnostics[-3:]
        assert peer.process_one() is not None  # still serving

        # valid transitions afterwards behave as before, by id and by label
        assert request(peer, Transition.TRANSITION_DEACTIVATE) is True
        assert peer.lifecycle_state() == 'inactive'
        assert request(peer, label='deactivate') is False  # invalid again, now when inactive
        assert proc.wait_for_output("lifecycle transition 'deactivate' is not valid in state "
                                    "'inactive' [2]; valid transitions: cleanup [2], activate "
                                    "[3], shutdown [6]"), proc.output()
        assert request(peer, label='activate') is True
        assert peer.lifecycle_state() == 'active'
        assert peer.process_one() is not None, proc.output()
        assert proc.alive()
    assert 'Traceback' not in proc.output() and 'RCLError' not in proc.output(), proc.output()
