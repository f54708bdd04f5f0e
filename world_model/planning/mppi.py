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
"""MPPI update: the new nominal is the softmax(-cost / lambda)-weighted mean of the samples."""

import numpy as np


def mppi_weights(costs: np.ndarray, temperature: float) -> np.ndarray:
    """Normalised weights [K]; NaN / inf costs get weight 0 (all-bad: uniform).

    Costs are measured in units of their spread (std over the finite candidates), so the
    temperature means the same for metres of pose error and for latent distances.
    """
    costs = np.asarray(costs, dtype=np.float64)
    finite = np.isfinite(costs)
    if not finite.any():
        return np.full(costs.shape, 1.0 / costs.size)
    # Subtracting the best cost keeps exp() in range for any cost scale.
    spread = max(float(costs[finite].std()), 1e-9)
    shifted = np.where(finite, costs - costs[finite].min(), np.inf) / spread
    weights = np.exp(-shifted / temperature)
    return weights / weights.sum()


def mppi_update(samples: np.ndarray, costs: np.ndarray,
                temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """(new mean [H, 2], weights [K]) from samples [K, H, 2] and their costs [K]."""
    weights = mppi_weights(costs, temperature)
    mean = np.tensordot(weights, np.asarray(samples, dtype=np.float64), axes=1)
    return mean, weights
