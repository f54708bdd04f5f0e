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
"""Closed-loop image-goal benchmark: agent vs random in each layout, with and without distractors.

Runs `jepa-agent closed-loop` once per (layout, distractors) setting, each writing its JSON
report under --out-dir, and prints one markdown table (success rate, final distance, steps to
success, collisions, plan rate, latency medians / percentiles) for BENCHMARKS.md. Long: with
50 episodes per setting expect tens of minutes on a 2-core machine.

    .venv/bin/python scripts/bench_closed_loop.py [--episodes 50] [--model-dir models/default]
"""

import argparse
import json
import pathlib
import platform
import shlex
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from bench_common import machine  # noqa: E402  (scripts/ is on sys.path)

from agent_node.cli import main as cli_main  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402


def _cell(value, fmt):
    return '-' if value is None else fmt.format(value)


def table(reports) -> list[str]:
    lines = ['| layout | distractors | policy | success | final dist. mean [m] | '
             'steps to success (median) | collision steps / ep. | plan Hz (median) | '
             'latency p50 / p99 [ms] | goal est. error median / p90 [m] | wall [s] |',
             '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
    for (layout, distractors), report in reports:
        for policy, r in report['results'].items():
            latency = '-' if r['latency_ms_p50'] is None else \
                f'{r["latency_ms_p50"]:.1f} / {r["latency_ms_p99"]:.1f}'
            error = r.get('goal_localisation_error_m') or {}
            goal = '-' if error.get('median') is None else \
                f'{error["median"]:.2f} / {error["p90"]:.2f}'
            lines.append(
                f'| {layout} | {"yes" if distractors else "no"} | {policy} | '
                f'{r["successes"]}/{r["episodes"]} ({r["success_rate"]:.0%}) | '
                f'{_cell(r["final_distance_mean"], "{:.2f}")} | '
                f'{_cell(r["steps_to_success_median"], "{:.0f}")} | '
                f'{_cell(r["collisions_per_episode"], "{:.1f}")} | '
                f'{_cell(r["plan_hz_median"], "{:.1f}")} | {latency} | {goal} | '
                f'{_cell(r["wall_s"], "{:.0f}")} |')
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--episodes', type=int, default=50)
    parser.add_argument('--seed', type=int, default=0)
    # the protocol's defaults: jepa-agent closed-loop samples the episodes (plan_episodes)
    parser.add_argument('--budget', type=int, default=HarnessConfig.budget)
    parser.add_argument('--threshold', type=float, default=HarnessConfig.success_threshold)
    parser.add_argument('--goal-distance', type=float, nargs=2, metavar=('MIN', 'MAX'),
                        default=(HarnessConfig.goal_min_distance,
                                 HarnessConfig.goal_max_distance))
    parser.add_argument('--layouts', nargs='+', default=['open', 'two_rooms'])
    parser.add_argument('--distractors', choices=('both', 'no', 'yes'), default='both')
    parser.add_argument('--model-dir', default=None)
    parser.add_argument('--method', default='mppi')
    parser.add_argument('--policies', default='agent,random')
    parser.add_argument('--mapping-steps', type=int, default=HarnessConfig.mapping_steps,
                        help="the agent's mapping tour before each setting's episodes")
    parser.add_argument('--param', action='append', default=[], metavar='NODE:NAME=VALUE',
                        help='node parameter for every run (see jepa-agent closed-loop --help)')
    parser.add_argument('--out-dir', default='out/bench_closed_loop')
    args = parser.parse_args(argv)
    out_dir = pathlib.Path(args.out_dir)
    settings = [(layout, d) for layout in args.layouts for d in
                {'both': (False, True), 'no': (False,), 'yes': (True,)}[args.distractors]]
    began = time.monotonic()
    reports = []
    for layout, distractors in settings:
        report = out_dir / f'{layout}{"_distractors" if distractors else ""}.json'
        command = ['closed-loop', '--episodes', str(args.episodes), '--seed', str(args.seed),
                   '--layout', layout, '--budget', str(args.budget), '--threshold',
                   str(args.threshold), '--goal-distance', *map(str, args.goal_distance),
                   '--method', args.method, '--policies', args.policies, '--mapping-steps',
                   str(args.mapping_steps), '--report', str(report)]
        for rule in args.param:
            command += ['--param', rule]
        if distractors:
            command.append('--distractors')
        if args.model_dir:
            command += ['--model-dir', args.model_dir]
        print(f'jepa-agent {shlex.join(command)}', file=sys.stderr, flush=True)
        if cli_main(command) != 0:
            print(f'stopped: the episodes that finished are in {report}', file=sys.stderr)
            return 1
        reports.append(((layout, distractors), json.loads(report.read_text())))
    first = reports[0][1]
    print(f'Machine: {machine()}; Python {platform.python_version()}')
    print(f'Command: `{shlex.join([pathlib.Path(sys.executable).name, *sys.argv])}`')
    protocol = first['protocol']
    print(f'Model: {first["model"]["dir"]} (manifest sha256 '
          f'{first["model"].get("manifest_sha256", "?")[:12]}). {args.episodes} seeded '
          f'image-goal episodes per setting (seed {args.seed}), budget '
          f'{protocol["budget_steps"]} steps of {protocol["control_period_s"]} s, success = '
          f'ground truth within {protocol["success_threshold_m"]} m of the goal, goals '
          f'{protocol["goal_distance_m"][0]}-{protocol["goal_distance_m"][1]} m from the start; '
          f'agent and random run the same episodes. Node parameters: '
          f'{first.get("node_overrides") or "shipped defaults"}. Reports: {out_dir}/*.json')
    print()
    print('\n'.join(table(reports)))
    retried = [(f'{layout}{" + distractors" if distractors else ""} {policy}',
                r['episodes_retried']) for (layout, distractors), report in reports
               for policy, r in report['results'].items() if r.get('episodes_retried')]
    if retried:
        print('\nRerun after an infrastructure failure (see infrastructure_errors in the '
              'reports): ' + ', '.join(f'{name}: {n} episode(s)' for name, n in retried))
    print(f'\nTotal wall time {time.monotonic() - began:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
