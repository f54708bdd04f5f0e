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
"""The world model node's sensor inputs: camera, odometry, camera_info and planner proposals.

Each callback converts its message to numpy, validates it and never raises: bad input goes to
report(kind, message) (the node counts it, logs it once per burst and reports it on
/diagnostics), good frames go to the stamp synchroniser and ready() wakes the worker, which pops
the newest image/odometry pair.
"""

from collections.abc import Callable
import time
from typing import NamedTuple

import numpy as np

from agent_node.conversions.camera_info import CameraInfoCheck
from agent_node.conversions.futures import decode_proposal
from agent_node.conversions.images import msg_to_rgb
from agent_node.conversions.odometry import odom_sample
from agent_node.ros.callbacks import never_raises
from agent_node.ros.frame_stats import FrameStats
from world_model.data.image_codec import ImageFormatError
from world_model.online import Proposal
from world_model.online.pipeline_config import MAX_CANDIDATES, MAX_HORIZON
from world_model.sync.stamp_sync import StampSynchronizer, stamp_ns


class ImageSample(NamedTuple):
    stamp: object  # builtin_interfaces/Time of the camera
    rgb: np.ndarray  # uint8 RGB [H, W, 3]


class FrameInputs:
    """Converted, validated inputs; sync pairs images with odometry (None until start())."""

    def __init__(self, logger, report: Callable[[str, str], None], ready: Callable[[], None],
                 max_pixels: Callable[[], int]):
        self.logger, self._report, self.ready, self.max_pixels = logger, report, ready, max_pixels
        self.stats = FrameStats()
        self.camera_info = CameraInfoCheck()
        self.proposal: Proposal | None = None
        self.sync: StampSynchronizer | None = None

    def start(self, tolerance_s: float, on_time_reset: Callable[[str, int, int], None]):
        """A fresh synchroniser (at each activation)."""
        self.sync = StampSynchronizer(tolerance_s=tolerance_s, on_reset=on_time_reset)

    def _bad(self, kind: str, message: str):  # never_raises reports through this too
        self._report(kind, message)

    @never_raises('bad_image')
    def on_image(self, msg):
        """sensor_msgs/Image or CompressedImage."""
        self.stats.arrived('images')
        try:
            rgb = msg_to_rgb(msg, self.max_pixels())
        except ImageFormatError as exc:
            self._bad('bad_image', str(exc))
            return
        mismatch = self.camera_info.mismatch(rgb.shape[1], rgb.shape[0], msg.header.frame_id)
        if mismatch:
            self.logger.warning(f'camera_info disagrees with the images: {mismatch}')
        stamp = stamp_ns(msg.header.stamp)
        if not self.sync.add_image(stamp, ImageSample(msg.header.stamp, rgb)):
            self._bad('stamp_backwards', f'image stamp {stamp * 1e-9:.3f} s is earlier than the '
                                         f'previous image')
            return
        self.ready()

    @never_raises('bad_odom')
    def on_odom(self, msg):
        try:
            sample = odom_sample(msg)
        except ValueError as exc:
            self._bad('bad_odom', str(exc))
            return
        self.stats.arrived('odometry')
        stamp = stamp_ns(msg.header.stamp)
        if not self.sync.add_odom(stamp, sample):
            self._bad('stamp_backwards', f'odometry stamp {stamp * 1e-9:.3f} s is earlier than '
                                         f'the previous odometry')
            return
        self.ready()

    @never_raises('bad_camera_info')
    def on_camera_info(self, msg):
        self.camera_info.update(msg)

    @never_raises('bad_proposal')
    def on_proposal(self, msg):
        """planner/proposal: the candidates to roll out next."""
        try:
            actions = decode_proposal(msg)
            if actions.shape[0] > MAX_CANDIDATES or actions.shape[1] > MAX_HORIZON:
                raise ValueError(f'proposal of {actions.shape[0]} candidates x {actions.shape[1]}'
                                 f' steps exceeds {MAX_CANDIDATES} x {MAX_HORIZON}')
        except ValueError as exc:
            self._bad('bad_proposal', str(exc))
            return
        self.proposal = Proposal(np.ascontiguousarray(actions), time.monotonic())
