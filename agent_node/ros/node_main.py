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
"""The one main() body of every jepa_agent node: init, construct, spin, stop the robot, shut down.

rclpy's own SIGINT handler shuts the context down before anything else runs, so a planner could
not publish its final zero velocity. Here SIGINT and SIGTERM (ros2 launch, `jepa-agent run`,
Ctrl-C) only end the spin loop; on_exit still has a valid context, then rclpy shuts down.
A final message sent from on_exit is confirmed delivered (deliver_on_exit) before the node goes.
"""

from collections.abc import Callable
import signal
import threading

import rclpy
from rclpy.duration import Duration
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from world_model.config import ConfigError

SPIN_PERIOD_S = 0.1  # how soon a signal is noticed while no callback is due
# Fast DDS subscribers acknowledge on the writer's next heartbeat, 3 s after its last sample.
EXIT_DELIVERY_S = 4.0


def run_node(name: str, make_node: Callable[[], Node], args=None,
             on_start: Callable[[Node], None] | None = None,
             on_exit: Callable[[Node], None] | None = None) -> int:
    """Spin make_node() until SIGINT, SIGTERM or an external shutdown; the exit code.

    Invalid configuration (ConfigError from the constructor) is logged as fatal under name and
    exits 1. on_exit runs before destroy_node, with a valid context unless rclpy was shut down
    from elsewhere, e.g. to publish a zero velocity or flush a store; an error there (or in
    destroy_node) is logged, not raised, so rclpy is always shut down.
    """
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    node = None
    try:
        try:
            node = make_node()
        except ConfigError as exc:
            rclpy.logging.get_logger(name).fatal(f'invalid configuration: {exc}')
            return 1
        if on_start is not None:
            on_start(node)
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        while not stop.is_set() and rclpy.ok():
            executor.spin_once(timeout_sec=SPIN_PERIOD_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            steps = ([on_exit] if on_exit is not None else []) + [type(node).destroy_node]
            for step in steps:  # on_exit even after an external shutdown: release() commits
                try:
                    step(node)
                except Exception as exc:
                    rclpy.logging.get_logger(name).warning(
                        f'on exit: {type(exc).__name__}: {exc}')
        rclpy.try_shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def deliver_on_exit(publisher, logger, timeout_s: float = EXIT_DELIVERY_S) -> bool:
    """Block until every reliable subscriber acknowledged what publisher sent (for on_exit).

    Tearing the node down right after a publish can lose that last sample: a loaded subscriber
    takes it too late and drops it once the writer has gone, so a base would keep driving on
    its last command. False (and a warning) when some subscriber did not acknowledge in time.
    """
    if publisher.wait_for_all_acked(Duration(seconds=timeout_s)):
        return True
    logger.warning(f'{publisher.topic_name}: the final message was not acknowledged by every '
                   f'subscriber within {timeout_s} s')
    return False
