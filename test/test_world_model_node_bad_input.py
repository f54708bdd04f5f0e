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
"""world_model_node survives bad input and bad models: counted, reported, next good one served."""

import shutil
import time

from builtin_interfaces.msg import Time
from lifecycle_msgs.msg import Transition
import pytest
from ros_process import NodeProcess, peer_node, spin_until
from sensor_msgs.msg import Image
from std_msgs.msg import Float32MultiArray, MultiArrayDimension
from test_world_model_node import (
    NODE,
    WorldModelPeer,
    export_tiny_model,
    node_params,
    odometry,
    rgb_image,
    stamp_key,
)

pytestmark = [pytest.mark.ros, pytest.mark.slow]


@pytest.fixture(scope='module')
def tiny_model_dir(tmp_path_factory):
    return export_tiny_model(tmp_path_factory.mktemp('wm_bad'))


MAX_PIXELS = 64 * 64  # the test camera frames are 48x40


def raw_image(stamp, width, height, encoding, step, data: bytes) -> Image:
    msg = Image(width=width, height=height, encoding=encoding, step=step)
    msg.header.stamp = stamp
    msg.data = data
    return msg


def bad_images():
    """(name, factory(stamp) -> Image) for each malformed camera frame the node must reject."""
    return [
        ('unsupported encoding', lambda s: raw_image(s, 8, 8, '16UC1', 16, bytes(128))),
        ('step inconsistent with width and channels',
         lambda s: raw_image(s, 8, 8, 'rgb8', 8, bytes(64))),
        ('empty data', lambda s: raw_image(s, 8, 8, 'rgb8', 24, b'')),
        # above max_pixels (set to MAX_PIXELS below): a small frame, so best-effort delivery of
        # the frame itself does not depend on the DDS transport's large-message settings
        ('image above max_pixels',
         lambda s: raw_image(s, 128, 96, 'mono8', 128, bytes(128 * 96))),
    ]


def counted(peer, kind, before, timeout=10.0, resend=None) -> bool:
    """Spin (resending with resend() each 0.3 s) until errors.<kind> exceeds before."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if resend is not None:
            resend()
        report = peer.wait_diagnostics(lambda v: int(v.get(f'errors.{kind}', 0)) > before,
                                       timeout=0.3)
        if report is not None:
            return True
    return False


def test_bad_input_is_counted_and_the_next_good_frame_is_processed(tiny_model_dir, tmp_path):
    params = node_params(tiny_model_dir, tmp_path / 'memory.sqlite3', odom_timeout_s=0.3,
                         max_pixels=MAX_PIXELS)
    with NodeProcess(NODE, params=params) as proc, peer_node('wm_bad_peer') as node:
        peer = WorldModelPeer(node)
        assert proc.wait_for_output('active:', timeout=30), proc.output()
        assert peer.process_one() is not None, proc.output()

        for name, factory in bad_images():
            before = peer.error_count('bad_image')

            def resend(factory=factory):
                stamp = peer.next_stamp()
                peer.odom_pub.publish(odometry(stamp))
                peer.image_pub.publish(factory(stamp))

            assert counted(peer, 'bad_image', before, resend=resend), name
            assert peer.process_one() is not None, f'no futures after {name}\n{proc.output()}'

        # non-finite odometry
        before = peer.error_count('bad_odom')
        assert counted(peer, 'bad_odom', before, resend=lambda: peer.send_frame(
            pose=(float('nan'), 0.0, 0.0)))
        assert peer.process_one() is not None

        # stamps going backwards (by less than a time reset)
        before = peer.error_count('stamp_backwards')
        last = peer.next_stamp()
        peer.odom_pub.publish(odometry(last))
        peer.image_pub.publish(rgb_image(last))

        def backwards():
            earlier = Time(sec=last.sec - 1 if last.nanosec < 500_000_000 else last.sec,
                           nanosec=(last.nanosec + 500_000_000) % 1_000_000_000)
            peer.image_pub.publish(rgb_image(earlier))

        assert counted(peer, 'stamp_backwards', before, resend=backwards)
        assert peer.process_one() is not None

        # a malformed planner proposal is rejected; the rollout keeps its previous candidates
        before = peer.error_count('bad_proposal')
        bad = Float32MultiArray(data=[0.1, 0.2, 0.3])
        bad.layout.dim = [MultiArrayDimension(label='candidate', size=1, stride=6),
                          MultiArrayDimension(label='step', size=1, stride=2),
                          MultiArrayDimension(label='action', size=2, stride=2)]
        assert counted(peer, 'bad_proposal', before,
                       resend=lambda: peer.proposal_pub.publish(bad))
        msg = peer.process_one()
        assert msg is not None and msg.height == 8  # still the default candidates

        # odometry stops: futures stop, diagnostics flag it; odometry back: futures again
        sent_without_odom = []
        stale = None
        deadline = time.monotonic() + 10
        while stale is None and time.monotonic() < deadline:
            sent_without_odom.append(peer.send_frame(odom=False))
            stale = peer.wait_diagnostics(lambda v: v.get('odom_stale') == 'true', timeout=0.1)
        assert stale is not None, 'odom_stale never reported'
        level, message, _ = peer.diagnostics[-1]
        assert level == 1 and 'stale' in message
        spin_until(node, lambda: False, timeout=0.3)
        keys = {stamp_key(s) for s in sent_without_odom}
        assert not any(stamp_key(m.header.stamp) in keys for m in peer.received['futures'])
        assert peer.process_one() is not None
        # fresh again while frames keep coming: once they stop, odometry is stale within
        # odom_timeout_s (0.3 s), sooner than a loaded machine may deliver the next report
        start = len(peer.diagnostics)
        assert peer.drive_until(lambda: any(v.get('odom_stale') == 'false'
                                            for _, _, v in peer.diagnostics[start:])) is not None

        assert proc.alive()
        report = peer.latest_diagnostics()
        for kind in ('bad_image', 'bad_odom', 'stamp_backwards', 'bad_proposal'):
            assert int(report[f'errors.{kind}']) >= 1, kind
        assert report['last_error']


def corrupt_copies(model_dir, root):
    """(what, model dir, file the error must name) for a missing, corrupt and tampered model."""
    truncated = root / 'truncated'
    shutil.copytree(model_dir, truncated)
    data = (truncated / 'encoder.onnx').read_bytes()
    (truncated / 'encoder.onnx').write_bytes(data[:len(data) // 2])
    tampered = root / 'tampered'
    shutil.copytree(model_dir, tampered)
    data = bytearray((tampered / 'predictor.onnx').read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tampered / 'predictor.onnx').write_bytes(bytes(data))
    return [('missing', root / 'nowhere', 'nowhere/manifest.json'),
            ('corrupt', truncated, 'truncated/encoder.onnx'),
            ('tampered', tampered, 'tampered/predictor.onnx')]


def test_bad_models_fail_configure_naming_the_file_then_a_good_one_is_loaded(tiny_model_dir,
                                                                           tmp_path):
    cases = corrupt_copies(tiny_model_dir, tmp_path)
    first = cases[0][1]
    params = node_params(first, tmp_path / 'memory.sqlite3')
    with NodeProcess(NODE, params=params) as proc, peer_node('wm_model_peer') as node:
        peer = WorldModelPeer(node)
        # autostart with a missing model: configure fails, the node stays up, unconfigured
        assert proc.wait_for_output('autostart failed', timeout=30), proc.output()
        assert cases[0][2] in proc.output()
        assert peer.lifecycle_state() == 'unconfigured'
        report = peer.wait_diagnostics(lambda v: v.get('lifecycle_state') == 'unconfigured')
        assert report is not None and 'manifest.json' in report['last_error']
        assert peer.diagnostics[-1][0] == 2  # ERROR while the model cannot be loaded

        for what, model_dir, named in cases[1:]:
            assert peer.set_parameter('model_dir', str(model_dir)).successful
            assert not peer.change_state(Transition.TRANSITION_CONFIGURE), what
            assert proc.wait_for_output(named, timeout=5), f'{what}: {proc.output()}'
            assert peer.lifecycle_state() == 'unconfigured'

        # the model switch: a good model_dir, configure + activate, frames are processed
        assert peer.set_parameter('model_dir', str(tiny_model_dir)).successful
        assert peer.change_state(Transition.TRANSITION_CONFIGURE)
        assert peer.lifecycle_state() == 'inactive'
        assert peer.change_state(Transition.TRANSITION_ACTIVATE)
        assert peer.process_one() is not None, proc.output()
        # switch to another model: the memory of the first one is refused (its latents are not
        # comparable) until memory.path names a memory of its own
        assert peer.change_state(Transition.TRANSITION_DEACTIVATE)
        assert peer.change_state(Transition.TRANSITION_CLEANUP)
        assert peer.lifecycle_state() == 'unconfigured'
        other = export_tiny_model(tmp_path / 'other')
        assert peer.set_parameter('model_dir', str(other)).successful
        assert not peer.change_state(Transition.TRANSITION_CONFIGURE)
        assert proc.wait_for_output('memory.sqlite3 was written by model', timeout=5)
        assert peer.set_parameter('memory.path', str(tmp_path / 'other.sqlite3')).successful
        assert peer.change_state(Transition.TRANSITION_CONFIGURE)
        assert peer.change_state(Transition.TRANSITION_ACTIVATE)
        assert peer.process_one() is not None, proc.output()
        assert peer.wait_diagnostics(lambda v: v.get('model_dir') == str(other)) is not None
        assert proc.alive()
