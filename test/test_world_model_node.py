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
"""world_model_node in its own process, fed over DDS by a test-side rclpy node.

The model is a tiny randomly initialised JEPA really exported to ONNX (plumbing, not accuracy).
The helpers here (tiny_model_dir, WorldModelPeer, node_params) are shared with
test_world_model_node_bad_input.py and test_world_model_node_persistence.py.
"""

import math
import time

from geometry_msgs.msg import PoseStamped, Vector3Stamped
from lifecycle_msgs.msg import Transition
from nav_msgs.msg import Odometry, Path
import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data
from ros_process import NodeProcess, call_service, peer_node, spin_until
from sensor_msgs.msg import CompressedImage, Image, PointCloud2
from std_msgs.msg import Float32MultiArray, String
from visualization_msgs.msg import Marker, MarkerArray

from world_model.data.image_codec import encode_compressed

NODE = 'agent_node.world_model_node'
SERVICE_TIMEOUT = 10.0


def export_tiny_model(root):
    """A really exported tiny model (random init; the predictor moves the latent)."""
    from test_export import export_tiny
    import torch

    torch.set_num_threads(1)
    return export_tiny(root)


@pytest.fixture(scope='module')
def tiny_model_dir(tmp_path_factory):
    return export_tiny_model(tmp_path_factory.mktemp('wm_node'))


def node_params(model_dir, memory_path, **extra):
    params = {'model_dir': str(model_dir), 'memory.path': str(memory_path),
              'memory.commit_interval_s': 0.2, 'providers': ['cpu'], 'threads': 1,
              'num_candidates': 8, 'horizon': 4, 'diagnostics_period_s': 0.2,
              'markers_period_s': 0.0}
    params.update(extra)
    return params


def rgb_image(stamp, width=48, height=40, seed=0, encoding='rgb8', channels=3) -> Image:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
    msg = Image(width=width, height=height, encoding=encoding, step=width * channels)
    msg.header.stamp = stamp
    msg.header.frame_id = 'camera_link'
    msg.data = pixels.tobytes()
    return msg


def odometry(stamp, pose=(0.0, 0.0, 0.0), twist=(0.2, 0.1)) -> Odometry:
    msg = Odometry()
    msg.header.stamp = stamp
    msg.header.frame_id = 'odom'
    msg.child_frame_id = 'base_link'
    msg.pose.pose.position.x, msg.pose.pose.position.y = float(pose[0]), float(pose[1])
    msg.pose.pose.orientation.z = math.sin(pose[2] / 2.0)
    msg.pose.pose.orientation.w = math.cos(pose[2] / 2.0)
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(twist[0]), float(twist[1])
    return msg


def stamp_key(stamp) -> int:
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


class WorldModelPeer:
    """Test-side publishers of the node's inputs and recorders of its outputs."""

    def __init__(self, node):
        from diagnostic_msgs.msg import DiagnosticArray
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

        self.node = node
        self._clients = {}  # service name -> client
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.image_pub = node.create_publisher(Image, 'camera/image_raw',
                                               qos_profile_sensor_data)
        self.compressed_pub = node.create_publisher(CompressedImage,
                                                    'camera/image_raw/compressed',
                                                    qos_profile_sensor_data)
        self.odom_pub = node.create_publisher(Odometry, 'odom', qos_profile_sensor_data)
        self.proposal_pub = node.create_publisher(Float32MultiArray, 'planner/proposal',
                                                  reliable)
        self.remember_pub = node.create_publisher(String, 'world_model/remember', reliable)
        self.goal_name_pub = node.create_publisher(String, 'world_model/goal_name', reliable)
        self.goal_image_pub = node.create_publisher(Image, 'goal_image', latched)
        self.received = {}
        topics = {'futures': (PointCloud2, 'world_model/predicted_futures'),
                  'path': (Path, 'world_model/predicted_path'),
                  'markers': (MarkerArray, 'world_model/futures_markers'),
                  'latent': (Image, 'world_model/latent'),
                  'surprise': (Vector3Stamped, 'world_model/surprise'),
                  'goal_pose': (PoseStamped, 'world_model/goal_pose_estimate')}
        for key, (msg_type, topic) in topics.items():
            self.received[key] = []
            node.create_subscription(msg_type, topic,
                                     lambda msg, key=key: self.received[key].append(msg),
                                     reliable)
        self.diagnostics = []
        node.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics, 10)
        self.clock_ns = time.time_ns()

    def _on_diagnostics(self, msg):
        for status in msg.status:
            if status.name == 'world_model_node: world model':
                self.diagnostics.append(
                    (status.level[0] if isinstance(status.level, bytes) else status.level,
                     status.message, {kv.key: kv.value for kv in status.values}))

    def next_stamp(self, dt=0.1):
        from builtin_interfaces.msg import Time

        self.clock_ns = max(self.clock_ns + int(dt * 1e9), time.time_ns())
        return Time(sec=self.clock_ns // 1_000_000_000, nanosec=self.clock_ns % 1_000_000_000)

    def send_frame(self, pose=(0.0, 0.0, 0.0), twist=(0.2, 0.1), image=None, seed=0,
                   odom=True):
        stamp = self.next_stamp()
        if odom:
            self.odom_pub.publish(odometry(stamp, pose, twist))
        msg = image(stamp) if image else rgb_image(stamp, seed=seed)
        (self.compressed_pub if isinstance(msg, CompressedImage) else self.image_pub).publish(msg)
        return stamp

    def futures_for(self, stamp):
        key = stamp_key(stamp)
        return [m for m in self.received['futures'] if stamp_key(m.header.stamp) == key]

    def drive_until(self, predicate, timeout=20.0, period=0.1, **frame):
        """Send frames every period seconds until predicate() holds; the last stamp sent."""
        deadline = time.monotonic() + timeout
        stamp = None
        while time.monotonic() < deadline:
            stamp = self.send_frame(**frame)
            if spin_until(self.node, predicate, timeout=period):
                return stamp
        return None

    def process_one(self, timeout=10.0, **frame):
        """Send frames until one of them comes back as predicted futures; its message."""
        sent = []

        def back():
            return any(self.futures_for(s) for s in sent)

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent.append(self.send_frame(**frame))
            if spin_until(self.node, back, timeout=0.1):
                return next(m for s in sent for m in self.futures_for(s))
        return None

    def latest_diagnostics(self):
        return self.diagnostics[-1][2] if self.diagnostics else {}

    def wait_diagnostics(self, predicate, timeout=10.0):
        """Spin until a diagnostics report satisfies predicate(values); that report or None."""
        start = len(self.diagnostics)

        def found():
            return any(predicate(v) for _, _, v in self.diagnostics[start:])

        if spin_until(self.node, found, timeout=timeout):
            return next(v for _, _, v in self.diagnostics[start:] if predicate(v))
        return None

    def error_count(self, kind) -> int:
        return int(self.latest_diagnostics().get(f'errors.{kind}', 0))

    # -- services ----------------------------------------------------------------------------
    def call(self, srv_type, name, request, timeout=SERVICE_TIMEOUT):
        """The answer; queries are resent while unanswered, a lifecycle transition is not."""
        from lifecycle_msgs.srv import ChangeState

        client = self._clients.get(name)
        if client is None:  # one client per service: each new one risks a lost first answer
            client = self._clients[name] = self.node.create_client(srv_type, name)
        assert client.wait_for_service(timeout_sec=timeout), f'{name} not available'
        resend_after = None if srv_type is ChangeState else 2.0
        response = call_service(self.node, client, request, timeout, resend_after)
        assert response is not None, f'{name} timed out'
        return response

    def lifecycle_state(self) -> str:
        from lifecycle_msgs.srv import GetState

        return self.call(GetState, '/world_model_node/get_state',
                         GetState.Request()).current_state.label

    def change_state(self, transition_id) -> bool:
        from lifecycle_msgs.msg import Transition
        from lifecycle_msgs.srv import ChangeState

        request = ChangeState.Request(transition=Transition(id=transition_id))
        return self.call(ChangeState, '/world_model_node/change_state', request).success

    def set_parameter(self, name, value):
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        parameter = Parameter(name, value=value).to_parameter_msg()
        request = SetParameters.Request(parameters=[parameter])
        return self.call(SetParameters, '/world_model_node/set_parameters', request).results[0]


def decode_cloud(msg: PointCloud2) -> np.ndarray:
    from agent_node.conversions.futures import decode_futures

    return decode_futures(msg)


def encode_proposal(actions):
    from agent_node.conversions.futures import encode_proposal as encode

    return encode(actions)


@pytest.mark.ros
@pytest.mark.slow
def test_frames_in_futures_path_latent_surprise_and_diagnostics_out(tiny_model_dir, tmp_path):
    params = node_params(tiny_model_dir, tmp_path / 'memory.sqlite3')
    with NodeProcess(NODE, params=params) as proc, peer_node('wm_flow_peer') as node:
        peer = WorldModelPeer(node)
        assert proc.wait_for_output('active:', timeout=30), proc.output()
        assert peer.lifecycle_state() == 'active'

        # image + odometry in -> K x H futures stamped with the camera stamp
        msg = peer.process_one(pose=(1.0, -2.0, 0.5))
        assert msg is not None, proc.output()
        assert (msg.height, msg.width) == (8, 4)
        assert msg.header.frame_id == 'odom'
        futures = decode_cloud(msg)
        assert np.isnan(futures.goal_dist).all()  # no goal yet
        assert ((futures.collision >= 0) & (futures.collision <= 1)).all()
        # poses are in the odom frame: they start near the odometry pose, not at the origin
        assert np.hypot(futures.poses[:, 0, 0] - 1.0, futures.poses[:, 0, 1] + 2.0).max() < 1.0
        # before any proposal the default fan is rolled out: forward first, stop at index 5
        np.testing.assert_allclose(futures.actions[0, :, 0], 0.3, atol=1e-6)
        np.testing.assert_allclose(futures.actions[5], 0.0, atol=1e-6)

        stamp = msg.header.stamp
        key = stamp_key(stamp)
        assert spin_until(node, lambda: any(
            stamp_key(m.header.stamp) == key for m in peer.received['latent']), timeout=5)
        latent = next(m for m in peer.received['latent'] if stamp_key(m.header.stamp) == key)
        assert (latent.encoding, latent.height, latent.width, latent.step) == ('32FC1', 1, 16, 64)
        assert np.isfinite(np.frombuffer(latent.data, '<f4')).all()
        assert spin_until(node, lambda: any(
            stamp_key(m.header.stamp) == key for m in peer.received['path']), timeout=5)
        path = next(m for m in peer.received['path'] if stamp_key(m.header.stamp) == key)
        assert len(path.poses) == 4 + 1  # current pose, then H predicted poses
        assert path.poses[0].pose.position.x == pytest.approx(1.0)
        assert spin_until(node, lambda: peer.received['markers'], timeout=5)
        markers = peer.received['markers'][-1].markers
        assert markers[0].action == Marker.DELETEALL
        assert [m.type for m in markers[1:]] == [Marker.LINE_STRIP] * 8

        # surprise: frames one control period apart give a prediction to compare against
        peer.drive_until(lambda: len(peer.received['surprise']) >= 3)
        surprise = peer.received['surprise'][-1]
        assert surprise.vector.y >= 0.0 and surprise.vector.z > 0.0
        assert surprise.vector.x == pytest.approx(surprise.vector.y / surprise.vector.z,
                                                  rel=1e-4)
        # the futures of that frame come on a topic of their own
        assert spin_until(node, lambda: any(stamp_key(surprise.header.stamp) == stamp_key(
            m.header.stamp) for m in peer.received['futures']), timeout=5)

        # a report while frames keep coming: once they stop, odometry is stale within
        # odom_timeout_s (0.5 s), sooner than a loaded machine may deliver the next report
        start = len(peer.diagnostics)

        def fresh_report():
            return next((v for _, _, v in peer.diagnostics[start:]
                         if int(v.get('frames_processed', 0)) >= 3
                         and v.get('odom_stale') == 'false'), None)

        assert peer.drive_until(lambda: fresh_report() is not None) is not None, \
            peer.diagnostics[start:]
        values = fresh_report()
        assert 'CPUExecutionProvider' in values['providers_in_use']
        assert values['lifecycle_state'] == 'active'
        assert int(values['memory_keyframes']) >= 1

        # an odometry teleport (a simulator reset) restarts the history: counted, no surprise
        # against the old trajectory, then surprise again along the new one
        jumps = int(values.get('odom_jumps', 0))  # the first frames came from (1, -2)
        surprises = len(peer.received['surprise'])
        peer.drive_until(lambda: len(peer.received['surprise']) > surprises)
        teleported = peer.process_one(pose=(3.0, 3.0, 0.0))
        assert teleported is not None
        assert peer.wait_diagnostics(lambda v: int(v.get('odom_jumps', 0)) == jumps + 1)
        assert proc.wait_for_output('odometry jumped from [0.0, 0.0, 0.0] to [3.0, 3.0, 0.0]',
                                    timeout=5), proc.output()
        surprises = len(peer.received['surprise'])
        assert peer.drive_until(lambda: len(peer.received['surprise']) > surprises,
                                pose=(3.0, 3.0, 0.0)) is not None
        # after a later frame's surprise: one for the teleported frame would have come first
        assert not any(stamp_key(m.header.stamp) == stamp_key(teleported.header.stamp)
                       for m in peer.received['surprise'])

        # a planner proposal changes what is rolled out: K, H and the actions follow it
        actions = np.stack([np.full((5, 2), (0.1 * (k + 1), -0.2 * k)) for k in range(3)])
        node_proposal = encode_proposal(actions.astype(np.float32))

        def proposal_rolled_out():
            return any(m.height == 3 for m in peer.received['futures'])

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not proposal_rolled_out():
            peer.proposal_pub.publish(node_proposal)
            peer.send_frame()
            spin_until(node, proposal_rolled_out, timeout=0.1)
        rolled = next(m for m in peer.received['futures'] if m.height == 3)
        assert rolled.width == 5
        np.testing.assert_allclose(decode_cloud(rolled).actions, actions, atol=1e-6)


@pytest.mark.ros
@pytest.mark.slow
def test_invalid_parameters_are_rejected_with_the_allowed_range(tiny_model_dir, tmp_path):
    # at start-up: exit non-zero, the parameter and its range in the log
    bad = NodeProcess(NODE, params=node_params(tiny_model_dir, tmp_path / 'm.sqlite3',
                                               horizon=0)).start()
    assert bad.proc.wait(30) != 0
    assert 'horizon' in bad.output() and '[1, 200]' in bad.output(), bad.output()

    # at runtime: SetParametersResult(successful=False) naming the range; the node keeps going
    params = node_params(tiny_model_dir, tmp_path / 'memory.sqlite3', autostart=False)
    with NodeProcess(NODE, params=params) as proc, peer_node('wm_param_peer') as node:
        peer = WorldModelPeer(node)
        assert proc.wait_for_output('autostart:=false', timeout=30), proc.output()
        result = peer.set_parameter('num_candidates', 0)
        assert not result.successful and '4096' in result.reason, result.reason
        result = peer.set_parameter('image_transport', 'jpeg')
        assert not result.successful
        assert "'raw'" in result.reason and "'compressed'" in result.reason, result.reason
        result = peer.set_parameter('memory.eviction', 'lru')
        assert not result.successful and "'fifo'" in result.reason, result.reason
        assert peer.set_parameter('num_candidates', 16).successful
        assert peer.lifecycle_state() == 'unconfigured'  # autostart:=false waits for a manager
        assert proc.alive()

        # a lifecycle manager brings it up, here on the compressed transport with the new K
        assert peer.set_parameter('image_transport', 'compressed').successful
        assert peer.change_state(Transition.TRANSITION_CONFIGURE)
        assert peer.change_state(Transition.TRANSITION_ACTIVATE)
        assert peer.lifecycle_state() == 'active'
        png = encode_compressed(np.full((40, 48, 3), 90, np.uint8), 'png')

        def compressed(stamp):
            msg = CompressedImage(format='png', data=png)
            msg.header.stamp = stamp
            return msg

        msg = peer.process_one(image=compressed)
        assert msg is not None, proc.output()
        assert (msg.height, msg.width) == (16, 4)
