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
"""Bags of other robots: resampling onto the control period, odometry conventions."""

import math

import numpy as np

from world_model.data.bag_reader import BagTopics, read_bag_with_stats
from world_model.data.bag_writer import BagWriter, image_msg, odometry_msg, twist_msg
from world_model.data.resample import NearestTickSelector, nearest_tick_indices
from world_model.data.twist_frame import detect_twist_frame

SEC = 1_000_000_000


def robot_track(seconds, hz, v=1.5, w=0.8, seed=0):
    """Stamps, poses and (v, omega) of a unicycle on a circle, sampled at hz."""
    t = np.arange(int(seconds * hz)) / hz
    yaw = w * t
    x, y = v / w * np.sin(yaw), v / w * (1 - np.cos(yaw))
    return (t * SEC).astype(np.int64) + SEC, np.stack([x, y, yaw], axis=1)


def write_robot_bag(path, seconds=2.0, camera_hz=50, odom_hz=50, cmd_hz=10, v=1.5, w=0.8,
                    twist_frame='body', child='base_link', episodes=1, cmd=True,
                    names=('/camera/image_raw', '/odom', '/cmd_vel')):
    """A bag of a fast robot: camera, odometry and commands at their own rates and topics."""
    camera_topic, odom_topic, cmd_topic = names
    rng = np.random.default_rng(0)
    streams = []
    stamps, poses = robot_track(seconds, camera_hz, v, w)
    streams += [(s, 'image', None) for s in stamps]
    stamps, poses = robot_track(seconds, odom_hz, v, w)
    streams += [(s, 'odom', p) for s, p in zip(stamps, poses)]
    if cmd:
        stamps, _ = robot_track(seconds, cmd_hz, v, w)
        streams += [(s, 'cmd', (v + 0.01 * i, w)) for i, s in enumerate(stamps)]
    starts = robot_track(seconds, episodes / seconds)[0] if episodes > 1 else []
    streams += [(s, 'episode', i) for i, s in enumerate(starts)]
    order = {'episode': 0, 'image': 1, 'odom': 2, 'cmd': 3}
    streams.sort(key=lambda item: (item[0], order[item[1]]))
    with BagWriter(path) as writer:
        for stamp, kind, value in streams:
            if kind == 'image':
                image = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
                writer.write(camera_topic, image_msg(stamp, image), stamp)
            elif kind == 'odom':
                msg = odometry_msg(stamp, value, (v, w), child_frame_id=child)
                if twist_frame == 'odom':
                    msg.twist.twist.linear.x = v * math.cos(value[2])
                    msg.twist.twist.linear.y = v * math.sin(value[2])
                writer.write(odom_topic, msg, stamp)
            elif kind == 'cmd':
                writer.write(cmd_topic, twist_msg(*value), stamp)
            else:
                writer.mark_episode(stamp, value)
    return path


def test_nearest_tick_keeps_one_frame_per_control_period_despite_jitter():
    rng = np.random.default_rng(1)
    stamps = np.arange(100) * SEC // 50 + rng.integers(-3, 4, 100) * 1_000_000  # 50 Hz +-3 ms
    kept = nearest_tick_indices(stamps, 0.1)
    assert list(kept) == list(range(0, 100, 5))
    # a 0.02 s period keeps every frame
    assert list(nearest_tick_indices(stamps, 0.02)) == list(range(100))


def test_a_slower_camera_keeps_every_frame_once_and_ticks_without_one_are_absent():
    stamps = np.arange(20) * SEC // 25  # 25 Hz onto 0.1 s
    kept = nearest_tick_indices(stamps, 0.1)
    assert len(set(kept.tolist())) == len(kept)
    steps = np.diff(stamps[kept]) / SEC
    assert steps.min() >= 0.08 - 1e-9 and steps.max() <= 0.12 + 1e-9
    selector = NearestTickSelector(SEC // 10)
    assert selector.offer(0, 'a') == [] and selector.offer(SEC // 10, 'b') == ['a']
    assert selector.offer(SEC // 20, 'late') == []  # out of order: dropped
    assert selector.flush() == ['b'] and selector.dropped == 1


def test_reader_resamples_50hz_frames_onto_the_command_period(tmp_path):
    bag = write_robot_bag(tmp_path / 'bag', seconds=2.0, child='chassis')
    episodes, stats = read_bag_with_stats(bag, period_s=0.1)
    (ep,) = episodes
    assert len(ep) == 20 and stats.images_read == 100 and stats.resampled_out == 80
    np.testing.assert_array_equal(np.diff(ep.stamps_ns), SEC // 10)
    # the command issued at tick t is in force until tick t+1 (commands at 10 Hz)
    np.testing.assert_allclose(ep.actions[:-1, 0], 1.5 + 0.01 * np.arange(19), atol=1e-6)
    # any child frame is accepted; the body twist is read as it is
    np.testing.assert_allclose(ep.odom_twist[:, 0], 1.5, atol=1e-6)
    every = read_bag_with_stats(bag)[0][0]
    assert len(every) == 100  # without a period the reader keeps every camera frame


def test_resampling_restarts_at_each_episode(tmp_path):
    bag = write_robot_bag(tmp_path / 'bag', seconds=4.0, episodes=2)
    episodes, _ = read_bag_with_stats(bag, period_s=0.1)
    assert [len(e) for e in episodes] == [20, 20]


def test_twist_frame_detection():
    stamps, poses = robot_track(4.0, 50)
    body = np.stack([np.full(len(poses), 1.5), np.zeros(len(poses))], axis=1)
    odom = 1.5 * np.stack([np.cos(poses[:, 2]), np.sin(poses[:, 2])], axis=1)
    assert detect_twist_frame(stamps, poses, body) == 'body'
    assert detect_twist_frame(stamps, poses, odom) == 'odom'
    # driving straight along x cannot tell them apart
    straight = poses.copy()
    straight[:, 0], straight[:, 1:] = 1.5 * (stamps - stamps[0]) / SEC, 0.0
    assert detect_twist_frame(stamps, straight, body) == 'unknown'
    assert detect_twist_frame(stamps, poses * 0, body) == 'unknown'  # standing still


def test_reader_rotates_an_odom_frame_twist_into_the_body_frame(tmp_path):
    bag = write_robot_bag(tmp_path / 'bag', seconds=4.0, twist_frame='odom')
    (ep,), stats = read_bag_with_stats(bag, period_s=0.1)
    assert stats.twist_frame == 'odom'
    np.testing.assert_allclose(ep.odom_twist[:, 0], 1.5, atol=1e-4)
    (raw,), stats = read_bag_with_stats(bag, BagTopics(odom_twist_frame='body'), period_s=0.1)
    assert stats.twist_frame == 'body'
    assert np.abs(raw.odom_twist[:, 0] - 1.5).max() > 1.0  # read as is, it is wrong
