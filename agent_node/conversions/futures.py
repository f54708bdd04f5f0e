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
"""Wire format of the planning loop: predicted futures (PointCloud2) and proposals.

The encodings are described once, in the README (topic table and "`world_model/predicted_futures`
encoding"); FUTURES_FIELDS below is their field order. Both directions are vectorised through
numpy structured dtypes; decoders validate and raise ValueError saying what is wrong.
"""

import array
import dataclasses

from builtin_interfaces.msg import Time
import numpy as np
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Float32MultiArray, Header, MultiArrayDimension

FUTURES_FIELDS = ('x', 'y', 'z', 'yaw', 'v', 'omega', 'goal_dist', 'uncertainty', 'collision')
FUTURES_DTYPE = np.dtype([(name, '<f4') for name in FUTURES_FIELDS])  # point_step 36
PROPOSAL_LABELS = ('candidate', 'step', 'action')
# Every field but goal_dist (NaN: no goal) must be a finite number.
_FINITE_FIELDS = tuple(name for name in FUTURES_FIELDS if name != 'goal_dist')


@dataclasses.dataclass(frozen=True)
class FuturesMessage:
    """A decoded world_model/predicted_futures message: K candidates over H steps (float32).

    Not world_model.runtime.Futures, the runtime's raw rollout (latents, body-frame poses): this
    is what crossed the wire, in the odom frame, with the world model's cost terms.
    """

    stamp: Time  # source camera stamp
    frame_id: str  # odom frame of the poses
    poses: np.ndarray  # [K, H, 3] (x, y, yaw)
    actions: np.ndarray  # [K, H, 2] (v, omega) applied at each step
    goal_dist: np.ndarray  # [K, H], NaN without a goal
    uncertainty: np.ndarray  # [K, H]
    collision: np.ndarray  # [K, H] probability

    @property
    def num_candidates(self) -> int:
        return int(self.poses.shape[0])

    @property
    def horizon(self) -> int:
        return int(self.poses.shape[1])


def _as_array(name, value, shape):
    value = np.asarray(value, dtype=np.float32)
    if value.shape != shape:
        raise ValueError(f'{name} must have shape {list(shape)}, got {list(value.shape)}')
    return value


def encode_futures(header: Header, poses, actions, goal_dist, uncertainty,
                   collision) -> PointCloud2:
    """PointCloud2 of K x H futures from poses [K,H,3], actions [K,H,2] and [K,H] terms."""
    poses = np.asarray(poses, dtype=np.float32)
    if poses.ndim != 3 or poses.shape[-1] != 3 or 0 in poses.shape:
        raise ValueError(f'poses must have shape [K, H, 3] with K, H >= 1, '
                         f'got {list(poses.shape)}')
    num, horizon = poses.shape[:2]
    actions = _as_array('actions', actions, (num, horizon, 2))
    points = np.empty((num, horizon), dtype=FUTURES_DTYPE)
    points['x'], points['y'], points['yaw'] = poses[..., 0], poses[..., 1], poses[..., 2]
    points['z'] = 0.0
    points['v'], points['omega'] = actions[..., 0], actions[..., 1]
    points['goal_dist'] = _as_array('goal_dist', goal_dist, (num, horizon))
    points['uncertainty'] = _as_array('uncertainty', uncertainty, (num, horizon))
    points['collision'] = _as_array('collision', collision, (num, horizon))
    msg = PointCloud2()
    msg.header = header
    msg.height, msg.width = num, horizon
    msg.fields = [PointField(name=name, offset=FUTURES_DTYPE.fields[name][1],
                             datatype=PointField.FLOAT32, count=1) for name in FUTURES_FIELDS]
    msg.is_bigendian = False
    msg.point_step = FUTURES_DTYPE.itemsize
    msg.row_step = FUTURES_DTYPE.itemsize * horizon
    msg.is_dense = False
    # array.array('B', bytes) is a memcpy; a list of ints would be checked one by one.
    msg.data = array.array('B', points.tobytes())
    return msg


def _points_dtype(msg: PointCloud2) -> np.dtype:
    """Structured dtype reading the futures fields at the offsets the message declares."""
    by_name = {f.name: f for f in msg.fields}
    missing = [name for name in FUTURES_FIELDS if name not in by_name]
    if missing:
        raise ValueError(f'futures PointCloud2 lacks field(s) {missing}; has '
                         f'{[f.name for f in msg.fields]}, needs {list(FUTURES_FIELDS)}')
    order = '>' if msg.is_bigendian else '<'
    offsets = []
    for name in FUTURES_FIELDS:
        field = by_name[name]
        if field.datatype != PointField.FLOAT32 or field.count != 1:
            raise ValueError(f'futures field {name!r} must be one FLOAT32 (datatype '
                             f'{PointField.FLOAT32}, count 1), got datatype {field.datatype} '
                             f'count {field.count}')
        if field.offset + 4 > msg.point_step:
            raise ValueError(f'futures field {name!r} at offset {field.offset} does not fit in '
                             f'point_step {msg.point_step}')
        offsets.append(field.offset)
    return np.dtype({'names': list(FUTURES_FIELDS), 'formats': [order + 'f4'] * len(offsets),
                     'offsets': offsets, 'itemsize': msg.point_step})


def decode_futures(msg: PointCloud2) -> FuturesMessage:
    """Validate and decode a futures PointCloud2; ValueError names the first problem."""
    num, horizon = int(msg.height), int(msg.width)
    if num < 1 or horizon < 1:
        raise ValueError(f'futures PointCloud2 must be organized with height K >= 1 and width '
                         f'H >= 1, got height={num} width={horizon}')
    dtype = _points_dtype(msg)
    if msg.row_step < msg.point_step * horizon:
        raise ValueError(f'futures row_step {msg.row_step} < point_step {msg.point_step} x '
                         f'width {horizon}')
    raw = np.frombuffer(msg.data, dtype=np.uint8)
    if raw.size != msg.row_step * num:
        raise ValueError(f'futures data has {raw.size} bytes, expected row_step '
                         f'{msg.row_step} x height {num} = {msg.row_step * num}')
    rows = raw.reshape(num, msg.row_step)[:, :msg.point_step * horizon]
    points = np.ascontiguousarray(rows).view(dtype).reshape(num, horizon)
    columns = {name: points[name].astype(np.float32) for name in FUTURES_FIELDS}
    for name in _FINITE_FIELDS:
        bad = ~np.isfinite(columns[name])
        if bad.any():
            k, h = np.argwhere(bad)[0]
            raise ValueError(f'futures field {name!r} has {int(bad.sum())} non-finite value(s), '
                             f'first at candidate {k}, step {h}')
    return FuturesMessage(
        stamp=msg.header.stamp, frame_id=msg.header.frame_id,
        poses=np.stack([columns['x'], columns['y'], columns['yaw']], axis=-1),
        actions=np.stack([columns['v'], columns['omega']], axis=-1),
        goal_dist=columns['goal_dist'], uncertainty=columns['uncertainty'],
        collision=columns['collision'])


def encode_proposal(actions) -> Float32MultiArray:
    """Float32MultiArray of candidate action sequences [K, H, 2] (v, omega)."""
    actions = np.asarray(actions, dtype=np.float32)
    if actions.ndim != 3 or actions.shape[-1] != 2 or 0 in actions.shape:
        raise ValueError(f'proposal actions must have shape [K, H, 2] with K, H >= 1, '
                         f'got {list(actions.shape)}')
    if not np.isfinite(actions).all():
        raise ValueError('proposal actions must be finite')
    num, horizon, _ = actions.shape
    msg = Float32MultiArray()
    msg.layout.dim = [
        MultiArrayDimension(label='candidate', size=num, stride=num * horizon * 2),
        MultiArrayDimension(label='step', size=horizon, stride=horizon * 2),
        MultiArrayDimension(label='action', size=2, stride=2),
    ]
    msg.layout.data_offset = 0
    data = array.array('f')
    data.frombytes(np.ascontiguousarray(actions, dtype='=f4').tobytes())
    msg.data = data
    return msg


def decode_proposal(msg: Float32MultiArray) -> np.ndarray:
    """Validate and decode a proposal into float32 [K, H, 2]; ValueError names the problem."""
    dims = list(msg.layout.dim)
    labels = tuple(d.label for d in dims)
    if labels != PROPOSAL_LABELS:
        raise ValueError(f'proposal layout labels must be {list(PROPOSAL_LABELS)}, '
                         f'got {list(labels)}')
    num, horizon, width = (int(d.size) for d in dims)
    if num < 1 or horizon < 1 or width != 2:
        raise ValueError(f'proposal sizes must be candidate >= 1, step >= 1, action = 2, '
                         f'got {[num, horizon, width]}')
    strides = [int(d.stride) for d in dims]
    if strides != [num * horizon * 2, horizon * 2, 2]:
        raise ValueError(f'proposal strides must be dense {[num * horizon * 2, horizon * 2, 2]}'
                         f', got {strides}')
    offset = int(msg.layout.data_offset)
    values = np.frombuffer(msg.data, dtype=np.float32) if len(msg.data) else np.empty(0)
    if values.size != offset + num * horizon * 2:
        raise ValueError(f'proposal has {values.size} values, expected data_offset {offset} + '
                         f'{num} x {horizon} x 2 = {offset + num * horizon * 2}')
    actions = values[offset:].astype(np.float32).reshape(num, horizon, 2)
    if not np.isfinite(actions).all():
        raise ValueError('proposal has non-finite actions')
    return actions

