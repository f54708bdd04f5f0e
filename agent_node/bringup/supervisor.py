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
"""Child node processes and the Supervisor that starts, watches and stops them.

Shared by `jepa-agent run` and the evaluation harness: each child runs in its own process group
with its output forwarded line by line behind a `[name]` prefix; SIGINT or SIGTERM stops all
(SIGINT to each, then SIGTERM, then SIGKILL after a timeout).
"""

import contextlib
import ctypes
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

# Exit statuses of a node that stopped because it was asked to (exit code, or -signal).
STOPPED_ON_REQUEST = (0, -signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT,
                      128 + signal.SIGTERM)
EXIT_NODE_FAILED = 1


class LaunchError(RuntimeError):
    """A problem found before any node starts (bad config, missing executable, ...)."""


def ros_arguments(spec) -> list[str]:
    """The --ros-args a launch_ros Node with the same spec passes (name, params, remaps)."""
    out = ['--ros-args', '-r', f'__node:={spec.name}']
    for path in spec.param_files:
        out += ['--params-file', path]
    for key, value in spec.parameters.items():
        out += ['-p', f'{key}:={value}']
    for src, dst in spec.remappings:
        out += ['-r', f'{src}:={dst}']
    return out


def node_command(spec) -> list[str]:
    """The whole command line of a node: program, its own arguments, then --ros-args."""
    return executable_for(spec) + list(spec.arguments) + ros_arguments(spec)


def executable_for(spec) -> list[str]:
    """The program to run: our nodes through this interpreter, others from the ament index."""
    if spec.module is not None:
        return [sys.executable, '-m', spec.module]
    try:
        from ament_index_python.packages import get_package_prefix

        prefix = get_package_prefix(spec.package)
    except (ImportError, LookupError) as exc:
        raise LaunchError(f'node {spec.name!r} needs package {spec.package!r} '
                          f'({spec.executable}), which is not installed here ({exc}); '
                          f'{spec.install_hint or "install it"}') from None
    path = pathlib.Path(prefix) / 'lib' / spec.package / spec.executable
    if not os.access(path, os.X_OK):
        raise LaunchError(f'node {spec.name!r}: {path} is missing or not executable; '
                          f'{spec.install_hint or "reinstall " + spec.package}')
    return [str(path)]


def parent_death_signal():
    """preexec_fn: the child gets SIGTERM if this launcher dies without stopping it (Linux)."""
    if not sys.platform.startswith('linux'):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not in the child

    def set_pdeathsig():
        prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG

    return set_pdeathsig


class Child:
    """One node process in its own process group, its output forwarded with a prefix."""

    def __init__(self, name: str, argv: list[str]):
        self.name = name
        self.argv = argv
        self.proc = None
        self.reader = None

    def start(self, env, preexec_fn):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True, preexec_fn=preexec_fn)

    def forward_output(self, out, lock):
        prefix = f'[{self.name}] '

        def pump():
            writable = True
            for raw in iter(self.proc.stdout.readline, b''):
                if not writable:
                    continue  # keep draining: a full pipe would block the node
                line = raw.decode('utf-8', errors='replace').rstrip('\r\n')
                with lock:
                    try:
                        out.write(prefix + line + '\n')
                        out.flush()
                    except (OSError, ValueError):  # our stdout was closed (e.g. `| head`)
                        writable = False
            self.proc.stdout.close()

        self.reader = threading.Thread(target=pump, name=f'output-{self.name}', daemon=True)
        self.reader.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    def exit_description(self) -> str:
        code = self.proc.returncode
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                return f'was killed by {signal.Signals(-code).name}'
        return f'exited with code {code}'


class Supervisor:
    """Starts children, waits for a stop signal or a child exit, and stops everything."""

    def __init__(self, children, out=None, shutdown_timeout: float = 5.0,
                 name: str = 'jepa-agent run'):
        self.children = children
        self.name = name
        self.out = out or sys.stdout
        self.lock = threading.Lock()
        self.shutdown_timeout = shutdown_timeout
        self.signals = []

    def say(self, message: str):
        with self.lock:
            sys.stderr.write(f'{self.name}: {message}\n')
            sys.stderr.flush()

    def _on_signal(self, signum, _frame):
        self.signals.append(signum)

    def run(self) -> int:
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {s: signal.signal(s, self._on_signal) for s in handled}
        try:
            return self._run()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def start(self, env=None):
        """Start every child and forward its output; returns at once (run() = start + watch)."""
        env = {**(os.environ if env is None else env), 'PYTHONUNBUFFERED': '1'}
        preexec = parent_death_signal()
        # Start every process before any output thread: preexec_fn is only safe without threads.
        for child in self.children:
            if self.signals:
                break
            child.start(env, preexec)
        for child in self.children:
            if child.proc is not None:
                child.forward_output(self.out, self.lock)

    def exited(self) -> list:
        """The started children that are no longer running."""
        return [c for c in self.children if c.proc is not None and not c.alive()]

    def _run(self) -> int:
        self.start()
        for child in self.children:
            if child.proc is not None:
                self.say(f'started {child.name} (pid {child.proc.pid})')
        while True:
            if self.signals:
                name = signal.Signals(self.signals[0]).name
                self.say(f'{name} received: stopping {len(self.children)} node(s)')
                clean = self.stop()
                for child in self.children:
                    if child.proc is not None and child.proc.returncode not in STOPPED_ON_REQUEST:
                        clean = False
                        self.say(f'node {child.name} {child.exit_description()} while stopping')
                return 0 if clean else EXIT_NODE_FAILED
            dead = self.exited()
            if dead:
                self._drain(dead)
                for child in dead:
                    self.say(f'node {child.name} {child.exit_description()} unexpectedly; '
                             f'stopping the other nodes')
                self.stop()
                return EXIT_NODE_FAILED
            time.sleep(0.05)

    def _drain(self, children, timeout: float = 2.0):
        for child in children:
            if child.reader is not None:
                child.reader.join(timeout)

    def _wait(self, timeout: float, signals_seen: int) -> bool:
        """Wait until all children exit (True) or timeout, cut short by a further signal."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not any(c.alive() for c in self.children):
                return True
            if len(self.signals) > signals_seen:
                return False  # a second Ctrl-C: escalate now
            time.sleep(0.02)
        return not any(c.alive() for c in self.children)

    def stop(self) -> bool:
        """SIGINT, then SIGTERM, then SIGKILL; True if every node stopped at the first step."""
        graceful = True
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            alive = [c for c in self.children if c.alive()]
            if not alive:
                break
            if sig != signal.SIGINT:
                graceful = False
                self.say(f'{", ".join(c.name for c in alive)} still running: sending '
                         f'{sig.name}')
            for child in alive:
                child.signal(sig)
            self._wait(self.shutdown_timeout if sig != signal.SIGKILL else 5.0,
                       len(self.signals))
        for child in self.children:
            if child.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.proc.wait(1.0)
        self._drain([c for c in self.children if c.proc is not None])
        return graceful
