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
"""world_model_node end to end: camera stamp -> predicted futures received, over real DDS.

scripts/camera_publisher.py runs in its own process (30 Hz, 640x480 rgb8 + odometry with the
same stamp), world_model_node in another, and this process receives
world_model/predicted_futures. Per (K, H): latency from the camera stamp to the futures' arrival
here (p50 / p99), futures per second, frames the node dropped, and the node's CPU use from
/proc/<pid>/stat (100 % = one core). The model is models/default when it exists, else a fresh
export of the default ModelConfig (random weights: same graphs and cost as a trained one).

    .venv/bin/python scripts/bench_world_model_node.py [--configs 64x8 128x8] [--seconds 10]
"""

import argparse
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NODE_MODULE = 'agent_node.world_model_node'
# Fast DDS's default shared-memory segment (512 KB) cannot hold a 921 KB 640x480 rgb8 frame, so
# frames fall back to fragmented UDP and, on a busy machine, about half of them are lost. A
# larger segment is what a robot with a raw camera on Fast DDS should configure as well.
FASTDDS_PROFILE = REPO / 'config' / 'fastdds_large_frames.xml'


def default_model(workdir: pathlib.Path) -> tuple[pathlib.Path, str]:
    """(model dir, description): models/default, else a fresh export of ModelConfig()."""
    shipped = REPO / 'models' / 'default'
    if (shipped / 'manifest.json').is_file():
        return shipped, 'models/default'
    import torch

    from world_model.export.export_cmd import export_run
    from world_model.models import ModelConfig, build_model
    from world_model.models.jepa import save_model

    torch.set_num_threads(1)
    torch.manual_seed(0)
    run_dir = workdir / 'run'
    save_model(build_model(ModelConfig()), run_dir)
    export_run(run_dir, workdir / 'model', log=lambda *_: None)
    return workdir / 'model', 'fresh export of the default ModelConfig (random init)'


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process from /proc/<pid>/stat."""
    fields = pathlib.Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def wait_for(path: pathlib.Path, text: str, proc, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(errors='replace'):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


class FuturesProbe:
    """Receives futures and /diagnostics in this process, recording arrival latencies."""

    def __init__(self):
        from diagnostic_msgs.msg import DiagnosticArray
        import rclpy
        from sensor_msgs.msg import PointCloud2

        from agent_node.ros import qos

        rclpy.init()
        self.node = rclpy.create_node('bench_world_model_probe')
        self.latencies_ms = []
        self.sizes = set()
        self.recording = False
        self.diagnostics = {}
        self.node.create_subscription(PointCloud2, 'world_model/predicted_futures',
                                      self._on_futures, qos.reliable())
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)

    def _on_futures(self, msg):
        now = time.time_ns()
        if self.recording:
            stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            self.latencies_ms.append((now - stamp) * 1e-6)
            self.sizes.add((msg.height, msg.width))

    def _on_diagnostics(self, msg):
        for status in msg.status:
            if status.name == 'world_model_node: world model':
                self.diagnostics = {kv.key: kv.value for kv in status.values}
                stamp = msg.header.stamp
                self.diagnostics['_time'] = stamp.sec + stamp.nanosec * 1e-9

    def spin_for(self, seconds: float):
        import rclpy

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)

    def close(self):
        import rclpy

        self.node.destroy_node()
        rclpy.try_shutdown()


def run_config(probe, model_dir, k, h, args, workdir) -> dict:
    import numpy as np

    log = workdir / f'node_{k}x{h}.log'
    params = {'model_dir': str(model_dir), 'memory.path': str(workdir / f'mem_{k}x{h}.sqlite3'),
              'providers': '[cpu]', 'threads': str(args.threads), 'num_candidates': str(k),
              'horizon': str(h), 'markers_period_s': str(args.markers_period)}
    cmd = [sys.executable, '-m', NODE_MODULE, '--ros-args']
    for key, value in params.items():
        cmd += ['-p', f'{key}:={value}']
    with open(log, 'w') as out:
        node = subprocess.Popen(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    camera = None
    try:
        if not wait_for(log, 'active:', node, 60):
            raise RuntimeError(f'world_model_node did not start:\n{log.read_text()}')
        camera = subprocess.Popen([sys.executable, str(REPO / 'scripts' / 'camera_publisher.py'),
                                   '--rate', str(args.rate), '--width', '640', '--height',
                                   '480'], cwd=REPO, stdout=subprocess.DEVNULL)
        probe.latencies_ms, probe.sizes, probe.recording = [], set(), False
        probe.spin_for(args.warmup)
        before = dict(probe.diagnostics)
        cpu0, cam0, t0 = cpu_seconds(node.pid), cpu_seconds(camera.pid), time.monotonic()
        probe.recording = True
        probe.spin_for(args.seconds)
        probe.recording = False
        elapsed = time.monotonic() - t0
        cpu1, cam1 = cpu_seconds(node.pid), cpu_seconds(camera.pid)
        probe.spin_for(1.2)  # one more diagnostics report covering the window
        after = dict(probe.diagnostics)
    finally:
        for proc in (camera, node):
            if proc is not None and proc.poll() is None:
                proc.send_signal(2)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    lat = np.asarray(probe.latencies_ms) if probe.latencies_ms else np.full(1, np.nan)
    def per_second(key):  # over the two diagnostics reports that bracket the window
        span = float(after.get('_time', 0.0)) - float(before.get('_time', 0.0))
        return (int(after.get(key, 0)) - int(before.get(key, 0))) / span if span > 0 else 0.0

    return {'k': k, 'h': h, 'fps': len(probe.latencies_ms) / elapsed,
            'p50': float(np.percentile(lat, 50)), 'p99': float(np.percentile(lat, 99)),
            'max': float(lat.max()), 'cpu': 100.0 * (cpu1 - cpu0) / elapsed,
            'camera_cpu': 100.0 * (cam1 - cam0) / elapsed,
            'dropped_per_s': per_second('frames_dropped'),
            'images_per_s': per_second('images_received'),
            'processing_p50': after.get('processing_ms_p50', '-'),
            'sizes': sorted(probe.sizes)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--configs', nargs='+', default=['64x8', '32x8', '128x8', '64x16'],
                        help='KxH pairs (candidates x horizon)')
    parser.add_argument('--seconds', type=float, default=10.0, help='measured window per config')
    parser.add_argument('--warmup', type=float, default=3.0, help='seconds discarded first')
    parser.add_argument('--rate', type=float, default=30.0, help='camera rate [Hz]')
    parser.add_argument('--threads', type=int, default=2, help='onnxruntime threads')
    parser.add_argument('--markers-period', type=float, default=0.2,
                        help='markers_period_s of the node')
    parser.add_argument('--model-dir', default='', help='exported model (default: see above)')
    parser.add_argument('--default-transport', action='store_true',
                        help="keep Fast DDS's default transports (512 KB shared-memory segment)")
    args = parser.parse_args(argv)
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
    os.environ.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 100))

    with tempfile.TemporaryDirectory(prefix='bench_wm_node_') as tmp:
        workdir = pathlib.Path(tmp)
        transport = 'Fast DDS defaults'
        if not args.default_transport and 'FASTRTPS_DEFAULT_PROFILES_FILE' not in os.environ:
            os.environ['FASTRTPS_DEFAULT_PROFILES_FILE'] = str(FASTDDS_PROFILE)
            transport = 'Fast DDS with a 16 MB shared-memory segment'
        if args.model_dir:
            model_dir, what = pathlib.Path(args.model_dir), args.model_dir
        else:
            model_dir, what = default_model(workdir)
        probe = FuturesProbe()
        try:
            print(f'machine: {platform.machine()}, {os.cpu_count()} cores, load average '
                  f'{os.getloadavg()[0]:.1f} at start; model: {what}; camera '
                  f'{args.rate:g} Hz 640x480 rgb8; onnxruntime threads {args.threads}; '
                  f'{transport}')
            print(f'command: {shlex.join([sys.executable, *sys.argv])}\n')
            print('| K | H | futures/s | latency p50 ms | latency p99 ms | max ms | node CPU % '
                  '| images/s at node | dropped/s | node processing p50 ms | camera CPU % |')
            print('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
            for pair in args.configs:
                k, h = (int(v) for v in pair.lower().split('x'))
                r = run_config(probe, model_dir, k, h, args, workdir)
                processing = r['processing_p50']
                processing = f'{float(processing):.1f}' if processing != '-' else '-'
                print(f'| {k} | {h} | {r["fps"]:.1f} | {r["p50"]:.1f} | {r["p99"]:.1f} | '
                      f'{r["max"]:.1f} | {r["cpu"]:.0f} | {r["images_per_s"]:.1f} | '
                      f'{r["dropped_per_s"]:.1f} | '
                      f'{processing} | {r["camera_cpu"]:.0f} |', flush=True)
        finally:
            probe.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
