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
"""sensor_msgs/CameraInfo against the images actually received: report it, warn on a mismatch."""


class CameraInfoCheck:
    """The camera's declared resolution and frame, compared with each image's.

    A camera_info that disagrees with the images (another resolution, another frame) usually
    means a remap to the wrong camera or a driver reconfigured behind the node's back.
    """

    def __init__(self):
        self.width = self.height = None
        self.frame_id = ''
        self.warned = False

    def update(self, msg):
        self.width, self.height = int(msg.width), int(msg.height)
        self.frame_id = msg.header.frame_id

    def summary(self) -> str:
        if self.width is None:
            return 'none received'
        return f'{self.width}x{self.height} {self.frame_id or "(no frame_id)"}'

    def mismatch(self, width: int, height: int, frame_id: str) -> str | None:
        """Why an image of this size and frame disagrees with camera_info, the first time only;
        None when it agrees, when no camera_info came yet, or after the first warning."""
        if self.width is None or self.warned:
            return None
        problems = []
        if (int(width), int(height)) != (self.width, self.height):
            problems.append(f'images are {width}x{height}, camera_info says '
                            f'{self.width}x{self.height}')
        if frame_id and self.frame_id and frame_id != self.frame_id:
            problems.append(f'images are in frame {frame_id!r}, camera_info in '
                            f'{self.frame_id!r}')
        if not problems:
            return None
        self.warned = True
        return '; '.join(problems)
