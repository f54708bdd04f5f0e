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
"""Camera frames -> encoder input, exactly as the model metadata prescribes.

The encoder takes uint8 RGB [B, S, S, 3] and normalises inside its graph, so the only host-side
step is the resize: cv2.resize with INTER_AREA (area averaging, no aliasing when shrinking).
Training uses the same function, so the robot sees what the model was trained on.
"""

import cv2
import numpy as np


def check_images(images) -> np.ndarray:
    """images as uint8 [B, H, W, 3] (a single [H, W, 3] frame gets a batch axis)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f'images must be uint8 RGB [B, H, W, 3] or [H, W, 3], got '
                         f'{images.dtype} {images.shape}')
    if images.shape[0] == 0 or images.shape[1] == 0 or images.shape[2] == 0:
        raise ValueError(f'images must not be empty, got shape {images.shape}')
    return images


def resize_images(images, height: int, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 [B, h, w, 3] -> contiguous uint8 [B, height, width, 3]; no copy when already sized.

    out: optional preallocated [B, height, width, 3] uint8 buffer (used when resizing).
    """
    images = check_images(images)
    if images.shape[1] == height and images.shape[2] == width:
        return np.ascontiguousarray(images)
    if out is None or out.shape != (images.shape[0], height, width, 3):
        out = np.empty((images.shape[0], height, width, 3), dtype=np.uint8)
    for i, image in enumerate(images):
        # out[i] is contiguous with the exact shape and type, so cv2 writes into it in place
        cv2.resize(image, (width, height), dst=out[i], interpolation=cv2.INTER_AREA)
    return out
