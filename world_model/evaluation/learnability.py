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
"""Did the model learn anything? The held-out ratio against copy-last, with its uncertainty.

ratio@k = sum of the k-step rollout errors / sum of the copy-last errors (the metric of
validation and evaluate), over held-out episodes. Its 95% interval is a seeded bootstrap over
whole episodes (frames of one episode are not independent). A model counts as learnt when the
upper end is below LEARNT_BELOW; otherwise one line says so and names the likeliest causes,
from the facts the caller has (settings, data statistics, latent rank, data size).
Numpy only: it runs in training and in evaluate alike.
"""

import dataclasses

import numpy as np

LEARNT_BELOW = 0.95
DRAWS = 2000
MIN_RANK = 4.0  # effective rank below this: the latents collapsed
FRAMES_PER_MILLION_PARAMS = 4000
SCALE_FAR, SCALE_UNUSED, PERIOD_SLACK = 1.5, 0.2, 0.2
MAX_TURN_PER_STEP = 0.25  # rad: the default robot turns at most 0.15 rad per step
MIN_STEPS = 500  # optimiser steps; 6 epochs of the default robot's data (300 steps) reach 0.68


@dataclasses.dataclass
class Verdict:
    horizon: int
    ratio: float
    low: float
    high: float
    episodes: int
    learnt: bool
    causes: list
    line: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def ratio_interval(model_err, copy_err, seed: int = 0, draws: int = DRAWS,
                   level: float = 0.95) -> tuple[float, float, float]:
    """(ratio, low, high) from per-episode error sums [E]; NaN bounds below 2 episodes."""
    m, c = np.asarray(model_err, np.float64), np.asarray(copy_err, np.float64)
    if m.size == 0 or c.sum() <= 0:
        return float('nan'), float('nan'), float('nan')
    ratio = float(m.sum() / c.sum())
    if m.size < 2:
        return ratio, float('nan'), float('nan')
    pick = np.random.default_rng(seed).integers(0, m.size, size=(draws, m.size))
    boot = m[pick].sum(1) / np.maximum(c[pick].sum(1), 1e-12)
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(boot, [tail, 100.0 - tail])
    return ratio, float(low), float(high)


def likely_causes(settings: dict | None = None, data_p99: dict | None = None,
                  data_period: float | None = None, frames: int | None = None,
                  num_params: int | None = None, effective_rank: float | None = None,
                  standstill: float | None = None, epochs: int | None = None,
                  steps: int | None = None) -> list[str]:
    """Causes for a model that did not learn, likeliest first, from whatever is known.

    settings: {'values': {v_max, omega_max, control_period}, 'sources': {...}};
    data_p99: {'v_max': p99 |v|, 'omega_max': p99 |omega|} of the data.
    """
    causes = []
    if effective_rank is not None and effective_rank < MIN_RANK:
        causes.append(f'latent collapse (effective rank {effective_rank:.2g})')
    values = (settings or {}).get('values', {})
    sources = (settings or {}).get('sources', {})
    for key, unit in (('v_max', 'm/s'), ('omega_max', 'rad/s')):
        scale, p99 = values.get(key), (data_p99 or {}).get(key)
        if scale and p99 and (p99 > SCALE_FAR * scale or p99 < SCALE_UNUSED * scale):
            causes.append(f'action scale {key}={scale:.3g} {unit} ({sources.get(key, "?")}) vs '
                          f'data p99 {p99:.3g} {unit}')
    period = values.get('control_period')
    if period and data_period and abs(data_period - period) > PERIOD_SLACK * period:
        causes.append(f'control period {period:.3g} s ({sources.get("control_period", "?")}) '
                      f'vs the data step {data_period:.3g} s')
    if frames is not None and num_params:
        needed = FRAMES_PER_MILLION_PARAMS * num_params / 1e6
        if frames < needed:
            causes.append(f'too little data ({frames} frames for {num_params / 1e6:.2f}M '
                          f'parameters)')
    turn, step_period = (data_p99 or {}).get('omega_max'), period or data_period
    if turn and step_period and turn * step_period > MAX_TURN_PER_STEP:
        causes.append(f'large motion per step (p99 turn {turn * step_period:.2g} rad per '
                      f'{step_period:.3g} s step): a shorter control period, i.e. more frequent '
                      f'commands, gives steps that are easier to predict')
    if steps is not None and steps < MIN_STEPS:
        causes.append(f'few optimiser steps ({steps}): more epochs or more data')
    if standstill is not None and standstill > 0.5:
        causes.append(f'mostly standstill data ({100 * standstill:.0f}%)')
    if epochs is not None and epochs < 4:
        causes.append(f'short training ({epochs} epochs)')
    if not causes:
        causes.append('training too short, or motion the camera barely shows (try more '
                      'epochs; look at the frames)')
    return causes


def verdict(model_err, copy_err, horizon: int, causes=(), seed: int = 0) -> Verdict:
    """The verdict on per-episode k-step error sums of the model and of copy-last."""
    ratio, low, high = ratio_interval(model_err, copy_err, seed)
    episodes = int(np.asarray(model_err).size)
    ci = (f'95% CI {low:.2f}-{high:.2f}' if np.isfinite(high)
          else 'no interval from one episode')
    bound = high if np.isfinite(high) else ratio
    learnt = bool(np.isfinite(bound) and bound < LEARNT_BELOW)
    head = f'learnability: ratio@{horizon} {ratio:.2f} vs copy-last ({ci}, {episodes} episodes)'
    if learnt:
        return Verdict(horizon, ratio, low, high, episodes, True, [],
                       f'{head}: the model beats copying the last latent')
    causes = list(causes)
    return Verdict(horizon, ratio, low, high, episodes, False, causes,
                   f'{head}: NOT better than copying the last latent; likeliest causes: '
                   f'{"; ".join(causes) or "unknown"}')
