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
"""Decode sensor_msgs Image / CompressedImage payloads into uint8 RGB [H, W, 3] arrays.

Used by the bag reader and by the world-model node on every frame, so it is vectorised
(np.frombuffer + reshape + cv2.cvtColor) and validates every message field before use:
a malformed message raises ImageFormatError with the precise reason, never a crash deeper down.
"""

import cv2
import numpy as np

# encoding -> (channels, cv2 conversion to RGB or None when the bytes are already RGB)
_ENCODINGS = {
    'rgb8': (3, None),
    'bgr8': (3, cv2.COLOR_BGR2RGB),
    'mono8': (1, cv2.COLOR_GRAY2RGB),
    'rgba8': (4, cv2.COLOR_RGBA2RGB),
    'bgra8': (4, cv2.COLOR_BGRA2RGB),
}
SUPPORTED_ENCODINGS = tuple(_ENCODINGS)


class ImageFormatError(ValueError):
    """An image message that cannot be decoded; the message says which field is wrong."""


def _as_bytes(data) -> np.ndarray:
    """Flat uint8 view of any buffer (bytes, array.array, memoryview, ndarray), no copy."""
    if data is None:
        raise ImageFormatError('image data is empty (None)')
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            data = np.ascontiguousarray(data).view(np.uint8)
        return data.reshape(-1)
    try:
        return np.frombuffer(data, dtype=np.uint8)
    except TypeError:
        # a plain list of ints (some bindings); slow path, still validated
        return np.asarray(data, dtype=np.uint8).reshape(-1)


def channels_of(encoding: str) -> int:
    """Bytes per pixel of a supported encoding; ImageFormatError for any other encoding."""
    entry = _ENCODINGS.get(str(encoding).lower())
    if entry is None:
        raise ImageFormatError(f'unsupported image encoding {encoding!r}: supported encodings '
                               f'are {", ".join(SUPPORTED_ENCODINGS)}')
    return entry[0]


def to_rgb(data, width: int, height: int, encoding: str, step: int | None = None) -> np.ndarray:
    """Decode a raw sensor_msgs/Image payload to a new uint8 RGB array [height, width, 3].

    step is the row length in bytes; None means tightly packed. Rows may be padded
    (step > width * channels); the padding is dropped. Extra bytes after the last row are ignored.
    """
    channels = channels_of(encoding)
    conversion = _ENCODINGS[str(encoding).lower()][1]
    width, height = int(width), int(height)
    if width <= 0 or height <= 0:
        raise ImageFormatError(f'image has zero or negative size: width={width}, '
                               f'height={height}')
    row = width * channels
    step = row if step is None else int(step)
    if step < row:
        raise ImageFormatError(f'image step {step} is smaller than width * channels = {width} * '
                               f'{channels} = {row} for encoding {encoding!r}')
    buf = _as_bytes(data)
    if buf.size == 0:
        raise ImageFormatError(f'image data is empty, expected {step * height} bytes '
                               f'(step {step} * height {height})')
    needed = step * height
    if buf.size < needed:
        raise ImageFormatError(f'image data too short: {buf.size} bytes, expected step {step} * '
                               f'height {height} = {needed} bytes ({width}x{height} {encoding})')
    rows = buf[:needed].reshape(height, step)
    if step != row:
        rows = rows[:, :row]
    pixels = rows.reshape(height, width, channels) if channels > 1 else rows
    if conversion is None:
        return np.array(pixels, dtype=np.uint8, copy=True, order='C')
    return cv2.cvtColor(np.ascontiguousarray(pixels), conversion)


def decode_compressed(data) -> np.ndarray:
    """Decode a sensor_msgs/CompressedImage payload (JPEG, PNG, ...) to uint8 RGB [H, W, 3]."""
    buf = _as_bytes(data)
    if buf.size == 0:
        raise ImageFormatError('compressed image data is empty')
    bgr = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if bgr is None:
        head = bytes(buf[:8]).hex()
        raise ImageFormatError(f'compressed image could not be decoded ({buf.size} bytes, first '
                               f'bytes {head}): expected a JPEG or PNG stream')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def encode_compressed(image_rgb: np.ndarray, fmt: str = 'png') -> bytes:
    """Encode uint8 RGB [H, W, 3] as a CompressedImage payload ('png' is lossless, or 'jpeg')."""
    ext = {'png': '.png', 'jpeg': '.jpg', 'jpg': '.jpg'}.get(fmt.lower())
    if ext is None:
        raise ImageFormatError(f'unsupported compressed format {fmt!r}: use png or jpeg')
    ok, out = cv2.imencode(ext, cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ImageFormatError(f'cv2 could not encode a {image_rgb.shape} image as {fmt}')
    return out.tobytes()
