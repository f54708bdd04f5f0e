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
"""How sure a success rate is, and whether two runs of the same episodes differ.

At 50 episodes a success rate of 80% has a 95% interval of about 67-89%, so a change of a few
points between two runs says nothing by itself. Runs of one protocol and seed play the same
episodes (same starts and goals), so two settings (distractors, a reused map, INT8) are compared
episode by episode: only the episodes one run reached and the other did not carry information.
- success_interval: the Wilson score interval of one rate.
- compare: the paired difference, its seeded bootstrap interval over episodes, and the exact
  McNemar test (a two-sided binomial test on the discordant episodes).
"""

import dataclasses
import math
import statistics

import numpy as np

DRAWS = 10_000


def success_interval(successes: int, episodes: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (low, high) of successes in episodes; (nan, nan) for none."""
    if episodes <= 0:
        return math.nan, math.nan
    if not 0 <= successes <= episodes:
        raise ValueError(f'{successes} successes in {episodes} episodes')
    z = statistics.NormalDist().inv_cdf(0.5 + level / 2.0)
    p, n = successes / episodes, episodes
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends, no rounding
    return low, 1.0 if successes == episodes else min(1.0, centre + half)


@dataclasses.dataclass(frozen=True)
class PairedComparison:
    """Run b against run a on the same episodes (rates and differences as fractions)."""

    episodes: int
    both: int  # reached in both runs
    only_a: int
    only_b: int
    neither: int
    difference: float  # rate(b) - rate(a)
    low: float  # bootstrap interval of the difference
    high: float
    p_value: float  # exact McNemar, two-sided: chance of a split this uneven if equal

    def line(self, a: str = 'a', b: str = 'b') -> str:
        return (f'{b} - {a}: {100 * self.difference:+.0f} points (95% interval '
                f'{100 * self.low:+.0f} to {100 * self.high:+.0f}) over {self.episodes} episodes;'
                f' reached only by {a}: {self.only_a}, only by {b}: {self.only_b}; McNemar '
                f'p = {self.p_value:.2f}')


def compare(a, b, seed: int = 0, draws: int = DRAWS, level: float = 0.95) -> PairedComparison:
    """Paired comparison of two runs' outcomes (bool sequences, one entry per same episode)."""
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f'paired outcomes must be two equal, non-empty lists; got {a.shape} '
                         f'and {b.shape}')
    change = b.astype(np.int8) - a.astype(np.int8)
    pick = np.random.default_rng(seed).integers(0, a.size, size=(draws, a.size))
    tail = 50.0 * (1.0 - level)
    low, high = np.percentile(change[pick].mean(1), [tail, 100.0 - tail])
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(b & ~a))
    return PairedComparison(
        episodes=int(a.size), both=int(np.sum(a & b)), only_a=only_a, only_b=only_b,
        neither=int(np.sum(~a & ~b)), difference=float(change.mean()), low=float(low),
        high=float(high), p_value=mcnemar_exact(only_a, only_b))


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: the discordant episodes as fair coin flips."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)
