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
"""Read any rosbag2 recording (MCAP or sqlite3, ours or a robot's) into time-aligned Episodes.

Alignment rules (the contract training relies on):
- every camera frame is paired with the odometry message nearest in header stamp, within
  max_pair_gap_s; frames without such a message are dropped and counted;
- actions[t] is the command in force during (t, t+1]: the last cmd_vel with time < stamp of
  frame t+1 (Twist: log time, TwistStamped: header stamp). For the last frame of an episode it
  is the last command before the episode ends. Without a command topic, actions[t] is the
  measured odometry twist at frame t+1 (the last frame repeats its own twist);
- episodes split at /episode messages (by log time); without them the bag is one episode;
- ground truth (optional) is paired like odometry; unpaired frames get NaN rows.
- with period_s, camera frames are first resampled onto the control period (world_model.data.
  resample: the frame nearest each tick), then paired and given actions as above;
- odometry: any child_frame_id; the twist is taken in the body frame unless it is expressed in
  the odom frame (BagTopics.odom_twist_frame, 'auto' detects it from the poses: twist_frame),
  then its forward speed is rotated into the body frame; covariances are not used.
Stamps: header stamp when set, else the log time (publishers that leave stamps at zero).
"""

import dataclasses
import hashlib
import json
import logging
import pathlib

import cv2
import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

from world_model import geometry
from world_model.config import param, validate
from world_model.data.episode import Episode
from world_model.data.image_codec import ImageFormatError, decode_compressed, to_rgb
from world_model.data.resample import NearestTickSelector
from world_model.data.twist_frame import TWIST_FRAMES, resolve, to_body
from world_model.sync.stamp_sync import stamp_ns

_LOG = logging.getLogger(__name__)
_DEFAULT_TYPESTORE = get_typestore(Stores.ROS2_JAZZY)

IMAGE_TYPES = ('sensor_msgs/msg/Image', 'sensor_msgs/msg/CompressedImage')
ODOM_TYPES = ('nav_msgs/msg/Odometry',)
CMD_TYPES = ('geometry_msgs/msg/Twist', 'geometry_msgs/msg/TwistStamped')
EPISODE_TYPES = ('std_msgs/msg/UInt32', 'std_msgs/msg/Int32', 'std_msgs/msg/UInt64',
                 'std_msgs/msg/Int64')


class BagError(ValueError):
    """A bag that cannot be turned into episodes; the message says why."""


class MissingTopicError(BagError):
    """A required topic is absent; the message names it and lists the topics present."""


@dataclasses.dataclass
class BagTopics:
    """Which topics of a bag hold what. Empty cmd_vel / ground_truth / episode: do not use."""

    image: str = param('/camera/image_raw',
                       help='camera topic (sensor_msgs/Image or CompressedImage)')
    odom: str = param('/odom', help='odometry topic (nav_msgs/Odometry)')
    cmd_vel: str = param('/cmd_vel', help='command topic (Twist or TwistStamped); '
                         'absent: actions come from the odometry twist')
    ground_truth: str = param('/ground_truth/odom', help='simulator truth (nav_msgs/Odometry), '
                              'optional; read for evaluation only')
    episode: str = param('/episode', help='episode markers (std_msgs/UInt32), optional')
    max_pair_gap_s: float = param(0.05, lo=0.0, hi=10.0,
                                  help='largest image/odometry stamp difference that pairs')
    odom_twist_frame: str = param('auto', choices=TWIST_FRAMES,
                                  help='frame of the odometry twist: body (REP 105), odom, or '
                                       'auto (detected from the poses)')


@dataclasses.dataclass
class BagReadStats:
    """What happened while reading; dropped frames are reported, not hidden."""

    images_read: int = 0
    frames_kept: int = 0
    unpaired_images: int = 0  # no odometry within max_pair_gap_s
    bad_images: int = 0  # undecodable image messages (first reason in first_bad_image)
    first_bad_image: str = ''
    frames_without_command: int = 0  # no command yet: zero action used
    ground_truth_unpaired: int = 0  # NaN ground truth rows
    action_source: str = 'cmd_vel'
    episodes: int = 0
    resampled_out: int = 0  # frames not nearest to a control tick (period_s given)
    twist_frame: str = 'body'  # frame the odometry twist was read in


def _absolute(topic: str) -> str:
    return topic if not topic or topic.startswith('/') else '/' + topic


def message_stamp_ns(msg, log_ns: int) -> int:
    """The header stamp in ns, or the bag's log time for a message stamped zero (unset)."""
    ns = stamp_ns(msg.header.stamp)
    return ns if ns != 0 else int(log_ns)


def _pose(odom) -> tuple:
    p = odom.pose.pose
    return (p.position.x, p.position.y, geometry.yaw_of_quaternion(p.orientation))


def _topic_listing(topics: dict) -> str:
    if not topics:
        return '(none: the bag is empty)'
    return ', '.join(f'{name} ({info.msgtype}, {info.msgcount} msgs)'
                     for name, info in sorted(topics.items()))


def _bag_path(path) -> pathlib.Path:
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f'bag {path} does not exist')
    return path


def _check_type(path, topic: str, msgtype: str, allowed: tuple):
    if msgtype not in allowed:
        raise BagError(f'bag {path}: topic {topic} has type {msgtype}, expected '
                       f'{" or ".join(allowed)}')


def _nearest(sorted_stamps: np.ndarray, queries: np.ndarray, tol_ns: int) -> np.ndarray:
    """Index of the nearest stamp for each query, -1 when none within tol_ns (vectorised)."""
    if sorted_stamps.size == 0:
        return np.full(queries.shape, -1, dtype=np.int64)
    right = np.clip(np.searchsorted(sorted_stamps, queries), 0, sorted_stamps.size - 1)
    left = np.clip(right - 1, 0, sorted_stamps.size - 1)
    d_right = np.abs(sorted_stamps[right] - queries)
    d_left = np.abs(sorted_stamps[left] - queries)
    best = np.where(d_left <= d_right, left, right)
    best_d = np.minimum(d_left, d_right)
    return np.where(best_d <= tol_ns, best, -1)


class _Collected:
    """Raw per-topic streams gathered in one pass over the bag."""

    def __init__(self):
        self.images, self.image_stamps, self.image_logs = [], [], []
        self.odom_stamps, self.odom_poses, self.odom_twists = [], [], []  # twist: vx, vy, wz
        self.gt_stamps, self.gt_poses = [], []
        self.cmd_times, self.cmd_values = [], []
        self.episode_logs = []


def _decode_image(msg, msgtype: str, image_size) -> np.ndarray:
    if msgtype == 'sensor_msgs/msg/CompressedImage':
        rgb = decode_compressed(msg.data)
    else:
        rgb = to_rgb(msg.data, msg.width, msg.height, msg.encoding, msg.step)
    if image_size is not None and (rgb.shape[1], rgb.shape[0]) != tuple(image_size):
        rgb = cv2.resize(rgb, tuple(int(s) for s in image_size), interpolation=cv2.INTER_AREA)
    return rgb


def _keep_image(out, msg, msgtype, log_ns, image_size, stats, topic):
    try:
        rgb = _decode_image(msg, msgtype, image_size)
    except ImageFormatError as exc:
        stats.bad_images += 1
        stats.first_bad_image = stats.first_bad_image or f'at log time {log_ns}: {exc}'
        return
    if out.images and rgb.shape != out.images[0].shape:
        shape = out.images[0].shape
        raise BagError(f'bag {out.path}: images on {topic} change size from '
                       f'{shape[1]}x{shape[0]} to {rgb.shape[1]}x{rgb.shape[0]} at log '
                       f'time {log_ns}; pass image_size=(w, h) to resize them')
    out.images.append(rgb)
    out.image_stamps.append(message_stamp_ns(msg, log_ns))
    out.image_logs.append(log_ns)


def _collect(reader, path, topics: BagTopics, present: dict, image_size, stats,
             period_s: float | None = None, read_ground_truth: bool = False) -> _Collected:
    role = {}  # topic -> (role, msgtype)
    role[_absolute(topics.image)] = ('image', present[_absolute(topics.image)].msgtype)
    role[_absolute(topics.odom)] = ('odom', present[_absolute(topics.odom)].msgtype)
    # ground truth only when evaluation asks: training and export must not see it
    truth = topics.ground_truth if read_ground_truth else ''
    for name, kind in ((topics.cmd_vel, 'cmd'), (truth, 'gt'), (topics.episode, 'episode')):
        name = _absolute(name)
        if name and name in present and present[name].msgcount > 0:
            role[name] = (kind, present[name].msgtype)
    allowed = {'image': IMAGE_TYPES, 'odom': ODOM_TYPES, 'cmd': CMD_TYPES, 'gt': ODOM_TYPES,
               'episode': EPISODE_TYPES}
    for name, (kind, msgtype) in role.items():
        _check_type(path, name, msgtype, allowed[kind])

    out = _Collected()
    out.path = path
    selector = NearestTickSelector(int(round(period_s * 1e9))) if period_s else None

    def keep(chosen):
        for msg, msgtype, log_ns, topic in chosen:
            _keep_image(out, msg, msgtype, log_ns, image_size, stats, topic)

    connections = [c for c in reader.connections if c.topic in role]
    for conn, log_ns, raw in reader.messages(connections=connections):
        kind, msgtype = role[conn.topic][0], conn.msgtype
        msg = reader.deserialize(raw, msgtype)
        if kind == 'image':
            stats.images_read += 1
            item = (msg, msgtype, log_ns, conn.topic)
            keep(selector.offer(message_stamp_ns(msg, log_ns), item) if selector else [item])
        elif kind == 'odom':
            out.odom_stamps.append(message_stamp_ns(msg, log_ns))
            out.odom_poses.append(_pose(msg))
            twist = msg.twist.twist
            out.odom_twists.append((twist.linear.x, twist.linear.y, twist.angular.z))
        elif kind == 'gt':
            out.gt_stamps.append(message_stamp_ns(msg, log_ns))
            out.gt_poses.append(_pose(msg))
        elif kind == 'cmd':
            if msgtype == 'geometry_msgs/msg/TwistStamped':
                out.cmd_times.append(message_stamp_ns(msg, log_ns))
                twist = msg.twist
            else:
                out.cmd_times.append(log_ns)
                twist = msg
            out.cmd_values.append((twist.linear.x, twist.angular.z))
        else:
            out.episode_logs.append(log_ns)
            if selector:  # each episode's ticks start at its first frame
                keep(selector.flush())
                selector.reset()
    if selector:
        keep(selector.flush())
        stats.resampled_out = selector.dropped
    return out


def _sorted_stream(stamps, *values):
    stamps = np.asarray(stamps, dtype=np.int64)
    order = np.argsort(stamps, kind='stable')
    return (stamps[order],) + tuple(np.asarray(v, dtype=np.float64).reshape(len(stamps), -1)[order]
                                    for v in values)


def _actions(frame_stamps, window, cmd_t, cmd_v, odom_twist, stats) -> np.ndarray:
    """actions[t]: command in force during (t, t+1]; see the module docstring."""
    n = frame_stamps.size
    if cmd_t is None:
        actions = np.empty((n, 2), dtype=np.float32)
        actions[:-1] = odom_twist[1:]
        actions[-1] = odom_twist[-1]
        return actions
    start, end = window
    horizon = np.empty(n, dtype=np.int64)
    horizon[:-1] = frame_stamps[1:]
    horizon[-1] = end
    k = np.searchsorted(cmd_t, horizon, side='left') - 1
    valid = (k >= 0) & (cmd_t[np.clip(k, 0, None)] >= start) if cmd_t.size else np.zeros(n, bool)
    actions = np.zeros((n, 2), dtype=np.float32)
    actions[valid] = cmd_v[k[valid]]
    stats.frames_without_command += int(n - valid.sum())
    return actions


def _body_twist(data: _Collected, setting: str, stats) -> np.ndarray:
    """[N, 2] body-frame (v, omega) of the odometry messages, in arrival order."""
    twists = np.asarray(data.odom_twists, dtype=np.float64).reshape(-1, 3)
    poses = np.asarray(data.odom_poses, dtype=np.float64).reshape(-1, 3)
    stats.twist_frame = resolve(setting, data.odom_stamps, poses, twists[:, :2])
    v = to_body(twists[:, :2], poses[:, 2]) if stats.twist_frame == 'odom' else twists[:, 0]
    return np.stack([v, twists[:, 2]], axis=1)


def read_bag_with_stats(path, topics: BagTopics | None = None,
                        image_size: tuple | None = None,
                        period_s: float | None = None, read_ground_truth: bool = False
                        ) -> tuple[list[Episode], BagReadStats]:
    """Episodes of one rosbag2 bag (directory, .mcap or .db3) and what was dropped on the way.

    period_s: resample the camera frames onto this control period first (None: every frame).
    read_ground_truth: fill Episode.ground_truth from topics.ground_truth (evaluation only;
    training, probes and export use odometry alone).
    """
    topics = validate(topics or BagTopics())
    if image_size is not None:
        if len(image_size) != 2 or min(int(v) for v in image_size) < 1:
            raise ValueError(f'image_size must be (width, height) >= 1, got {image_size!r}')
        image_size = (int(image_size[0]), int(image_size[1]))
    path = _bag_path(path)
    stats = BagReadStats()
    tol_ns = int(round(topics.max_pair_gap_s * 1e9))
    with AnyReader([path], default_typestore=_DEFAULT_TYPESTORE) as reader:
        present = reader.topics
        for name, what in ((topics.image, 'camera images'), (topics.odom, 'odometry')):
            name = _absolute(name)
            if name not in present or present[name].msgcount == 0:
                state = 'has no messages on' if name in present else 'has no topic'
                raise MissingTopicError(f'bag {path} {state} {name} ({what}); topics present: '
                                        f'{_topic_listing(present)}')
        data = _collect(reader, path, topics, present, image_size, stats, period_s,
                        read_ground_truth)

    odom_t, odom_pose, odom_twist = _sorted_stream(
        data.odom_stamps, data.odom_poses, _body_twist(data, topics.odom_twist_frame, stats))
    image_t = np.asarray(data.image_stamps, dtype=np.int64)
    image_log = np.asarray(data.image_logs, dtype=np.int64)
    match = _nearest(odom_t, image_t, tol_ns)
    stats.unpaired_images = int((match < 0).sum())
    has_gt = bool(data.gt_stamps)
    if has_gt:
        gt_t, gt_pose = _sorted_stream(data.gt_stamps, data.gt_poses)
        gt_match = _nearest(gt_t, image_t, tol_ns)
    cmd_t = cmd_v = None
    if data.cmd_times:
        cmd_t, cmd_v = _sorted_stream(data.cmd_times, data.cmd_values)
        stats.action_source = 'cmd_vel'
    else:
        stats.action_source = 'odom_twist'

    # episode e spans log times [markers[e], markers[e+1]); frames before the first marker
    # (or all frames when there are none) form episode -1
    markers = np.sort(np.asarray(data.episode_logs, dtype=np.int64))
    episode_of = np.searchsorted(markers, image_log, side='right') - 1
    bounds = np.concatenate([[np.iinfo(np.int64).min], markers, [np.iinfo(np.int64).max]])
    episodes = []
    for e in np.unique(episode_of):
        idx = np.flatnonzero((episode_of == e) & (match >= 0))
        if idx.size == 0:
            continue
        idx = idx[np.argsort(image_t[idx], kind='stable')]
        stamps = image_t[idx]
        twist = odom_twist[match[idx]].astype(np.float32)
        window = (int(bounds[e + 1]), int(bounds[e + 2]))
        ground_truth = None
        if has_gt:
            ground_truth = np.full((idx.size, 3), np.nan, dtype=np.float32)
            ok = gt_match[idx] >= 0
            ground_truth[ok] = gt_pose[gt_match[idx][ok]]
            stats.ground_truth_unpaired += int((~ok).sum())
        episodes.append(Episode(
            images=np.stack([data.images[i] for i in idx]),
            stamps_ns=stamps,
            odom_pose=odom_pose[match[idx]].astype(np.float32),
            odom_twist=twist,
            actions=_actions(stamps, window, cmd_t, cmd_v, twist, stats),
            ground_truth=ground_truth,
        ).check())
    stats.frames_kept = sum(len(ep) for ep in episodes)
    stats.episodes = len(episodes)
    return episodes, stats


def read_bag(path, topics: BagTopics | None = None, image_size: tuple | None = None,
             period_s: float | None = None, read_ground_truth: bool = False) -> list[Episode]:
    """Episodes of one rosbag2 bag; dropped frames are logged as a warning."""
    episodes, stats = read_bag_with_stats(path, topics, image_size, period_s, read_ground_truth)
    dropped = stats.unpaired_images + stats.bad_images
    if dropped or stats.frames_without_command:
        _LOG.warning('bag %s: kept %d of %d frames (%d without odometry within the gap, %d '
                     'undecodable%s), %d frames without a command yet', path, stats.frames_kept,
                     stats.images_read, stats.unpaired_images, stats.bad_images,
                     f': {stats.first_bad_image}' if stats.first_bad_image else '',
                     stats.frames_without_command)
    return episodes


def _summary(path) -> str:
    with AnyReader([_bag_path(path)], default_typestore=_DEFAULT_TYPESTORE) as reader:
        topics = {name: [info.msgtype, info.msgcount] for name, info in reader.topics.items()}
        return json.dumps({'topics': topics, 'start': reader.start_time,
                           'end': reader.end_time, 'messages': reader.message_count},
                          sort_keys=True)


def bag_fingerprint(paths) -> str:
    """sha256 over each bag's topics, message counts and first/last stamps (order-free, cheap).

    Reads metadata only, so it costs milliseconds even for large bags; moving or renaming a bag
    keeps its fingerprint.
    """
    if isinstance(paths, (str, pathlib.Path)):
        paths = [paths]
    digest = hashlib.sha256()
    for summary in sorted(_summary(p) for p in paths):
        digest.update(summary.encode())
    return digest.hexdigest()
