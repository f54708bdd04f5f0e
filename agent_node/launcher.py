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
"""`jepa-agent run CONFIG.yaml`: start a profile's nodes as child processes, like `ros2 launch`.

For machines without the launch tools (the PyPI ROS wheels ship none). The nodes come from
agent_node.node_sets, as in launch/*.launch.py, so both start the same set:

    jepa-agent run config/sim_demo.yaml
    jepa-agent run my_robot.yaml --profile robot --model-dir models/mine --remap odom:=/wheel_odom

Each node's output is forwarded line by line with a `[node_name]` prefix. SIGINT or SIGTERM stops
all nodes (SIGINT to each, then SIGTERM, then SIGKILL after a timeout) and exits 0; a node that
exits on its own stops the others and makes the command exit 1, naming the node.
"""

import argparse
import contextlib
import ctypes
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import yaml

from agent_node import node_sets

NAME = 'jepa-agent run'
EXIT_NODE_FAILED = 1
EXIT_USAGE = 2
# Exit statuses of a node that stopped because it was asked to (exit code, or -signal).
STOPPED_ON_REQUEST = (0, -signal.SIGINT, -signal.SIGTERM, 128 + signal.SIGINT,
                      128 + signal.SIGTERM)


class LaunchError(RuntimeError):
    """A problem found before any node starts (bad config, missing executable, ...)."""


def add_arguments(parser):
    parser.add_argument('config', help='ROS parameters YAML: config/robot.yaml, '
                        'config/sim_demo.yaml, config/gazebo.yaml or your copy of one')
    parser.add_argument('--profile', choices=node_sets.PROFILES,
                        help='which nodes to start; default: the config file name '
                        '(robot / sim_demo / gazebo)')
    parser.add_argument('--model-dir', help='exported world model directory (default: the '
                        'installed share/jepa_agent/models/default)')
    parser.add_argument('--use-sim-time', action=argparse.BooleanOptionalAction, default=None,
                        help='follow /clock (default: on for gazebo, off otherwise)')
    parser.add_argument('--remap', action='append', default=[], metavar='FROM:=TO',
                        help='topic remapping for our nodes, e.g. odom:=/wheel_odom (repeatable)')
    parser.add_argument('--robot-name', help='gazebo profile: Gazebo model name of the robot')
    parser.add_argument('--bridge-config', help='gazebo profile: ros_gz_bridge YAML')
    parser.add_argument('--only', metavar='NODE[,NODE...]',
                        help="start only these nodes of the profile, e.g. 'sim_node'")
    parser.add_argument('--shutdown-timeout', type=float, default=5.0,
                        help='seconds to wait after SIGINT, and again after SIGTERM, before '
                        'escalating')


# ----------------------------------------------------------------------------- planning

def profile_arguments(args) -> tuple[str, dict, list]:
    """(profile, overrides of node_sets arguments, extra remaps) from the command line."""
    profile = args.profile or node_sets.profile_for_config(args.config)
    overrides = {'config': str(pathlib.Path(args.config).resolve())}
    if args.model_dir is not None:
        overrides['model_dir'] = str(pathlib.Path(args.model_dir).resolve())
    if args.use_sim_time is not None:
        overrides['use_sim_time'] = 'true' if args.use_sim_time else 'false'
    for option, key in (('robot_name', 'robot_name'), ('bridge_config', 'bridge_config')):
        value = getattr(args, option, None)
        if value is None:
            continue
        if profile != 'gazebo':
            raise LaunchError(f'--{option.replace("_", "-")} only applies to the gazebo profile, '
                              f'not {profile!r}')
        overrides[key] = str(pathlib.Path(value).resolve()) if key == 'bridge_config' else value
    topic_argument = {topic: arg for arg, topic in node_sets.TOPIC_ARGUMENTS}
    extra = []
    for rule in args.remap:
        src, sep, dst = rule.partition(':=')
        if not sep or not src or not dst:
            raise LaunchError(f'--remap {rule!r}: expected FROM:=TO, e.g. odom:=/wheel_odom')
        if src in topic_argument:
            overrides[topic_argument[src]] = dst
        else:
            extra.append((src, dst))
    return profile, overrides, extra


def plan(args) -> tuple[str, dict, list]:
    """(profile, argument values, node specs) for the command line; LaunchError if invalid."""
    try:
        profile, overrides, extra = profile_arguments(args)
        values = node_sets.resolve_arguments(profile, node_sets.share_directory(), overrides)
        specs = node_sets.node_set(profile, values, extra_remaps=extra)
    except ValueError as exc:
        raise LaunchError(str(exc)) from None
    if getattr(args, 'only', None):
        names = [n.strip() for n in args.only.split(',') if n.strip()]
        unknown = [n for n in names if n not in [s.name for s in specs]]
        if unknown or not names:
            raise LaunchError(f'--only {args.only!r}: profile {profile!r} has the nodes '
                              f'{", ".join(s.name for s in specs)}')
        specs = [s for s in specs if s.name in names]
    return profile, values, specs


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


def check_config(path, profile: str, specs) -> list[str]:
    """LaunchError for an unreadable config; warnings for sections that match no node."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise LaunchError(f'config file {str(path)!r} does not exist')
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except yaml.YAMLError as exc:
        raise LaunchError(f'config file {str(path)!r} is not valid YAML: {exc}') from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise LaunchError(f'config file {str(path)!r} must map node names to '
                          f'{{ros__parameters: ...}} sections')
    names = [s.name for s in specs if s.param_files]
    warnings = []
    for section, body in data.items():
        if not isinstance(body, dict) or 'ros__parameters' not in body:
            raise LaunchError(f'config file {str(path)!r}: section {section!r} has no '
                              f'ros__parameters mapping')
        plain = str(section).lstrip('/')
        if '*' not in plain and plain not in names:
            warnings.append(f'config section {section!r} in {path} matches no node of profile '
                            f'{profile!r} (nodes: {", ".join(names)})')
    return warnings


# ----------------------------------------------------------------------------- processes

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

    def __init__(self, children, out=None, shutdown_timeout: float = 5.0):
        self.children = children
        self.out = out or sys.stdout
        self.lock = threading.Lock()
        self.shutdown_timeout = shutdown_timeout
        self.signals = []

    def say(self, message: str):
        with self.lock:
            sys.stderr.write(f'{NAME}: {message}\n')
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

    def _run(self) -> int:
        env = {**os.environ, 'PYTHONUNBUFFERED': '1'}
        preexec = parent_death_signal()
        # Start every process before any output thread: preexec_fn is only safe without threads.
        for child in self.children:
            if self.signals:
                break
            child.start(env, preexec)
        for child in self.children:
            if child.proc is not None:
                child.forward_output(self.out, self.lock)
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
            dead = [c for c in self.children if c.proc is not None and not c.alive()]
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


# ----------------------------------------------------------------------------- entry point

def run(args) -> int:
    try:
        profile, values, specs = plan(args)
        warnings = check_config(values['config'], profile, specs)
        if profile == 'gazebo':
            if not pathlib.Path(values['bridge_config']).is_file():
                raise LaunchError(f'bridge config {values["bridge_config"]!r} does not exist')
            warnings += [f'gazebo: {p}' for p in node_sets.bridge_problems(values)]
        if any('model_dir' in s.parameters for s in specs):
            if not pathlib.Path(values['model_dir']).is_dir():
                warnings.append(f'model_dir {values["model_dir"]!r} does not exist')
        children = [Child(spec.name, executable_for(spec) + ros_arguments(spec))
                    for spec in specs]
    except LaunchError as exc:
        print(f'{NAME}: error: {exc}', file=sys.stderr)
        return EXIT_USAGE
    for warning in warnings:
        print(f'{NAME}: warning: {warning}', file=sys.stderr)
    print(f'{NAME}: profile {profile!r}, config {values["config"]}: '
          f'{", ".join(c.name for c in children)}', file=sys.stderr)
    return Supervisor(children, shutdown_timeout=args.shutdown_timeout).run()
