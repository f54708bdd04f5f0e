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
"""World model node: camera + odometry in; predicted futures, latent, surprise and goals out.

A managed lifecycle node (configure: load and verify the model, open the latent memory; activate:
subscribe and start the worker). It converts messages, runs world_model.online.FramePipeline on
the newest image/odometry pair on a worker thread (a slow model drops frames instead of queueing
them) and publishes its FrameResult on reliable topics stamped with the camera stamp. Bad input
is counted, logged once per burst and reported on /diagnostics; the node keeps serving. Without
odometry for odom_timeout_s it stops publishing futures. Topics, the futures encoding and the
parameters: README.md.
"""

import pathlib
import sys
import threading
import time

from geometry_msgs.msg import PoseStamped, PoseWithCovarianceStamped, Vector3Stamped
from nav_msgs.msg import Odometry, Path
import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import Float32MultiArray, Header, String
from visualization_msgs.msg import MarkerArray

from agent_node.bringup.profiles import default_model_dir
from agent_node.conversions import outputs
from agent_node.conversions.map_outputs import MapOutputs
from agent_node.ros import qos
from agent_node.ros.diagnostics import BurstLogger, DiagnosticsReporter
from agent_node.ros.frame_inputs import FrameInputs
from agent_node.ros.goal_requests import GoalRequests
from agent_node.ros.latest_only_worker import LatestOnlyWorker
from agent_node.ros.lifecycle import GuardedLifecycleNode
from agent_node.ros.node_main import run_node
from agent_node.ros.params import declare_config, updated_config
from agent_node.ros.world_model_params import (  # noqa: F401 (WorldModelNodeConfig: its home)
    ACTIVATE_TIME,
    CONFIGURE_TIME,
    MAP_PREFIX,
    MEMORY_PREFIX,
    READ_ONLY,
    WorldModelNodeConfig,
)
from world_model.memory import LatentStore, MapConfig, MemoryConfig
from world_model.online import FramePipeline
from world_model.planning.status import GOAL_LOCALISING, GOAL_NOT_FOUND

NODE_NAME = 'world_model_node'
MAP_MARKERS_PERIOD_S = 1.0
QUIET_ON_VOLATILE = SubscriptionEventCallbacks(incompatible_qos=lambda _info: None)


class WorldModelNode(GuardedLifecycleNode):
    """Lifecycle node running the JEPA world model on camera + odometry (module docstring)."""

    def __init__(self, **kwargs):
        super().__init__(NODE_NAME, **kwargs)
        self.config = declare_config(self, WorldModelNodeConfig, read_only=READ_ONLY)
        self.memory_config = declare_config(self, MemoryConfig, prefix=MEMORY_PREFIX)
        self.map_config = declare_config(self, MapConfig, prefix=MAP_PREFIX)
        self._lock = threading.RLock()  # the model, memory and pipeline vs. worker and callbacks
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.burst = BurstLogger(self)
        self.model = self.store = self.pipeline = self.model_dir = None
        self.state_label = 'unconfigured'
        self.last_error = self.configure_error = ''
        self._outputs, self._inputs = {}, []
        self.worker = LatestOnlyWorker(self._process_newest, self._on_processing_error,
                                       name='world-model-worker')
        self.inputs = FrameInputs(self.get_logger(), self._bad, self.worker.notify,
                                  lambda: self.config.max_pixels)
        self.goals = GoalRequests(self.get_logger(), self._bad, lambda: self.pipeline,
                                  self._lock, lambda: self.config.max_pixels)
        self._last_markers, self.last_surprise = -float('inf'), (float('nan'),) * 3
        self._last_map = -float('inf')
        self.map_outputs = None  # made with the publishers (configure)
        self.candidate_shape = None  # (K, H, source) of the newest rollout
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
        map_config, result = updated_config(self.map_config, params, prefix=MAP_PREFIX)
        if not result.successful:
            return result
        names = [p.name for p in params]
        at_configure = [n for n in names if n in CONFIGURE_TIME or n.startswith(
            (MEMORY_PREFIX, MAP_PREFIX))]
        at_activate = [n for n in names if n in ACTIVATE_TIME]
        if at_configure and self.state_label != 'unconfigured':
            self.get_logger().info(f'{", ".join(at_configure)} will apply at the next configure')
        if at_activate and self.state_label == 'active':
            self.get_logger().info(f'{", ".join(at_activate)} will apply at the next activate')
        with self._lock:
            self.config, self.memory_config, self.map_config = config, memory, map_config
            if self.pipeline is not None:
                self.pipeline.reconfigure(config)
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
            self.configure_error = self.last_error = f'{type(exc).__name__}: {exc}'
            self.get_logger().error(f'configure failed: {self.configure_error}')
            return TransitionCallbackReturn.FAILURE
        with self._lock:
            self.model, self.store, self.model_dir = model, store, model_dir
            # resumes the stored history and the latent map
            self.pipeline = FramePipeline(model, cfg, store, map_config=self.map_config)
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
            f'{store.path}: {stats["keyframes"]} keyframes, {stats["goals"]} named goal(s), '
            f'{self.pipeline.map.stats()["sessions"]} odometry session(s) in the map')
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = super().on_activate(state)  # publishers first: the worker publishes at once
        self.inputs.start(self.config.sync_tolerance_s, self._on_time_reset)
        self.goals.reset()
        camera = self._create_subscriptions()
        self.worker.start()
        self.state_label = 'active'
        self.get_logger().info(f'active: {camera} + {self.resolve_topic_name("odom")} -> '
                               f'world_model/*')
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._close_inputs()
        self.state_label = 'inactive'
        self.get_logger().info('deactivated: inputs unsubscribed, worker stopped')
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._unload()
        self.state_label = 'unconfigured'
        self.get_logger().info('cleaned up: model and memory released')
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.teardown()
        self.state_label = 'finalized'
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.teardown()
        self.state_label = 'unconfigured'
        return TransitionCallbackReturn.SUCCESS

    def configure_and_activate(self) -> bool:
        """False (the node stays up, unconfigured) when configure fails."""
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            return False
        return self.trigger_activate() == TransitionCallbackReturn.SUCCESS

    def teardown(self):
        """Close the inputs, then unload the model and the memory (idempotent)."""
        self._close_inputs()
        self._unload()

    def _close_inputs(self):
        """Deactivate: the worker finishes its frame and exits, subscriptions go."""
        self.worker.join()
        for sub in self._inputs:
            self.destroy_subscription(sub)
        self._inputs = []

    def _unload(self):
        """Cleanup: publishers go, the model and pipeline are dropped, the memory is closed."""
        for pub in self._outputs.values():
            self.destroy_lifecycle_publisher(pub)
        self._outputs = {}
        with self._lock:
            pipeline, store = self.pipeline, self.store
            self.store, self.model, self.pipeline = None, None, None
            self.inputs.proposal = None
        if pipeline is not None:
            pipeline.close()
        if store is not None:
            try:
                store.close()
            except Exception as exc:  # a full disk must not prevent the cleanup
                self.get_logger().error(f'closing the memory {store.path} failed: {exc}')

    # -- set-up -----------------------------------------------------------------------------
    def _create_publishers(self):
        topics = {
            'futures': (PointCloud2, 'world_model/predicted_futures'),
            'path': (Path, 'world_model/predicted_path'),
            'markers': (MarkerArray, 'world_model/futures_markers'),
            'latent': (Image, 'world_model/latent'),
            'surprise': (Vector3Stamped, 'world_model/surprise'),
            'goal_pose': (PoseStamped, 'world_model/goal_pose_estimate'),
            'goal_covariance': (PoseWithCovarianceStamped, 'world_model/goal_pose_covariance'),
            'waypoints': (Path, 'world_model/waypoints'),
            'map': (MarkerArray, 'world_model/map_markers'),
        }
        self._outputs = {key: self.create_lifecycle_publisher(msg_type, topic, qos.reliable())
                         for key, (msg_type, topic) in topics.items()}
        self._outputs['goal_status'] = self.create_lifecycle_publisher(
            String, 'world_model/goal_status', qos.latched())
        self.map_outputs = MapOutputs(self._outputs)

    def _create_subscriptions(self) -> str:
        """Subscribe the inputs; the resolved camera topic."""
        reliable = qos.reliable()
        camera = self.resolve_topic_name('camera/image_raw')  # remapped, as image_transport
        if self.config.image_transport == 'compressed':
            camera += '/compressed'
            image = self.create_subscription(CompressedImage, camera, self.inputs.on_image,
                                             qos.SENSOR)
        else:
            image = self.create_subscription(Image, 'camera/image_raw', self.inputs.on_image,
                                             qos.SENSOR)
        self._inputs = [
            image,
            self.create_subscription(Odometry, 'odom', self.inputs.on_odom, qos.SENSOR),
            self.create_subscription(CameraInfo, 'camera/camera_info',
                                     self.inputs.on_camera_info, qos.SENSOR),
            self.create_subscription(Float32MultiArray, 'planner/proposal',
                                     self.inputs.on_proposal, reliable),
            # latched goals (sim_node) and volatile ones (`ros2 topic pub`, served by the second
            # subscription: no incompatible-QoS warning); a latched one arrives on both, taken once
            self.create_subscription(Image, 'goal_image', self.goals.on_goal_image, qos.latched(),
                                     event_callbacks=QUIET_ON_VOLATILE),
            self.create_subscription(Image, 'goal_image', self.goals.on_goal_image, reliable),
            self.create_subscription(String, 'world_model/remember', self.goals.on_remember,
                                     reliable),
            self.create_subscription(String, 'world_model/goal_name', self.goals.on_goal_name,
                                     reliable),
        ]
        return camera

    def _on_time_reset(self, stream, previous_ns, new_ns):
        # simulator reset / bag loop: the predictor history belongs to another time line
        if self.pipeline is not None:  # None only once the inputs are gone
            self.pipeline.restart_history()
        back = (previous_ns - new_ns) * 1e-9
        self.get_logger().warning(f'{stream} stamps jumped back {back:.2f} s: time reset, '
                                  f'predictor history restarted')

    def _bad(self, kind: str, message: str):
        self.last_error = f'{kind}: {message}'
        self.burst.warning(kind, message)

    # -- processing -------------------------------------------------------------------------
    def _process_newest(self):
        pair = self.inputs.sync.pop()
        with self._lock:
            if pair is not None and self.pipeline is not None:
                self._process(pair)

    def _on_processing_error(self, exc: Exception):
        self.last_error = f'processing: {type(exc).__name__}: {exc}'
        self.burst.error('processing', f'{type(exc).__name__}: {exc}')

    def _process(self, pair):
        start, stats = time.perf_counter(), self.inputs.stats
        image, odom = pair.image, pair.odom
        result = self.pipeline.step(pair.image_stamp_ns, image.rgb, odom.pose, odom.twist,
                                    self.inputs.proposal, time.monotonic())
        if result.odom_jump is not None:
            stats.counters['odom_jumps'] += 1
            before, after = (np.round(p, 2).tolist() for p in result.odom_jump)
            self.get_logger().warning(f'odometry jumped from {before} to {after} (beyond '
                                      f'odom_jump_m / odom_jump_rad): predictor history restarted')
        header = Header(stamp=image.stamp,
                        frame_id=self.config.odom_frame or odom.frame_id or 'odom')
        steady = time.monotonic()
        markers = steady - self._last_markers >= self.config.markers_period_s
        self._last_markers = steady if markers else self._last_markers
        outputs.publish_frame(self._outputs, header, result, markers)
        # the whole map is a large message: at most once per MAP_MARKERS_PERIOD_S
        map_due = steady - self._last_map >= max(MAP_MARKERS_PERIOD_S,
                                                 self.config.markers_period_s)
        self._last_map = steady if map_due else self._last_map
        self.map_outputs.publish(header, result, self.pipeline.map, map_due)
        if result.surprise is not None:
            self.last_surprise = result.surprise
        stats.counters['processed'] += 1
        stats.counters[f'candidates_{result.source}'] += 1
        self.candidate_shape = (*result.actions.shape[:2], result.source)
        stats.processing_ms.append((time.perf_counter() - start) * 1e3)
        stats.latency_ms.append((self.get_clock().now().nanoseconds - result.stamp_ns) * 1e-6)

    # -- diagnostics ------------------------------------------------------------------------
    def _diagnostic_status(self):
        cfg, store, pipeline, sync = self.config, self.store, self.pipeline, self.inputs.sync
        values = {'lifecycle_state': self.state_label,
                  'model_dir': str(self.model_dir or cfg.model_dir or '(default)'),
                  'providers_in_use': ', '.join(self.model.providers_in_use) if self.model else '',
                  **self.inputs.stats.values(sync.stats if sync else None, cfg.odom_timeout_s)}
        if store is not None:
            stats = store.stats()
            values.update({'memory_keyframes': stats['keyframes'],
                           'memory_history': stats['history'], 'memory_goals': stats['goals'],
                           'memory_write_errors': stats['write_errors']})
        if pipeline is not None and pipeline.map is not None:
            values.update({f'map_{k}': v for k, v in pipeline.map.stats().items()},
                          goal_fix_rejections=pipeline.map_goals.rejections)
            if pipeline.map_goals.floor is not None:
                values.update(pipeline.map_goals.floor.counters())
        values.update(zip(('surprise', 'latent_error', 'surprise_scale'), self.last_surprise))
        if self.candidate_shape is not None:
            values.update(zip(('candidates', 'horizon', 'candidate_source'), self.candidate_shape))
        goal = pipeline.goal if pipeline is not None else None
        goal_status = (self.map_outputs and self.map_outputs.status) or 'none'
        values.update({'goal': 'none' if goal is None else goal.label,
                       'goal_status': goal_status,
                       'camera_info': self.inputs.camera_info.summary(),
                       'last_error': self.last_error})
        if self.state_label != 'active':
            if self.configure_error:
                return 'ERROR', f'{self.state_label}: {self.configure_error}', values
            return 'OK', self.state_label, values
        stale = [name for name, key in (('odometry', 'odom_stale'), ('camera', 'image_stale'))
                 if values[key]]
        if stale:
            return 'WARN', f'{" and ".join(stale)} stale: not publishing futures', values
        if goal is not None and goal_status in (GOAL_LOCALISING, GOAL_NOT_FOUND):
            return 'WARN', f'{goal.label} not in the latent map ({goal_status})', values
        return 'OK', 'active', values


def _start_at_launch(node: WorldModelNode):
    if not node.config.autostart:
        node.get_logger().info('autostart:=false: unconfigured, waiting for ~/change_state')
    elif not node.configure_and_activate():
        node.get_logger().error('autostart failed: the node stays unconfigured; fix the '
                                'parameters and call ~/change_state configure')


def main(args=None) -> int:
    # teardown() joins the worker and commits the memory before the process ends
    return run_node(NODE_NAME, WorldModelNode, args=args, on_start=_start_at_launch,
                    on_exit=WorldModelNode.teardown)


if __name__ == '__main__':
    sys.exit(main())
