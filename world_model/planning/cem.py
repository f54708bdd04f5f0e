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
"""CEM update: refit the sampling Gaussian to the lowest-cost (elite) candidates."""

import numpy as np


def elite_indices(costs: np.ndarray, elite_fraction: float) -> np.ndarray:
    """Indices of the max(1, round(fraction * K)) lowest costs (NaN: worst), best first."""
    costs = np.nan_to_num(np.asarray(costs, dtype=np.float64), nan=np.inf)
    count = int(min(costs.size, max(1, round(elite_fraction * costs.size))))
    elites = np.argpartition(costs, count - 1)[:count]
    return elites[np.argsort(costs[elites], kind='stable')]


def cem_update(samples: np.ndarray, costs: np.ndarray, elite_fraction: float,
               min_std=0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(new mean [H, 2], new std [H, 2], weights [K]) from samples [K, H, 2] and costs [K].

    min_std (scalar or broadcastable to [H, 2]) keeps the std from collapsing, so the next
    cycle still explores.
    """
    samples = np.asarray(samples, dtype=np.float64)
    elites = elite_indices(costs, elite_fraction)
    elite_samples = samples[elites]
    mean = elite_samples.mean(axis=0)
    std = np.maximum(elite_samples.std(axis=0), min_std)
    weights = np.zeros(samples.shape[0])
    weights[elites] = 1.0 / elites.size
    return mean, std, weights
