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
"""rosbag2 writing and reading (real MCAP / sqlite3 files via rosbags) and image decoding."""

import array

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from world_model.data.bag_reader import (
    BagTopics,
    MissingTopicError,
    bag_fingerprint,
    read_bag,
    read_bag_with_stats,
)
from world_model.data.bag_writer import (
    TYPESTORE,
    BagWriter,
    compressed_image_msg,
    header_msg,
    image_msg,
    odometry_msg,
    twist_msg,
)
from world_model.data.image_codec import (
    ImageFormatError,
    decode_compressed,
    encode_compressed,
    to_rgb,
)

SEC = 1_000_000_000
PERIOD = SEC // 10
T0 = 5 * SEC


def _frames(n, seed=0, size=(6, 8)):
    """n synthetic steps with distinct, known values."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        out.append({
            'stamp': T0 + i * PERIOD,
            'image': rng.integers(0, 256, (size[0], size[1], 3), dtype=np.uint8),
            'odom_pose': (0.1 * i, -0.05 * i, float(np.angle(np.exp(1j * 0.7 * i)))),
            'odom_twist': (0.2 + 0.01 * i, -0.3 + 0.02 * i),
            'true_pose': (1.0 + 0.1 * i, 2.0, 0.1 * i - 1.0),
            'true_twist': (0.25, 0.0),
            'cmd': (0.5 + 0.01 * i, 0.1 * i - 0.5),
        })
    return out


def _write(path, frames, storage='mcap', episode_starts=(0,), cmd=True):
    with BagWriter(path, storage=storage) as w:
        for i, f in enumerate(frames):
            if i in episode_starts:
                w.mark_episode(f['stamp'], episode_starts.index(i))
            w.write_frame(f['stamp'], f['image'], f['odom_pose'], f['odom_twist'],
                          f['true_pose'], f['true_twist'], f['cmd'] if cmd else None)


@pytest.mark.parametrize('storage', ['mcap', 'sqlite3'])
def test_round_trip_two_episodes(tmp_path, storage):
    frames = _frames(12)
    _write(tmp_path / 'bag', frames, storage, episode_starts=(0, 7))
    files = sorted(p.suffix for p in (tmp_path / 'bag').iterdir())
    assert files == sorted(['.yaml', '.mcap' if storage == 'mcap' else '.db3'])

    assert all(ep.ground_truth is None for ep in read_bag(tmp_path / 'bag'))  # not asked
    episodes, stats = read_bag_with_stats(tmp_path / 'bag', read_ground_truth=True)
    assert [len(ep) for ep in episodes] == [7, 5]
    assert stats.unpaired_images == 0 and stats.frames_without_command == 0
    assert stats.action_source == 'cmd_vel'
    for ep, part in zip(episodes, (frames[:7], frames[7:])):
        np.testing.assert_array_equal(ep.images, np.stack([f['image'] for f in part]))
        np.testing.assert_array_equal(ep.stamps_ns, [f['stamp'] for f in part])
        np.testing.assert_allclose(ep.odom_pose, [f['odom_pose'] for f in part], atol=1e-6)
        np.testing.assert_allclose(ep.odom_twist, [f['odom_twist'] for f in part], atol=1e-6)
        np.testing.assert_allclose(ep.ground_truth, [f['true_pose'] for f in part], atol=1e-6)
        # the command issued after frame t is in force during (t, t+1]
        np.testing.assert_allclose(ep.actions, [f['cmd'] for f in part], atol=1e-6)
        assert ep.images.dtype == np.uint8 and ep.actions.dtype == np.float32


def test_bag_metadata_readable_by_generic_reader(tmp_path):
    _write(tmp_path / 'bag', _frames(3))
    with AnyReader([tmp_path / 'bag']) as reader:
        types = {name: info.msgtype for name, info in reader.topics.items()}
        stamps = [t for _, t, _ in reader.messages()]
    assert types == {'/camera/image_raw': 'sensor_msgs/msg/Image',
                     '/odom': 'nav_msgs/msg/Odometry',
                     '/cmd_vel': 'geometry_msgs/msg/Twist',
                     '/ground_truth/odom': 'nav_msgs/msg/Odometry',
                     '/episode': 'std_msgs/msg/UInt32'}
    assert set(stamps) == {T0, T0 + PERIOD, T0 + 2 * PERIOD}  # log time == stamp


def test_no_cmd_vel_takes_actions_from_odom_twist(tmp_path):
    frames = _frames(5)
    _write(tmp_path / 'bag', frames, cmd=False)
    (ep,), stats = read_bag_with_stats(tmp_path / 'bag')
    assert stats.action_source == 'odom_twist'
    twists = np.array([f['odom_twist'] for f in frames], dtype=np.float32)
    np.testing.assert_allclose(ep.actions[:-1], twists[1:], atol=1e-6)
    np.testing.assert_allclose(ep.actions[-1], twists[-1], atol=1e-6)


def test_missing_odom_names_topic_and_lists_present(tmp_path):
    with BagWriter(tmp_path / 'bag') as w:
        w.write('/camera/image_raw', image_msg(T0, np.zeros((2, 2, 3), np.uint8)), T0)
        w.write('/cmd_vel', twist_msg(0.1, 0.0), T0)
    with pytest.raises(MissingTopicError) as info:
        read_bag(tmp_path / 'bag')
    text = str(info.value)
    assert 'has no topic /odom' in text
    assert '/camera/image_raw (sensor_msgs/msg/Image, 1 msgs)' in text
    assert '/cmd_vel (geometry_msgs/msg/Twist' in text


def test_unpaired_frames_dropped_and_counted(tmp_path):
    """Odometry 10 ms late pairs; a frame whose odometry is missing is dropped and counted."""
    with BagWriter(tmp_path / 'bag') as w:
        for i in range(6):
            stamp = T0 + i * PERIOD
            w.write('/camera/image_raw', image_msg(stamp, np.full((2, 3, 3), i, np.uint8)), stamp)
            if i != 3:
                late = stamp + 10_000_000
                w.write('/odom', odometry_msg(late, (i, 0, 0), (0.1 * i, 0)), late)
            w.write('/cmd_vel', twist_msg(i, 0), stamp)
    (ep,), stats = read_bag_with_stats(tmp_path / 'bag', BagTopics(max_pair_gap_s=0.02),
                                       read_ground_truth=True)
    assert stats.unpaired_images == 1 and stats.frames_kept == 5
    np.testing.assert_array_equal(ep.images[:, 0, 0, 0], [0, 1, 2, 4, 5])
    np.testing.assert_allclose(ep.odom_pose[:, 0], [0, 1, 2, 4, 5])
    # the command in force during (2, 4] is the last one before frame 4: cmd 3
    np.testing.assert_allclose(ep.actions[:, 0], [0, 1, 3, 4, 5])
    assert ep.ground_truth is None
    _, strict = read_bag_with_stats(tmp_path / 'bag', BagTopics(max_pair_gap_s=0.005))
    assert strict.unpaired_images == 6 and strict.frames_kept == 0


def test_twist_stamped_uses_header_stamp_and_relative_topic_names(tmp_path):
    stamped = TYPESTORE.types['geometry_msgs/msg/TwistStamped']
    with BagWriter(tmp_path / 'bag', storage='sqlite3') as w:
        for i in range(4):
            stamp = T0 + i * PERIOD
            w.write('/cam', image_msg(stamp, np.zeros((2, 2, 3), np.uint8)), stamp)
            w.write('/robot/odom', odometry_msg(stamp, (0, 0, 0), (0, 0)), stamp)
            # logged late (after the next frame), but stamped right after frame i
            cmd = stamped(header=header_msg(stamp + 1, 'base_link'), twist=twist_msg(i, -i))
            w.write('/cmd', cmd, stamp + 2 * PERIOD)
    topics = BagTopics(image='cam', odom='robot/odom', cmd_vel='cmd')
    (ep,) = read_bag(tmp_path / 'bag', topics)
    np.testing.assert_allclose(ep.actions, [[0, 0], [1, -1], [2, -2], [3, -3]])


def _pattern(h=3, w=4):
    """An RGB image whose every channel value is distinct, to catch channel-order mistakes."""
    return (np.arange(h * w * 3, dtype=np.uint8) * 7 + 1).reshape(h, w, 3)


def _encode(rgb, encoding):
    if encoding == 'rgb8':
        return rgb
    if encoding == 'bgr8':
        return rgb[..., ::-1]
    if encoding == 'rgba8':
        return np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 200, np.uint8)], axis=2)
    if encoding == 'bgra8':
        return np.concatenate([rgb[..., ::-1], np.full(rgb.shape[:2] + (1,), 9, np.uint8)],
                              axis=2)
    return rgb[..., 0]  # mono8


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'mono8', 'rgba8', 'bgra8'])
def test_every_encoding_decodes_to_rgb(encoding):
    rgb = _pattern()
    raw = np.ascontiguousarray(_encode(rgb, encoding))
    expected = np.repeat(rgb[..., :1], 3, axis=2) if encoding == 'mono8' else rgb
    channels = 1 if raw.ndim == 2 else raw.shape[2]
    row = 4 * channels
    out = to_rgb(raw.tobytes(), 4, 3, encoding, row)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.uint8 and out.shape == (3, 4, 3) and out.flags.writeable
    # the same bytes as rclpy hands them over (array.array), padded rows (step > width*ch)
    padded = np.zeros((3, row + 5), np.uint8)
    padded[:, :row] = raw.reshape(3, row)
    out = to_rgb(array.array('B', padded.tobytes()), 4, 3, encoding, row + 5)
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize('encoding', ['bgr8', 'mono8', 'bgra8'])
def test_bag_with_other_encodings_and_resize(tmp_path, encoding):
    rgb = _pattern(4, 6)
    with BagWriter(tmp_path / 'bag') as w:
        for i in range(2):
            stamp = T0 + i * PERIOD
            msg = image_msg(stamp, _encode(rgb, encoding), encoding=encoding)
            w.write('/camera/image_raw', msg, stamp)
            w.write('/odom', odometry_msg(stamp, (0, 0, 0), (0, 0)), stamp)
    (ep,) = read_bag(tmp_path / 'bag')
    expected = np.repeat(rgb[..., :1], 3, axis=2) if encoding == 'mono8' else rgb
    np.testing.assert_array_equal(ep.images[0], expected)
    (small,) = read_bag(tmp_path / 'bag', image_size=(3, 2))
    assert small.images.shape == (2, 2, 3, 3)


def test_compressed_image_topic(tmp_path):
    frames = _frames(3, size=(8, 8))
    with BagWriter(tmp_path / 'bag') as w:
        for f in frames:
            payload = encode_compressed(f['image'], 'png')
            w.write('/camera/image_raw/compressed', compressed_image_msg(f['stamp'], payload,
                                                                         'png'), f['stamp'])
            w.write('/odom', odometry_msg(f['stamp'], f['odom_pose'], f['odom_twist']),
                    f['stamp'])
    (ep,) = read_bag(tmp_path / 'bag', BagTopics(image='/camera/image_raw/compressed'))
    np.testing.assert_array_equal(ep.images, np.stack([f['image'] for f in frames]))  # lossless


def test_undecodable_image_in_bag_is_dropped_and_counted(tmp_path):
    with BagWriter(tmp_path / 'bag') as w:
        for i in range(3):
            stamp = T0 + i * PERIOD
            msg = image_msg(stamp, np.zeros((2, 2, 3), np.uint8))
            if i == 1:
                msg.encoding = '16UC1'
            w.write('/camera/image_raw', msg, stamp)
            w.write('/odom', odometry_msg(stamp, (0, 0, 0), (0, 0)), stamp)
    (ep,), stats = read_bag_with_stats(tmp_path / 'bag')
    assert len(ep) == 2 and stats.bad_images == 1
    assert "unsupported image encoding '16UC1'" in stats.first_bad_image


def test_codec_rejects_bad_messages_precisely():
    good = np.zeros(2 * 4 * 3, np.uint8)
    with pytest.raises(ImageFormatError, match=r"unsupported image encoding '16UC1'.*rgb8, bgr8, "
                                               r'mono8, rgba8, bgra8'):
        to_rgb(good, 4, 2, '16UC1', 12)
    with pytest.raises(ImageFormatError, match=r'step 10 is smaller than width \* channels = '
                                               r'4 \* 3 = 12'):
        to_rgb(good, 4, 2, 'rgb8', 10)
    with pytest.raises(ImageFormatError, match='image data is empty'):
        to_rgb(b'', 4, 2, 'rgb8', 12)
    with pytest.raises(ImageFormatError, match=r'too short: 23 bytes, expected step 12 \* height '
                                               r'2 = 24'):
        to_rgb(good[:-1], 4, 2, 'rgb8', 12)
    with pytest.raises(ImageFormatError, match='zero or negative size'):
        to_rgb(good, 0, 2, 'rgb8', 12)
    with pytest.raises(ImageFormatError, match='empty'):
        decode_compressed(b'')
    with pytest.raises(ImageFormatError, match='could not be decoded'):
        decode_compressed(b'not an image at all')
    assert issubclass(ImageFormatError, ValueError)


def test_fingerprint_tracks_content_not_location(tmp_path):
    _write(tmp_path / 'a', _frames(3))
    _write(tmp_path / 'b', _frames(3), storage='sqlite3')
    _write(tmp_path / 'c', _frames(4))
    fa = bag_fingerprint(tmp_path / 'a')
    assert fa == bag_fingerprint(str(tmp_path / 'b'))  # same messages, other storage and name
    assert fa != bag_fingerprint(tmp_path / 'c')
    both = bag_fingerprint([tmp_path / 'a', tmp_path / 'c'])
    assert both == bag_fingerprint([tmp_path / 'c', tmp_path / 'a']) and both != fa
    assert len(fa) == 64

