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
"""The world model node's parameters: the frame pipeline's, plus model, inputs and outputs.

WorldModelNodeConfig extends world_model.online.FramePipelineConfig, so the algorithm's
parameters are defined once, in the core, and keep their ROS names.
"""

import dataclasses

from agent_node.conversions.images import DEFAULT_MAX_PIXELS
from world_model.config import ConfigError, param
from world_model.online import FramePipelineConfig


@dataclasses.dataclass
class WorldModelNodeConfig(FramePipelineConfig):
    """The per-frame algorithm's parameters, plus model, input handling and outputs."""

    model_dir: str = param('', help="exported MODEL_DIR; '' = share/jepa_agent/models/default "
                                    '(applies at the next configure)')
    providers: list = param(['tensorrt', 'cuda', 'openvino', 'cpu'],
                            help='execution provider preference order (next configure)')
    threads: int = param(1, lo=1, hi=64,
                         help='onnxruntime intra-op threads (next configure); 1 leaves the other '
                              'cores to the camera driver and planner')
    int8: bool = param(False, help='run the INT8 encoder/predictor (next configure)')
    sync_tolerance_s: float = param(0.05, lo=0.0, hi=1.0,
                                    help='largest image/odometry stamp gap of a pair [s] '
                                         '(next activate)')
    max_pixels: int = param(DEFAULT_MAX_PIXELS, lo=1, hi=100_000_000,
                            help='images with more pixels are rejected (4K: 8.3 Mpx)')
    image_transport: str = param('raw', choices=('raw', 'compressed'),
                                 help="'raw': camera/image_raw (Image); 'compressed': "
                                      '<camera/image_raw as remapped>/compressed (next activate)')
    odom_timeout_s: float = param(0.5, lo=0.01, hi=60.0,
                                  help='odometry (or camera) older than this is stale [s, steady]')
    odom_frame: str = param('', help="frame of futures/path/goal poses; '' = the odometry "
                                     "messages' frame_id (or 'odom')")
    markers_period_s: float = param(0.2, lo=0.0, hi=60.0,
                                    help='least time between futures_markers (0: every frame)')
    diagnostics_period_s: float = param(1.0, lo=0.1, hi=60.0, help='/diagnostics period [s]')
    autostart: bool = param(True, help='configure and activate at start-up')

    def check(self):
        from world_model.runtime.providers import provider_name

        super().check()  # the frame pipeline's own rules (floor homing's camera)
        if not self.providers:
            raise ConfigError("parameter 'providers' is empty: allowed a list of "
                              'tensorrt, cuda, openvino, cpu')
        for name in self.providers:
            try:
                provider_name(name)
            except ValueError as exc:
                raise ConfigError(f"parameter 'providers': {exc}") from None


READ_ONLY = ('diagnostics_period_s', 'autostart')
CONFIGURE_TIME = ('model_dir', 'providers', 'threads', 'int8')
ACTIVATE_TIME = ('image_transport', 'sync_tolerance_s')
MEMORY_PREFIX = 'memory.'
MAP_PREFIX = 'map.'
