#!/usr/bin/env python3
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
"""Soak: the real world_model_node + planner_node fed a 30 Hz camera for minutes; does it drift?

scripts/camera_publisher.py (its own process, like a camera driver: 640x480 rgb8 + odometry with
the same stamp, driving a 2 m circle) feeds world_model_node (the shipped model, a fresh memory
file) and planner_node, which chases a far goal_pose so it plans on every futures message. After
a warm-up, and again at the end, the script samples over a window:
- RSS (VmRSS, and the peak VmHWM) of every process, from /proc/<pid>/status;
- the world model's frame latency p50 / p99 (camera stamp -> futures published) from its
  /diagnostics, and, measured here, camera stamp -> futures received and camera stamp ->
  cmd_vel received (each cmd_vel paired with the newest futures received before it);
- frames received / processed / dropped by the node in the window (its /diagnostics counters);
- the memory store: file size with -wal and -shm, keyframes (from /diagnostics).
It prints one JSON summary, with the memory bounds from MemoryConfig (max_keyframes,
history_length) and how long this run's keyframe rate would take to reach them.

    .venv/bin/python scripts/bench_soak.py --minutes 10 [--window-s 30] [--max-keyframes N]
"""

import argparse
import json
import os
import pathlib
import shlex
import signal
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'scripts'))

from bench_common import machine  # noqa: E402
from bench_world_model_node import FASTDDS_PROFILE, cpu_seconds, wait_for  # noqa: E402

WORLD_MODEL = 'world_model_node: world model'
PLANNER = 'planner_node: planner'
GOAL_XY = (50.0, 0.0)  # odom frame: far enough never to be reached in a soak


def rss_kb(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a process in kB, from /proc/<pid>/status."""
    values = {}
    for line in pathlib.Path(f'/proc/{pid}/status').read_text().splitlines():
        key, _, rest = line.partition(':')
        if key in ('VmRSS', 'VmHWM'):
            values[key] = int(rest.split()[0])
    return values


def store_bytes(path: pathlib.Path) -> dict:
    """Sizes of the store file, its -wal and -shm, and their total."""
    sizes = {}
    for key, suffix in (('db_bytes', ''), ('wal_bytes', '-wal'), ('shm_bytes', '-shm')):
        part = pathlib.Path(f'{path}{suffix}')
        sizes[key] = part.stat().st_size if part.exists() else 0
    sizes['file_bytes'] = sum(sizes.values())
    return sizes


class Probe:
    """This process's node: goal out; futures, cmd_vel, planner status, /diagnostics in."""

    def __init__(self):
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseStamped, Twist
        import rclpy
        from sensor_msgs.msg import PointCloud2
        from std_msgs.msg import String

        from agent_node.ros import qos

        rclpy.init()
        self.node = rclpy.create_node('bench_soak_probe')
        reliable, latched = qos.reliable(), qos.latched()
        self.futures = []  # (arrival ns, camera stamp ns)
        self.cmds = []  # arrival ns
        self.diagnostics = {}  # status name -> values of the latest report
        self.planner_state = ''
        self.recording = False
        self.node.create_subscription(PointCloud2, 'world_model/predicted_futures',
                                      self._on_futures, reliable)
        self.node.create_subscription(Twist, 'cmd_vel', self._on_cmd, reliable)
        self.node.create_subscription(String, 'planner/status', self._on_status, latched)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.goal_pub = self.node.create_publisher(PoseStamped, 'planner/goal_pose', reliable)

    def _on_futures(self, msg):
        if self.recording:
            stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            self.futures.append((time.time_ns(), stamp))

    def _on_cmd(self, _msg):
        if self.recording:
            self.cmds.append(time.time_ns())

    def _on_status(self, msg):
        self.planner_state = msg.data

    def _on_diagnostics(self, msg):
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            values['_level'], values['_message'] = status.level[0], status.message
            values['_hardware_id'] = status.hardware_id
            self.diagnostics[status.name] = values

    def send_goal(self):
        from geometry_msgs.msg import PoseStamped

        goal = PoseStamped()
        goal.header.frame_id = 'odom'
        goal.header.stamp = self.node.get_clock().now().to_msg()
        goal.pose.position.x, goal.pose.position.y = GOAL_XY
        goal.pose.orientation.w = 1.0
        self.goal_pub.publish(goal)

    def spin_for(self, seconds: float, until=None) -> bool:
        import rclpy

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)
            if until is not None and until():
                return True
        return until is None

    def close(self):
        import rclpy

        self.node.destroy_node()
        rclpy.try_shutdown()


def _percentiles(values_ms) -> dict:
    import numpy as np

    if not values_ms:
        return {'n': 0, 'p50': None, 'p99': None, 'max': None}
    data = np.asarray(values_ms)
    return {'n': int(data.size), 'p50': round(float(np.percentile(data, 50)), 2),
            'p99': round(float(np.percentile(data, 99)), 2), 'max': round(float(data.max()), 2)}


def _cmd_latencies_ms(futures, cmds) -> list:
    """Each cmd_vel arrival minus the camera stamp of the newest futures received before it."""
    out, i = [], 0
    for arrival in cmds:
        while i + 1 < len(futures) and futures[i + 1][0] <= arrival:
            i += 1
        if futures and futures[i][0] <= arrival:
            out.append((arrival - futures[i][1]) * 1e-6)
    return out


def _int(values, key):
    try:
        return int(float(values.get(key, 0)))
    except ValueError:
        return 0


def sample(probe, procs, memory, window_s) -> dict:
    """Record one window; the figures of it (see the module docstring)."""
    probe.futures, probe.cmds = [], []
    wm0 = dict(probe.diagnostics.get(WORLD_MODEL, {}))
    cpu0 = {name: cpu_seconds(p.pid) for name, p in procs.items()}
    t0 = time.monotonic()
    probe.recording = True
    probe.spin_for(window_s)
    probe.recording = False
    elapsed = time.monotonic() - t0
    probe.spin_for(1.2)  # one more diagnostics report covering the window's end
    wm1 = dict(probe.diagnostics.get(WORLD_MODEL, {}))
    planner = dict(probe.diagnostics.get(PLANNER, {}))

    def delta(key):
        return _int(wm1, key) - _int(wm0, key)

    received = delta('images_received')
    arrival_ms = [(a - s) * 1e-6 for a, s in probe.futures]
    return {
        'window_s': round(elapsed, 1),
        'rss_mb': {name: round(rss_kb(p.pid)['VmRSS'] / 1024, 1) for name, p in procs.items()},
        'peak_rss_mb': {name: round(rss_kb(p.pid)['VmHWM'] / 1024, 1)
                        for name, p in procs.items()},
        'cpu_percent': {name: round(100 * (cpu_seconds(p.pid) - cpu0[name]) / elapsed)
                        for name, p in procs.items()},
        'node_latency_ms': {'p50': float(wm1.get('latency_ms_p50', 'nan')),
                            'p99': float(wm1.get('latency_ms_p99', 'nan')),
                            'processing_p50': float(wm1.get('processing_ms_p50', 'nan'))},
        'futures_arrival_ms': _percentiles(arrival_ms),
        'camera_to_cmd_vel_ms': _percentiles(_cmd_latencies_ms(probe.futures, probe.cmds)),
        'frames': {'received': received, 'processed': delta('frames_processed'),
                   'dropped': delta('frames_dropped'),
                   'dropped_fraction': round(delta('frames_dropped') / received, 3)
                   if received else None,
                   'unmatched': delta('images_unmatched'),
                   'dropped_total_since_start': _int(wm1, 'frames_dropped')},
        'planner': {'state': planner.get('state'), 'plan_rate_hz': planner.get('plan_rate_hz'),
                    'watchdog_trips': planner.get('watchdog_trips')},
        'memory': {**store_bytes(memory), 'keyframes': _int(wm1, 'memory_keyframes'),
                   'history': _int(wm1, 'memory_history'),
                   'write_errors': _int(wm1, 'memory_write_errors')},
        'world_model_status': [wm1.get('_level'), wm1.get('_message')],
        'load_average_1min': round(os.getloadavg()[0], 2),
    }


def start(cmd, log: pathlib.Path, env) -> subprocess.Popen:
    with open(log, 'w') as out:
        return subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)


def stop(procs):
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def node_cmd(module, params) -> list:
    cmd = [sys.executable, '-m', module, '--ros-args']
    for key, value in params.items():
        cmd += ['-p', f'{key}:={value}']
    return cmd


def bounds(memory_config, dim, keyframes_added, elapsed_s) -> dict:
    from world_model.memory.config import size_bound_bytes

    rate = keyframes_added / elapsed_s * 60.0 if elapsed_s > 0 else 0.0
    return {'max_keyframes': memory_config.max_keyframes,
            'history_length': memory_config.history_length,
            'eviction': memory_config.eviction,
            'rows_bound_bytes': size_bound_bytes(memory_config, dim),
            'note': 'keyframes and history are bounded (eviction beyond max_keyframes); named '
                    'goals are not (each one is set explicitly); the WAL (history rows at the '
                    'frame rate) is checkpointed back to the file every 1000 pages (about 4 MB, '
                    "SQLite's default) and reused from its start",
            'keyframes_per_minute': round(rate, 1),
            'minutes_to_reach_max_keyframes': round(memory_config.max_keyframes / rate, 1)
            if rate > 0 else None}


def latent_dim(model_dir) -> int:
    config = json.loads((pathlib.Path(model_dir) / 'model_config.json').read_text())
    return int(config['latent_dim'])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--minutes', type=float, default=10.0, help='total soak length')
    parser.add_argument('--window-s', type=float, default=30.0,
                        help='length of the start and end sample windows [s]')
    parser.add_argument('--warmup-s', type=float, default=10.0,
                        help='seconds after the first plan before the start window')
    parser.add_argument('--rate', type=float, default=30.0, help='camera rate [Hz]')
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--max-keyframes', type=int, default=0,
                        help='memory.max_keyframes of the node (0: its default) to exercise '
                             'eviction within the soak')
    parser.add_argument('--model-dir', default=str(REPO / 'models' / 'default'))
    parser.add_argument('--out', default='', help='also write the JSON summary here')
    args = parser.parse_args(argv)
    from world_model.config import from_dict
    from world_model.memory import MemoryConfig

    total_s = args.minutes * 60.0
    window = min(args.window_s, max(5.0, (total_s - args.warmup_s) / 3.0))
    env = dict(os.environ)
    env.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    env.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 100))
    env.setdefault('FASTRTPS_DEFAULT_PROFILES_FILE', str(FASTDDS_PROFILE))
    os.environ.update({k: env[k] for k in ('ROS_AUTOMATIC_DISCOVERY_RANGE', 'ROS_DOMAIN_ID',
                                           'FASTRTPS_DEFAULT_PROFILES_FILE')})
    memory_over = {'max_keyframes': args.max_keyframes} if args.max_keyframes else {}
    with tempfile.TemporaryDirectory(prefix='bench_soak_') as tmp:
        work = pathlib.Path(tmp)
        memory = work / 'memory.sqlite3'
        memory_config = from_dict(MemoryConfig, {'path': str(memory), **memory_over})
        wm_params = {'model_dir': args.model_dir, 'memory.path': str(memory),
                     'providers': '[cpu]'}
        wm_params.update({f'memory.{k}': v for k, v in memory_over.items()})
        logs = {name: work / f'{name}.log' for name in
                ('world_model_node', 'planner_node', 'camera_publisher')}
        procs = {}
        probe = None
        try:
            procs['world_model_node'] = start(
                node_cmd('agent_node.world_model_node', wm_params), logs['world_model_node'], env)
            procs['planner_node'] = start(node_cmd('agent_node.planner_node', {}),
                                          logs['planner_node'], env)
            if not wait_for(logs['world_model_node'], 'active:', procs['world_model_node'], 120):
                raise RuntimeError('world_model_node did not become active:\n'
                                   + logs['world_model_node'].read_text())
            procs['camera_publisher'] = start(
                [sys.executable, str(REPO / 'scripts' / 'camera_publisher.py'), '--rate',
                 str(args.rate), '--width', str(args.width), '--height', str(args.height)],
                logs['camera_publisher'], env)
            probe = Probe()
            started = time.monotonic()
            planning = False
            while not planning and time.monotonic() - started < 60:
                probe.send_goal()
                planning = probe.spin_for(0.5, lambda: probe.planner_state == 'planning')
            if not planning:
                raise RuntimeError(f'planner never planned (status {probe.planner_state!r}):\n'
                                   + logs['planner_node'].read_text()[-3000:])
            probe.spin_for(args.warmup_s)
            soak_start = time.monotonic()
            first = sample(probe, procs, memory, window)
            remaining = total_s - (time.monotonic() - started) - window - 1.2
            probe.spin_for(max(0.0, remaining))
            last = sample(probe, procs, memory, window)
            elapsed = time.monotonic() - soak_start
            dead = [n for n, p in procs.items() if p.poll() is not None]
        finally:
            if probe is not None:
                probe.close()
            stop(list(procs.values()))
        wm = probe.diagnostics.get(WORLD_MODEL, {}) if probe else {}
        summary = {
            'command': shlex.join([sys.executable, *sys.argv]),
            'machine': machine(),
            'minutes': args.minutes,
            'camera': f'{args.rate:g} Hz {args.width}x{args.height} rgb8 + odometry',
            'model': args.model_dir,
            'providers_in_use': wm.get('providers_in_use'),
            'hardware_id': wm.get('_hardware_id'),
            'processes_died': dead,
            'start': first,
            'end': last,
            'change': {
                'rss_mb': {n: round(last['rss_mb'][n] - first['rss_mb'][n], 1)
                           for n in first['rss_mb']},
                'memory_file_bytes': last['memory']['file_bytes'] - first['memory']['file_bytes'],
                'keyframes': last['memory']['keyframes'] - first['memory']['keyframes'],
                'seconds_between_windows': round(elapsed - window, 1),
            },
            'memory_bounds': bounds(memory_config, latent_dim(args.model_dir),
                                    last['memory']['keyframes']
                                    - first['memory']['keyframes'], elapsed - window),
        }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text + '\n')
    return 1 if dead else 0


if __name__ == '__main__':
    sys.exit(main())
