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
"""Burst-limited error logging and the /diagnostics reporter."""

import socket

import pytest
from ros_process import peer_node, spin_until

from agent_node.ros.diagnostics import (
    BurstCounter,
    BurstLogger,
    DiagnosticsReporter,
    merge_status,
    status_fields,
    status_name,
)


class ManualClock:
    """A clock the test advances by hand (seconds)."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_first_error_of_a_burst_is_logged_then_summarised_once_per_interval():
    clock = ManualClock()
    counter = BurstCounter(interval=5.0, clock=clock)
    assert counter.record('bad_image', 'width 0') == ['bad_image: width 0']
    lines = []
    for _ in range(30):  # 3 s of errors at 10 Hz: nothing more is logged
        clock.now += 0.1
        lines += counter.record('bad_image', 'width 0')
    assert lines == []
    clock.now += 2.5  # 5.5 s after the first line: the next error brings the summary
    lines = counter.record('bad_image', 'height 0')
    assert len(lines) == 1
    assert lines[0].startswith('bad_image: 31 more in the last 5.5 s')
    assert '32 in total' in lines[0] and 'latest: height 0' in lines[0]
    assert counter.count('bad_image') == 32


def test_kinds_are_independent_and_a_quiet_period_starts_a_new_burst():
    clock = ManualClock()
    counter = BurstCounter(interval=2.0, clock=clock)
    assert counter.record('a', 'x') == ['a: x']
    assert counter.record('b', 'y') == ['b: y']
    clock.now += 0.5
    assert counter.record('a', 'x2') == []
    clock.now += 10.0  # quiet: the pending 'a' summary comes out with the new burst's first line
    lines = counter.record('a', 'x3')
    assert lines[0].startswith('a: 1 more in the last') and lines[1] == 'a: x3'
    assert counter.counts == {'a': 3, 'b': 1}


def test_flush_emits_due_summaries_without_new_errors():
    clock = ManualClock()
    counter = BurstCounter(interval=1.0, clock=clock)
    counter.record('odom', 'stale')
    clock.now += 0.2
    counter.record('odom', 'stale')
    assert counter.flush() == []  # not due yet
    clock.now += 1.0
    (kind, line), = counter.flush()
    assert kind == 'odom' and line.startswith('odom: 1 more in the last 1.2 s')
    assert counter.flush() == []


def test_status_fields_validate_level_and_format_values():
    assert status_fields('warn', 'slow', {'rate': 12.5, 'ok': True, 'n': 3}) == (
        1, 'slow', [('rate', '12.5'), ('ok', 'true'), ('n', '3')])
    assert status_fields(2, 'bad')[0] == 2
    with pytest.raises(ValueError, match='unknown diagnostic level'):
        status_fields('FATAL', 'x')
    with pytest.raises(ValueError, match='unknown diagnostic level'):
        status_fields(7, 'x')


def test_status_names_follow_diagnostic_updater():
    assert status_name('world_model_node', 'world model') == 'world_model_node: world model'
    assert status_name('/world_model_node', 'world model') == 'world_model_node: world model'
    assert status_name('/robot1/planner_node', 'planner') == 'robot1/planner_node: planner'


def test_merge_status_keeps_the_worst_level_and_names_the_problem():
    base = (0, 'active', [('frames', '3')])
    assert merge_status(*base, None) == base
    assert merge_status(*base, ('OK', 'ignored', {'n': 0})) == (
        0, 'active', [('frames', '3'), ('n', '0')])
    number, message, pairs = merge_status(*base, ('ERROR', 'memory kept as /m.corrupt', {}))
    assert (number, message) == (2, 'active; memory kept as /m.corrupt')
    number, message, _ = merge_status(1, 'odometry stale', [], ('WARN', 'refused', {}))
    assert (number, message) == (1, 'odometry stale; refused')
    assert merge_status(3, 'stale', [], ('ERROR', 'x', {}))[0] == 3  # STALE stays STALE
    with pytest.raises(ValueError, match='unknown diagnostic level'):
        merge_status(*base, ('BAD', 'x', {}))


@pytest.mark.ros
def test_sources_raise_the_level_and_a_broken_source_is_reported_not_raised():
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError('boom')

    with peer_node('diag_sources') as source:
        reporter = DiagnosticsReporter(source, period=60.0, task='planner')
        reporter.set('OK', 'planning', {'plan_rate_hz': 60.0})
        reporter.add_source(lambda: None)
        reporter.add_source(lambda: ('ERROR', 'memory kept as /m.corrupt', {'kept': '/m'}))
        reporter.add_source(broken)
        status = reporter.build().status[0]
        assert status.name == 'diag_sources: planner' and status.level == b'\x02'
        assert status.message == ('planning; memory kept as /m.corrupt; diagnostic check '
                                  'failed: RuntimeError: boom')
        assert {kv.key: kv.value for kv in status.values} == {'plan_rate_hz': '60',
                                                              'kept': '/m'}
        assert calls == [1]
        reporter.destroy()


@pytest.mark.ros
def test_reporter_publishes_node_status_and_error_counts_on_diagnostics(capfd):
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

    received = []
    with peer_node('diag_source') as source, peer_node('diag_listener') as listener:
        burst = BurstLogger(source, interval=60.0)
        reporter = DiagnosticsReporter(source, period=0.1, burst_logger=burst)
        reporter.set('OK', 'running', {'frames': 7})
        listener.create_subscription(DiagnosticArray, '/diagnostics', received.append, 10)
        for _ in range(3):
            burst.error('bad_image', 'image too large: 4000x3000 > 1000000 pixels')
        # Only the first report is a WARN: the listener must be matched before the source's
        # timer can fire, and it fires only while the source spins.
        publisher = next(p for p in source.publishers if p.topic_name == '/diagnostics')
        assert spin_until(listener, lambda: publisher.get_subscription_count() > 0, 10.0)

        def pump():
            source.executor_for_test.spin_once(timeout_sec=0.01)
            return any(s.level == DiagnosticStatus.WARN for s in ours())

        # Other tests' nodes may still publish on this domain's /diagnostics: keep ours only.
        def ours():
            return [s for m in received for s in m.status if s.name == 'diag_source: status']

        assert spin_until(listener, pump, timeout=10.0), 'no WARN status on /diagnostics'
        warn = next(s for s in ours() if s.level == DiagnosticStatus.WARN)
        assert 'running' in warn.message and '3 input error(s)' in warn.message
        assert {kv.key: kv.value for kv in warn.values} == {'frames': '7',
                                                            'errors.bad_image': '3'}
        # With no new errors the next report is OK again, counters kept.
        received.clear()

        def ok_again():
            source.executor_for_test.spin_once(timeout_sec=0.01)
            return any(s.level == DiagnosticStatus.OK for s in ours())

        assert spin_until(listener, ok_again, timeout=10.0)
        mine = [m for m in received if m.status[0].name == 'diag_source: status']
        assert mine[-1].header.stamp.sec > 0
        assert mine[-1].status[0].hardware_id == socket.gethostname()
    err = capfd.readouterr().err
    assert err.count('image too large') == 1  # logged once for the burst of three


@pytest.mark.ros
def test_errors_and_warnings_of_one_logger_mix_without_raising(capfd):
    # rclpy refuses a second severity from one call site (ValueError); that killed nodes.
    with peer_node('diag_mixed') as node:
        burst = BurstLogger(node, interval=60.0)
        burst.error('cycle', 'planning cycle failed')
        burst.warning('bad_odom', 'odometry has non-finite values')
        burst.error('memory', 'write failed')
    err = capfd.readouterr().err
    assert all(err.count(text) == 1 for text in ('cycle failed', 'non-finite', 'write failed'))


@pytest.mark.ros
def test_reports_keep_coming_when_simulated_time_stands_still():
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.parameter import Parameter

    received = []
    with peer_node('diag_sim_time') as source, peer_node('diag_listener2') as listener:
        source.set_parameters([Parameter('use_sim_time', value=True)])  # no /clock anywhere
        reporter = DiagnosticsReporter(source, period=0.1, task='world model',
                                       hardware_id='cpu',
                                       status=lambda: ('ERROR', 'no model', {'model_dir': '/x'}))
        listener.create_subscription(DiagnosticArray, '/diagnostics', received.append, 10)

        name = 'diag_sim_time: world model'

        def ours():  # other nodes on this domain may report on /diagnostics too
            return [m for m in received if any(s.name == name for s in m.status)]

        def pump():
            source.executor_for_test.spin_once(timeout_sec=0.01)
            return len(ours()) >= 2

        assert spin_until(listener, pump, timeout=10.0)
        status = [s for m in received for s in m.status if s.name == name][-1]
        assert (status.level, status.message, status.hardware_id) == (b'\x02', 'no model', 'cpu')
        mine = ours()
        # stamped with the node's (stopped) sim clock, not wall time; tolerant of a stray
        # /clock from another session that shares this domain
        assert mine[-1].header.stamp.sec < 1_000_000
        reporter.destroy()
