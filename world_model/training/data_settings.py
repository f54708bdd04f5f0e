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
"""The model settings that depend on the robot, derived from its bags unless configured.

- v_max / omega_max (the action and proprioception scales of the predictor, and of the
  pose-delta probe): the 99th percentile of |v| and |omega| over the commands and the odometry
  of every bag, times MARGIN, rounded up to two significant digits. A robust percentile, so a
  glitch in one message does not set the scale.
- control_period: the median command period (the rate the robot is driven at), never shorter
  than the camera period (a frame per step is needed); without commands DEFAULT_PERIOD s.
  Training resamples the frames onto it (world_model.data.resample).
A value set in the config file's model: section or by a flag is kept ('config'); the others
are 'derived' (or 'default' when the bags say nothing). Both go into the run directory and the
exported metadata, with a note saying where each number came from.
"""

import dataclasses
import math
import pathlib

from world_model.config import field_specs, validate

MARGIN = 1.1
DEFAULT_PERIOD = 0.1  # s, when no command topic gives the rate
KEYS = ('v_max', 'omega_max', 'control_period')
_FLOOR = {'v_max': 0.05, 'omega_max': 0.1}  # data that barely moves still gets a usable scale


@dataclasses.dataclass
class DataSettings:
    values: dict  # KEYS -> float
    sources: dict  # KEYS -> 'derived' | 'config' | 'default'
    notes: dict  # KEYS -> why this value

    def apply(self, model_cfg):
        """model_cfg with these values (validated against ModelConfig's ranges)."""
        return validate(dataclasses.replace(model_cfg, **self.values))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def round_up(value: float, digits: int = 2) -> float:
    """value rounded up to `digits` significant digits (1.65 -> 1.7, 0.0312 -> 0.032)."""
    if value <= 0:
        return 0.0
    scale = 10.0 ** (math.floor(math.log10(value)) - digits + 1)
    return round(math.ceil(round(value / scale, 6)) * scale, 12)


def _clamped(model_cfg, key: str, value: float) -> float:
    spec = next(s for s in field_specs(type(model_cfg)) if s.name == key)
    return min(max(value, spec.lo), spec.hi)


def _scale(inspections, key: str) -> tuple[float | None, str]:
    fields = ('cmd_speed', 'odom_speed') if key == 'v_max' else ('cmd_turn', 'odom_turn')
    best, where = None, ''
    for bag in inspections:
        for name in fields:
            spread = getattr(bag, name)
            if spread is not None and (best is None or spread.p99 > best):
                stream = bag.commands if name.startswith('cmd') else bag.odometry
                # the bag's name, not its path: the note goes into exported metadata
                best, where = spread.p99, f'{stream.topic} of bag {pathlib.Path(bag.path).name}'
    return best, where


def _period(inspections) -> tuple[float | None, float | None]:
    """(median command period, median camera period) over the bags, None where absent."""
    def median(values):
        values = sorted(v for v in values if v and v > 0)
        return values[len(values) // 2] if values else None

    return (median(b.commands.median_dt_s for b in inspections if b.commands),
            median(b.camera.median_dt_s for b in inspections if b.camera))


def derive_settings(inspections, model_cfg, explicit=()) -> DataSettings:
    """Settings for the bags' inspections (BagInspection); keys in `explicit` keep model_cfg's."""
    values, sources, notes = {}, {}, {}
    for key in ('v_max', 'omega_max'):
        unit = 'm/s' if key == 'v_max' else 'rad/s'
        what = '|v|' if key == 'v_max' else '|omega|'
        if key in explicit:
            values[key], sources[key] = float(getattr(model_cfg, key)), 'config'
            notes[key] = 'set in the config or on the command line'
            continue
        p99, where = _scale(inspections, key)
        if p99 is None:
            values[key], sources[key] = float(getattr(model_cfg, key)), 'default'
            notes[key] = 'no commands or odometry to derive it from'
            continue
        value = _clamped(model_cfg, key, max(_FLOOR[key], round_up(p99 * MARGIN)))
        values[key], sources[key] = value, 'derived'
        notes[key] = f'p99 {what} {p99:.3g} {unit} ({where}) x {MARGIN}'
    values['control_period'], sources['control_period'], notes['control_period'] = (
        _control_period(inspections, model_cfg, explicit))
    return DataSettings(values, sources, notes)


def _control_period(inspections, model_cfg, explicit) -> tuple[float, str, str]:
    if 'control_period' in explicit:
        return (float(model_cfg.control_period), 'config',
                'set in the config or on the command line')
    command, camera = _period(inspections)
    if command is None:
        value, source = DEFAULT_PERIOD, 'default'
        note = f'no command topic: the default {DEFAULT_PERIOD} s'
    else:
        value, source = command, 'derived'
        note = f'median command period {command:.4g} s ({1 / command:.3g} Hz)'
    if camera is not None and camera > value * 1.05:
        note += (f'; the camera ({1 / camera:.3g} Hz) is slower, so one step per camera frame '
                 f'({camera:.4g} s)')
        value = camera
        source = 'derived'
    value = round(value, 3) if value >= 0.01 else round(value, 4)
    return _clamped(model_cfg, 'control_period', value), source, note
