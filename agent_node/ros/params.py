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
"""Declare ROS parameters from the world_model config dataclasses, with descriptors and ranges.

The dataclass is the single definition; this module mirrors it as ROS parameters so that
`--ros-args -p name:=value`, `--params-file` YAML and `ros2 param describe` all show the same
names, ranges and descriptions. Out-of-range values fail at start-up with the range named.
"""

import array
import dataclasses

from rcl_interfaces.msg import (
    FloatingPointRange,
    IntegerRange,
    ParameterDescriptor,
    SetParametersResult,
)
from rclpy.exceptions import (
    InvalidParameterTypeException,
    InvalidParameterValueException,
    ParameterUninitializedException,
)
from rclpy.parameter import Parameter

from world_model.config import ConfigError, FieldSpec, field_specs, from_dict

_ARRAY_TYPES = {float: Parameter.Type.DOUBLE_ARRAY, int: Parameter.Type.INTEGER_ARRAY,
                str: Parameter.Type.STRING_ARRAY, bool: Parameter.Type.BOOL_ARRAY}


def descriptor_for(spec: FieldSpec, read_only: bool = False) -> ParameterDescriptor:
    desc = ParameterDescriptor(description=spec.help, read_only=read_only)
    if spec.choices:
        desc.additional_constraints = 'allowed: ' + spec.allowed()
    elif spec.type is float and (spec.lo is not None or spec.hi is not None):
        desc.floating_point_range = [FloatingPointRange(
            from_value=float(-1e300 if spec.lo is None else spec.lo),
            to_value=float(1e300 if spec.hi is None else spec.hi), step=0.0)]
    elif spec.type is int and (spec.lo is not None or spec.hi is not None):
        desc.integer_range = [IntegerRange(
            from_value=int(-(2**62) if spec.lo is None else spec.lo),
            to_value=int(2**62 if spec.hi is None else spec.hi), step=1)]
    elif spec.type in (list, tuple) and (spec.lo is not None or spec.hi is not None):
        desc.additional_constraints = 'each element in ' + spec.allowed()
    return desc


def _ros_default(spec: FieldSpec):
    if spec.type in (list, tuple):
        items = list(spec.default)
        elem = type(items[0]) if items else float
        return Parameter.Type(_ARRAY_TYPES[elem]), items
    return None, spec.default


def declare_config(node, cls, prefix: str = '', read_only: tuple = ()):
    """Declare every field of cls as `<prefix><field>` and return the validated config.

    Raises ConfigError (naming the parameter and the allowed range) on an invalid value.
    """
    values = {}
    for spec in field_specs(cls):
        name = prefix + spec.name
        desc = descriptor_for(spec, read_only=spec.name in read_only)
        ptype, default = _ros_default(spec)
        try:
            if ptype is not None and not default:
                node.declare_parameter(name, ptype, desc)
            else:
                node.declare_parameter(name, default, desc)
        except InvalidParameterValueException as exc:
            raise ConfigError(f'parameter {name!r} is out of range: allowed {spec.allowed()} '
                              f'({exc})') from None
        except InvalidParameterTypeException as exc:
            raise ConfigError(f'parameter {name!r} has the wrong type: expected '
                              f'{spec.type.__name__} in {spec.allowed()} ({exc})') from None
        try:
            value = node.get_parameter(name).value
        except ParameterUninitializedException:
            # An empty-list default is declared by type only; give it its empty value so that
            # later reads (ours, `ros2 param get`) see [] rather than an uninitialised parameter.
            node.set_parameters([Parameter(name, ptype, [])])
            value = []
        values[spec.name] = list(value) if spec.type in (list, tuple) else value
    return from_dict(cls, values, where=prefix)


def updated_config(config, params, prefix: str = ''):
    """Return (new_config, SetParametersResult) for a runtime parameter change on config."""
    names = {prefix + s.name: s.name for s in field_specs(type(config))}
    changes = {names[p.name]: p.value for p in params if p.name in names}
    if not changes:
        return config, SetParametersResult(successful=True)
    merged = dataclasses.asdict(config)
    # rclpy hands array parameters over as array.array; configs hold plain lists.
    merged.update({k: list(v) if isinstance(v, (list, tuple, array.array)) else v
                   for k, v in changes.items()})
    try:
        new = from_dict(type(config), merged, where=prefix)
    except ConfigError as exc:
        return config, SetParametersResult(successful=False, reason=str(exc))
    return new, SetParametersResult(successful=True)
