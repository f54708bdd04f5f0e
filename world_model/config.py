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
"""Typed, validated configuration dataclasses: the single definition that YAML and ROS mirror.

Every config in jepa_agent is a dataclass whose fields are declared with `param()`, which records
the allowed range (or choices) and a one-line description. The same metadata drives
`validate()` (YAML / CLI), and `agent_node.ros.params` (ROS parameter descriptors with ranges).
"""

import dataclasses
import math
import typing

import yaml


class ConfigError(ValueError):
    """An invalid configuration value; the message names the parameter and the allowed range."""


def param(default, *, lo=None, hi=None, choices=None, help=''):
    """A config field with its allowed range [lo, hi] or its allowed choices, and a description."""
    meta = {'lo': lo, 'hi': hi, 'choices': tuple(choices) if choices else None, 'help': help}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    name: str
    type: type
    default: typing.Any
    lo: typing.Any
    hi: typing.Any
    choices: tuple | None
    help: str

    def allowed(self) -> str:
        """Human-readable allowed range, used in every error message."""
        if self.choices:
            return 'one of ' + ', '.join(repr(c) for c in self.choices)
        if self.lo is not None or self.hi is not None:
            lo = '-inf' if self.lo is None else self.lo
            hi = 'inf' if self.hi is None else self.hi
            return f'[{lo}, {hi}]'
        return f'any {self.type.__name__}'


def field_specs(cls) -> list[FieldSpec]:
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        ftype = typing.get_origin(hints[f.name]) or hints[f.name]
        specs.append(FieldSpec(f.name, ftype, default, f.metadata.get('lo'), f.metadata.get('hi'),
                               f.metadata.get('choices'), f.metadata.get('help', '')))
    return specs


def _coerce(spec: FieldSpec, value, where: str):
    name = f'{where}{spec.name}'
    if spec.type is bool:
        if not isinstance(value, bool):
            raise ConfigError(f'parameter {name!r}={value!r} must be a bool (true/false)')
        return value
    if spec.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f'parameter {name!r}={value!r} must be an integer in '
                              f'{spec.allowed()}')
        return value
    if spec.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f'parameter {name!r}={value!r} must be a number in {spec.allowed()}')
        return float(value)
    if spec.type is str:
        if not isinstance(value, str):
            raise ConfigError(f'parameter {name!r}={value!r} must be a string')
        return value
    if spec.type in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f'parameter {name!r}={value!r} must be a list')
        return spec.type(value)
    return value


def _check_range(spec: FieldSpec, value, where: str):
    name = f'{where}{spec.name}'
    if spec.choices and value not in spec.choices:
        raise ConfigError(f'parameter {name!r}={value!r} is invalid: allowed {spec.allowed()}')
    if spec.type in (int, float):
        bad = isinstance(value, float) and not math.isfinite(value)
        bad = bad or (spec.lo is not None and value < spec.lo)
        bad = bad or (spec.hi is not None and value > spec.hi)
        if bad:
            raise ConfigError(f'parameter {name!r}={value!r} is out of range: allowed '
                              f'{spec.allowed()}')
    if spec.type in (list, tuple) and (spec.lo is not None or spec.hi is not None):
        for item in value:
            low = spec.lo is not None and item < spec.lo
            if low or (spec.hi is not None and item > spec.hi):
                raise ConfigError(f'parameter {name!r} has element {item!r} out of range: allowed '
                                  f'{spec.allowed()}')


def validate(config, where: str = ''):
    """Raise ConfigError naming the first field that is outside its declared range."""
    for spec in field_specs(type(config)):
        value = _coerce(spec, getattr(config, spec.name), where)
        _check_range(spec, value, where)
    check = getattr(config, 'check', None)
    if check is not None:
        check()  # cross-field rules, defined by the config class itself
    return config


def from_dict(cls, data: dict | None, where: str = ''):
    """Build and validate cls from a mapping; unknown keys are an error (typos must not pass)."""
    data = dict(data or {})
    specs = {s.name: s for s in field_specs(cls)}
    unknown = sorted(set(data) - set(specs))
    if unknown:
        place = f' in {where}' if where else ''
        raise ConfigError(f'unknown parameter(s) {unknown} for {cls.__name__}{place}; '
                          f'allowed: {sorted(specs)}')
    values = {k: _coerce(specs[k], v, where) for k, v in data.items()}
    return validate(cls(**values), where)


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def load_yaml(cls, path, section: str | None = None):
    """Load cls from a YAML file, optionally from one top-level section of it."""
    with open(path, encoding='utf-8') as f:
        data = yaml.safe_load(f) or {}
    if section is not None:
        data = data.get(section, {})
    return from_dict(cls, data, where=f'{path}: ')
