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
"""sensor_msgs/Image and CompressedImage <-> uint8 RGB numpy arrays, with a size guard.

Decoding itself lives in world_model.data.image_codec (shared with the bag reader); this module
adds what a node needs on a live topic: a pixel-count limit checked before any decoding work
(a misconfigured 4K camera, or a compressed 'bomb', must not stall the node), and the reverse
conversion for publishing.
"""

import array
import struct

import numpy as np
from sensor_msgs.msg import CompressedImage, Image

from world_model.data.image_codec import ImageFormatError, decode_compressed, to_rgb

# Full HD: above any camera this agent is meant for (the model sees 64x64 to 224x224 frames).
DEFAULT_MAX_PIXELS = 1920 * 1080  # so 4K (8.3 Mpx) is rejected


def check_size(width: int, height: int, max_pixels: int = DEFAULT_MAX_PIXELS):
    """ImageFormatError if width x height exceeds max_pixels."""
    if int(width) * int(height) > max_pixels:
        raise ImageFormatError(f'image too large: {width}x{height} > {max_pixels} pixels '
                               f'(max_pixels)')


def _jpeg_size(buf: bytes):
    """(width, height) from the first JPEG start-of-frame marker, or None."""
    pos = 2
    while pos + 9 <= len(buf):
        if buf[pos] != 0xFF:
            return None
        marker = buf[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        length = struct.unpack('>H', buf[pos + 2:pos + 4])[0]
        # SOF0-SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack('>HH', buf[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    return None


def compressed_size(data) -> tuple[int, int] | None:
    """(width, height) read from a PNG or JPEG header without decoding, or None if unknown."""
    head = bytes(data[:65536])  # bytes, array.array('B'), uint8 ndarray or list of ints
    if head[:8] == b'\x89PNG\r\n\x1a\n' and len(head) >= 24:
        width, height = struct.unpack('>II', head[16:24])
        return width, height
    if head[:2] == b'\xff\xd8':
        return _jpeg_size(head)
    return None


def image_to_rgb(msg: Image, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """A new uint8 RGB [H, W, 3] array from a sensor_msgs/Image; ImageFormatError if unusable."""
    check_size(msg.width, msg.height, max_pixels)
    return to_rgb(msg.data, msg.width, msg.height, msg.encoding, msg.step)


def compressed_to_rgb(msg: CompressedImage, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """uint8 RGB [H, W, 3] from a sensor_msgs/CompressedImage (PNG or JPEG)."""
    size = compressed_size(msg.data)
    if size is not None:
        check_size(*size, max_pixels)  # before decoding: the header is cheap, the pixels are not
    rgb = decode_compressed(msg.data)
    check_size(rgb.shape[1], rgb.shape[0], max_pixels)
    return rgb


def msg_to_rgb(msg, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Either image message type to uint8 RGB [H, W, 3]."""
    if isinstance(msg, CompressedImage):
        return compressed_to_rgb(msg, max_pixels)
    if isinstance(msg, Image):
        return image_to_rgb(msg, max_pixels)
    raise ImageFormatError(f'expected sensor_msgs/Image or CompressedImage, got '
                           f'{type(msg).__name__}')


def rgb_to_image(rgb: np.ndarray, stamp=None, frame_id: str = '') -> Image:
    """A sensor_msgs/Image (rgb8, tightly packed) from a uint8 RGB [H, W, 3] array."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageFormatError(f'expected a uint8 RGB array [H, W, 3], got {rgb.dtype} '
                               f'{list(rgb.shape)}')
    msg = Image()
    if stamp is not None:
        msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.height, msg.width = int(rgb.shape[0]), int(rgb.shape[1])
    msg.encoding = 'rgb8'
    msg.is_bigendian = 0
    msg.step = 3 * msg.width
    # array.array skips the per-element type check the generated setter does for bytes/lists.
    msg.data = array.array('B', np.ascontiguousarray(rgb).tobytes())
    return msg
