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
"""Futures PointCloud2 and proposal Float32MultiArray codecs: round trips and validation."""

import array

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Float32MultiArray, Header

from agent_node.conversions.futures import (
    FUTURES_FIELDS,
    FuturesMessage,
    decode_futures,
    decode_proposal,
    encode_futures,
    encode_proposal,
)


def random_futures(num=5, horizon=4, seed=0):
    rng = np.random.default_rng(seed)
    goal_dist = rng.random((num, horizon)).astype(np.float32)
    goal_dist[0, 1] = np.nan
    return dict(poses=rng.normal(size=(num, horizon, 3)),
                actions=rng.normal(size=(num, horizon, 2)), goal_dist=goal_dist,
                uncertainty=rng.random((num, horizon)),
                collision=rng.random((num, horizon)))


def header():
    h = Header(frame_id='odom')
    h.stamp.sec, h.stamp.nanosec = 12, 345
    return h


def test_futures_round_trip_over_the_wire():
    arrays = random_futures()
    msg = encode_futures(header(), **arrays)
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (5, 4, 36, 144)
    assert [f.name for f in msg.fields] == list(FUTURES_FIELDS)
    assert [f.offset for f in msg.fields] == list(range(0, 36, 4))
    assert not msg.is_dense
    wire = deserialize_message(serialize_message(msg), PointCloud2)
    futures = decode_futures(wire)
    assert isinstance(futures, FuturesMessage)
    assert (futures.num_candidates, futures.horizon) == (5, 4)
    assert futures.frame_id == 'odom' and futures.stamp.sec == 12 and futures.stamp.nanosec == 345
    for name in ('poses', 'actions', 'uncertainty', 'collision'):
        np.testing.assert_allclose(getattr(futures, name), arrays[name], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(futures.goal_dist), np.isnan(arrays['goal_dist']))
    # Point (k, h) holds candidate k after step h + 1, z = 0.
    points = np.frombuffer(msg.data, dtype=np.float32).reshape(5, 4, 9)
    np.testing.assert_allclose(points[2, 3, :3], [*arrays['poses'][2, 3, :2], 0.0], rtol=1e-6)


def test_decode_reads_declared_offsets_and_row_padding():
    """A producer may order fields differently, pad points or rows: offsets decide."""
    arrays = random_futures(num=2, horizon=3, seed=1)
    num, horizon, point_step, row_step = 2, 3, 40, 40 * 3 + 8
    order = list(reversed(FUTURES_FIELDS))
    raw = np.zeros((num, row_step), dtype=np.uint8)
    poses = arrays['poses']
    values = {'x': poses[..., 0], 'y': poses[..., 1], 'z': 0 * poses[..., 0],
              'yaw': poses[..., 2], 'v': arrays['actions'][..., 0],
              'omega': arrays['actions'][..., 1], 'goal_dist': arrays['goal_dist'],
              'uncertainty': arrays['uncertainty'], 'collision': arrays['collision']}
    dtype = np.dtype({'names': order, 'formats': ['<f4'] * 9, 'offsets': [4 * i for i in range(9)],
                      'itemsize': point_step})
    points = np.zeros((num, horizon), dtype=dtype)
    for name in order:
        points[name] = values[name]
    raw[:, :point_step * horizon] = points.view(np.uint8).reshape(num, -1)
    msg = PointCloud2(height=num, width=horizon, point_step=point_step, row_step=row_step,
                      is_bigendian=False, is_dense=False)
    msg.fields = [PointField(name=n, offset=4 * i, datatype=PointField.FLOAT32, count=1)
                  for i, n in enumerate(order)]
    msg.data = array.array('B', raw.tobytes())
    futures = decode_futures(msg)
    np.testing.assert_allclose(futures.poses, arrays['poses'], rtol=1e-6)
    np.testing.assert_allclose(futures.collision, arrays['collision'], rtol=1e-6)


@pytest.mark.parametrize('corrupt, message', [
    (lambda m: m.fields.pop(), "lacks field.*'collision'"),
    (lambda m: setattr(m.fields[3], 'datatype', PointField.FLOAT64), "'yaw' must be one FLOAT32"),
    (lambda m: setattr(m, 'data', m.data[:-4]), 'data has 716 bytes, expected'),
    (lambda m: setattr(m, 'height', 0), 'height K >= 1'),
    (lambda m: setattr(m, 'row_step', 10), 'row_step 10 < point_step'),
    (lambda m: setattr(m.fields[8], 'offset', 36), "'collision' at offset 36 does not fit"),
])
def test_decode_futures_rejects_malformed(corrupt, message):
    msg = encode_futures(header(), **random_futures())
    corrupt(msg)
    with pytest.raises(ValueError, match=message):
        decode_futures(msg)


def test_decode_futures_rejects_non_finite_pose_but_allows_nan_goal_dist():
    arrays = random_futures()
    arrays['goal_dist'][:] = np.nan
    decode_futures(encode_futures(header(), **arrays))
    arrays['poses'][3, 2, 2] = np.inf
    with pytest.raises(ValueError, match="'yaw' has 1 non-finite value.*candidate 3, step 2"):
        decode_futures(encode_futures(header(), **arrays))


def test_encode_futures_checks_shapes():
    arrays = random_futures()
    arrays['collision'] = arrays['collision'][:, :3]
    with pytest.raises(ValueError, match=r'collision must have shape \[5, 4\]'):
        encode_futures(header(), **arrays)
    with pytest.raises(ValueError, match=r'poses must have shape \[K, H, 3\]'):
        encode_futures(header(), **{**random_futures(), 'poses': np.zeros((5, 4, 2))})


def test_proposal_round_trip_over_the_wire():
    actions = np.random.default_rng(2).normal(size=(7, 3, 2))
    msg = encode_proposal(actions)
    assert [(d.label, d.size, d.stride) for d in msg.layout.dim] == [
        ('candidate', 7, 42), ('step', 3, 6), ('action', 2, 2)]
    wire = deserialize_message(serialize_message(msg), Float32MultiArray)
    decoded = decode_proposal(wire)
    assert decoded.shape == (7, 3, 2) and decoded.dtype == np.float32
    np.testing.assert_allclose(decoded, actions, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('corrupt, message', [
    (lambda m: setattr(m.layout.dim[0], 'label', 'k'), 'labels must be'),
    (lambda m: setattr(m.layout.dim[2], 'size', 3), 'action = 2'),
    (lambda m: setattr(m.layout.dim[1], 'stride', 4), 'strides must be dense'),
    (lambda m: setattr(m, 'data', m.data[:-1]), 'has 11 values, expected'),
    (lambda m: m.data.__setitem__(0, float('nan')), 'non-finite'),
])
def test_decode_proposal_rejects_malformed(corrupt, message):
    msg = encode_proposal(np.zeros((2, 3, 2)))
    corrupt(msg)
    with pytest.raises(ValueError, match=message):
        decode_proposal(msg)


def test_encode_proposal_checks_shape_and_values():
    with pytest.raises(ValueError, match=r'\[K, H, 2\]'):
        encode_proposal(np.zeros((2, 3)))
    with pytest.raises(ValueError, match='finite'):
        encode_proposal(np.full((1, 1, 2), np.nan))
