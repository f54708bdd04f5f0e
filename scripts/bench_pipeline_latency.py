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
"""Camera to cmd_vel with the map in use: world_model_node and planner_node over real DDS.

Ahead of the run, ROS-free: the mapping tour (eval_map_localisation.map_by_tour) builds a
latent map of the layout into a store, and a second drive through the layout (another tour
seed; the simulator stepping at the camera rate) is recorded. Then, per variant (FP32, INT8):
world_model_node (memory.path: a copy of that store) and planner_node run as child processes
with the evaluation's parameters on the wall clock; scripts/camera_publisher.py plays the drive
at --rate from a third process, as a camera driver would; this process publishes a goal image
and receives camera/image_raw, cmd_vel, /diagnostics and world_model/waypoints.

Latency: a camera frame's DDS send time to the first cmd_vel sent after it, received here
(world_model.evaluation.command_latency, as `jepa-agent closed-loop` measures it). The window
opens once the new session has joined the map and the goal is localised, and the table says how
much of it the nodes spent so (goal localised, routes published, floor alignments run near the
goal when floor_homing is on). The drive is replayed, not steered by the commands: the nodes
do a navigating robot's work on each frame, without the simulator and the evaluation sharing
the CPU with them, as they do in the closed loop.

    .venv/bin/python scripts/bench_pipeline_latency.py [--layout two_rooms] [--seconds 30]
"""

import argparse
import os
import pathlib
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_common import machine  # noqa: E402
from eval_map_localisation import map_by_tour  # noqa: E402

from agent_node.evaluation.node_params import node_parameters  # noqa: E402
from agent_node.evaluation.node_set import NodeSet, default_domain_id  # noqa: E402
from world_model.envs import DiffDriveSim, SimConfig  # noqa: E402
from world_model.envs.diff_drive_sim import episode_layout  # noqa: E402
from world_model.envs.exploration import ActionLimits  # noqa: E402
from world_model.evaluation.command_latency import CommandLatency  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.mapping_tour import MappingTour  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.memory import LatentMap, LatentStore, MapConfig, MemoryConfig  # noqa: E402
from world_model.planning.status import DRIVING_STATES, GOAL_LOCALISED  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent
VARIANTS = {'fp32': {}, 'int8': {'world_model_node': {'int8': True}}}


def record_drive(layout: str, size: tuple, rate: float, seed: int, frames: int, path):
    """Drive the seeded tour at the camera rate; save images, odometry and twist to path."""
    config = SimConfig(layout=layout, image_width=size[0], image_height=size[1],
                       control_period=1.0 / rate)
    images, odom, twist = [], [], []
    with DiffDriveSim(config) as sim:
        tour = MappingTour(episode_layout(config, seed, layout), config.robot_radius,
                           ActionLimits.from_config(config), seed)
        step = sim.reset(seed=seed, layout=layout, pose=tour.start)
        for _ in range(frames):
            images.append(step.image)
            odom.append(step.odom_pose)
            twist.append(step.odom_twist)
            step = sim.step(tour.act(step.true_pose))  # truth steers the scripted drive only
    np.savez(path, images=np.stack(images), odom=np.stack(odom), twist=np.stack(twist))


def build_map(model, layout: str, tour_seed: int, steps: int, path) -> int:
    """The mapping tour's latent map in a store at path; its keyframe count."""
    config = SimConfig(layout=layout, image_width=model.input_width,
                       image_height=model.input_height)
    with DiffDriveSim(config) as sim, LatentStore(MemoryConfig(path=str(path)),
                                                  dim=model.latent_dim) as store:
        latent_map = LatentMap(store, model.relative_pose, MapConfig())
        map_by_tour(sim, model, latent_map, layout, tour_seed, steps)
        latent_map.add_proximity_edges()
        return latent_map.kf.n


def goal_image(model, layout: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(goal pose, rgb image at it) of the first planned episode of seed."""
    config = SimConfig(layout=layout, image_width=model.input_width,
                       image_height=model.input_height)
    spec = plan_episodes(HarnessConfig(layout=layout), config, 1, seed)[0]
    with DiffDriveSim(config) as sim:
        sim.reset(seed=seed, layout=layout)
        return np.asarray(spec.goal), sim.render_at(spec.goal, distractors=False)


class Probe:
    """This process's node: sends the goal image; times frames to commands; reads diagnostics."""

    def __init__(self):
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import Twist
        from nav_msgs.msg import Path
        import rclpy
        from sensor_msgs.msg import Image

        from agent_node.ros import qos

        rclpy.init()
        self.node = node = rclpy.create_node('bench_pipeline_probe')
        self.goal_pub = node.create_publisher(Image, 'goal_image', qos.latched())
        node.create_subscription(Image, 'camera/image_raw', self._on_image, qos.SENSOR)
        node.create_subscription(Twist, 'cmd_vel', self._on_cmd_vel, qos.reliable(depth=50))
        node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        node.create_subscription(Path, 'world_model/waypoints', self._on_waypoints,
                                 qos.reliable())
        self.answers = CommandLatency()
        self.world_model, self.planner = {}, {}  # the latest diagnostics values
        self.reset_window(recording=False)

    def reset_window(self, recording: bool):
        self.recording = recording
        self.latencies_ms, self.frames, self.routes = [], 0, 0
        self.goal_statuses, self.planner_reports = [], []  # (state, arrival stage, rate)

    def send_goal(self, rgb: np.ndarray):
        from agent_node.conversions.images import rgb_to_image

        self.goal_pub.publish(rgb_to_image(rgb, self.node.get_clock().now().to_msg(),
                                           'camera_link'))

    def _on_image(self, _msg, info):
        self.answers.frame(info['source_timestamp'])
        self.frames += self.recording

    def _on_cmd_vel(self, _msg, info):
        frame = self.answers.command(info['source_timestamp'])
        if frame is not None and self.recording:
            self.latencies_ms.append((info['received_timestamp'] - frame[0]) * 1e-6)

    def _on_waypoints(self, msg):
        self.routes += self.recording and len(msg.poses) > 0

    def _on_diagnostics(self, msg):
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if status.name.startswith('world_model_node'):
                self.world_model = dict(values, _message=status.message)
                if self.recording:
                    self.goal_statuses.append(values.get('goal_status'))
            elif status.name.startswith('planner_node'):
                self.planner = values
                if self.recording:
                    self.planner_reports.append((values.get('state'), values.get('arrival'),
                                                 float(values.get('plan_rate_hz', 0.0))))

    def spin_until(self, done, timeout: float) -> bool:
        import rclpy

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rclpy.spin_once(self.node, timeout_sec=0.05)
            if done():
                return True
        return False

    def close(self):
        import rclpy

        self.node.destroy_node()
        rclpy.try_shutdown()


def run_variant(probe, name, args, workdir, map_path, drive_path, goal_rgb, domain) -> dict:
    memory = workdir / f'map_{name}.sqlite3'
    shutil.copy(map_path, memory)
    params = workdir / f'params_{name}.yaml'
    params.write_text(yaml.safe_dump(node_parameters(
        HarnessConfig(layout=args.layout), str(memory), node_overrides=VARIANTS[name])))
    log = workdir / f'nodes_{name}.log'
    nodes = NodeSet(('world_model_node', 'planner_node'), params, args.model_dir, log, domain,
                    use_sim_time=False).start()
    camera = None
    probe.world_model, probe.planner = {}, {}
    try:
        if not probe.spin_until(lambda: probe.planner and probe.world_model.get(
                '_message') not in (None, 'unconfigured', 'inactive'), 90):
            raise RuntimeError(f'the nodes did not come up; log {log}:\n{nodes.tail()}')
        probe.send_goal(goal_rgb)
        camera = subprocess.Popen(
            [sys.executable, str(REPO / 'scripts' / 'camera_publisher.py'), '--rate',
             str(args.rate), '--recording', str(drive_path)], cwd=REPO,
            stdout=subprocess.DEVNULL, env={**os.environ, 'ROS_DOMAIN_ID': str(domain)})
        t0 = time.monotonic()
        localised = probe.spin_until(
            lambda: probe.world_model.get('goal_status') == GOAL_LOCALISED, args.join_timeout)
        join_s = time.monotonic() - t0
        if not localised:
            raise RuntimeError(f'{name}: the goal was not localised within {args.join_timeout} s '
                               f'(goal_status {probe.world_model.get("goal_status")}, map '
                               f'joined {probe.world_model.get("map_joined")})')
        probe.reset_window(recording=True)
        floor0 = int(probe.world_model.get('floor_alignments', 0))
        t1 = time.monotonic()
        probe.spin_until(lambda: False, args.seconds)
        elapsed = time.monotonic() - t1
        probe.recording = False
        nodes.check()
    finally:
        if camera is not None:
            camera.terminate()
            camera.wait(10)
        nodes.stop()
    lat = np.asarray(probe.latencies_ms or [np.nan])
    statuses = [s for s in probe.goal_statuses if s is not None]
    reports = probe.planner_reports
    mpc = [r for r in reports if r[0] in DRIVING_STATES and r[1] == 'mpc']
    rates = [r[2] for r in mpc if r[2] > 0]  # 0: no rate yet (as the closed loop counts)
    return {'variant': name, 'join_s': join_s, 'frames_per_s': probe.frames / elapsed,
            'answered': len(probe.latencies_ms) / max(probe.frames, 1),
            'p50': float(np.percentile(lat, 50)), 'p90': float(np.percentile(lat, 90)),
            'p99': float(np.percentile(lat, 99)), 'max': float(lat.max()),
            'plan_hz': float(np.median(rates)) if rates else float('nan'),
            'mpc': len(mpc) / max(len(reports), 1),
            'localised': statuses.count(GOAL_LOCALISED) / max(len(statuses), 1),
            'routes_per_s': probe.routes / elapsed,
            'floor': int(probe.world_model.get('floor_alignments', 0)) - floor0}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--layout', default='two_rooms')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument('--seconds', type=float, default=30.0, help='measured window')
    parser.add_argument('--join-timeout', type=float, default=60.0,
                        help='seconds of drive allowed for joining the map and placing the goal')
    parser.add_argument('--rate', type=float, default=30.0, help='camera rate [Hz]')
    parser.add_argument('--mapping-steps', type=int, default=1200)
    parser.add_argument('--tour-seed', type=int, default=0, help='the mapping tour')
    parser.add_argument('--drive-seed', type=int, default=1, help='the replayed drive')
    parser.add_argument('--goal-seed', type=int, default=4242)
    parser.add_argument('--model-dir', default=str(REPO / 'models' / 'default'))
    args = parser.parse_args(argv)
    domain = default_domain_id()
    os.environ['ROS_DOMAIN_ID'] = str(domain)
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

    with tempfile.TemporaryDirectory(prefix='bench_pipeline_') as tmp:
        workdir = pathlib.Path(tmp)
        model = OnnxWorldModel(args.model_dir, threads=2)
        map_path, drive_path = workdir / 'map.sqlite3', workdir / 'drive.npz'
        keyframes = build_map(model, args.layout, args.tour_seed, args.mapping_steps, map_path)
        frames = int((args.join_timeout + args.seconds + 10.0) * args.rate)
        record_drive(args.layout, (model.input_width, model.input_height), args.rate,
                     args.drive_seed, frames, drive_path)
        goal, goal_rgb = goal_image(model, args.layout, args.goal_seed)
        del model
        probe = Probe()
        try:
            rows = [run_variant(probe, name, args, workdir, map_path, drive_path, goal_rgb,
                                domain) for name in args.variants]
        finally:
            probe.close()

    print(f'\nCommand: `.venv/bin/python scripts/bench_pipeline_latency.py '
          f'{shlex.join(argv if argv is not None else sys.argv[1:])}`')
    print(f'Machine: {machine()}, Python {platform.python_version()}; layout {args.layout}, '
          f'map of {keyframes} keyframes ({args.mapping_steps} tour steps), camera '
          f'{args.rate:g} Hz, goal at {np.round(goal, 2).tolist()}, window {args.seconds:g} s\n')
    print('| model | join + goal placed [s] | frames/s | frames answered | camera -> cmd_vel '
          'p50 / p90 / p99 / max [ms] | plan Hz (median) | MPC driving | goal localised | '
          'routes/s | floor alignments |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for r in rows:
        print(f"| {r['variant'].upper()} | {r['join_s']:.1f} | {r['frames_per_s']:.1f} | "
              f"{100 * r['answered']:.0f}% | {r['p50']:.1f} / {r['p90']:.1f} / "
              f"**{r['p99']:.1f}** / {r['max']:.1f} | {r['plan_hz']:.1f} | "
              f"{100 * r['mpc']:.0f}% | {100 * r['localised']:.0f}% | "
              f"{r['routes_per_s']:.1f} | {r['floor']} |")
    return 0


if __name__ == '__main__':
    sys.exit(main())
