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
"""ModelConfig: the architecture of the JEPA world model (shared by training, export, runtime)."""

import dataclasses

from world_model.config import ConfigError, param


@dataclasses.dataclass
class ModelConfig:
    """Sizes of the encoder / predictor / probes and the action scaling of the predictor.

    The latent is one global vector per frame (not patch tokens) so that a planner can roll out
    hundreds of candidates for 10-20 steps at >= 20 Hz on a small CPU.
    """

    image_size: int = param(64, lo=32, hi=256,
                            help='square input side [px]; the encoder expects [B,S,S,3] uint8')
    latent_dim: int = param(128, lo=16, hi=1024, help='size D of the global latent z')
    history_length: int = param(1, lo=1, hi=3,
                                help='frames of latent history Hh fed to the predictor')
    action_dim: int = param(2, lo=2, hi=2, help='action (v, omega) size')
    proprio_dim: int = param(2, lo=2, hi=2, help='proprioception (measured v, omega) size')
    v_max: float = param(0.5, lo=0.01, hi=100.0,
                         help='forward speed that maps to 1.0 at the predictor input [m/s]')
    omega_max: float = param(1.5, lo=0.01, hi=50.0,
                             help='turn rate that maps to 1.0 at the predictor input [rad/s]')
    control_period: float = param(0.1, lo=0.005, hi=1.0,
                                  help='seconds per predictor step; training resamples the '
                                       'camera frames onto it [s]')
    encoder_channels: list = param([32, 64, 96, 128], lo=4, hi=1024,
                                   help='channels of the strided conv stages (each halves H, W)')
    encoder_blocks: int = param(1, lo=0, hi=4,
                                help='residual 3x3 blocks after each strided stage')
    predictor_width: int = param(256, lo=32, hi=4096, help='hidden width of the predictor MLP')
    predictor_blocks: int = param(2, lo=1, hi=8, help='residual blocks in the predictor MLP')
    probe_width: int = param(128, lo=16, hi=4096, help='hidden width of the probe MLPs')
    pixel_mean: list = param([0.5, 0.5, 0.5], lo=0.0, hi=1.0,
                             help='per-channel RGB mean after /255 (normalisation in the graph)')
    pixel_std: list = param([0.25, 0.25, 0.25], lo=0.001, hi=1.0,
                            help='per-channel RGB std after /255')

    def check(self):
        stages = len(self.encoder_channels)
        if stages < 1 or self.image_size % (2 ** stages):
            raise ConfigError(f'parameter encoder_channels has {stages} stages: image_size='
                              f'{self.image_size} must be divisible by 2**stages')
        if self.image_size // (2 ** stages) < 2:
            raise ConfigError(f'parameter encoder_channels has {stages} stages: too many for '
                              f'image_size={self.image_size} (feature map below 2x2)')
        if len(self.pixel_mean) != 3 or len(self.pixel_std) != 3:
            raise ConfigError('parameters pixel_mean and pixel_std must have 3 elements (RGB)')
