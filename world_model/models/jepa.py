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
"""JEPAWorldModel: the encoder, predictor and probes together, plus run-directory I/O.

Rollout convention (shared with export and the runtime): the proprioception fed at step 0 is the
measured odometry twist; at step k > 0 it is action k-1 (the command assumed to be tracked).
"""

import json
import pathlib

from safetensors.torch import load_file, save_file
import torch
from torch import nn

from world_model.config import from_dict, to_dict
from world_model.models.encoder import Encoder
from world_model.models.model_config import ModelConfig
from world_model.models.predictor import Predictor
from world_model.models.probes import CollisionProbe, PoseDeltaProbe, RelativePoseHead

MODEL_CONFIG_FILE = 'model_config.json'
CHECKPOINT_FILE = 'checkpoint.safetensors'


class JEPAWorldModel(nn.Module):
    """encoder, predictor, pose_delta_probe, relpose_head, collision_probe (architecture.md)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.predictor = Predictor(cfg)
        self.pose_delta_probe = PoseDeltaProbe(cfg)
        self.relpose_head = RelativePoseHead(cfg)
        self.collision_probe = CollisionProbe(cfg)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [B, S, S, 3] -> [B, D]; checks the shape here (the graph itself does not)."""
        size = self.config.image_size
        if images.dtype != torch.uint8 or tuple(images.shape[1:]) != (size, size, 3):
            raise ValueError(f'encoder expects uint8 [B, {size}, {size}, 3] RGB images, got '
                             f'{images.dtype} {tuple(images.shape)}')
        return self.encoder(images)

    def rollout(self, z_hist: torch.Tensor, proprio: torch.Tensor,
                actions: torch.Tensor) -> torch.Tensor:
        """z_hist [B, Hh, D], proprio [B, 2], actions [B, H, 2] -> latents [B, H, D].

        latents[:, k] is the prediction after applying actions[:, k].
        """
        hist, control, futures = z_hist, proprio, []
        for k in range(actions.shape[1]):
            z_next = self.predictor(hist, control, actions[:, k])
            futures.append(z_next)
            hist = torch.cat([hist[:, 1:], z_next[:, None]], dim=1)
            control = actions[:, k]
        return torch.stack(futures, dim=1)

    def rollout_poses(self, z_last: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        """Body-frame poses [B, H, 3] relative to now, by integrating pose_delta_probe steps."""
        prev = torch.cat([z_last[:, None], latents[:, :-1]], dim=1)
        deltas = self.pose_delta_probe(prev.flatten(0, 1), latents.flatten(0, 1))
        return integrate_body_deltas(deltas.view(*latents.shape[:2], 3))

    def num_parameters(self) -> dict:
        return {name: sum(p.numel() for p in module.parameters())
                for name, module in self.named_children()}


def build_model(cfg: ModelConfig | None = None) -> JEPAWorldModel:
    return JEPAWorldModel(cfg or ModelConfig())


def integrate_body_deltas(deltas: torch.Tensor) -> torch.Tensor:
    """Compose per-step body-frame motions [..., H, 3] into poses [..., H, 3] relative to now."""
    x = torch.zeros_like(deltas[..., 0, 0])
    y, yaw, poses = torch.zeros_like(x), torch.zeros_like(x), []
    for k in range(deltas.shape[-2]):
        dx, dy, dyaw = deltas[..., k, 0], deltas[..., k, 1], deltas[..., k, 2]
        cos, sin = torch.cos(yaw), torch.sin(yaw)
        x = x + cos * dx - sin * dy
        y = y + sin * dx + cos * dy
        yaw = torch.atan2(torch.sin(yaw + dyaw), torch.cos(yaw + dyaw))
        poses.append(torch.stack([x, y, yaw], dim=-1))
    return torch.stack(poses, dim=-2)


def save_model(model: JEPAWorldModel, run_dir) -> None:
    """Write model_config.json and checkpoint.safetensors (weights only) into run_dir."""
    run_dir = pathlib.Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / MODEL_CONFIG_FILE).write_text(json.dumps(to_dict(model.config), indent=2) + '\n')
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(run_dir / CHECKPOINT_FILE))


def load_model_config(run_dir) -> ModelConfig:
    path = pathlib.Path(run_dir) / MODEL_CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f'{path} not found: {run_dir} is not a training run directory')
    return from_dict(ModelConfig, json.loads(path.read_text()), where=f'{path}: ')


def load_model(run_dir, map_location: str = 'cpu') -> JEPAWorldModel:
    """Rebuild the model of a run directory from model_config.json + checkpoint.safetensors."""
    run_dir = pathlib.Path(run_dir)
    model = build_model(load_model_config(run_dir))
    path = run_dir / CHECKPOINT_FILE
    if not path.is_file():
        raise FileNotFoundError(f'{path} not found: the run has no checkpoint yet')
    model.load_state_dict(load_file(str(path), device=map_location))
    return model.eval()
