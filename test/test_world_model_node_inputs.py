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
"""world_model_node's inputs with real processes: goal images from latched and volatile
publishers, the compressed transport under a camera remap, camera_info checked against the
images. Plus the ROS-free camera_info comparison."""

from types import SimpleNamespace

import numpy as np
import pytest
from rclpy.qos import qos_profile_sensor_data
from ros_process import NodeProcess, peer_node, spin_until
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from test_world_model_node import (
    NODE,
    WorldModelPeer,
    export_tiny_model,
    node_params,
    odometry,
    rgb_image,
    stamp_key,
)

from agent_node.conversions.camera_info import CameraInfoCheck
from agent_node.ros import qos
from world_model.data.image_codec import encode_compressed

GOAL_SET = 'set as the goal'


@pytest.fixture(scope='module')
def tiny_model_dir(tmp_path_factory):
    return export_tiny_model(tmp_path_factory.mktemp('wm_inputs'))


def camera_info(width, height, frame_id) -> CameraInfo:
    msg = CameraInfo(width=width, height=height)
    msg.header.frame_id = frame_id
    return msg


def test_camera_info_is_summarised_and_a_mismatch_is_reported_once():
    check = CameraInfoCheck()
    assert check.summary() == 'none received'
    assert check.mismatch(48, 40, 'camera_link') is None  # nothing to compare with yet
    check.update(SimpleNamespace(width=48, height=40, header=SimpleNamespace(frame_id='cam')))
    assert check.summary() == '48x40 cam'
    assert check.mismatch(48, 40, 'cam') is None and check.mismatch(48, 40, '') is None
    message = check.mismatch(64, 40, 'other')
    assert '64x40' in message and '48x40' in message and "'other'" in message
    assert check.mismatch(64, 40, 'other') is None  # once


@pytest.mark.ros
@pytest.mark.slow
def test_volatile_and_latched_goal_images_arrive_once_and_camera_info_is_checked(
        tiny_model_dir, tmp_path):
    params = node_params(tiny_model_dir, tmp_path / 'memory.sqlite3')
    with NodeProcess(NODE, params=params) as proc, peer_node('wm_inputs_peer') as node:
        peer = WorldModelPeer(node)
        assert proc.wait_for_output('active:', timeout=30), proc.output()
        assert peer.process_one() is not None, proc.output()

        # `ros2 topic pub goal_image ...`: reliable and volatile, so only a volatile
        # subscription matches it; sent until it arrives, the repeats are the same goal
        volatile = node.create_publisher(Image, 'goal_image', qos.reliable())
        goal = rgb_image(peer.next_stamp(), seed=3)
        assert spin_until(node, lambda: volatile.publish(goal) or GOAL_SET in proc.output(),
                          timeout=15), proc.output()
        assert peer.wait_diagnostics(lambda v: v.get('goal') == 'goal image') is not None
        spin_until(node, lambda: False, timeout=0.5)
        assert proc.output().count(GOAL_SET) == 1, proc.output()
        assert 'incompatible QoS' not in proc.output()  # the latched subscription stays quiet

        # a latched goal reaches both subscriptions and is taken once
        peer.goal_image_pub.publish(rgb_image(peer.next_stamp(), seed=4))
        assert spin_until(node, lambda: proc.output().count(GOAL_SET) >= 2, timeout=15)
        spin_until(node, lambda: False, timeout=1.0)
        assert proc.output().count(GOAL_SET) == 2, proc.output()

        # camera_info (sensor QoS) that disagrees with the 48x40 frames: reported, warned once
        info_pub = node.create_publisher(CameraInfo, 'camera/camera_info',
                                         qos_profile_sensor_data)
        warning = 'camera_info disagrees with the images: images are 48x40, camera_info says 64x48'
        report = None
        for _ in range(100):
            info_pub.publish(camera_info(64, 48, 'camera_link'))
            peer.send_frame()
            report = report or peer.wait_diagnostics(
                lambda v: v.get('camera_info') == '64x48 camera_link', timeout=0.1)
            if report is not None and warning in proc.output():
                break
        assert report is not None and warning in proc.output(), proc.output()
        for _ in range(5):
            peer.send_frame()
            spin_until(node, lambda: False, timeout=0.1)
        assert proc.output().count('camera_info disagrees') == 1
        assert proc.alive()


@pytest.mark.ros
@pytest.mark.slow
def test_the_compressed_transport_follows_the_camera_remap(tiny_model_dir, tmp_path):
    params = node_params(tiny_model_dir, tmp_path / 'memory.sqlite3',
                         image_transport='compressed')
    remaps = {'camera/image_raw': '/front_camera/color/image_raw'}
    with NodeProcess(NODE, params=params, remaps=remaps) as proc, \
            peer_node('wm_remap_peer') as node:
        peer = WorldModelPeer(node)
        assert proc.wait_for_output('active: /front_camera/color/image_raw/compressed',
                                    timeout=30), proc.output()
        remapped = node.create_publisher(
            CompressedImage, '/front_camera/color/image_raw/compressed', qos_profile_sensor_data)
        png = encode_compressed(np.full((40, 48, 3), 90, np.uint8), 'png')

        def compressed(stamp):
            msg = CompressedImage(format='png', data=png)
            msg.header.stamp = stamp
            return msg

        def send_frame(publisher=remapped):
            stamp = peer.next_stamp()
            peer.odom_pub.publish(odometry(stamp))
            publisher.publish(compressed(stamp))
            return stamp

        sent = []
        assert spin_until(node, lambda: sent.append(send_frame()) or any(
            peer.futures_for(s) for s in sent), timeout=20), proc.output()
        # frames on the unremapped name are not the camera's
        ignored = set()
        for _ in range(10):
            ignored.add(stamp_key(send_frame(peer.compressed_pub)))
            spin_until(node, lambda: False, timeout=0.1)
        assert not any(stamp_key(m.header.stamp) in ignored for m in peer.received['futures'])
