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
"""Action-conditioned latent predictor: (z history, proprioception, action) -> next latent.

A residual MLP on the global latent: z_next = z_last + delta. Its last layer starts at zero, so an
untrained predictor is exactly the copy-last baseline and training only has to learn the change.
"""

import torch
from torch import nn

from world_model.models.model_config import ModelConfig


class ResidualMLPBlock(nn.Module):
    """Pre-LayerNorm MLP block, conditioned on the control embedding by addition."""

    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.act = nn.GELU()

    def forward(self, h: torch.Tensor, control: torch.Tensor) -> torch.Tensor:
        return h + self.fc2(self.act(self.fc1(self.norm(h) + control)))


class Predictor(nn.Module):
    """z_hist [B, Hh, D], proprio [B, 2] (v, omega), action [B, 2] (v, omega) -> z_next [B, D]."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        width, dim = cfg.predictor_width, cfg.latent_dim
        scale = torch.tensor([1.0 / cfg.v_max, 1.0 / cfg.omega_max], dtype=torch.float32)
        # proprio and action scaled by the speed limits so both sit in about [-1, 1]
        self.register_buffer('control_scale', scale.repeat(2))
        self.latent_in = nn.Linear(cfg.history_length * dim, width)
        self.control_in = nn.Sequential(
            nn.Linear(cfg.proprio_dim + cfg.action_dim, width), nn.GELU(),
            nn.Linear(width, width))
        self.blocks = nn.ModuleList(ResidualMLPBlock(width) for _ in range(cfg.predictor_blocks))
        self.out_norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, z_hist: torch.Tensor, proprio: torch.Tensor,
                action: torch.Tensor) -> torch.Tensor:
        control = self.control_in(torch.cat([proprio, action], dim=-1) * self.control_scale)
        h = self.latent_in(z_hist.flatten(1)) + control
        for block in self.blocks:
            h = block(h, control)
        return z_hist[:, -1] + self.out(self.out_norm(h))
