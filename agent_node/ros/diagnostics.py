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
"""Rate-limited error logging and /diagnostics reporting shared by every jepa_agent node.

A node must never die on a bad message, and must not flood the log when a sensor sends garbage at
30 Hz either. `BurstLogger` logs the first error of a burst in full, then at most one summary
('N more in the last X s') per interval, and keeps per-kind counters. `DiagnosticsReporter`
publishes those counters with the node's own status as diagnostic_msgs/DiagnosticArray on
/diagnostics (absolute: the ROS convention that diagnostic aggregators and rqt expect).

Naming follows diagnostic_updater: each status is called `<node>: <task>` (e.g.
`world_model_node: world model`), where <node> is the node's fully qualified name without the
leading slash. In the root namespace that is exactly diagnostic_updater's `get_name(): task`; in
a namespace (`robot1/world_model_node: world model`) two robots sharing the absolute
/diagnostics topic stay apart. hardware_id defaults to the host name, the machine the node runs
on (diagnostic_updater leaves it empty and warns that this is probably a bug).

`BurstCounter`, `status_fields` and `merge_status` hold the logic without ROS, so they are
testable on their own.
"""

import dataclasses
import math
import socket
import time

LEVELS = {'OK': 0, 'WARN': 1, 'ERROR': 2, 'STALE': 3}
DIAGNOSTICS_TOPIC = '/diagnostics'


@dataclasses.dataclass
class _KindState:
    total: int = 0
    suppressed: int = 0  # occurrences since the last line logged for this kind
    last_logged: float = -math.inf
    last_seen: float = -math.inf
    last_message: str = ''


class BurstCounter:
    """Decides which lines to log for repeated errors; ROS-free, with an injectable clock.

    The first occurrence of a kind after `interval` seconds of quiet starts a burst and is logged
    in full. Later occurrences are counted; a summary line is due once `interval` seconds have
    passed since the last line of that kind (on the next occurrence, or from `flush()`).
    """

    def __init__(self, interval: float = 5.0, clock=time.monotonic):
        if not interval > 0:
            raise ValueError(f'interval must be > 0 s, got {interval!r}')
        self.interval = float(interval)
        self._clock = clock
        self._kinds: dict[str, _KindState] = {}

    def record(self, kind: str, message: str) -> list[str]:
        """Count one occurrence; return the lines to log now (possibly none)."""
        now = self._clock()
        state = self._kinds.setdefault(kind, _KindState())
        state.total += 1
        lines = []
        if now - state.last_seen >= self.interval:
            # A new burst: close the previous one, then show this error in full.
            if state.suppressed:
                lines.append(self._summary(kind, state, now))
            lines.append(f'{kind}: {message}')
            state.suppressed = 0
            state.last_logged = now
        else:
            state.suppressed += 1
            if now - state.last_logged >= self.interval:
                state.last_message = message
                lines.append(self._summary(kind, state, now))
                state.suppressed = 0
                state.last_logged = now
        state.last_seen = now
        state.last_message = message
        return lines

    def flush(self) -> list[tuple[str, str]]:
        """(kind, summary line) for each kind whose suppressed occurrences are due."""
        now = self._clock()
        lines = []
        for kind, state in self._kinds.items():
            if state.suppressed and now - state.last_logged >= self.interval:
                lines.append((kind, self._summary(kind, state, now)))
                state.suppressed = 0
                state.last_logged = now
        return lines

    @staticmethod
    def _summary(kind: str, state: _KindState, now: float) -> str:
        return (f'{kind}: {state.suppressed} more in the last {now - state.last_logged:.1f} s '
                f'({state.total} in total; latest: {state.last_message})')

    def count(self, kind: str) -> int:
        state = self._kinds.get(kind)
        return 0 if state is None else state.total

    @property
    def counts(self) -> dict[str, int]:
        """Total occurrences per kind since start."""
        return {kind: state.total for kind, state in self._kinds.items()}


class BurstLogger:
    """Logs errors through node.get_logger() once per burst, with per-kind counters."""

    def __init__(self, node, interval: float = 5.0, clock=time.monotonic):
        self._logger = node.get_logger()
        self.counter = BurstCounter(interval, clock)
        self._levels: dict[str, str] = {}

    def error(self, kind: str, message: str):
        self._log('error', kind, str(message))

    def warning(self, kind: str, message: str):
        self._log('warning', kind, str(message))

    def _log(self, level: str, kind: str, message: str):
        self._levels[kind] = level
        for line in self.counter.record(kind, message):
            self._emit(level, line)

    def flush(self):
        """Log summaries that are due although no new occurrence arrived."""
        for kind, line in self.counter.flush():
            self._emit(self._levels.get(kind, 'error'), line)

    def _emit(self, level: str, line: str):
        # One call site per severity: rclpy raises ValueError when a call site changes severity.
        if level == 'error':
            self._logger.error(line)
        else:
            self._logger.warning(line)

    def count(self, kind: str) -> int:
        return self.counter.count(kind)

    @property
    def counts(self) -> dict[str, int]:
        return self.counter.counts


def _format_value(value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        return f'{value:.6g}'
    return str(value)


def status_fields(level, message: str, values: dict | None = None) -> tuple[int, str, list]:
    """Validated (level number, message, [(key, value string)]) of one DiagnosticStatus.

    level is 'OK' / 'WARN' / 'ERROR' / 'STALE' or the matching number 0-3.
    """
    if isinstance(level, str):
        if level.upper() not in LEVELS:
            raise ValueError(f'unknown diagnostic level {level!r}: use one of {sorted(LEVELS)}')
        number = LEVELS[level.upper()]
    else:
        number = int(level)
        if number not in LEVELS.values():
            raise ValueError(f'unknown diagnostic level {level!r}: use 0-3 or {sorted(LEVELS)}')
    pairs = [(str(k), _format_value(v)) for k, v in (values or {}).items()]
    return number, str(message), pairs


def status_name(node_name: str, task: str) -> str:
    """`<node>: <task>`, the diagnostic_updater convention; node_name without a leading '/'."""
    return f'{node_name.lstrip("/")}: {task}'


def default_hardware_id() -> str:
    """The host name; 'none' (diagnostic_updater's word for no hardware id) if it is unknown."""
    return socket.gethostname() or 'none'


def merge_status(number: int, message: str, pairs: list, extra) -> tuple[int, str, list]:
    """Fold one extra (level, message, values) into a status: the worse level wins, the message
    of a non-OK extra is appended, its values are added. extra None changes nothing."""
    if extra is None:
        return number, message, pairs
    level, extra_message, values = extra
    extra_number, extra_message, extra_pairs = status_fields(level, extra_message, values)
    if extra_number != LEVELS['OK'] and extra_message:
        message = f'{message}; {extra_message}' if message else extra_message
    return max(number, extra_number), message, pairs + extra_pairs


class DiagnosticsReporter:
    """Publishes one DiagnosticStatus for this node on /diagnostics every `period` seconds.

    Reports are timed on the steady clock and stamped with the node's clock (sim time if used).
    The node sets its status with `set(level, message, values)`, or passes `status`, a callable
    returning (level, message, values) that is polled at publish time. With `burst_logger`, its
    per-kind error counts are appended as 'errors.<kind>' values, and new errors since the last
    report raise an OK status to WARN so that a silent stream of bad input is visible.
    `add_source(fn)` adds further checks polled at publish time (merge_status), e.g. a
    persistent memory ERROR or rejected lifecycle transitions. The status is named
    status_name(node, task); hardware_id defaults to default_hardware_id().
    """

    def __init__(self, node, period: float = 1.0, status=None, burst_logger=None,
                 hardware_id: str = '', task: str = 'status'):
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.clock import Clock, ClockType

        if not period > 0:
            raise ValueError(f'diagnostics period must be > 0 s, got {period!r}')
        self._node = node
        self._status = status
        self._burst_logger = burst_logger
        self._hardware_id = hardware_id or default_hardware_id()
        self._current = ('OK', 'starting', {})
        self._reported_errors = 0
        self._sources = []
        self.name = status_name(node.get_fully_qualified_name(), task)
        self._publisher = node.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, 10)
        # Steady clock: reports keep coming when simulated time stalls (no /clock publisher).
        self._timer = node.create_timer(period, self.publish,
                                        clock=Clock(clock_type=ClockType.STEADY_TIME))

    def set(self, level, message: str, values: dict | None = None):
        status_fields(level, message, values)  # fail at the call site, not in the timer
        self._current = (level, message, dict(values or {}))

    def add_source(self, source):
        """Poll source() -> None or (level, message, values) in every report (merge_status)."""
        self._sources.append(source)

    def _merge_sources(self, number, message, pairs):
        for source in self._sources:
            try:
                extra = source()
            except Exception as exc:  # a broken check must not stop the reports
                extra = ('ERROR', f'diagnostic check failed: {type(exc).__name__}: {exc}', {})
            number, message, pairs = merge_status(number, message, pairs, extra)
        return number, message, pairs

    def build(self):
        """The DiagnosticArray that publish() would send now."""
        from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

        level, message, values = self._status() if self._status else self._current
        values = dict(values or {})
        number, message, pairs = status_fields(level, message, values)
        if self._burst_logger is not None:
            self._burst_logger.flush()
            counts = self._burst_logger.counts
            pairs += [(f'errors.{kind}', str(n)) for kind, n in sorted(counts.items())]
            total = sum(counts.values())
            new = total - self._reported_errors
            self._reported_errors = total
            if new > 0 and number == LEVELS['OK']:
                number = LEVELS['WARN']
                message = f'{message}; {new} input error(s) since the last report'
        number, message, pairs = self._merge_sources(number, message, pairs)
        status = DiagnosticStatus(level=bytes([number]), name=self.name, message=message,
                                  hardware_id=self._hardware_id,
                                  values=[KeyValue(key=k, value=v) for k, v in pairs])
        array = DiagnosticArray(status=[status])
        array.header.stamp = self._node.get_clock().now().to_msg()
        return array

    def publish(self):
        self._publisher.publish(self.build())

    def destroy(self):
        self._node.destroy_timer(self._timer)
        self._node.destroy_publisher(self._publisher)
