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
"""Representation-collapse monitoring: embedding spread and effective rank of latents.

A JEPA can minimise its prediction loss by mapping every image to the same point (or to a
low-dimensional subspace); these statistics catch that on held-out frames.
"""

import torch


class CollapseError(RuntimeError):
    """The latents lost their spread or rank: training produced a useless representation."""


def embedding_std(z: torch.Tensor) -> float:
    """Mean over dimensions of the per-dimension standard deviation of z [N, D]."""
    z = z.detach().float()
    if z.shape[0] < 2:
        return 0.0
    return float(z.std(dim=0).mean())


def effective_rank(z: torch.Tensor, eps: float = 1e-12) -> float:
    """exp(entropy of the normalised singular values) of centred z [N, D] (RankMe), in [1, D].

    About D for isotropic latents, about 1 for latents on a line, 0 for a constant.
    """
    z = z.detach().double()
    if z.shape[0] < 2:
        return 0.0
    s = torch.linalg.svdvals(z - z.mean(dim=0))
    total = s.sum()
    if total <= eps * max(1.0, float(z.abs().max())):
        return 0.0  # constant latents: no direction carries any variance
    p = s / total
    return float(torch.exp(-(p * torch.log(p + eps)).sum()))


def check_collapse(z: torch.Tensor, min_std: float, min_rank: float, where: str = '') -> dict:
    """Return {'embedding_std', 'effective_rank'} of z [N, D]; raise CollapseError if below."""
    stats = {'embedding_std': embedding_std(z), 'effective_rank': effective_rank(z)}
    raise_if_collapsed(stats, min_std, min_rank, where)
    return stats


def raise_if_collapsed(stats: dict, min_std: float, min_rank: float, where: str = ''):
    """CollapseError when stats['embedding_std'] / stats['effective_rank'] are below limits."""
    problems = []
    if stats['embedding_std'] < min_std:
        problems.append(f'embedding std {stats["embedding_std"]:.3g} < min_embedding_std '
                        f'{min_std:g}')
    if stats['effective_rank'] < min_rank:
        problems.append(f'effective rank {stats["effective_rank"]:.3g} < min_effective_rank '
                        f'{min_rank:g}')
    if problems:
        place = f' {where}' if where else ''
        raise CollapseError(
            f'representation collapse{place}: {"; ".join(problems)}. The encoder maps '
            f'different images to nearly the same latent; use or strengthen the anti-collapse '
            f'term (anti_collapse, sigreg_weight / vicreg_std_weight), lower lr, or set '
            f'collapse_check: false to keep going anyway.')
