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
"""World model node: camera + odometry in, predicted futures, latent, surprise and goals out.

Lifecycle (rclpy LifecycleNode; `autostart:=true`, the default, configures and activates at
start-up for users without a lifecycle manager; ~/change_state and ~/get_state always work):
- configure: load and verify the exported model (OnnxWorldModel), open the latent memory,
  warm up a K x H rollout. A missing, corrupt or tampered model fails the transition with a
  logged message naming the file; the node stays alive and unconfigured.
- activate: subscribe and start the inference worker; deactivate: stop both.
- cleanup: release the model and the memory. Switching models at runtime = deactivate, cleanup,
  set model_dir (and memory.path, unless it contains {model_id}: a memory belongs to one
  model), configure, activate.

Per processed frame (newest image/odometry pair by stamp; inference runs on a worker thread, so
a slow model drops frames, counted as `dropped`, instead of queueing them): encode, append to
memory, roll out K candidate action sequences for H steps (the planner's latest
planner/proposal, or before any proposal / after proposal_timeout_s, a default fan of constant
actions), publish on reliable topics, every message stamped with the source camera stamp:
- world_model/predicted_futures: sensor_msgs/PointCloud2, docs/architecture.md encoding (poses in
  the odom frame, goal_dist to the active goal latent or NaN, uncertainty = running one-step
  latent error scale x sqrt(step), collision probability);
- world_model/predicted_path (nav_msgs/Path, current pose + best candidate: lowest summed
  goal_dist, or candidate 0 without a goal) and world_model/futures_markers (MarkerArray,
  DELETEALL then one LINE_STRIP per candidate coloured by cost, every markers_period_s);
- world_model/latent: sensor_msgs/Image '32FC1', height 1, width D (see world_model_msgs);
- world_model/surprise: geometry_msgs/Vector3Stamped, x = error / running scale (~1 normally),
  y = L2 error between the latent predicted one control period ago (predict_next from the
  history at that frame, proprio = its odometry twist, action = the odometry twist now) and the
  latent observed now, z = running scale (EMA of recent errors while the robot moves: a standing
  robot's near-perfect predictions would shrink it and make its first motion a spike);
- world_model/goal_pose_estimate (PoseStamped, odom frame) while a goal is active: the stored
  odometry pose of a named goal, else place(goal latent) mapped into the odom frame through a
  smoothed odom_T_world estimated from place(current latent) vs the current odometry pose;
- /diagnostics: providers, processed/dropped rates, latency, memory size, surprise, last error,
  bad-input counters (errors.<kind>), odom/image stale flags, lifecycle state.

Goals: goal_image (Image, reliable + transient_local, so a latched goal is received) sets the goal
latent; world_model/remember (String NAME) stores the current latent + odometry pose as a named
goal in the LatentStore (persistent across restarts); world_model/goal_name (String NAME)
activates a stored goal, an empty name clears the goal.

Bad input never stops the node: an unsupported encoding, a step inconsistent with width and
channels, empty data, an image above max_pixels (default 1920x1080, so 4K is rejected),
non-finite odometry, stamps going backwards, bad proposals or goals are each logged once per
burst, counted and reported on /diagnostics; the next good message is processed normally.

History restarts: stamps jumping back (a simulator reset, a looping bag), a frame gap above
history_max_age_s or odometry moving further between two frames than odom_jump_m / odom_jump_rad
(a teleport, a relocalised odometry) restart the predictor history and the odom_T_world
estimate, so surprise is never measured across two trajectories (counted as odom_jumps).

Stale odometry policy: when no odometry arrives for odom_timeout_s the node STOPS publishing
futures (an image without odometry within sync_tolerance_s is never processed) and /diagnostics
says odom_stale=true at WARN level; the planner's watchdog then zeroes cmd_vel.
"""

import collections
import dataclasses
import functools
import math
import pathlib
import sys
import threading
import time
from typing import NamedTuple

from geometry_msgs.msg import PoseStamped, Vector3Stamped
from nav_msgs.msg import Odometry, Path
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CompressedImage, Image, PointCloud2
from std_msgs.msg import Float32MultiArray, Header, String
from visualization_msgs.msg import MarkerArray

from agent_node.bringup.profiles import default_model_dir
from agent_node.conversions import outputs as wmm
from agent_node.conversions.futures import decode_proposal, encode_futures
from agent_node.conversions.images import DEFAULT_MAX_PIXELS, msg_to_rgb
from agent_node.ros import qos
from agent_node.ros.diagnostics import BurstLogger, DiagnosticsReporter
from agent_node.ros.lifecycle import GuardedLifecycleNode
from agent_node.ros.node_main import run_node
from agent_node.ros.params import declare_config, updated_config
from world_model import geometry
from world_model.config import ConfigError, param
from world_model.data.image_codec import ImageFormatError
from world_model.memory import LatentStore, MemoryConfig
from world_model.online import (
    Frame,
    LatentTimeline,
    OdomWorldAlignment,
    SurpriseMeter,
    moving,
    odometry_jumped,
)
from world_model.planning.candidates import fan_candidates
from world_model.sync.stamp_sync import StampSynchronizer, stamp_ns

NODE_NAME = 'world_model_node'
MAX_CANDIDATES = 4096
MAX_HORIZON = 200


@dataclasses.dataclass
class WorldModelNodeConfig:
    """Model, rollout size, input handling and outputs of the world model node."""

    model_dir: str = param('', help="exported MODEL_DIR; '' = share/jepa_agent/models/default "
                                    '(applies at the next configure)')
    providers: list = param(['tensorrt', 'cuda', 'openvino', 'cpu'],
                            help='execution provider preference order (next configure)')
    threads: int = param(1, lo=1, hi=64,
                         help='onnxruntime intra-op threads (next configure); 1 leaves the other '
                              'cores to the camera driver and planner')
    int8: bool = param(False, help='run the INT8 encoder/predictor (next configure)')
    num_candidates: int = param(64, lo=1, hi=MAX_CANDIDATES,
                                help='K default candidates rolled out before a proposal')
    horizon: int = param(8, lo=1, hi=MAX_HORIZON, help='H steps of the default candidates')
    default_v: float = param(0.3, lo=0.0, hi=10.0,
                             help='forward speed of the default candidates [m/s]')
    default_omega: float = param(1.0, lo=0.0, hi=20.0,
                                 help='largest turn rate of the default candidates [rad/s]')
    proposal_timeout_s: float = param(1.0, lo=0.01, hi=3600.0,
                                      help='fall back to the default candidates when no '
                                           'planner/proposal came for this long [s, steady]')
    sync_tolerance_s: float = param(0.05, lo=0.0, hi=1.0,
                                    help='largest image/odometry stamp gap of a pair [s] '
                                         '(next activate)')
    max_pixels: int = param(DEFAULT_MAX_PIXELS, lo=1, hi=100_000_000,
                            help='images with more pixels are rejected (4K: 8.3 Mpx)')
    image_transport: str = param('raw', choices=('raw', 'compressed'),
                                 help="'raw': camera/image_raw (Image); 'compressed': "
                                      'camera/image_raw/compressed (next activate)')
    odom_timeout_s: float = param(0.5, lo=0.01, hi=60.0,
                                  help='odometry (or camera) older than this is stale [s, steady]')
    history_max_age_s: float = param(1.0, lo=0.05, hi=60.0,
                                     help='a gap between frames longer than this restarts the '
                                          'predictor history [s]')
    odom_jump_m: float = param(0.5, lo=0.0, hi=1000.0,
                               help='odometry moving further than this between consecutive '
                                    'frames (a simulator reset, a relocalised odometry) restarts '
                                    'the predictor history [m]; 0 disables')
    odom_jump_rad: float = param(1.0, lo=0.0, hi=math.pi,
                                 help='the same for a turn between consecutive frames [rad]; 0 '
                                      'disables')
    surprise_ema: float = param(0.05, lo=0.001, hi=1.0,
                                help='EMA weight of the running latent error scale')
    surprise_min_scale: float = param(1e-6, lo=1e-12, hi=1e6,
                                      help='floor of the running error scale')
    surprise_clip: float = param(10.0, lo=1.0, hi=1e6,
                                 help='an error counts at most this many scales in the EMA')
    alignment_ema: float = param(0.1, lo=0.001, hi=1.0,
                                 help='EMA weight of the odom_T_world estimate (goal images)')
    odom_frame: str = param('', help="frame of futures/path/goal poses; '' = the odometry "
                                     "messages' frame_id (or 'odom')")
    markers_period_s: float = param(0.2, lo=0.0, hi=60.0,
                                    help='least time between futures_markers (0: every frame)')
    diagnostics_period_s: float = param(1.0, lo=0.1, hi=60.0, help='/diagnostics period [s]')
    autostart: bool = param(True, help='configure and activate at start-up')

    def check(self):
        from world_model.runtime.providers import provider_name

        if not self.providers:
            raise ConfigError("parameter 'providers' is empty: allowed a list of "
                              'tensorrt, cuda, openvino, cpu')
        for name in self.providers:
            try:
                provider_name(name)
            except ValueError as exc:
                raise ConfigError(f"parameter 'providers': {exc}") from None


READ_ONLY = ('diagnostics_period_s', 'autostart')
CONFIGURE_TIME = ('model_dir', 'providers', 'threads', 'int8')
ACTIVATE_TIME = ('image_transport', 'sync_tolerance_s')
MEMORY_PREFIX = 'memory.'


class OdomSample(NamedTuple):
    pose: np.ndarray  # (x, y, yaw) odom frame
    twist: np.ndarray  # (v, omega) body frame
    frame_id: str


class ImageSample(NamedTuple):
    stamp: object  # builtin_interfaces/Time of the camera
    rgb: np.ndarray


@dataclasses.dataclass
class ActiveGoal:
    name: str  # '' for a goal image
    latent: np.ndarray
    pose: np.ndarray | None  # odom frame, when known (named goals)
    world_pose: np.ndarray | None = None  # place(latent), for goal images


def odom_sample(msg: Odometry) -> OdomSample:
    """(pose, twist) of an Odometry message; ValueError when any used value is not finite."""
    p, q, t = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
    values = (p.x, p.y, q.x, q.y, q.z, q.w, t.linear.x, t.angular.z)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f'odometry has non-finite values: position ({p.x}, {p.y}), orientation '
                         f'({q.x}, {q.y}, {q.z}, {q.w}), twist ({t.linear.x}, {t.angular.z})')
    pose = np.array([p.x, p.y, geometry.yaw_of_quaternion(q)])
    return OdomSample(pose, np.array([t.linear.x, t.angular.z], np.float32), msg.header.frame_id)


def never_raises(kind: str):
    """Decorate a subscription callback: an unexpected exception is counted as `kind` and
    logged once per burst instead of propagating into the executor (which would end the node)."""
    def wrap(callback):
        @functools.wraps(callback)
        def guarded(self, msg):
            try:
                callback(self, msg)
            except Exception as exc:
                self._bad(kind, f'{type(exc).__name__}: {exc}')
        return guarded
    return wrap


# ------------------------------------------------------------------------------ the node


class WorldModelNode(GuardedLifecycleNode):
    """Lifecycle node running the JEPA world model on camera + odometry (module docstring)."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self.config = declare_config(self, WorldModelNodeConfig, read_only=READ_ONLY)
        self.memory_config = declare_config(self, MemoryConfig, prefix=MEMORY_PREFIX)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.burst = BurstLogger(self)
        self._lock = threading.RLock()  # model, memory and goal state vs. worker and callbacks
        self.model = None
        self.store = None
        self.model_dir = None
        self.state_label = 'unconfigured'
        self.last_error = ''
        self.configure_error = ''
        self._outputs = {}
        self._inputs = []
        self._worker = None
        self._wake = threading.Condition()
        self._stop_worker = False
        self._work_pending = False
        self.sync = None
        self.timeline = None
        self.surprise = SurpriseMeter(self.config.surprise_ema, self.config.surprise_min_scale,
                                      self.config.surprise_clip)
        self.alignment = OdomWorldAlignment(self.config.alignment_ema)
        self.goal = None
        self.proposal = None  # (actions [K,H,2], steady time received)
        self.current = None  # (latent, odom pose) of the newest processed frame
        self._history_reset = False
        self._last_markers = -math.inf
        self._last_odom_time = None  # steady seconds
        self._last_image_time = None
        self.counters = collections.Counter()
        self.latency_ms = collections.deque(maxlen=200)  # camera stamp -> publish
        self.processing_ms = collections.deque(maxlen=200)
        self.last_surprise = (math.nan, math.nan, math.nan)
        self.last_surprise_stamp = None
        self.candidate_shape = None
        self._default_key, self._default_set = None, None
        self._rate_mark = (time.monotonic(), collections.Counter())
        self.diagnostics = DiagnosticsReporter(self, self.config.diagnostics_period_s,
                                               status=self._diagnostic_status,
                                               burst_logger=self.burst, task='world model')
        self.diagnostics.add_source(self.transition_guard.status)
        self.diagnostics.add_source(lambda: None if (s := self.store) is None else s.health())

    # -- parameters -----------------------------------------------------------------------
    def _on_set_parameters(self, params) -> SetParametersResult:
        config, result = updated_config(self.config, params)
        if not result.successful:
            return result
        memory, result = updated_config(self.memory_config, params, prefix=MEMORY_PREFIX)
        if not result.successful:
            return result
        names = [p.name for p in params]
        at_configure = [n for n in names if n in CONFIGURE_TIME or n.startswith(MEMORY_PREFIX)]
        at_activate = [n for n in names if n in ACTIVATE_TIME]
        if at_configure and self.state_label != 'unconfigured':
            self.get_logger().info(f'{", ".join(at_configure)} will apply at the next configure')
        if at_activate and self.state_label == 'active':
            self.get_logger().info(f'{", ".join(at_activate)} will apply at the next activate')
        self.config, self.memory_config = config, memory
        self.surprise.ema = config.surprise_ema
        self.surprise.min_scale = config.surprise_min_scale
        self.surprise.clip = config.surprise_clip
        self.alignment.ema = config.alignment_ema
        return SetParametersResult(successful=True)

    # -- lifecycle --------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        from world_model.export.manifest import manifest_sha256
        from world_model.runtime import OnnxWorldModel

        cfg = self.config
        try:
            model_dir = pathlib.Path(cfg.model_dir).expanduser() if cfg.model_dir \
                else pathlib.Path(default_model_dir())
            start = time.perf_counter()
            model = OnnxWorldModel(model_dir, providers=tuple(cfg.providers),
                                   threads=cfg.threads, int8=cfg.int8, warmup=True)
            model.warmup(k_values=(cfg.num_candidates,), horizon=cfg.horizon)
            load_s = time.perf_counter() - start
            store = LatentStore(self.memory_config, dim=model.latent_dim,
                                model_id=manifest_sha256(model_dir))
        except Exception as exc:  # the transition must fail cleanly, whatever broke
            self.configure_error = f'{type(exc).__name__}: {exc}'
            self.last_error = self.configure_error
            self.get_logger().error(f'configure failed: {self.configure_error}')
            return TransitionCallbackReturn.FAILURE
        with self._lock:
            self.model, self.store, self.model_dir = model, store, model_dir
            period = float(model.metadata.get('control_period', 0.1))
            self.timeline = LatentTimeline(model.history_length, period)
            self._seed_timeline_from_memory()
            self.surprise.reset()
            self.alignment.reset()
            self.goal = None
            self.current = None
        self.configure_error = ''
        if store.recovery is not None:  # kept aside, started empty: ERROR until cleanup
            self.get_logger().error(store.recovery.message)
        self._create_publishers()
        self.state_label = 'inactive'
        stats = store.stats()
        self.get_logger().info(
            f'configured: model {model_dir} on {", ".join(model.providers_in_use)} '
            f'(D={model.latent_dim}, history {model.history_length}, input '
            f'{model.input_width}x{model.input_height}; loaded and warmed up K='
            f'{cfg.num_candidates} H={cfg.horizon} in {load_s:.2f} s); memory '
            f'{store.path}: {stats["keyframes"]} keyframes, {stats["goals"]} named goal(s)')
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        cfg = self.config
        result = super().on_activate(state)  # publishers first: the worker publishes at once
        self.sync = StampSynchronizer(tolerance_s=cfg.sync_tolerance_s,
                                      on_reset=self._on_time_reset)
        self._create_subscriptions()
        self._start_worker()
        self.state_label = 'active'
        topic = 'camera/image_raw' + ('/compressed' if cfg.image_transport == 'compressed'
                                      else '')
        self.get_logger().info(f'active: {self.resolve_topic_name(topic)} + '
                               f'{self.resolve_topic_name("odom")} -> world_model/*')
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop()
        self.state_label = 'inactive'
        self.get_logger().info('deactivated: inputs unsubscribed, worker stopped')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        self.state_label = 'unconfigured'
        self.get_logger().info('cleaned up: model and memory released')
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.release()
        self.state_label = 'finalized'
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.release()
        self.state_label = 'unconfigured'
        return TransitionCallbackReturn.SUCCESS

    def autostart(self) -> bool:
        """configure + activate; False (node stays up, unconfigured) when configure fails."""
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            return False
        return self.trigger_activate() == TransitionCallbackReturn.SUCCESS

    def release(self):
        """Stop the worker, drop subscriptions and publishers, close the memory (idempotent)."""
        self._stop()
        self._release()

    def _stop(self):
        self._stop_worker_thread()
        for sub in self._inputs:
            self.destroy_subscription(sub)
        self._inputs = []

    def _release(self):
        for pub in self._outputs.values():
            self.destroy_lifecycle_publisher(pub)
        self._outputs = {}
        with self._lock:
            store, self.store, self.model = self.store, None, None
            self.goal, self.current, self.proposal = None, None, None
        if store is not None:
            try:
                store.close()
            except Exception as exc:  # a full disk must not prevent the cleanup
                self.get_logger().error(f'closing the memory {store.path} failed: {exc}')

    # -- set-up -----------------------------------------------------------------------------
    def _create_publishers(self):
        reliable = qos.reliable()
        topics = {
            'futures': (PointCloud2, 'world_model/predicted_futures'),
            'path': (Path, 'world_model/predicted_path'),
            'markers': (MarkerArray, 'world_model/futures_markers'),
            'latent': (Image, 'world_model/latent'),
            'surprise': (Vector3Stamped, 'world_model/surprise'),
            'goal_pose': (PoseStamped, 'world_model/goal_pose_estimate'),
        }
        self._outputs = {key: self.create_lifecycle_publisher(msg_type, topic, reliable)
                            for key, (msg_type, topic) in topics.items()}

    def _create_subscriptions(self):
        cfg = self.config
        reliable, latched = qos.reliable(), qos.latched()
        if cfg.image_transport == 'compressed':
            image = (CompressedImage, 'camera/image_raw/compressed')
        else:
            image = (Image, 'camera/image_raw')
        self._inputs = [
            self.create_subscription(*image, self._on_image, qos.SENSOR),
            self.create_subscription(Odometry, 'odom', self._on_odom, qos.SENSOR),
            self.create_subscription(Float32MultiArray, 'planner/proposal', self._on_proposal,
                                     reliable),
            self.create_subscription(Image, 'goal_image', self._on_goal_image, latched),
            self.create_subscription(String, 'world_model/remember', self._on_remember,
                                     reliable),
            self.create_subscription(String, 'world_model/goal_name', self._on_goal_name,
                                     reliable),
        ]

    def _seed_timeline_from_memory(self):
        """Resume from the persisted history when it is recent (checked at the first frame)."""
        latents, stamps = self.store.history(), self.store.history_stamps()
        for latent, stamp in zip(latents, stamps):
            self.timeline.add(Frame(int(stamp), latent, np.zeros(2, np.float32), None))

    def _on_time_reset(self, stream, previous_ns, new_ns):
        # simulator reset / bag loop: the predictor history belongs to another time line
        self._history_reset = True
        jump = (previous_ns - new_ns) * 1e-9
        self.get_logger().warning(f'{stream} stamps jumped back {jump:.2f} s: time reset, '
                                  f'predictor history restarted')

    # -- worker -----------------------------------------------------------------------------
    def _start_worker(self):
        self._stop_worker = False
        self._worker = threading.Thread(target=self._work, name='world-model-worker',
                                        daemon=True)
        self._worker.start()

    def _stop_worker_thread(self):
        worker, self._worker = self._worker, None
        if worker is None:
            return
        with self._wake:
            self._stop_worker = True
            self._wake.notify_all()
        worker.join(timeout=10.0)

    def _notify(self):
        with self._wake:
            self._work_pending = True
            self._wake.notify()

    def _work(self):
        while True:
            with self._wake:
                while not (self._work_pending or self._stop_worker):
                    self._wake.wait(0.5)
                if self._stop_worker:
                    return
                self._work_pending = False
            pair = self.sync.pop()
            if pair is None:
                continue
            try:
                with self._lock:
                    if self.model is not None:
                        self._process(pair)
            except Exception as exc:  # a bad frame must never stop the loop
                self.last_error = f'processing: {type(exc).__name__}: {exc}'
                self.burst.error('processing', f'{type(exc).__name__}: {exc}')

    # -- inputs -----------------------------------------------------------------------------
    def _bad(self, kind: str, message: str):
        self.last_error = f'{kind}: {message}'
        self.burst.warning(kind, message)

    @never_raises('bad_image')
    def _on_image(self, msg):
        self._last_image_time = time.monotonic()
        self.counters['images'] += 1
        try:
            rgb = msg_to_rgb(msg, self.config.max_pixels)
        except ImageFormatError as exc:
            self._bad('bad_image', str(exc))
            return
        stamp = stamp_ns(msg.header.stamp)
        if not self.sync.add_image(stamp, ImageSample(msg.header.stamp, rgb)):
            self._bad('stamp_backwards', f'image stamp {stamp * 1e-9:.3f} s is earlier than the '
                                         f'previous image')
            return
        self._notify()

    @never_raises('bad_odom')
    def _on_odom(self, msg: Odometry):
        try:
            sample = odom_sample(msg)
        except ValueError as exc:
            self._bad('bad_odom', str(exc))
            return
        self._last_odom_time = time.monotonic()
        self.counters['odometry'] += 1
        stamp = stamp_ns(msg.header.stamp)
        if not self.sync.add_odom(stamp, sample):
            self._bad('stamp_backwards', f'odometry stamp {stamp * 1e-9:.3f} s is earlier than '
                                         f'the previous odometry')
            return
        self._notify()

    @never_raises('bad_proposal')
    def _on_proposal(self, msg: Float32MultiArray):
        try:
            actions = decode_proposal(msg)
            if actions.shape[0] > MAX_CANDIDATES or actions.shape[1] > MAX_HORIZON:
                raise ValueError(f'proposal of {actions.shape[0]} candidates x {actions.shape[1]}'
                                 f' steps exceeds {MAX_CANDIDATES} x {MAX_HORIZON}')
        except ValueError as exc:
            self._bad('bad_proposal', str(exc))
            return
        self.proposal = (np.ascontiguousarray(actions), time.monotonic())

    @never_raises('bad_goal')
    def _on_goal_image(self, msg: Image):
        try:
            rgb = msg_to_rgb(msg, self.config.max_pixels)
        except ImageFormatError as exc:
            self._bad('bad_goal', f'goal image: {exc}')
            return
        with self._lock:
            if self.model is None:
                return
            latent = self.model.encode(rgb)[0]
            world = self.model.place(latent[None])[0]
            self.goal = ActiveGoal('', latent, None, world)
        self.get_logger().info(f'goal image {msg.width}x{msg.height} set as the goal')

    @never_raises('bad_goal')
    def _on_remember(self, msg: String):
        name = msg.data.strip()
        with self._lock:
            if not name:
                self._bad('bad_goal', 'world_model/remember needs a non-empty name')
                return
            if self.current is None or self.store is None:
                self._bad('bad_goal', f'cannot remember {name!r}: no frame processed yet')
                return
            latent, pose = self.current
            self.store.set_goal(name, latent, pose)
        self.get_logger().info(f'remembered goal {name!r} at odom pose '
                               f'({pose[0]:.2f}, {pose[1]:.2f}, {pose[2]:.2f})')

    @never_raises('bad_goal')
    def _on_goal_name(self, msg: String):
        name = msg.data.strip()
        with self._lock:
            if not name:
                self.goal = None
                self.get_logger().info('goal cleared')
                return
            if self.store is None or self.model is None:
                return
            try:
                goal = self.store.get_goal(name)
            except KeyError as exc:
                self._bad('bad_goal', str(exc.args[0]))
                return
            pose = None if goal.pose is None else np.asarray(goal.pose, dtype=np.float64)
            world = None if pose is not None else self.model.place(goal.latent[None])[0]
            self.goal = ActiveGoal(name, goal.latent, pose, world)
        self.get_logger().info(f'goal {name!r} active')

    # -- processing -------------------------------------------------------------------------
    def _candidates(self) -> tuple[np.ndarray, str]:
        proposal = self.proposal
        if proposal is not None and time.monotonic() - proposal[1] <= \
                self.config.proposal_timeout_s:
            return proposal[0], 'proposal'
        cfg = self.config
        key = (cfg.num_candidates, cfg.horizon, cfg.default_v, cfg.default_omega)
        if self._default_key != key:
            self._default_set = fan_candidates(*key)
            self._default_key = key
        return self._default_set, 'default'

    def _process(self, pair):
        start = time.perf_counter()
        cfg, model = self.config, self.model
        image, odom = pair.image, pair.odom
        now_ns = pair.image_stamp_ns
        header = Header(stamp=image.stamp, frame_id=cfg.odom_frame or odom.frame_id or 'odom')

        latent = model.encode(image.rgb)[0]
        frame = Frame(now_ns, latent, odom.twist, odom.pose)
        self._update_timeline(frame)
        history = self.timeline.history(frame)
        self.store.push_history(now_ns, latent)
        self.store.add_keyframe(now_ns, odom.pose, latent)
        self.current = (latent, odom.pose)

        actions, source = self._candidates()
        futures = model.rollout(history, odom.twist, actions)
        num, horizon = actions.shape[:2]
        poses = geometry.compose(odom.pose, futures.poses)
        goal = self.goal
        if goal is not None:
            goal_dist = np.linalg.norm(futures.latents - goal.latent, axis=-1)
            costs = goal_dist.sum(axis=1)
            best = int(np.argmin(costs))
        else:
            goal_dist = np.full((num, horizon), np.nan, np.float32)
            costs = futures.collision.sum(axis=1)
            best = 0
        scale = self.surprise.scale or 0.0
        uncertainty = np.broadcast_to(
            scale * np.sqrt(np.arange(1, horizon + 1, dtype=np.float32)), (num, horizon))

        pubs = self._outputs
        pubs['futures'].publish(encode_futures(header, poses, actions, goal_dist, uncertainty,
                                               futures.collision))
        pubs['path'].publish(wmm.path_msg(header, odom.pose, poses[best]))
        pubs['latent'].publish(wmm.latent_image(header, latent))
        if self.last_surprise_stamp == now_ns:
            pubs['surprise'].publish(wmm.surprise_vector(header, *self.last_surprise))
        if goal is not None:
            self._publish_goal_pose(header, goal, latent, odom.pose)
        steady = time.monotonic()
        if steady - self._last_markers >= cfg.markers_period_s:
            self._last_markers = steady
            pubs['markers'].publish(wmm.futures_markers(header, odom.pose, poses, costs, best))

        self.counters['processed'] += 1
        self.counters[f'candidates_{source}'] += 1
        self.candidate_shape = (num, horizon, source)
        self.processing_ms.append((time.perf_counter() - start) * 1e3)
        self.latency_ms.append((self.get_clock().now().nanoseconds - now_ns) * 1e-6)

    def _update_timeline(self, frame: Frame):
        """Surprise of frame against the prediction made one control period earlier."""
        cfg, timeline = self.config, self.timeline
        last = timeline.last()
        jumped = (last is not None and last.pose is not None and odometry_jumped(
            last.pose, frame.pose, cfg.odom_jump_m, cfg.odom_jump_rad))
        if jumped:
            self.counters['odom_jumps'] += 1
            self.get_logger().warning(
                f'odometry jumped from {np.round(last.pose, 2).tolist()} to '
                f'{np.round(frame.pose, 2).tolist()} between frames (beyond odom_jump_m / '
                f'odom_jump_rad): predictor history restarted')
        gap_ok = last is None or 0 < frame.stamp_ns - last.stamp_ns <= int(
            cfg.history_max_age_s * 1e9)
        if self._history_reset or jumped or not gap_ok:
            self._history_reset = False
            timeline.clear()
            self.alignment.reset()
        previous = timeline.nearest(frame.stamp_ns - timeline.period_ns,
                                    timeline.period_ns // 2)
        if previous is not None and previous.stamp_ns < frame.stamp_ns:
            predicted = self.model.predict_next(timeline.history(previous), previous.twist,
                                                frame.twist)
            error = float(np.linalg.norm(predicted - frame.latent))
            self.last_surprise = self.surprise.update(
                error, learn=moving(previous.twist, frame.twist))
            self.last_surprise_stamp = frame.stamp_ns
        timeline.add(frame)

    def _publish_goal_pose(self, header, goal: ActiveGoal, latent, odom_pose):
        if goal.pose is not None:
            pose = goal.pose
        else:
            self.alignment.update(odom_pose, self.model.place(latent[None])[0])
            pose = geometry.compose(self.alignment.odom_T_world(), goal.world_pose)
        self._outputs['goal_pose'].publish(wmm.pose_stamped(header, pose))

    # -- diagnostics ------------------------------------------------------------------------
    def _diagnostic_status(self):
        now = time.monotonic()
        then, previous = self._rate_mark
        sync_stats = self.sync.stats if self.sync is not None else None
        totals = collections.Counter(self.counters)
        totals['dropped'] = sync_stats.superseded if sync_stats else 0
        self._rate_mark = (now, totals)
        elapsed = max(now - then, 1e-6)

        def rate(key):
            return max(totals[key] - previous[key], 0) / elapsed

        values = {
            'lifecycle_state': self.state_label,
            'model_dir': str(self.model_dir or self.config.model_dir or '(default)'),
            'providers_in_use': ', '.join(self.model.providers_in_use) if self.model else '',
            'frames_processed': totals['processed'],
            'frames_dropped': totals['dropped'],
            'processed_hz': rate('processed'),
            'dropped_hz': rate('dropped'),
            'images_received': totals['images'],
            'image_hz': rate('images'),
            'odom_hz': rate('odometry'),
            'odom_jumps': totals['odom_jumps'],
        }
        if sync_stats is not None:
            values.update({'images_unmatched': sync_stats.unmatched_images,
                           'images_skipped': sync_stats.skipped_images,
                           'stamps_backwards': sync_stats.backwards,
                           'time_resets': sync_stats.resets})
        for name, series in (('latency_ms', self.latency_ms),
                             ('processing_ms', self.processing_ms)):
            if series:
                data = np.asarray(series)
                values[f'{name}_p50'] = float(np.percentile(data, 50))
                values[f'{name}_p99'] = float(np.percentile(data, 99))
        store = self.store
        if store is not None:
            stats = store.stats()
            values.update({'memory_keyframes': stats['keyframes'],
                           'memory_history': stats['history'], 'memory_goals': stats['goals'],
                           'memory_write_errors': stats['write_errors']})
        values.update({'surprise': self.last_surprise[0], 'latent_error': self.last_surprise[1],
                       'surprise_scale': self.last_surprise[2]})
        if self.candidate_shape is not None:
            num, horizon, source = self.candidate_shape
            values.update({'candidates': num, 'horizon': horizon, 'candidate_source': source})
        goal = self.goal
        values['goal'] = 'none' if goal is None else (goal.name or 'goal image')
        odom_stale = self._stale(self._last_odom_time, now)
        image_stale = self._stale(self._last_image_time, now)
        values.update({'odom_stale': odom_stale, 'image_stale': image_stale,
                       'last_error': self.last_error})
        if self.state_label != 'active':
            if self.configure_error:
                return 'ERROR', f'{self.state_label}: {self.configure_error}', values
            return 'OK', self.state_label, values
        if odom_stale or image_stale:
            which = ' and '.join(n for n, s in (('odometry', odom_stale), ('camera', image_stale))
                                 if s)
            return 'WARN', f'{which} stale: not publishing futures', values
        return 'OK', 'active', values

    def _stale(self, last, now) -> bool:
        return last is None or now - last > self.config.odom_timeout_s


def _autostart(node: 'WorldModelNode'):
    if not node.config.autostart:
        node.get_logger().info('autostart:=false: unconfigured, waiting for ~/change_state')
    elif not node.autostart():
        node.get_logger().error('autostart failed: the node stays unconfigured; fix the '
                                'parameters and call ~/change_state configure')


def main(args=None) -> int:
    # release() stops the worker and commits the memory before the process ends
    return run_node(NODE_NAME, WorldModelNode, args=args, on_start=_autostart,
                    on_exit=WorldModelNode.release)


if __name__ == '__main__':
    sys.exit(main())
