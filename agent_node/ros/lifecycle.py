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
"""A lifecycle node that answers an invalid ~/change_state request instead of dying.

rclpy on Jazzy triggers a requested transition without checking it first: a `configure`
requested by id from an active node (a lifecycle manager that restarted, a stray `ros2 service
call`) raises RCLError ("Transition is not registered") out of the service callback, through
the executor, and the process exits (ros2/rclpy#1209; rolling catches it since ros2/rclpy#1319,
Jazzy does not). A request by label was already answered with success=false, silently.

`TransitionGuard` wraps the change_state service callback: a request (by label when it has one,
as rclpy resolves it, else by id) that is not among the current state's available transitions
is answered with success=false, logged with the current state and the valid transitions, and
counted for /diagnostics; valid requests reach rclpy's own callback unchanged. On an rclpy that
already checks, nothing invalid gets through either way; on one whose internals differ (no
change_state service object, no state machine) the guard stays out of the way.
`GuardedLifecycleNode` is rclpy's LifecycleNode with the guard installed.
"""

from lifecycle_msgs.srv import ChangeState
from rclpy.lifecycle import LifecycleNode


class TransitionGuard:
    """Answers invalid change_state requests of `node` with success=false (module docstring)."""

    def __init__(self, node):
        self._node = node
        self.rejected = 0
        self.last_rejected = ''
        self._reported = 0
        service = getattr(node, '_service_change_state', None)
        self._machine = getattr(node, '_state_machine', None)
        self.installed = service is not None and self._machine is not None
        if self.installed:
            self._forward = service.callback
            service.callback = self.on_change_state

    def problem(self, transition) -> str | None:
        """Why transition (lifecycle_msgs/Transition) is invalid now; None when it is valid."""
        state_id, state_label = self._machine.current_state
        available = [(t[0], t[1]) for t in self._machine.available_transitions]
        if transition.label:
            if transition.label in (label for _, label in available):
                return None
            requested = f'{transition.label!r}'
        else:
            if transition.id in (tid for tid, _ in available):
                return None
            names = {tid: label for tid, label, *_ in self._machine.transition_graph}
            requested = f'id {transition.id} ({names.get(transition.id, "unknown")})'
        valid = ', '.join(f'{label} [{tid}]' for tid, label in available) or 'none'
        return (f'lifecycle transition {requested} is not valid in state {state_label!r} '
                f'[{state_id}]; valid transitions: {valid}')

    def on_change_state(self, request, response):
        try:
            problem = self.problem(request.transition)
        except Exception:  # internals we do not know: let rclpy decide, as without the guard
            problem = None
        if problem is None:
            try:
                return self._forward(request, response)
            except Exception as exc:  # rclpy's own check failed late: still never die
                asked = request.transition.label or request.transition.id
                problem = f'lifecycle transition {asked} failed: {type(exc).__name__}: {exc}'
        self.rejected += 1
        self.last_rejected = problem
        self._node.get_logger().error(f'change_state refused: {problem}')
        answer = response if response is not None else ChangeState.Response()
        answer.success = False
        return answer

    def status(self) -> tuple:
        """(level, message, values) for DiagnosticsReporter.add_source: WARN in the first report
        after a new rejection, the count always."""
        values = {'lifecycle_transitions_rejected': self.rejected}
        if self.rejected:
            values['lifecycle_last_rejected'] = self.last_rejected
        new, self._reported = self.rejected - self._reported, self.rejected
        if new > 0:
            return 'WARN', f'{new} invalid lifecycle transition request(s) refused', values
        return 'OK', '', values


class GuardedLifecycleNode(LifecycleNode):
    """rclpy's LifecycleNode whose ~/change_state refuses invalid transitions (module docstring).

    transition_guard.status is a ready-made DiagnosticsReporter source.
    """

    def __init__(self, node_name, **kwargs):
        super().__init__(node_name, **kwargs)
        self.transition_guard = TransitionGuard(self)
