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
"""`jepa-agent inspect BAG [BAG ...] [--json] [--config YAML]`: what bags hold, and what
training would do with them.

Per bag: topics, types and message counts; rate, stamp gaps and out-of-order stamps of the
camera, odometry and commands; image sizes and encodings; |v| and |omega| percentiles of the
odometry and of the commands, and the standstill fraction; odometry conventions (child frames,
twist frame, covariance); whether ground truth is present. Then the model settings training
would derive (or take from --config), the frames left after resampling onto the control period,
and the findings of the checks training runs before its first epoch. Exit status 1 when a check
is an error (training would refuse the bags).
"""

import json
import sys

from world_model.data.topic_arguments import add_topic_arguments, topics_from_args


def add_arguments(parser):
    parser.add_argument('bags', nargs='+', metavar='BAG', help='rosbag2 directories or files')
    parser.add_argument('--json', action='store_true', help='one JSON document instead of text')
    parser.add_argument('--config', metavar='YAML',
                        help='the training config: its model: values are used, not derived')
    add_topic_arguments(parser)


def _stream(name: str, s) -> str:
    return (f'  {name} {s.topic}: {s.rate_hz:.3g} Hz (median step {s.median_dt_s:.3g} s, '
            f'longest {s.max_gap_s:.3g} s, {s.gaps} gaps, {s.out_of_order} out of order)')


def _motion(speed, turn, standstill) -> str:
    def fmt(sp, unit):
        if sp is None:
            return 'n/a'
        return f'p50 {sp.p50:.3g} p90 {sp.p90:.3g} p99 {sp.p99:.3g} max {sp.max:.3g} {unit}'

    still = 'n/a' if standstill is None else f'{100 * standstill:.0f}%'
    return (f'    |v| {fmt(speed, "m/s")}; |omega| {fmt(turn, "rad/s")}; standstill {still}')


def format_bag(bag) -> list[str]:
    lines = [f'bag {bag.path} ({bag.duration_s:.1f} s, {bag.episodes} episodes)']
    width = max((len(t['name']) for t in bag.topics), default=0)
    types = max((len(t['type']) for t in bag.topics), default=0)
    lines += [f'    {t["name"]:<{width}}  {t["type"]:<{types}}  {t["count"]:>7} msgs'
              for t in bag.topics]
    if bag.camera:
        sizes = ', '.join(f'{k} ({v})' for k, v in bag.image_sizes.items())
        encodings = ', '.join(f'{k} ({v})' for k, v in bag.image_encodings.items())
        lines += [_stream('camera', bag.camera), f'    images {sizes}; encoding {encodings}']
    if bag.odometry:
        frames = ', '.join(bag.odom_child_frames) or '(none)'
        covariance = 'all zero' if bag.odom_covariance_zero else 'set'
        lines += [_stream('odometry', bag.odometry),
                  f'    child frames {frames}; twist frame {bag.odom_twist_frame} (detected); '
                  f'covariance {covariance}',
                  _motion(bag.odom_speed, bag.odom_turn, bag.standstill_fraction)]
    if bag.commands:
        lines += [_stream('commands', bag.commands),
                  _motion(bag.cmd_speed, bag.cmd_turn, bag.cmd_standstill_fraction)]
    if bag.missing:
        lines.append(f'  missing: {", ".join(bag.missing)}')
    if bag.ground_truth:  # only evaluate reads it; training labels come from odometry
        lines.append('  ground truth: present (simulator truth: evaluate scores rollouts with it; '
                     'training reads odometry only)')
    else:
        lines.append('  ground truth: absent (labels from odometry)')
    return lines


def inspect(paths, config=None, topics=None) -> dict:
    """Inspections, settings, expected frames and findings of the bags (what training does)."""
    from world_model.data.bag_inspection import inspect_bags
    from world_model.data.bag_reader import BagTopics
    from world_model.models import ModelConfig, build_model
    from world_model.training.data_checks import check_data, expected_frames
    from world_model.training.data_settings import derive_settings
    from world_model.training.train_cmd import explicit_model_keys, load_configs

    topics = topics or BagTopics()
    model_cfg, explicit = ModelConfig(), set()
    if config:
        model_cfg, explicit = load_configs(config)[0], explicit_model_keys(config)
    bags = inspect_bags(paths, topics)
    settings = derive_settings(bags, model_cfg, explicit)
    model_cfg = settings.apply(model_cfg)
    num_params = sum(p.numel() for p in build_model(model_cfg).parameters())
    period = settings.values['control_period']
    return {'bags': bags, 'settings': settings, 'num_params': num_params,
            'camera_frames': sum(b.camera.count for b in bags if b.camera),
            'expected_frames': sum(expected_frames(b, period) for b in bags),
            'findings': check_data(bags, settings, topics, num_params)}


def format_text(result: dict) -> str:
    lines = []
    for bag in result['bags']:
        lines += format_bag(bag)
    settings = result['settings']
    lines.append('training would use:')
    for key in ('v_max', 'omega_max', 'control_period'):
        lines.append(f'  {key} = {settings.values[key]:g} ({settings.sources[key]}: '
                     f'{settings.notes[key]})')
    lines.append(f'  {result["expected_frames"]} frames at the control period (of '
                 f'{result["camera_frames"]} camera frames), model of '
                 f'{result["num_params"] / 1e6:.2f}M parameters')
    findings = result['findings']
    lines.append('checks: ' + ('all passed' if not findings else f'{len(findings)} findings'))
    lines += [f'  {f.line()}' for f in findings]
    return '\n'.join(lines)


def to_json(result: dict) -> dict:
    return {'bags': [b.to_dict() for b in result['bags']],
            'settings': result['settings'].to_dict(), 'num_params': result['num_params'],
            'camera_frames': result['camera_frames'],
            'expected_frames': result['expected_frames'],
            'findings': [f.__dict__ for f in result['findings']]}


def run(args) -> int:
    from world_model.config import ConfigError

    try:
        result = inspect(args.bags, args.config, topics_from_args(args))
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        print(f'jepa-agent inspect: {exc}', file=sys.stderr)
        return 2
    print(json.dumps(to_json(result), indent=2) if args.json else format_text(result))
    return 1 if any(f.level == 'error' for f in result['findings']) else 0
