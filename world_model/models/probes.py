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
"""Readout heads trained on DETACHED latents: they never shape the representation.

pose_delta_probe turns a predicted latent transition into body-frame motion (so a planner can
integrate poses and check constraints); relpose_head reads where one view was taken relative to
another (with an uncertainty, large when the views do not overlap); collision_probe the contact
probability.
"""

import torch
from torch import nn

from world_model.models.model_config import ModelConfig


def probe_mlp(d_in: int, width: int, d_out: int) -> nn.Sequential:
    # LayerNorm first: probes see latents of whatever scale the objective produced
    return nn.Sequential(nn.LayerNorm(d_in), nn.Linear(d_in, width), nn.GELU(),
                         nn.Linear(width, width), nn.GELU(), nn.Linear(width, d_out))


class PoseDeltaProbe(nn.Module):
    """(z_prev [B, D], z_next [B, D]) -> body-frame motion over one step (dx, dy, dyaw) [B, 3]."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.mlp = probe_mlp(3 * cfg.latent_dim, cfg.probe_width, 3)
        step = cfg.control_period
        # the network outputs motion in units of the largest one-step motion
        self.register_buffer('out_scale', torch.tensor(
            [cfg.v_max * step, cfg.v_max * step, cfg.omega_max * step], dtype=torch.float32))

    def forward(self, z_prev: torch.Tensor, z_next: torch.Tensor) -> torch.Tensor:
        x = torch.cat([z_prev, z_next, z_next - z_prev], dim=-1)
        return self.mlp(x) * self.out_scale


class RelativePoseHead(nn.Module):
    """(z_a [B, D], z_b [B, D]) -> (view b's pose in view a's frame (dx, dy, dyaw) [B, 3],
    log std of each component [B, 3]).

    The yaw is read from a (sin, cos) pair so that it never wraps inside the network.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        # outputs: dx, dy, sin dyaw, cos dyaw, log std (dx, dy, dyaw)
        self.mlp = probe_mlp(3 * cfg.latent_dim, cfg.probe_width, 7)

    def forward(self, z_a: torch.Tensor, z_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.mlp(torch.cat([z_a, z_b, z_b - z_a], dim=-1))
        yaw = torch.atan2(out[:, 2], out[:, 3])
        pose = torch.stack([out[:, 0], out[:, 1], yaw], dim=-1)
        # bounded so that exp() stays finite in float32 and the NLL cannot run away
        log_std = out[:, 4:7].clamp(-7.0, 3.0)
        return pose, log_std


class CollisionProbe(nn.Module):
    """z [B, D] -> logit [B, 1] that the robot is in contact with an obstacle."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.mlp = probe_mlp(cfg.latent_dim, cfg.probe_width, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.mlp(z)
