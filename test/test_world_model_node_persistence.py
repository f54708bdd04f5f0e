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
"""Named goals and the latent memory survive a SIGKILL of world_model_node; goal images work; a
corrupt memory file is kept aside and the node configures with an empty one."""

import signal
import sqlite3

from lifecycle_msgs.msg import Transition
import numpy as np
import pytest
from ros_process import NodeProcess, peer_node, spin_until
from std_msgs.msg import String
from test_world_model_node import (
    NODE,
    WorldModelPeer,
    decode_cloud,
    export_tiny_model,
    node_params,
    rgb_image,
)

pytestmark = [pytest.mark.ros, pytest.mark.slow]

HOME = (1.5, -0.5, 0.3)


def committed(path) -> bool:
    """A goal, a keyframe and a history row are on disk (WAL: committed is SIGKILL-proof).

    Read-only and closed at once: it neither checkpoints the WAL nor holds a lock past the call.
    """
    try:
        db = sqlite3.connect(f'{path.absolute().as_uri()}?mode=ro', uri=True, timeout=1.0,
                             isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        return all(db.execute(f'SELECT EXISTS (SELECT 1 FROM {table})').fetchone()[0]
                   for table in ('goals', 'keyframes', 'history'))
    except sqlite3.Error:  # busy, or the schema not yet there
        return False
    finally:
        db.close()


@pytest.fixture(scope='module')
def tiny_model_dir(tmp_path_factory):
    return export_tiny_model(tmp_path_factory.mktemp('wm_persist'))


def test_named_goal_and_memory_survive_sigkill(tiny_model_dir, tmp_path):
    params = node_params(tiny_model_dir, tmp_path / 'memory.sqlite3')

    first = NodeProcess(NODE, params=params).start()
    try:
        with peer_node('wm_persist_a') as node:
            peer = WorldModelPeer(node)
            assert first.wait_for_output('active:', timeout=30), first.output()
            assert peer.process_one(pose=HOME) is not None, first.output()
            assert peer.process_one(pose=HOME) is not None
            report = None
            for _ in range(50):
                peer.remember_pub.publish(String(data='home'))
                report = peer.wait_diagnostics(lambda v: v.get('memory_goals') == '1',
                                               timeout=0.2)
                if report is not None:
                    break
            assert report is not None, first.output()
            assert int(report['memory_keyframes']) >= 1
            # the background commit runs every 0.2 s: wait until it has written history and
            # keyframes (the goal is written at once)
            assert spin_until(node, lambda: committed(tmp_path / 'memory.sqlite3'),
                              timeout=10.0), first.output()
    finally:
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL

    with NodeProcess(NODE, params=params) as second, peer_node('wm_persist_b') as node:
        peer = WorldModelPeer(node)
        assert second.wait_for_output('1 named goal(s)', timeout=30), second.output()
        report = peer.wait_diagnostics(lambda v: 'memory_keyframes' in v)
        assert int(report['memory_keyframes']) >= 1
        assert int(report['memory_history']) >= 1
        assert report['memory_goals'] == '1'

        # a one-off message: the subscription, made on activation, must be matched first
        assert spin_until(node, lambda: peer.goal_name_pub.get_subscription_count() > 0,
                          timeout=10.0), second.output()
        peer.goal_name_pub.publish(String(data='home'))
        assert second.wait_for_output("goal 'home' active", timeout=10), second.output()
        # a restart is a new odometry session (the base may have restarted too): the map from
        # before the SIGKILL is there, and the remembered goal is placed only once this session
        # has joined it by place recognition (an untrained tiny model never does)
        peer.process_one(pose=(0.0, 0.0, 0.0))
        report = peer.wait_diagnostics(lambda v: v.get('goal_status') == 'localising')
        assert report is not None, second.output()
        assert int(report['map_sessions']) >= 2 and int(report['map_keyframes']) >= 1
        assert report['map_joined'] == 'false'
        assert not peer.received['goal_pose']  # never driven to blindly
        msg = peer.process_one()
        assert np.isfinite(decode_cloud(msg).goal_dist).all()
        assert peer.wait_diagnostics(lambda v: v.get('goal') == 'home') is not None

        # an unknown name is bad input: counted, the active goal is kept
        peer.goal_name_pub.publish(String(data='nowhere'))
        assert peer.wait_diagnostics(lambda v: v.get('errors.bad_goal') == '1') is not None
        assert peer.latest_diagnostics()['goal'] == 'home'

        # a latched goal image replaces it; its pose is unknown (no estimate is published), it
        # is scored by latent distance
        peer.goal_image_pub.publish(rgb_image(peer.next_stamp(), seed=7))
        assert peer.wait_diagnostics(lambda v: v.get('goal') == 'goal image') is not None
        peer.process_one()
        count = len(peer.received['goal_pose'])
        assert np.isfinite(decode_cloud(peer.process_one()).goal_dist).all()
        assert len(peer.received['goal_pose']) == count

        # an empty goal name clears the goal: goal_dist is NaN again
        peer.goal_name_pub.publish(String(data=''))
        assert peer.wait_diagnostics(lambda v: v.get('goal') == 'none') is not None
        assert np.isnan(decode_cloud(peer.process_one()).goal_dist).all()


def test_a_corrupt_memory_is_kept_aside_and_the_node_still_configures(tiny_model_dir, tmp_path):
    memory = tmp_path / 'memory.sqlite3'
    garbage = np.random.default_rng(3).integers(0, 256, 16384, dtype=np.uint8).tobytes()
    memory.write_bytes(garbage)
    params = node_params(tiny_model_dir, memory)
    with NodeProcess(NODE, params=params) as proc, peer_node('wm_corrupt') as node:
        peer = WorldModelPeer(node)
        assert proc.wait_for_output('active:', timeout=60), proc.output()
        kept = sorted(tmp_path.glob('memory.sqlite3.corrupt-*'))
        assert [k.name for k in kept][:1] and kept[0].read_bytes() == garbage
        assert f'kept it as {kept[0]}' in proc.output()

        def corrupt_error(level, message, values):
            return (level == 2 and str(kept[0]) in message
                    and values.get('memory_corrupt_file_kept') == str(kept[0]))

        assert peer.process_one() is not None, proc.output()  # a working world model
        report = peer.wait_diagnostics(lambda v: v.get('lifecycle_state') == 'active')
        assert report is not None and int(report['memory_keyframes']) >= 1
        last = peer.diagnostics[-1]
        assert corrupt_error(*last), last  # ERROR while active, naming the kept file
        assert peer.wait_diagnostics(lambda v: v.get('frames_processed', '0') != '0')
        assert corrupt_error(*peer.diagnostics[-1])  # and it stays

        # cleanup releases the store: the ERROR goes; a new configure opens a healthy file
        assert peer.change_state(Transition.TRANSITION_DEACTIVATE)
        assert peer.change_state(Transition.TRANSITION_CLEANUP)
        report = peer.wait_diagnostics(lambda v: v.get('lifecycle_state') == 'unconfigured')
        assert report is not None and peer.diagnostics[-1][0] == 0, peer.diagnostics[-1]
        assert peer.change_state(Transition.TRANSITION_CONFIGURE)
        report = peer.wait_diagnostics(lambda v: v.get('lifecycle_state') == 'inactive')
        assert report is not None and 'memory_corrupt_file_kept' not in report
        assert peer.diagnostics[-1][0] == 0, peer.diagnostics[-1]
    assert kept[0].read_bytes() == garbage  # never rewritten
    assert sorted(tmp_path.glob('memory.sqlite3.corrupt-*')) == kept
