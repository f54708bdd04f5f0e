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
"""Image-goal episodes through the real nodes: the runner behind `jepa-agent closed-loop` and demo.

A Mission starts the sim_demo node set (agent_node.bringup.profiles, as child processes of
agent_node.bringup.supervisor) with sim_node in lockstep on simulated time, and drives it from
an rclpy orchestrator node in this process. Per episode it sets the simulator's seed, start_pose
and goal_pose parameters (SetParameters), calls sim/reset (the simulator renders the goal image at
goal_pose and latches it on goal_image; world_model_node encodes it and the planner drives),
and counts control steps (frames after the reset frame) until the ground-truth distance to the
goal drops below the success threshold or the step budget runs out.

Two policies run the same episodes:
- 'agent': sim_node + world_model_node + planner_node; the planner drives cmd_vel.
- 'random': sim_node only; the orchestrator itself publishes smooth random commands
  (world_model.envs.ExplorationPolicy, seeded per episode, without collision feedback so that
  the commands depend on the seed alone).

Episodes come from `plan_episodes`: per-episode seeds from one seed; a collision-free start pose
and a collision-free goal pose whose straight-line distance from the start lies in
[goal_min_distance, goal_max_distance], both drawn with DiffDriveSim.sample_free_pose on the same
layout and SimConfig as the simulator node.
"""

import collections
import contextlib
import dataclasses
import math
import os
import pathlib
import tempfile
import threading
import time

import numpy as np
import yaml

from agent_node.bringup import profiles, supervisor
from agent_node.conversions.outputs import pose_of
from world_model import geometry
from world_model.config import ConfigError, from_dict, param, to_dict
from world_model.envs import ActionLimits, DiffDriveSim, ExplorationPolicy, SimConfig
from world_model.envs.exploration import episode_seeds
from world_model.envs.sim_config import LAYOUT_NAMES
from world_model.planning.planner_config import PLANNER_METHODS
from world_model.planning.status import GOAL_REACHED
from world_model.sync.stamp_sync import stamp_ns

POLICIES = ('agent', 'random')
AGENT_NODES = ('sim_node', 'world_model_node', 'planner_node')
RANDOM_NODES = ('sim_node',)
END_REASONS = ('reached', 'budget', 'agent_stopped', 'timeout')
_POSE_MATCH = 1e-6  # the reset frame is the first ground truth exactly at the start pose


class MissionError(RuntimeError):
    """The node set failed to start, a node died, or a service call failed."""


@dataclasses.dataclass
class MissionConfig:
    """Episode protocol (goal sampling, budget, success) and how the nodes are run."""

    layout: str = param('open', choices=LAYOUT_NAMES, help='simulator layout')
    distractors: bool = param(False, help='moving distractor objects in the camera images')
    budget: int = param(200, lo=1, hi=100_000,
                        help='control steps per episode (PLDM / EB-JEPA Two-Rooms use 200)')
    success_threshold: float = param(0.3, lo=0.01, hi=10.0,
                                     help='success: ground-truth distance to the goal below '
                                          'this [m]')
    goal_min_distance: float = param(0.75, lo=0.0, hi=100.0,
                                     help='least start-goal straight-line distance [m]')
    goal_max_distance: float = param(2.5, lo=0.0, hi=100.0,
                                     help='largest start-goal straight-line distance [m]')
    pose_margin: float = param(0.05, lo=0.0, hi=1.0,
                               help='start and goal clear every block by robot radius + this')
    method: str = param('mppi', choices=PLANNER_METHODS, help='planner update rule')
    lockstep_timeout: float = param(0.3, lo=0.01, hi=10.0,
                                    help='wall seconds the simulator waits for a cmd_vel')
    watchdog_timeout: float = param(2.0, lo=0.1, hi=60.0,
                                    help='planner / world model staleness timeouts [s]: '
                                         'relaxed because lockstep pauses simulated time')
    stop_frames: int = param(5, lo=1, hi=10_000,
                             help="an agent episode ends when the planner has reported "
                                  "'goal_reached' for this many frames")
    episode_timeout: float = param(300.0, lo=1.0, hi=86_400.0,
                                   help='wall seconds before an episode is abandoned')
    startup_timeout: float = param(120.0, lo=1.0, hi=3600.0,
                                   help='wall seconds for the nodes to come up')
    snapshot_every: int = param(10, lo=1, hi=100_000,
                                help='keep the predicted futures every this many steps')
    keep_frames: bool = param(False, help='keep camera frames (for figures)')

    def check(self):
        if self.goal_min_distance > self.goal_max_distance:
            raise ConfigError(f'parameter goal_min_distance={self.goal_min_distance} is out of '
                              f'range: allowed [0, goal_max_distance={self.goal_max_distance}]')


def protocol(config: MissionConfig, sim_config: SimConfig) -> dict:
    """The exact protocol of a run, for reports."""
    return {
        'task': 'image goal: the goal is given only as the camera image rendered at the goal '
                'pose (without distractors); success when the ground-truth position is within '
                'the threshold of the goal position (heading not required)',
        'layout': config.layout,
        'distractors': config.distractors,
        'budget_steps': config.budget,
        'control_period_s': sim_config.control_period,
        'success_threshold_m': config.success_threshold,
        'goal_distance_m': [config.goal_min_distance, config.goal_max_distance],
        'goal_sampling': 'per-episode seeds from SeedSequence(seed); start and goal drawn with '
                         'DiffDriveSim.sample_free_pose (uniform, collision-free with margin '
                         f'{config.pose_margin} m) on the episode layout; goal redrawn until '
                         'its straight-line distance from the start is in goal_distance_m',
        'steps': 'control steps (frames) after the reset frame; steps_to_success is the first '
                 'step whose ground-truth distance is below the threshold',
        'agent_stop': f"an agent episode also ends when planner/status has been "
                      f"'{GOAL_REACHED}' for {config.stop_frames} frames (it stopped)",
        'random_policy': 'ExplorationPolicy (smooth Ornstein-Uhlenbeck v, omega) seeded per '
                         'episode, published by the orchestrator; no world model, no planner',
        'simulator': 'sim_node in lockstep (one step per cmd_vel, or after lockstep_timeout) '
                     'publishing /clock; every node on use_sim_time',
        'method': config.method,
        'lockstep_timeout_s': config.lockstep_timeout,
        'watchdog_timeout_s': config.watchdog_timeout,
        'latency': 'per control cycle: from sim_node publishing a camera frame (DDS source '
                   'timestamp) to the orchestrator receiving the first cmd_vel published after '
                   'it (DDS reception timestamp), one host clock',
        'plan_hz': "planner_node /diagnostics plan_rate_hz while 'planning'",
        'control_hz': 'control steps per wall second within an episode',
    }


# ----------------------------------------------------------------------------- episodes

@dataclasses.dataclass(frozen=True)
class EpisodeSpec:
    """One seeded episode: simulator seed, start and goal poses (x, y, yaw) in the world."""

    index: int
    seed: int
    start: tuple
    goal: tuple

    @property
    def distance(self) -> float:
        return math.hypot(self.goal[0] - self.start[0], self.goal[1] - self.start[1])


def plan_episodes(config: MissionConfig, sim_config: SimConfig, count: int,
                  seed: int) -> list[EpisodeSpec]:
    """count reproducible episodes: start and goal collision-free, goal distance in range."""
    sim_config = dataclasses.replace(sim_config, layout=config.layout,
                                     distractors=False, image_width=8, image_height=8)
    specs = []
    with DiffDriveSim(sim_config) as sim:
        for index, episode_seed in enumerate(episode_seeds(seed, count)):
            episode_seed &= 0x7FFF_FFFF  # sim_node's seed parameter is a signed 32-bit int
            sim.reset(seed=episode_seed)  # the episode's layout ('random' depends on the seed)
            rng = np.random.default_rng([episode_seed, 2])
            start = sim.sample_free_pose(rng, margin=config.pose_margin)
            for _ in range(10_000):
                goal = sim.sample_free_pose(rng, margin=config.pose_margin)
                gap = math.hypot(*(goal[:2] - start[:2]))
                if config.goal_min_distance <= gap <= config.goal_max_distance:
                    break
            else:
                raise ConfigError(
                    f'no goal at a distance in [{config.goal_min_distance}, '
                    f'{config.goal_max_distance}] m from start {np.round(start, 2).tolist()} '
                    f'in layout {config.layout!r}: widen goal_min_distance/goal_max_distance')
            specs.append(EpisodeSpec(index, int(episode_seed),
                                     tuple(round(float(v), 6) for v in start),
                                     tuple(round(float(v), 6) for v in goal)))
    return specs


@dataclasses.dataclass
class FuturesSnapshot:
    """The predicted futures of one step, in the world frame."""

    step: int
    poses: np.ndarray  # [K, H, 3] world frame
    costs: np.ndarray  # [K] summed latent distance to the goal (NaN without a goal)


@dataclasses.dataclass
class EpisodeRecord:
    """What one episode did: outcome, ground-truth trajectory and the loop's measurements."""

    spec: EpisodeSpec
    policy: str
    success: bool = False
    steps: int = 0  # steps to success, or steps run
    end_reason: str = ''
    final_distance: float = math.nan
    min_distance: float = math.nan
    collisions: int = 0  # steps that reported contact
    wall_s: float = 0.0
    trajectory: dict = dataclasses.field(default_factory=dict)  # step -> true pose
    odometry: dict = dataclasses.field(default_factory=dict)  # step -> odom pose
    surprise: dict = dataclasses.field(default_factory=dict)  # step -> normalised surprise
    latency_ms: list = dataclasses.field(default_factory=list)
    plan_hz: list = dataclasses.field(default_factory=list)
    futures: list = dataclasses.field(default_factory=list)  # FuturesSnapshot
    goal_estimate: tuple | None = None  # last goal_pose_estimate, world frame
    goal_image: np.ndarray | None = None
    frames: dict = dataclasses.field(default_factory=dict)  # step -> RGB (keep_frames)
    _raw_futures: list = dataclasses.field(default_factory=list, repr=False)
    _raw_estimate: tuple | None = dataclasses.field(default=None, repr=False)

    def poses(self) -> np.ndarray:
        """[T, 3] ground-truth poses in step order."""
        return np.array([self.trajectory[k] for k in sorted(self.trajectory)]).reshape(-1, 3)

    @property
    def control_hz(self) -> float:
        return self.steps / self.wall_s if self.wall_s > 0 else math.nan

    def summary(self) -> dict:
        """JSON-ready per-episode result (the trajectory rounded to millimetres)."""
        def r(value, digits=4):
            return None if value is None or not math.isfinite(value) else round(value, digits)

        return {
            'index': self.spec.index, 'seed': self.spec.seed, 'start': list(self.spec.start),
            'goal': list(self.spec.goal), 'start_goal_distance': r(self.spec.distance),
            'success': self.success, 'steps': self.steps, 'end_reason': self.end_reason,
            'final_distance': r(self.final_distance), 'min_distance': r(self.min_distance),
            'collisions': self.collisions, 'wall_s': r(self.wall_s, 2),
            'control_hz': r(self.control_hz, 2),
            'latency_ms_p50': r(_percentile(self.latency_ms, 50), 2),
            'plan_hz': r(_median(self.plan_hz), 2),
            'goal_estimate': None if self.goal_estimate is None else
            [round(float(v), 3) for v in self.goal_estimate],
            'trajectory': np.round(self.poses(), 3).tolist(),
        }


def _percentile(values, q) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def _median(values) -> float:
    return float(np.median(values)) if len(values) else math.nan


def summarise(records: list[EpisodeRecord]) -> dict:
    """Aggregate figures of one policy's episodes."""
    def r(value, digits=4):
        return None if not math.isfinite(value) else round(float(value), digits)

    n = len(records)
    wins = [e for e in records if e.success]
    latencies = [v for e in records for v in e.latency_ms]
    rates = [v for e in records for v in e.plan_hz]
    return {
        'episodes': n,
        'successes': len(wins),
        'success_rate': r(len(wins) / n if n else math.nan),
        'final_distance_mean': r(_mean([e.final_distance for e in records])),
        'final_distance_median': r(_median([e.final_distance for e in records])),
        'steps_to_success_mean': r(_mean([e.steps for e in wins]), 2),
        'steps_to_success_median': r(_median([e.steps for e in wins]), 1),
        'collisions_per_episode': r(_mean([e.collisions for e in records]), 3),
        'episodes_with_collision': sum(e.collisions > 0 for e in records),
        'plan_hz_median': r(_median(rates), 2),
        'control_hz_median': r(_median([e.control_hz for e in records]), 2),
        'latency_ms_p50': r(_percentile(latencies, 50), 2),
        'latency_ms_p99': r(_percentile(latencies, 99), 2),
        'end_reasons': dict(collections.Counter(e.end_reason for e in records)),
        'wall_s': r(sum(e.wall_s for e in records), 1),
    }


def _mean(values) -> float:
    values = [v for v in values if math.isfinite(v)]
    return float(np.mean(values)) if values else math.nan


# ----------------------------------------------------------------------------- node set

def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def node_parameters(config: MissionConfig, memory_path: str, base_config=None,
                    node_overrides=None) -> dict:
    """The ROS parameters file of a mission: config/sim_demo.yaml with lockstep overrides.

    node_overrides ({node name: {parameter: value}}) come last, e.g. planner weights to try.
    """
    base_config = base_config or os.path.join(profiles.share_directory(), 'config',
                                              'sim_demo.yaml')
    with open(base_config, encoding='utf-8') as f:
        base = yaml.safe_load(f) or {}
    timeout = config.watchdog_timeout
    overrides = {
        'sim_node': {'ros__parameters': {
            'step_mode': 'lockstep', 'publish_clock': True,
            'lockstep_timeout': config.lockstep_timeout, 'layout': config.layout,
            'distractors': config.distractors}},
        'world_model_node': {'ros__parameters': {
            'odom_timeout_s': timeout, 'memory': {'path': memory_path}}},
        'planner_node': {'ros__parameters': {
            'method': config.method, 'futures_timeout_s': timeout, 'odom_timeout_s': timeout}},
    }
    for node, values in (node_overrides or {}).items():
        overrides = _merge(overrides, {node: {'ros__parameters': dict(values)}})
    return _merge(base, overrides)


def sim_config_of(parameters: dict) -> SimConfig:
    """The SimConfig that sim_node builds from a parameters file's '/**' and sim_node sections."""
    values = {}
    for section in ('/**', '/**/sim_node', 'sim_node', '/sim_node'):
        values.update((parameters.get(section) or {}).get('ros__parameters') or {})
    names = {f.name for f in dataclasses.fields(SimConfig)}
    return from_dict(SimConfig, {k: v for k, v in values.items() if k in names})


class NodeSet:
    """Some nodes of the sim_demo profile as child processes (agent_node.bringup.run_cmd.Child).

    Output goes to log_path, each line prefixed with the node name, as `jepa-agent run` does.
    """

    def __init__(self, nodes, params_file, model_dir, log_path, domain_id: int):
        values = profiles.resolve_arguments('sim_demo', profiles.share_directory(), {
            'config': str(params_file), 'model_dir': str(model_dir), 'use_sim_time': 'true'})
        specs = [s for s in profiles.node_set('sim_demo', values) if s.name in nodes]
        self.children = [supervisor.Child(s.name, supervisor.executable_for(s) +
                                        supervisor.ros_arguments(s)) for s in specs]
        self.log_path = pathlib.Path(log_path)
        self.env = {**os.environ, 'PYTHONUNBUFFERED': '1', 'ROS_DOMAIN_ID': str(domain_id),
                    'ROS_AUTOMATIC_DISCOVERY_RANGE': discovery_range()}
        self._log = None
        self._lock = threading.Lock()
        self.clean = None

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, 'a', encoding='utf-8')  # noqa: SIM115 closed in stop()
        preexec = supervisor.parent_death_signal()
        for child in self.children:  # every fork before any output thread (preexec_fn)
            child.start(self.env, preexec)
        for child in self.children:
            child.forward_output(self._log, self._lock)
        return self

    @property
    def started(self) -> bool:
        """True between start() and stop()."""
        return self._log is not None

    def check(self):
        """MissionError naming the first node that exited."""
        for child in self.children:
            if child.proc is not None and not child.alive():
                raise MissionError(f'node {child.name} {child.exit_description()}; last lines '
                                   f'of {self.log_path}:\n{self.tail()}')

    def tail(self, lines: int = 25) -> str:
        with contextlib.suppress(OSError):
            return '\n'.join(self.log_path.read_text(errors='replace').splitlines()[-lines:])
        return ''

    def stop(self, timeout: float = 5.0) -> bool:
        """SIGINT, then SIGTERM, then SIGKILL; True when every node exited on the SIGINT."""
        stopper = supervisor.Supervisor(self.children, out=self._log,
                                        shutdown_timeout=timeout)
        was_alive = all(c.alive() for c in self.children)
        self.clean = stopper.stop() and was_alive and all(
            c.proc.returncode in supervisor.STOPPED_ON_REQUEST for c in self.children)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.clean


# ----------------------------------------------------------------------------- orchestrator

class _Orchestrator:
    """The rclpy side of a Mission: service clients, subscriptions and the episode bookkeeping."""

    def __init__(self, context, config: MissionConfig, period_s: float, policy: str):
        from diagnostic_msgs.msg import DiagnosticArray
        from geometry_msgs.msg import PoseStamped, Twist, Vector3Stamped
        from nav_msgs.msg import Odometry
        from rcl_interfaces.srv import SetParameters
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from sensor_msgs.msg import Image, PointCloud2
        from std_msgs.msg import Bool, String
        from std_srvs.srv import Trigger

        from agent_node.ros import qos

        self.config, self.policy = config, policy
        self.period_ns = round(period_s * 1e9)
        self.node = rclpy.create_node('closed_loop_orchestrator', context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.twist_type = Twist
        reliable, latched, sensor = qos.reliable(depth=50), qos.latched(), qos.SENSOR
        node = self.node
        self.set_params = node.create_client(SetParameters, 'sim_node/set_parameters')
        self.reset = node.create_client(Trigger, 'sim/reset')
        self.cmd_pub = node.create_publisher(Twist, 'cmd_vel', reliable)
        subscriptions = [
            (Odometry, 'ground_truth/odom', self._on_truth, sensor),
            (Odometry, 'odom', self._on_odom, sensor),
            (Bool, 'sim/collision', self._on_collision, reliable),
            (Image, 'goal_image', self._on_goal_image, latched),
        ]
        if policy == 'agent' or config.keep_frames:
            subscriptions.append((Image, 'camera/image_raw', self._on_image, sensor))
        if policy == 'agent':
            subscriptions += [
                (Twist, 'cmd_vel', self._on_cmd_vel, reliable),
                (PointCloud2, 'world_model/predicted_futures', self._on_futures, reliable),
                (Vector3Stamped, 'world_model/surprise', self._on_surprise, reliable),
                (PoseStamped, 'world_model/goal_pose_estimate', self._on_estimate, reliable),
                (String, 'planner/status', self._on_status, latched),
                (DiagnosticArray, '/diagnostics', self._on_diagnostics, reliable),
            ]
        for msg_type, topic, callback, profile in subscriptions:
            node.create_subscription(msg_type, topic, callback, profile)
        self.record: EpisodeRecord | None = None
        self.frame0_ns = None
        self.last_step = -1
        self.futures_seen = 0
        self.planner_state = None
        self.images = collections.deque(maxlen=16)  # (DDS source time, camera stamp) [ns]
        self.answered = None  # source time of the last frame a cmd_vel answered
        self.goal_image = None  # (stamp ns, rgb)

    # -- helpers --------------------------------------------------------------------------
    def spin_until(self, predicate, timeout: float, check=None) -> bool:
        deadline = time.monotonic() + timeout
        next_check = 0.0
        while time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.02)
            if predicate():
                return True
            if check is not None and time.monotonic() >= next_check:
                check()
                next_check = time.monotonic() + 0.5
        return predicate()

    def call(self, client, request, what: str, timeout: float = 20.0, check=None):
        if not client.wait_for_service(timeout_sec=timeout):
            raise MissionError(f'service {client.srv_name} is not available ({what})')
        future = client.call_async(request)
        if not self.spin_until(future.done, timeout, check):
            raise MissionError(f'{what}: no answer from {client.srv_name} in {timeout:.0f} s')
        return future.result()

    def step_of(self, stamp) -> int | None:
        """Control step of a stamp within the current episode, None before its reset frame."""
        if self.record is None or self.frame0_ns is None:
            return None
        ns = stamp_ns(stamp)
        if ns < self.frame0_ns:
            return None
        return int(round((ns - self.frame0_ns) / self.period_ns))

    # -- callbacks ------------------------------------------------------------------------
    def _on_truth(self, msg):
        record = self.record
        if record is None:
            return
        pose = pose_of(msg.pose.pose)
        if self.frame0_ns is None:
            start = np.asarray(record.spec.start)
            gap = np.abs(pose - start)
            gap[2] = abs(math.remainder(pose[2] - start[2], 2 * math.pi))
            if gap.max() > _POSE_MATCH:
                return  # a frame of the previous episode
            self.frame0_ns = stamp_ns(msg.header.stamp)
        step = self.step_of(msg.header.stamp)
        if step is not None and step not in record.trajectory:
            record.trajectory[step] = pose
            self.last_step = max(self.last_step, step)

    def _on_odom(self, msg):
        step = self.step_of(msg.header.stamp)
        if step is not None:
            self.record.odometry[step] = pose_of(msg.pose.pose)

    def _on_image(self, msg, info):
        # DDS writer timestamps (wall clock, same host) pair each cmd_vel with the frame it
        # answers, whatever order the executor hands the two messages over in.
        self.images.append((info['source_timestamp'], stamp_ns(msg.header.stamp)))
        if self.config.keep_frames:
            step = self.step_of(msg.header.stamp)
            if step is not None:
                from agent_node.conversions.images import image_to_rgb

                self.record.frames[step] = image_to_rgb(msg)

    def _on_collision(self, msg):
        if self.record is not None and self.frame0_ns is not None and msg.data:
            self.record.collisions += 1

    def _on_goal_image(self, msg):
        from agent_node.conversions.images import image_to_rgb

        self.goal_image = (stamp_ns(msg.header.stamp), image_to_rgb(msg))

    def _on_cmd_vel(self, _msg, info):
        sent = info['source_timestamp']
        frame = next((f for f in reversed(self.images) if f[0] < sent), None)
        if frame is None or frame[0] == self.answered:
            return  # not the first command after that frame
        self.answered = frame[0]
        if self.record is not None and self.frame0_ns is not None and frame[1] >= self.frame0_ns:
            self.record.latency_ms.append((info['received_timestamp'] - frame[0]) * 1e-6)

    def _on_futures(self, msg):
        self.futures_seen += 1
        step = self.step_of(msg.header.stamp)
        if step is None or step % self.config.snapshot_every:
            return
        from agent_node.conversions.futures import decode_futures

        futures = decode_futures(msg)
        self.record._raw_futures.append((step, futures.poses.copy(),
                                         futures.goal_dist.sum(axis=1)))

    def _on_surprise(self, msg):
        step = self.step_of(msg.header.stamp)
        if step is not None and math.isfinite(msg.vector.x):
            self.record.surprise[step] = float(msg.vector.x)

    def _on_estimate(self, msg):
        step = self.step_of(msg.header.stamp)
        if step is not None:
            self.record._raw_estimate = (step, pose_of(msg.pose))

    def _on_status(self, msg):
        self.planner_state = msg.data

    def _on_diagnostics(self, msg):
        if self.record is None or self.frame0_ns is None:
            return
        for status in msg.status:
            if not status.name.startswith('planner_node:'):
                continue
            values = {kv.key: kv.value for kv in status.values}
            with contextlib.suppress(KeyError, ValueError):
                if values['state'] == 'planning':
                    self.record.plan_hz.append(float(values['plan_rate_hz']))

    def publish_command(self, command):
        msg = self.twist_type()
        msg.linear.x, msg.angular.z = float(command[0]), float(command[1])
        self.cmd_pub.publish(msg)

    def destroy(self):
        self.executor.shutdown()
        self.node.destroy_node()


def _world_from_odom(record: EpisodeRecord, step: int, poses) -> np.ndarray | None:
    """Odometry-frame poses [..., 3] of a step mapped into the world frame (by ground truth)."""
    if step not in record.trajectory or step not in record.odometry:
        return None
    odometry = record.odometry[step]
    world_t_odom = geometry.compose(record.trajectory[step], geometry.invert(odometry))
    return geometry.compose(world_t_odom, poses)


# ----------------------------------------------------------------------------- mission

class Mission:
    """The node set of one policy plus the orchestrator; run_episode() as often as needed.

    with Mission(config, 'agent', model_dir='models/default', workdir='out/run') as mission:
        record = mission.run_episode(spec)
    """

    def __init__(self, config: MissionConfig, policy: str, model_dir=None, workdir=None,
                 domain_id: int | None = None, base_config=None, node_overrides=None):
        if policy not in POLICIES:
            raise ValueError(f'unknown policy {policy!r}: allowed one of {", ".join(POLICIES)}')
        self.config, self.policy = config, policy
        self.model_dir = pathlib.Path(model_dir or profiles.default_model_dir()).resolve()
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix='jepa-mission-')
            workdir = self._tmp.name
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.domain_id = default_domain_id() if domain_id is None else int(domain_id)
        self.parameters = node_parameters(config, str(self.workdir / f'memory-{policy}.sqlite3'),
                                          base_config, node_overrides)
        self.sim_config = sim_config_of(self.parameters)
        self.params_file = self.workdir / f'params-{policy}.yaml'
        self.params_file.write_text(yaml.safe_dump(self.parameters, sort_keys=False))
        self.log_path = self.workdir / f'nodes-{policy}.log'
        self.nodes = NodeSet(AGENT_NODES if policy == 'agent' else RANDOM_NODES,
                             self.params_file, self.model_dir, self.log_path, self.domain_id)
        self.context = None
        self.orchestrator = None
        self.startup_s = math.nan
        self.clean_stop = None

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        import rclpy
        from rclpy.context import Context
        from rclpy.signals import SignalHandlerOptions

        if self.policy == 'agent' and not (self.model_dir / 'manifest.json').is_file():
            raise MissionError(f'no exported model in {self.model_dir} (manifest.json missing): '
                               f'pass --model-dir or run `make default-model`')
        began = time.monotonic()
        self.nodes.start()
        os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = discovery_range()  # as the nodes'
        self.context = Context()
        rclpy.init(context=self.context, domain_id=self.domain_id,
                   signal_handler_options=SignalHandlerOptions.NO)
        self.orchestrator = _Orchestrator(self.context, self.config,
                                          self.sim_config.control_period, self.policy)
        self._wait_ready()
        self.startup_s = time.monotonic() - began

    def _wait_ready(self):
        orch, timeout = self.orchestrator, self.config.startup_timeout
        for client in (orch.set_params, orch.reset):
            deadline = time.monotonic() + timeout
            while not client.wait_for_service(timeout_sec=0.5):
                self.nodes.check()
                if time.monotonic() > deadline:
                    raise MissionError(f'service {client.srv_name} did not appear within '
                                       f'{timeout:.0f} s; node log {self.log_path}:\n'
                                       f'{self.nodes.tail()}')
        if self.policy != 'agent':
            return
        ready = orch.spin_until(lambda: orch.futures_seen > 0 and orch.planner_state is not None,
                                timeout, check=self.nodes.check)
        if not ready:
            missing = 'world_model/predicted_futures' if not orch.futures_seen else \
                'planner/status'
            raise MissionError(f'no {missing} within {timeout:.0f} s of start-up: is the model '
                               f'in {self.model_dir} valid? node log {self.log_path}:\n'
                               f'{self.nodes.tail()}')

    def stop(self) -> bool:
        import rclpy

        if self.orchestrator is not None:
            self.orchestrator.destroy()
            self.orchestrator = None
        if self.context is not None:
            rclpy.try_shutdown(context=self.context)
            self.context = None
        if self.clean_stop is None and self.nodes.started:
            self.clean_stop = self.nodes.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return bool(self.clean_stop)

    # -- episodes -------------------------------------------------------------------------
    def _reset_simulator(self, spec: EpisodeSpec):
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter
        from std_srvs.srv import Trigger

        orch = self.orchestrator
        request = SetParameters.Request()
        request.parameters = [
            Parameter('seed', Parameter.Type.INTEGER, spec.seed).to_parameter_msg(),
            Parameter('start_pose', Parameter.Type.DOUBLE_ARRAY,
                      list(spec.start)).to_parameter_msg(),
            Parameter('goal_pose', Parameter.Type.DOUBLE_ARRAY,
                      list(spec.goal)).to_parameter_msg(),
        ]
        response = orch.call(orch.set_params, request, 'setting the episode parameters',
                             check=self.nodes.check)
        refused = [r.reason for r in response.results if not r.successful]
        if refused:
            raise MissionError(f'sim_node refused the episode parameters: {refused}')
        result = orch.call(orch.reset, Trigger.Request(), 'sim/reset', check=self.nodes.check)
        if not result.success:
            raise MissionError(f'sim/reset failed: {result.message}')

    def run_episode(self, spec: EpisodeSpec, on_step=None) -> EpisodeRecord:
        """Reset to spec, run until success, budget or stop; on_step(record, step, distance)."""
        cfg, orch = self.config, self.orchestrator
        record = EpisodeRecord(spec, self.policy)
        goal = np.asarray(spec.goal[:2])
        random_policy = None
        if self.policy == 'random':
            random_policy = ExplorationPolicy(spec.seed, ActionLimits.from_config(
                self.sim_config))
        orch.executor.spin_once(timeout_sec=0.0)  # drain what the previous episode left
        orch.record, orch.frame0_ns, orch.last_step = record, None, -1
        began = time.monotonic()
        self._reset_simulator(spec)
        if not orch.spin_until(lambda: orch.frame0_ns is not None, 20.0, self.nodes.check):
            raise MissionError(f'episode {spec.index}: no ground truth at the start pose after '
                               f'sim/reset; node log {self.log_path}:\n{self.nodes.tail()}')
        handled, commands_sent, stopped_frames = -1, 0, 0
        deadline = began + cfg.episode_timeout
        next_check = 0.0
        while True:
            orch.executor.spin_once(timeout_sec=0.05)
            now = time.monotonic()
            if now >= next_check:
                self.nodes.check()
                next_check = now + 0.5
            if now > deadline:
                record.end_reason = 'timeout'
                break
            if orch.last_step <= handled:
                continue
            for step in range(handled + 1, orch.last_step + 1):  # every new frame, in order
                pose = record.trajectory.get(step)
                if pose is None:
                    continue  # a dropped ground-truth message
                distance = float(np.hypot(*(pose[:2] - goal)))
                record.final_distance = distance
                record.min_distance = min(distance, float(np.nan_to_num(record.min_distance,
                                                                        nan=math.inf)))
                record.steps = step
                if on_step is not None:
                    on_step(record, step, distance)
                if distance < cfg.success_threshold:
                    record.success, record.end_reason = True, 'reached'
                elif step >= cfg.budget:
                    record.end_reason = 'budget'
                elif self.policy == 'agent':
                    stopped_frames = stopped_frames + 1 if orch.planner_state == GOAL_REACHED \
                        else 0
                    if stopped_frames >= cfg.stop_frames:
                        record.end_reason = 'agent_stopped'
                if record.end_reason:
                    break
            handled = orch.last_step
            if record.end_reason:
                break
            if random_policy is not None:
                # one policy draw per step, so a dropped frame does not shift the sequence
                command = None
                while commands_sent <= handled:
                    command = random_policy.act(False)
                    commands_sent += 1
                orch.publish_command(command)
        record.wall_s = time.monotonic() - began
        self._finish(record)
        orch.record = None
        return record

    def _finish(self, record: EpisodeRecord):
        """Map the kept futures and goal estimate into the world frame; keep the goal image."""
        for step, poses, costs in record._raw_futures:
            world = _world_from_odom(record, step, poses)
            if world is not None:
                record.futures.append(FuturesSnapshot(step, world.astype(np.float32), costs))
        record._raw_futures = []
        if record._raw_estimate is not None:
            step, pose = record._raw_estimate
            world = _world_from_odom(record, step, pose)
            record.goal_estimate = None if world is None else tuple(float(v) for v in world)
        goal_image = self.orchestrator.goal_image
        if goal_image is not None and self.orchestrator.frame0_ns is not None and \
                goal_image[0] >= self.orchestrator.frame0_ns:
            record.goal_image = goal_image[1]


def discovery_range() -> str:
    """The user's ROS_AUTOMATIC_DISCOVERY_RANGE, else LOCALHOST: a mission stays on this host."""
    return os.environ.get('ROS_AUTOMATIC_DISCOVERY_RANGE') or 'LOCALHOST'


def default_domain_id() -> int:
    """A private DDS domain (10-99, from the process id): never a robot's default domain 0."""
    return 10 + os.getpid() % 90


def run_policy(config: MissionConfig, specs, policy: str, model_dir=None, workdir=None,
               domain_id=None, on_episode=None,
               node_overrides=None) -> tuple[list[EpisodeRecord], dict]:
    """All specs under one policy; on_episode(record) after each. Returns (records, info)."""
    records = []
    with Mission(config, policy, model_dir=model_dir, workdir=workdir, domain_id=domain_id,
                 node_overrides=node_overrides) as mission:
        for spec in specs:
            record = mission.run_episode(spec)
            records.append(record)
            if on_episode is not None:
                on_episode(record)
    info = {'startup_s': round(mission.startup_s, 2), 'clean_stop': mission.clean_stop,
            'node_log': str(mission.log_path) if workdir is not None else None}
    return records, info


def config_dict(config: MissionConfig) -> dict:
    return to_dict(config)
