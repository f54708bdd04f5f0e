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
"""The world model node's goal requests: goal_image, world_model/remember, world_model/goal_name.

Each callback never raises: a request that cannot be served goes to report('bad_goal', message)
and the active goal is kept. goal_image has two subscriptions (transient local for latched
publishers such as sim_node, volatile for `ros2 topic pub`); a latched image arrives on both and
is taken once.
"""

from collections.abc import Callable
import zlib

from agent_node.conversions.images import msg_to_rgb
from agent_node.ros.callbacks import never_raises
from world_model.data.image_codec import ImageFormatError
from world_model.online import GoalError
from world_model.sync.stamp_sync import stamp_ns


class GoalRequests:
    """Serves goal messages on pipeline() (a FramePipeline, or None while unconfigured), under
    lock (shared with the frame worker)."""

    def __init__(self, logger, report: Callable[[str, str], None], pipeline: Callable,
                 lock, max_pixels: Callable[[], int]):
        self.logger, self._report, self.pipeline, self.lock = logger, report, pipeline, lock
        self.max_pixels = max_pixels
        self._last_image = None  # (stamp, CRC-32 of the data) of the last goal image taken

    def reset(self):
        """Take the next goal image whatever it is (new subscriptions replay the latched one)."""
        self._last_image = None

    def _bad(self, kind: str, message: str):  # never_raises reports through this too
        self._report(kind, message)

    @never_raises('bad_goal')
    def on_goal_image(self, msg):
        key = (stamp_ns(msg.header.stamp), zlib.crc32(msg.data))
        if key == self._last_image:
            return  # the same latched image, from the other subscription
        try:
            rgb = msg_to_rgb(msg, self.max_pixels())
        except ImageFormatError as exc:
            self._bad('bad_goal', f'goal image: {exc}')
            return
        with self.lock:
            pipeline = self.pipeline()
            if pipeline is None:
                return
            pipeline.set_goal_image(rgb)
            self._last_image = key
        self.logger.info(f'goal image {msg.width}x{msg.height} set as the goal')

    @never_raises('bad_goal')
    def on_remember(self, msg):
        """Store the newest frame as goal NAME (persistent)."""
        name = msg.data.strip()
        if not name:
            self._bad('bad_goal', 'world_model/remember needs a non-empty name')
            return
        with self.lock:
            pipeline = self.pipeline()
            try:
                if pipeline is None:
                    raise GoalError(f'cannot remember {name!r}: no frame processed yet')
                pose = pipeline.remember(name)
            except GoalError as exc:
                self._bad('bad_goal', str(exc))
                return
        self.logger.info(f'remembered goal {name!r} at odom pose '
                         f'({pose[0]:.2f}, {pose[1]:.2f}, {pose[2]:.2f})')

    @never_raises('bad_goal')
    def on_goal_name(self, msg):
        """Activate the stored goal NAME; '' clears the goal."""
        name = msg.data.strip()
        with self.lock:
            pipeline = self.pipeline()
            if pipeline is None:
                return
            if not name:
                pipeline.clear_goal()
                self._last_image = None
                self.logger.info('goal cleared')
                return
            try:
                pipeline.activate_goal(name)
            except GoalError as exc:
                self._bad('bad_goal', str(exc))
                return
        self.logger.info(f'goal {name!r} active')
