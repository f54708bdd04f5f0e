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
"""The JEPA training objective: latent prediction (teacher forcing + rollout), one anti-collapse
term, and probe losses on detached latents.

Anti-collapse options (TrainConfig.anti_collapse):
- 'sigreg': Sketched Isotropic Gaussian Regulariser (LeJEPA / LeWorldModel): random 1-D
  projections of the latents are pushed towards N(0, 1) with the Epps-Pulley statistic.
- 'vicreg_idm': VICReg variance + covariance terms plus an inverse-dynamics head that predicts
  the action from consecutive latents (PLDM / EB-JEPA; without it the latents collapse).
- 'ema': targets from an exponential-moving-average copy of the encoder, no gradient (V-JEPA).
"""

import copy
import math

import torch
from torch import nn
import torch.nn.functional as F

from world_model.models.jepa import JEPAWorldModel
from world_model.models.probes import probe_mlp
from world_model.training.train_config import TrainConfig


def sigreg(z: torch.Tensor, step: int, num_projections: int = 256,
           knots: int = 17, t_max: float = 5.0) -> torch.Tensor:
    """Epps-Pulley distance of random projections of z [N, D] from N(0, 1), mean over slices.

    The projections come from a generator seeded by the step, so every DDP process draws the
    same slices. The statistic is scaled by N as in LeJEPA (a test statistic, O(1) when
    Gaussian).
    """
    n, d = z.shape
    gen = torch.Generator(device='cpu').manual_seed(int(step))
    directions = torch.randn(d, num_projections, generator=gen).to(z.device, z.dtype)
    directions = directions / directions.norm(dim=0, keepdim=True)
    t = torch.linspace(0.0, t_max, knots, device=z.device, dtype=z.dtype)  # even in t
    x_t = (z @ directions).unsqueeze(-1) * t  # [N, M, T]
    gauss = torch.exp(-0.5 * t.square())
    err = (x_t.cos().mean(0) - gauss).square() + x_t.sin().mean(0).square()
    # integral over t in (-inf, inf) of |ecf - cf|^2 w(t): twice the integral over t >= 0
    stat = 2.0 * torch.trapezoid(err * gauss, t, dim=-1) * n
    return stat.mean()


def vicreg_terms(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(variance hinge: per-dim std up to 1, off-diagonal covariance) of z [N, D]."""
    n, d = z.shape
    centred = z - z.mean(dim=0)
    std = torch.sqrt(centred.square().mean(dim=0) * n / max(1, n - 1) + 1e-4)
    cov = centred.T @ centred / max(1, n - 1)
    off_diag = cov - torch.diag(torch.diagonal(cov))
    return F.relu(1.0 - std).mean(), off_diag.square().sum() / d


class InverseDynamicsHead(nn.Module):
    """(z_t, z_t+1) -> normalised action a_t; training only (vicreg_idm)."""

    def __init__(self, latent_dim: int, width: int):
        super().__init__()
        self.mlp = probe_mlp(2 * latent_dim, width, 2)

    def forward(self, z_prev: torch.Tensor, z_next: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([z_prev, z_next], dim=-1))


def _masked_mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    ok = torch.isfinite(target).all(dim=-1)
    if not bool(ok.any()):
        return pred.sum() * 0.0
    return (pred[ok] - target[ok]).square().mean()


def relpose_nll(pred: tuple[torch.Tensor, torch.Tensor], target: torch.Tensor) -> torch.Tensor:
    """Gaussian NLL of (pose [B, 3], log_std [B, 3]) against target [B, 3], yaw wrapped."""
    pose, log_std = pred
    residual = pose - target
    residual = torch.cat([residual[:, :2], torch.atan2(torch.sin(residual[:, 2:]),
                                                       torch.cos(residual[:, 2:]))], dim=1)
    return (0.5 * (residual * torch.exp(-log_std)).square() + log_std).mean()


def torch_relative(origin: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """geometry.relative for tensors [..., 3]."""
    dx, dy = target[..., 0] - origin[..., 0], target[..., 1] - origin[..., 1]
    cos, sin = torch.cos(origin[..., 2]), torch.sin(origin[..., 2])
    dyaw = target[..., 2] - origin[..., 2]
    return torch.stack([cos * dx + sin * dy, -sin * dx + cos * dy,
                        torch.atan2(torch.sin(dyaw), torch.cos(dyaw))], dim=-1)


class JEPAObjective(nn.Module):
    """Wraps the model (and training-only parts) so DDP sees one module computing the loss."""

    def __init__(self, model: JEPAWorldModel, cfg: TrainConfig):
        super().__init__()
        self.model, self.cfg = model, cfg
        mc = model.config
        self.idm = (InverseDynamicsHead(mc.latent_dim, mc.probe_width)
                    if cfg.anti_collapse == 'vicreg_idm' else None)
        self.target_encoder = None
        if cfg.anti_collapse == 'ema':
            self.target_encoder = copy.deepcopy(model.encoder).requires_grad_(False)
        self.register_buffer('action_scale', torch.tensor([1.0 / mc.v_max, 1.0 / mc.omega_max]))

    def extra_state(self) -> dict:
        """Training-only weights that a resume needs (not part of the exported model)."""
        return {name: m.state_dict() for name, m in
                (('idm', self.idm), ('target_encoder', self.target_encoder)) if m is not None}

    def load_extra_state(self, state: dict):
        for name in ('idm', 'target_encoder'):
            if getattr(self, name) is not None and name in state:
                getattr(self, name).load_state_dict(state[name])

    @torch.no_grad()
    def update_target(self):
        if self.target_encoder is None:
            return
        m = self.cfg.ema_momentum
        for p_t, p in zip(self.target_encoder.parameters(), self.model.encoder.parameters()):
            p_t.mul_(m).add_(p.detach(), alpha=1.0 - m)

    def forward(self, batch: dict, step: int) -> tuple[torch.Tensor, dict]:
        cfg, model = self.cfg, self.model
        hist_len = model.config.history_length
        images = batch['images']
        b, length = images.shape[:2]
        steps = length - hist_len
        z = model.encoder(images.flatten(0, 1)).view(b, length, -1)
        if self.target_encoder is not None:
            with torch.no_grad():
                targets = self.target_encoder(images.flatten(0, 1)).view(b, length, -1)
        else:
            targets = z  # end-to-end, as in LeWorldModel / PLDM; the regulariser stops collapse
        proprio, actions = batch['proprio'], batch['actions']
        controls = proprio[:, hist_len - 1:length - 1], actions[:, hist_len - 1:length - 1]

        # teacher forcing: every transition of the window from encoded history
        hist = z.unfold(1, hist_len, 1)[:, :steps].permute(0, 1, 3, 2)  # [B, steps, Hh, D]
        one_step = model.predictor(hist.flatten(0, 1), controls[0].flatten(0, 1),
                                   controls[1].flatten(0, 1)).view(b, steps, -1)
        tf_loss = (one_step - targets[:, hist_len:]).square().mean()
        # autoregressive rollout with the deployment convention (proprio, then previous action)
        rolled = model.rollout(z[:, :hist_len], proprio[:, hist_len - 1], controls[1])
        rollout_loss = (rolled - targets[:, hist_len:]).square().mean()

        flat = z.flatten(0, 1)
        reg = torch.zeros((), device=z.device)
        stats = {}
        if cfg.anti_collapse == 'sigreg':
            reg = cfg.sigreg_weight * sigreg(flat, step, cfg.sigreg_projections,
                                             cfg.sigreg_knots)
        elif cfg.anti_collapse == 'vicreg_idm':
            std_loss, cov_loss = vicreg_terms(flat)
            idm_pred = self.idm(z[:, :-1].flatten(0, 1), z[:, 1:].flatten(0, 1))
            idm_loss = F.mse_loss(idm_pred, (actions[:, :-1] * self.action_scale).flatten(0, 1))
            reg = (cfg.vicreg_std_weight * std_loss + cfg.vicreg_cov_weight * cov_loss
                   + cfg.idm_weight * idm_loss)
            stats['idm_loss'] = idm_loss.detach()

        probe = self._probe_losses(z.detach(), rolled.detach(), batch, stats)
        loss = (cfg.teacher_forcing_weight * tf_loss + cfg.rollout_weight * rollout_loss + reg
                + cfg.probe_weight * probe)
        if 'pair_images' in batch:  # the encoder learns where a view is seen from, too
            pair = self._pair_relpose_loss(batch['pair_images'], batch['pair_poses'])
            loss = loss + cfg.encoder_relpose_weight * pair
            stats['pair_relpose_loss'] = pair.detach()
        # the one-step error against copying the last latent: < 1 once the predictor learns,
        # whatever the scale of the latents (the raw terms are not comparable)
        with torch.no_grad():
            copy = (targets[:, hist_len - 1:-1] - targets[:, hist_len:]).square().mean()
            stats['tf_vs_copy'] = tf_loss.detach() / copy.clamp_min(1e-12)
        stats.update(loss=loss.detach(), tf_loss=tf_loss.detach(),
                     rollout_loss=rollout_loss.detach(), reg_loss=reg.detach())
        return loss, stats

    def _probe_losses(self, z: torch.Tensor, rolled: torch.Tensor, batch: dict,
                      stats: dict) -> torch.Tensor:
        model = self.model
        hist_len = model.config.history_length
        flat = z.flatten(0, 1)
        relpose = self._relpose_loss(z, batch['odom_pose'])
        collision = F.binary_cross_entropy_with_logits(
            model.collision_probe(flat).squeeze(-1), batch['collision'].flatten(0, 1))
        scale = model.pose_delta_probe.out_scale
        deltas = batch['step_delta']
        encoded = _masked_mse(model.pose_delta_probe(z[:, :-1].flatten(0, 1),
                                                     z[:, 1:].flatten(0, 1)) / scale,
                              deltas[:, :-1].flatten(0, 1) / scale)
        # also on predicted transitions: that is what the planner integrates
        prev = torch.cat([z[:, hist_len - 1:hist_len], rolled[:, :-1]], dim=1)
        predicted = _masked_mse(model.pose_delta_probe(prev.flatten(0, 1),
                                                       rolled.flatten(0, 1)) / scale,
                                deltas[:, hist_len - 1:-1].flatten(0, 1) / scale)
        stats.update(relpose_loss=relpose.detach(), collision_loss=collision.detach(),
                     delta_loss=(0.5 * (encoded + predicted)).detach())
        return relpose + collision + 0.5 * (encoded + predicted)

    def _pair_relpose_loss(self, images: torch.Tensor, poses: torch.Tensor) -> torch.Tensor:
        """The head on frame pairs [M, 2, ...] of one episode each, both ways, with the
        gradient reaching the encoder."""
        z = self.model.encoder(images.flatten(0, 1)).view(images.shape[0], 2, -1)
        z_a, z_b = torch.cat([z[:, 0], z[:, 1]]), torch.cat([z[:, 1], z[:, 0]])
        p_a = torch.cat([poses[:, 0], poses[:, 1]]).double()
        p_b = torch.cat([poses[:, 1], poses[:, 0]]).double()
        return relpose_nll(self.model.relpose_head(z_a, z_b), torch_relative(p_a, p_b).float())

    def _relpose_loss(self, z: torch.Tensor, poses: torch.Tensor) -> torch.Tensor:
        """The head on pairs inside each window: its first frame with every other, both ways
        (near pairs of one episode; probe_refit later fits it on near and far pairs of whole
        episodes). No random draw: a resumed run repeats an uninterrupted one exactly."""
        length = z.shape[1]
        if length < 2:
            return z.sum() * 0.0
        first, rest = z[:, :1].expand(-1, length - 1, -1), z[:, 1:]
        p_first, p_rest = poses[:, :1].expand(-1, length - 1, -1), poses[:, 1:]
        z_a = torch.cat([first, rest]).flatten(0, 1)
        z_b = torch.cat([rest, first]).flatten(0, 1)
        target = torch_relative(torch.cat([p_first, p_rest]).flatten(0, 1).double(),
                                torch.cat([p_rest, p_first]).flatten(0, 1).double()).float()
        ok = torch.isfinite(target).all(dim=-1)
        if not bool(ok.any()):
            return z.sum() * 0.0
        return relpose_nll(self.model.relpose_head(z_a[ok], z_b[ok]), target[ok])


def cosine_lr(step: int, total: int, warmup: int, min_ratio: float) -> float:
    """Learning-rate multiplier: linear warm-up, then cosine decay to min_ratio."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
