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
"""Held-out metrics of a world model: rollout quality vs copy-last, collapse, probes, geometry.

- latent_error_ratio_at_k: mean_t ||rollout_k(z_t) - z_t+k|| / mean_t ||z_t - z_t+k|| (L2 norms;
  < 1 beats copying the last latent), rollouts with the deployment convention;
- embedding_std / effective_rank: spread and RankMe rank of the held-out latents;
- relpose_position_error_median [m] / relpose_heading_error_median_deg: the relative-pose
  head on near pairs of one episode (data.relpose_pairs NEAR_DISTANCE / NEAR_YAW, labels from
  odometry), the pairs it meets at run time;
- pose_delta_r2: R2 of the one-step body-frame motion read from encoded frame pairs;
- rollout_position_error_at_k: error [m] of the position integrated from predicted latents;
- collision_auc: ROC AUC of the collision probe (NaN without contacts);
- latent_pose_spearman: rank correlation, over frame pairs of the same episode, between latent
  distance and odometry position distance (does the latent distance shrink towards a goal?).
"""

import numpy as np
import torch

from world_model import geometry
from world_model.data.relpose_pairs import sample_pairs
from world_model.models.jepa import JEPAWorldModel, integrate_body_deltas
from world_model.training.collapse import effective_rank, embedding_std
from world_model.training.dataset import FrameArrays


@torch.no_grad()
def encode_frames(model: JEPAWorldModel, images: np.ndarray, batch: int = 256,
                  device: str = 'cpu') -> torch.Tensor:
    out = [model.encoder(torch.from_numpy(images[i:i + batch]).to(device)).float().cpu()
           for i in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.zeros(0, model.config.latent_dim)


def r2_score(pred: np.ndarray, true: np.ndarray) -> float:
    """1 - SSE / SST over all columns jointly (rows with non-finite targets skipped)."""
    ok = np.all(np.isfinite(true), axis=1)
    pred, true = pred[ok], true[ok]
    if len(true) < 2:
        return float('nan')
    sst = np.square(true - true.mean(axis=0)).sum()
    return float(1.0 - np.square(pred - true).sum() / max(sst, 1e-12))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    labels = labels.astype(bool)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return float('nan')
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores, kind='mergesort')] = np.arange(1, len(scores) + 1)
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3:
        return float('nan')
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _rollout_windows(frames: FrameArrays, hist_len: int, horizon: int, limit: int):
    starts = frames.window_starts(hist_len + horizon, 1)
    if len(starts) > limit:
        starts = starts[np.linspace(0, len(starts) - 1, limit).astype(int)]
    return starts


@torch.no_grad()
def validate(model: JEPAWorldModel, frames: FrameArrays, horizon: int = 8,
             max_windows: int = 2000, max_frames: int = 20000, seed: int = 0,
             device: str = 'cpu') -> dict:
    """All metrics above on `frames`; returns a flat dict of floats."""
    model.eval()
    if len(frames) > max_frames:  # keep whole episodes
        keep = int(np.searchsorted(frames.ends, max_frames, side='right'))
        frames = _first_episodes(frames, max(1, keep))
    z = encode_frames(model, frames.images, device=device)
    metrics = {'embedding_std': embedding_std(z), 'effective_rank': effective_rank(z)}
    hist_len = model.config.history_length
    starts = _rollout_windows(frames, hist_len, horizon, max_windows)
    if len(starts):
        idx = starts[:, None] + np.arange(hist_len + horizon)[None, :]
        zw = z[idx].to(device)  # [W, L, D]
        proprio = torch.from_numpy(frames.proprio[idx]).to(device)
        actions = torch.from_numpy(frames.actions[idx]).to(device)
        rolled = model.rollout(zw[:, :hist_len], proprio[:, hist_len - 1],
                               actions[:, hist_len - 1:-1])
        truth = zw[:, hist_len:]
        err = (rolled - truth).norm(dim=-1).mean(0)
        copy = (zw[:, hist_len - 1:hist_len] - truth).norm(dim=-1).mean(0)
        ratio = (err / copy.clamp_min(1e-12)).cpu().numpy()
        metrics['latent_error_ratio_at_1'] = float(ratio[0])
        metrics[f'latent_error_ratio_at_{horizon}'] = float(ratio[-1])
        metrics['rollout_mse'] = float((rolled - truth).square().mean())
        poses = model.rollout_poses(zw[:, hist_len - 1], rolled)[:, -1, :2].cpu().numpy()
        true_rel = _relative_position(frames.step_delta[idx[:, hist_len - 1:-1]])
        metrics[f'rollout_position_error_at_{horizon}'] = float(
            np.nanmean(np.linalg.norm(poses - true_rel, axis=-1)))
    zd = z.to(device)
    metrics.update(_relpose_errors(model, zd, frames, seed))
    pairs = np.concatenate([np.arange(s, e - 1) for s, e in zip(frames.starts, frames.ends)])
    delta = model.pose_delta_probe(zd[pairs], zd[pairs + 1]).cpu().numpy()
    metrics['pose_delta_r2'] = r2_score(delta, frames.step_delta[pairs])
    logits = model.collision_probe(zd).squeeze(-1).cpu().numpy()
    metrics['collision_auc'] = roc_auc(logits, frames.collision > 0.5)
    metrics['latent_pose_spearman'] = _latent_pose_spearman(z.numpy(), frames, seed)
    return metrics


def _relative_position(step_deltas: np.ndarray) -> np.ndarray:
    """Position after composing body-frame step motions [W, H, 3], relative to the start."""
    poses = integrate_body_deltas(torch.from_numpy(np.nan_to_num(step_deltas)).double())
    return poses[:, -1, :2].numpy()


def _relpose_errors(model: JEPAWorldModel, z: torch.Tensor, frames: FrameArrays, seed: int,
                    count: int = 4000) -> dict:
    rng = np.random.default_rng([seed, 17])
    a, b, labels = sample_pairs(frames.odom_pose.astype(np.float64), frames.starts, frames.ends,
                                count, rng, near_fraction=1.0)
    if len(a) == 0:
        return {'relpose_position_error_median': float('nan'),
                'relpose_heading_error_median_deg': float('nan')}
    ia, ib = torch.from_numpy(a).to(z.device), torch.from_numpy(b).to(z.device)
    pose = model.relpose_head(z[ia], z[ib])[0].double().cpu().numpy()
    position = np.linalg.norm(pose[:, :2] - labels[:, :2], axis=1)
    heading = np.abs(geometry.wrap_angle(pose[:, 2] - labels[:, 2]))
    return {'relpose_position_error_median': float(np.median(position)),
            'relpose_heading_error_median_deg': float(np.degrees(np.median(heading)))}


def _latent_pose_spearman(z: np.ndarray, frames: FrameArrays, seed: int,
                          pairs_per_episode: int = 400) -> float:
    rng = np.random.default_rng(seed)
    lat, pos = [], []
    for s, e in zip(frames.starts, frames.ends):
        if e - s < 2:
            continue
        i = rng.integers(s, e, pairs_per_episode)
        j = rng.integers(s, e, pairs_per_episode)
        lat.append(np.linalg.norm(z[i] - z[j], axis=1))
        pos.append(np.linalg.norm(frames.odom_pose[i, :2] - frames.odom_pose[j, :2], axis=1))
    if not lat:
        return float('nan')
    return spearman(np.concatenate(lat), np.concatenate(pos))


def _first_episodes(frames: FrameArrays, n: int) -> FrameArrays:
    end = int(frames.ends[n - 1])
    return FrameArrays(frames.images[:end], frames.proprio[:end], frames.actions[:end],
                       frames.odom_pose[:end], frames.step_delta[:end], frames.collision[:end],
                       frames.starts[:n], frames.ends[:n])


@torch.no_grad()
def episode_errors(model: JEPAWorldModel, frames: FrameArrays, horizon: int = 8,
                   max_frames: int = 20000, device: str = 'cpu') -> tuple[np.ndarray, np.ndarray]:
    """Per-episode sums of the horizon-step rollout error and of the copy-last error [E]."""
    model.eval()
    if len(frames) > max_frames:
        keep = int(np.searchsorted(frames.ends, max_frames, side='right'))
        frames = _first_episodes(frames, max(1, keep))
    z = encode_frames(model, frames.images, device=device)
    hist_len = model.config.history_length
    model_err, copy_err = [], []
    for start, end in zip(frames.starts, frames.ends):
        starts = np.arange(start, end - hist_len - horizon + 1)
        if len(starts) == 0:
            continue
        idx = starts[:, None] + np.arange(hist_len + horizon)[None, :]
        zw = z[idx].to(device)
        rolled = model.rollout(zw[:, :hist_len],
                               torch.from_numpy(frames.proprio[idx[:, hist_len - 1]]).to(device),
                               torch.from_numpy(frames.actions[idx[:, hist_len - 1:-1]])
                               .to(device))
        truth = zw[:, -1]
        model_err.append(float((rolled[:, -1] - truth).norm(dim=-1).sum()))
        copy_err.append(float((zw[:, hist_len - 1] - truth).norm(dim=-1).sum()))
    return np.asarray(model_err), np.asarray(copy_err)
