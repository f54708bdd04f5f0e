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
"""Helpers for tests that run real rclpy nodes in separate processes and talk to them over DDS."""

import contextlib
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent


class NodeProcess:
    """A node started as `python -m <module> --ros-args ...` in its own process group."""

    def __init__(self, module, params=None, remaps=None, params_file=None, args=(), env=None):
        self.module = module
        cmd = [sys.executable, '-m', module, *args, '--ros-args']
        for key, value in (params or {}).items():
            cmd += ['-p', f'{key}:={_ros_value(value)}']
        for src, dst in (remaps or {}).items():
            cmd += ['-r', f'{src}:={dst}']
        if params_file:
            cmd += ['--params-file', str(params_file)]
        self.cmd = cmd
        self.env = {**os.environ, **(env or {})}
        self.log = tempfile.NamedTemporaryFile('w+', prefix=module.split('.')[-1] + '-',
                                               suffix='.log', delete=False)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, cwd=REPO, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def output(self) -> str:
        return pathlib.Path(self.log.name).read_text(errors='replace')

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_for_output(self, text, timeout=20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if not self.alive():
                return text in self.output()
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGINT, timeout=10.0):
        """Send sig to the process group; escalate to SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if exc[0] is not None:
            sys.stderr.write(f'--- {self.module} output ---\n{self.output()}\n')


def _ros_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_ros_value(v) for v in value) + ']'
    return repr(value)


@contextlib.contextmanager
def peer_node(name='test_peer'):
    """An rclpy node in this test process, in its own Context, torn down afterwards."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor

    context = Context()
    rclpy.init(context=context)
    node = rclpy.create_node(name, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    node.executor_for_test = executor
    try:
        yield node
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def spin_until(node, predicate, timeout=10.0) -> bool:
    """Spin the test node until predicate() is true or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node.executor_for_test.spin_once(timeout_sec=0.02)
        if predicate():
            return True
    return predicate()


def call_service(node, client, request, timeout=10.0, resend_after=None):
    """client's answer to request within timeout seconds, or None.

    rmw_fastrtps drops an answer when the server has not matched the client's response reader
    100 ms after the request arrived ('failed to send response (timeout): client will not
    receive response'); service_is_ready() covers only the request direction, so a loaded
    machine loses the odd first answer of a new client. With resend_after, the request is sent
    again each resend_after seconds until one is answered: for idempotent requests only.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        future = client.call_async(request)
        if spin_until(node, future.done, left if resend_after is None else
                      min(resend_after, left)):
            return future.result()
        client.remove_pending_request(future)
        if resend_after is None or time.monotonic() >= deadline:
            return None
