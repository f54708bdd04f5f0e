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
"""TransitionGuard in-process: invalid requests are refused and counted, valid ones reach rclpy."""

from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
import pytest

from agent_node.ros.lifecycle import GuardedLifecycleNode, TransitionGuard

pytestmark = pytest.mark.ros


@pytest.fixture
def context():
    import rclpy
    from rclpy.context import Context

    ctx = Context()
    rclpy.init(context=ctx)
    yield ctx
    rclpy.try_shutdown(context=ctx)


def ask(node, transition_id=0, label=''):
    """What the executor does with a change_state request: call the service's callback."""
    request = ChangeState.Request(transition=Transition(id=transition_id, label=label))
    return node._service_change_state.callback(request, ChangeState.Response()).success


def test_invalid_requests_are_refused_and_valid_ones_change_the_state(context):
    node = GuardedLifecycleNode('guard_unit', context=context)
    try:
        guard = node.transition_guard
        assert guard.installed and guard.status() == (
            'OK', '', {'lifecycle_transitions_rejected': 0})
        assert ask(node, Transition.TRANSITION_ACTIVATE) is False  # unconfigured: would raise
        assert ask(node, label='activate') is False
        assert guard.rejected == 2 and "state 'unconfigured' [1]" in guard.last_rejected
        assert 'valid transitions: configure [1], shutdown [5]' in guard.last_rejected
        level, message, values = guard.status()
        assert (level, values['lifecycle_transitions_rejected']) == ('WARN', 2)
        assert message == '2 invalid lifecycle transition request(s) refused'
        assert guard.status()[0] == 'OK'  # reported once; the count stays
        assert ask(node, Transition.TRANSITION_CONFIGURE) is True
        assert node._state_machine.current_state[1] == 'inactive'
        assert ask(node, label='activate') is True
        assert node._state_machine.current_state[1] == 'active'
        assert guard.rejected == 2
    finally:
        node.destroy_node()


def test_a_failing_forward_is_answered_not_raised(context):
    from rclpy.lifecycle import LifecycleNode

    node = LifecycleNode('guard_forward', context=context)
    try:
        guard = TransitionGuard(node)

        def late_failure(request, response):  # e.g. rclpy's own check raising after ours
            raise RuntimeError('Transition is not registered')

        guard._forward = late_failure
        assert ask(node, Transition.TRANSITION_CONFIGURE) is False
        assert 'failed: RuntimeError: Transition is not registered' in guard.last_rejected
    finally:
        node.destroy_node()


def test_without_the_communication_interface_the_guard_stays_out_of_the_way(context):
    node = GuardedLifecycleNode('guard_none', context=context,
                                enable_communication_interface=False)
    try:
        assert node.transition_guard.installed is False
        assert node.transition_guard.status()[0] == 'OK'
    finally:
        node.destroy_node()
