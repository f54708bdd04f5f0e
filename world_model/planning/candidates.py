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
"""Default candidate action sequences: what the world model rolls out before a plan exists."""

import numpy as np

CANDIDATE_NAMES = ('forward', 'arc_left', 'arc_right', 'turn_left', 'turn_right', 'stop')


def default_candidates(horizon: int, v: float = 0.3, omega: float = 1.0) -> np.ndarray:
    """Constant-action sequences [6, horizon, 2] (v, omega), one per name in CANDIDATE_NAMES.

    Forward, gentle arcs at half the turn rate, turns on the spot and stop: enough to tell the
    world model's futures apart before the planner's first proposal arrives.
    """
    if int(horizon) < 1:
        raise ValueError(f'horizon={horizon!r} must be >= 1')
    if not (np.isfinite(v) and np.isfinite(omega)) or v < 0 or omega < 0:
        raise ValueError(f'v={v!r} and omega={omega!r} must be finite and >= 0')
    per_step = np.array([
        (v, 0.0),
        (v, 0.5 * omega),
        (v, -0.5 * omega),
        (0.0, omega),
        (0.0, -omega),
        (0.0, 0.0),
    ], dtype=np.float32)
    return np.repeat(per_step[:, None, :], int(horizon), axis=1)


def fan_candidates(count: int, horizon: int, v: float, omega: float) -> np.ndarray:
    """[count, horizon, 2] constant actions: default_candidates, then a fan of arcs.

    The world model rolls these out until the planner's first proposal arrives; the fan sweeps
    omega over [-omega, omega] at full and half speed.
    """
    base = default_candidates(horizon, v=v, omega=omega)
    if count <= base.shape[0]:
        return np.ascontiguousarray(base[:count])
    extra = count - base.shape[0]
    omegas = np.linspace(-omega, omega, max(extra, 1), dtype=np.float32)
    speeds = np.where(np.arange(extra) % 2 == 0, v, 0.5 * v).astype(np.float32)
    fan = np.stack([speeds, omegas[:extra]], axis=-1)
    fan = np.repeat(fan[:, None, :], horizon, axis=1)
    return np.ascontiguousarray(np.concatenate([base, fan], axis=0), dtype=np.float32)
