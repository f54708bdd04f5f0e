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
"""agent_node.conversions.images on real sensor_msgs Image / CompressedImage messages."""

import array

from builtin_interfaces.msg import Time
import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from agent_node.conversions.images import (
    compressed_size,
    compressed_to_rgb,
    image_to_rgb,
    msg_to_rgb,
    rgb_to_image,
)
from agent_node.world_model_node import WorldModelNodeConfig
from world_model.data.image_codec import ImageFormatError, encode_compressed


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, size=(24, 40, 3), dtype=np.uint8)


def test_rgb8_round_trip_keeps_pixels_stamp_and_frame(rgb):
    msg = rgb_to_image(rgb, stamp=Time(sec=12, nanosec=34), frame_id='camera_link')
    assert (msg.width, msg.height, msg.encoding, msg.step) == (40, 24, 'rgb8', 120)
    assert isinstance(msg.data, array.array) and len(msg.data) == rgb.size
    assert (msg.header.stamp.sec, msg.header.stamp.nanosec) == (12, 34)
    assert msg.header.frame_id == 'camera_link'
    out = image_to_rgb(msg)
    np.testing.assert_array_equal(out, rgb)
    out[0, 0] = 0  # a copy, not a view of the message buffer
    assert msg.data[0] == rgb[0, 0, 0]


def test_bgr8_with_padded_rows_is_converted_to_rgb(rgb):
    bgr = rgb[:, :, ::-1]
    padded = np.zeros((24, 40 * 3 + 8), dtype=np.uint8)
    padded[:, :120] = bgr.reshape(24, 120)
    msg = Image(width=40, height=24, encoding='bgr8', step=128)
    msg.data = array.array('B', padded.tobytes())
    np.testing.assert_array_equal(msg_to_rgb(msg), rgb)


def test_oversized_image_is_rejected_before_reading_its_data():
    msg = Image(width=5000, height=4000, encoding='rgb8', step=15000)  # no data at all
    with pytest.raises(ImageFormatError, match=r'image too large: 5000x4000 > 1000000'):
        image_to_rgb(msg, max_pixels=1000 * 1000)


def test_a_4k_frame_is_rejected_by_the_node_default():
    msg = Image(width=3840, height=2160, encoding='mono8', step=3840)  # header only
    with pytest.raises(ImageFormatError, match='image too large: 3840x2160'):
        image_to_rgb(msg, max_pixels=WorldModelNodeConfig().max_pixels)


def test_truncated_image_names_the_problem(rgb):
    msg = rgb_to_image(rgb)
    msg.data = msg.data[:100]
    with pytest.raises(ImageFormatError, match='too short'):
        image_to_rgb(msg)


def test_png_compressed_image_decodes_losslessly(rgb):
    msg = CompressedImage(format='png')
    msg.data = array.array('B', encode_compressed(rgb, 'png'))
    np.testing.assert_array_equal(compressed_to_rgb(msg), rgb)
    np.testing.assert_array_equal(msg_to_rgb(msg), rgb)


def test_compressed_size_is_read_from_png_and_jpeg_headers(rgb):
    png = encode_compressed(rgb, 'png')
    jpeg = encode_compressed(rgb, 'jpeg')
    assert compressed_size(png) == (40, 24)
    assert compressed_size(array.array('B', jpeg)) == (40, 24)
    progressive = cv2.imencode('.jpg', rgb, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1].tobytes()
    assert compressed_size(progressive) == (40, 24)
    assert compressed_size(b'not an image') is None


def test_oversized_compressed_image_is_rejected_from_its_header():
    big = np.zeros((300, 400, 3), dtype=np.uint8)
    for fmt in ('png', 'jpeg'):
        msg = CompressedImage(format=fmt)
        msg.data = array.array('B', encode_compressed(big, fmt))
        with pytest.raises(ImageFormatError, match=r'image too large: 400x300 > 10000'):
            compressed_to_rgb(msg, max_pixels=100 * 100)
        assert compressed_to_rgb(msg, max_pixels=400 * 300).shape == (300, 400, 3)


def test_corrupt_compressed_image_raises_image_format_error():
    msg = CompressedImage(format='jpeg')
    msg.data = array.array('B', b'\xff\xd8\xff\xe0garbage' * 10)
    with pytest.raises(ImageFormatError, match='could not be decoded'):
        compressed_to_rgb(msg)


def test_rgb_to_image_rejects_non_rgb_arrays():
    with pytest.raises(ImageFormatError, match=r'uint8 RGB array'):
        rgb_to_image(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ImageFormatError, match=r'\[4, 4\]'):
        rgb_to_image(np.zeros((4, 4), dtype=np.uint8))


def test_other_message_types_are_rejected():
    with pytest.raises(ImageFormatError, match='expected sensor_msgs/Image'):
        msg_to_rgb(Time())
