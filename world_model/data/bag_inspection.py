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
"""What a bag holds, before training reads it: topics, rates, gaps, images, motion statistics.

One pass over the messages, no image decoding (sizes come from the Image header; for
CompressedImage only the first frame is decoded). Speeds are body-frame (the odometry twist is
rotated when it is expressed in the odom frame, see twist_frame). The result feeds
`jepa-agent inspect`, the derived model settings (training.data_settings) and the checks before
the first epoch (training.data_checks). Ground truth is only reported as present or absent.
"""

import collections
import dataclasses
import pathlib

import numpy as np
from rosbags.highlevel import AnyReader

from world_model.data import bag_reader as br
from world_model.data.image_codec import ImageFormatError, decode_compressed
from world_model.data.twist_frame import detect_twist_frame, resolve, to_body

STANDSTILL_V = 0.05  # m/s: slower than this and ...
STANDSTILL_W = 0.05  # rad/s: ... turning slower than this counts as standing still
GAP_FACTOR = 2.5  # a stamp step above this many median periods is a gap


@dataclasses.dataclass
class StreamStats:
    """Timing of one topic, from header stamps (log time where a stamp is zero)."""

    topic: str
    msgtype: str
    count: int
    rate_hz: float  # 1 / median stamp step
    median_dt_s: float
    max_gap_s: float
    gaps: int  # steps longer than GAP_FACTOR median steps
    out_of_order: int  # stamps earlier than the previous one, in recording order


@dataclasses.dataclass
class Spread:
    """Percentiles of absolute values."""

    p50: float
    p90: float
    p99: float
    max: float


@dataclasses.dataclass
class BagInspection:
    path: str
    duration_s: float
    topics: list  # [{'name', 'type', 'count'}]
    episodes: int  # /episode markers (1 when there are none)
    missing: list  # roles without a usable topic: camera, odometry, cmd_vel
    wrong_types: dict  # topic -> type, for a configured topic of an unusable type
    camera: StreamStats | None = None
    image_sizes: dict = dataclasses.field(default_factory=dict)  # 'WxH' -> count
    image_encodings: dict = dataclasses.field(default_factory=dict)
    odometry: StreamStats | None = None
    odom_child_frames: dict = dataclasses.field(default_factory=dict)
    odom_twist_frame: str = 'unknown'  # detected: body, odom or unknown
    odom_covariance_zero: bool | None = None  # every pose and twist covariance is zero
    odom_speed: Spread | None = None
    odom_turn: Spread | None = None
    standstill_fraction: float | None = None
    commands: StreamStats | None = None
    cmd_speed: Spread | None = None
    cmd_turn: Spread | None = None
    cmd_standstill_fraction: float | None = None
    ground_truth: bool = False

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def stream_stats(topic: str, msgtype: str, stamps_ns) -> StreamStats | None:
    stamps = np.asarray(stamps_ns, dtype=np.int64)
    if stamps.size == 0:
        return None
    out_of_order = int((np.diff(stamps) < 0).sum())
    steps = np.diff(np.sort(stamps)) * 1e-9
    steps = steps[steps > 0]
    if steps.size == 0:
        return StreamStats(topic, msgtype, int(stamps.size), 0.0, 0.0, 0.0, 0, out_of_order)
    median = float(np.median(steps))
    return StreamStats(topic, msgtype, int(stamps.size), 1.0 / median, median,
                       float(steps.max()), int((steps > GAP_FACTOR * median).sum()),
                       out_of_order)


def spread(values) -> Spread | None:
    values = np.abs(np.asarray(values, dtype=np.float64))
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return Spread(float(p50), float(p90), float(p99), float(values.max()))


def _standstill(v, w) -> float | None:
    v, w = np.asarray(v), np.asarray(w)
    if v.size == 0:
        return None
    return float(np.mean((np.abs(v) < STANDSTILL_V) & (np.abs(w) < STANDSTILL_W)))


class _Streams:
    def __init__(self):
        self.stamps = collections.defaultdict(list)
        self.sizes, self.encodings = collections.Counter(), collections.Counter()
        self.child_frames = collections.Counter()
        self.poses, self.twists, self.cmds = [], [], []
        self.covariance_set = False


def _read(reader, roles: dict) -> _Streams:
    out = _Streams()
    connections = [c for c in reader.connections if c.topic in roles]
    if not connections:  # rosbags reads every topic for an empty list
        return out
    for conn, log_ns, raw in reader.messages(connections=connections):
        role = roles[conn.topic]
        if role == 'episode':
            out.stamps[role].append(log_ns)
            continue
        msg = reader.deserialize(raw, conn.msgtype)
        if role == 'cmd':
            stamped = conn.msgtype == 'geometry_msgs/msg/TwistStamped'
            out.stamps[role].append(br.message_stamp_ns(msg, log_ns) if stamped else log_ns)
            twist = msg.twist if stamped else msg
            out.cmds.append((twist.linear.x, twist.angular.z))
            continue
        out.stamps[role].append(br.message_stamp_ns(msg, log_ns))
        if role == 'image':
            _image_facts(msg, conn.msgtype, out)
        elif role == 'odom':
            out.child_frames[msg.child_frame_id or '(empty)'] += 1
            out.poses.append(br._pose(msg))
            t = msg.twist.twist
            out.twists.append((t.linear.x, t.linear.y, t.angular.z))
            out.covariance_set = out.covariance_set or bool(
                np.any(msg.pose.covariance) or np.any(msg.twist.covariance))
    return out


def _image_facts(msg, msgtype: str, out: _Streams):
    if msgtype == 'sensor_msgs/msg/Image':
        out.sizes[f'{msg.width}x{msg.height}'] += 1
        out.encodings[msg.encoding] += 1
        return
    out.encodings[f'compressed {msg.format}'.strip()] += 1
    if not out.sizes:  # decoding every frame would cost what training costs
        try:
            rgb = decode_compressed(msg.data)
            out.sizes[f'{rgb.shape[1]}x{rgb.shape[0]}'] += 1
        except ImageFormatError:
            out.sizes['undecodable'] += 1


def _roles(present: dict, topics: 'br.BagTopics', result: BagInspection) -> dict:
    wanted = (('image', topics.image, br.IMAGE_TYPES, 'camera'),
              ('odom', topics.odom, br.ODOM_TYPES, 'odometry'),
              ('cmd', topics.cmd_vel, br.CMD_TYPES, 'cmd_vel'),
              ('gt', topics.ground_truth, br.ODOM_TYPES, None),
              ('episode', topics.episode, br.EPISODE_TYPES, None))
    roles = {}
    for role, name, allowed, label in wanted:
        name = br._absolute(name)
        info = present.get(name) if name else None
        if info is not None and info.msgcount > 0 and info.msgtype in allowed:
            roles[name] = role
            continue
        if info is not None and info.msgcount > 0:
            result.wrong_types[name] = info.msgtype
        if label is not None:
            result.missing.append(label)
    return roles


def inspect_bag(path, topics: 'br.BagTopics | None' = None) -> BagInspection:
    """Statistics of one rosbag2 bag under the topic names of `topics` (BagTopics)."""
    topics = topics or br.BagTopics()
    path = br._bag_path(path)
    with AnyReader([path], default_typestore=br._DEFAULT_TYPESTORE) as reader:
        present = reader.topics
        result = BagInspection(
            path=str(path), duration_s=(reader.end_time - reader.start_time) * 1e-9
            if reader.message_count else 0.0,
            topics=[{'name': n, 'type': i.msgtype, 'count': int(i.msgcount)}
                    for n, i in sorted(present.items())],
            episodes=1, missing=[], wrong_types={})
        roles = _roles(present, topics, result)
        streams = _read(reader, roles)
    by_role = {role: name for name, role in roles.items()}
    result.episodes = max(1, len(streams.stamps['episode']))
    result.ground_truth = 'gt' in by_role
    if 'image' in by_role:
        result.camera = stream_stats(by_role['image'], present[by_role['image']].msgtype,
                                     streams.stamps['image'])
        result.image_sizes, result.image_encodings = dict(streams.sizes), dict(streams.encodings)
    if 'odom' in by_role:
        _odometry(result, streams, by_role['odom'], topics)
    if 'cmd' in by_role:
        result.commands = stream_stats(by_role['cmd'], present[by_role['cmd']].msgtype,
                                       streams.stamps['cmd'])
        cmds = np.asarray(streams.cmds, dtype=np.float64).reshape(-1, 2)
        result.cmd_speed, result.cmd_turn = spread(cmds[:, 0]), spread(cmds[:, 1])
        result.cmd_standstill_fraction = _standstill(cmds[:, 0], cmds[:, 1])
    return result


def _odometry(result: BagInspection, streams: _Streams, topic: str, topics):
    stamps = streams.stamps['odom']
    result.odometry = stream_stats(topic, 'nav_msgs/msg/Odometry', stamps)
    poses = np.asarray(streams.poses, dtype=np.float64).reshape(-1, 3)
    twists = np.asarray(streams.twists, dtype=np.float64).reshape(-1, 3)
    result.odom_child_frames = dict(streams.child_frames)
    result.odom_twist_frame = detect_twist_frame(stamps, poses, twists[:, :2])
    result.odom_covariance_zero = not streams.covariance_set
    frame = resolve(topics.odom_twist_frame, stamps, poses, twists[:, :2])
    v = to_body(twists[:, :2], poses[:, 2]) if frame == 'odom' else twists[:, 0]
    result.odom_speed, result.odom_turn = spread(v), spread(twists[:, 2])
    result.standstill_fraction = _standstill(v, twists[:, 2])


def inspect_bags(paths, topics=None) -> list[BagInspection]:
    if isinstance(paths, (str, pathlib.Path)):
        paths = [paths]
    return [inspect_bag(p, topics) for p in paths]
