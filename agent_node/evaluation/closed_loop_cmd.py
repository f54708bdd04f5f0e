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
"""`jepa-agent closed-loop`: seeded image-goal episodes through the real nodes, agent vs random.

    jepa-agent closed-loop --episodes 50 --seed 0 --layout two_rooms --budget 200 \\
        --report out/closed_loop_two_rooms.json

Runs the same episodes (world_model.evaluation.episodes.plan_episodes) twice: with sim_node +
world_model_node + planner_node (the agent) and with sim_node driven by smooth random commands
(the baseline). The JSON report holds the exact protocol, the command, per-policy figures
(success rate, final distance, steps to success, plan rate, latency p50/p99, collisions) and
every episode with its ground-truth trajectory. Before its episodes the agent drives a mapping
tour (--mapping-steps) into its memory file; --memory reuses the map of an earlier run instead.
The report is rewritten (atomically) after every episode, so a run that stops early keeps the
episodes that finished ('complete': false, 'error'); an episode that failed for an
infrastructure reason is rerun once, and says so ('retries', 'infrastructure_errors').
"""

import datetime
import math
import pathlib
import platform
import shlex
import sys

from agent_node.evaluation.harness import run_policy
from agent_node.evaluation.node_params import node_parameters, sim_config_of
from agent_node.evaluation.node_set import AGENT_NODES
from world_model.config import ConfigError, field_specs, from_dict, to_dict
from world_model.envs.sim_config import LAYOUT_NAMES
from world_model.evaluation.episodes import plan_episodes
from world_model.evaluation.protocol import POLICIES, HarnessConfig, protocol_report
from world_model.evaluation.report_file import IncrementalReport
from world_model.evaluation.retry import InfrastructureError
from world_model.planning.planner_config import PLANNER_METHODS

DEFAULTS = {spec.name: spec.default for spec in field_specs(HarnessConfig)}


def add_arguments(parser):
    parser.add_argument('--episodes', type=int, default=50, help='episodes per policy')
    parser.add_argument('--seed', type=int, default=0, help='seed of the episode set')
    parser.add_argument('--layout', default='open', choices=LAYOUT_NAMES)
    parser.add_argument('--budget', type=int, default=DEFAULTS['budget'], metavar='STEPS',
                        help='control steps per episode (default %(default)s, as PLDM / '
                             'EB-JEPA)')
    parser.add_argument('--distractors', action='store_true',
                        help='moving distractor objects in the camera images')
    parser.add_argument('--model-dir', default=None,
                        help='exported model directory (default: models/default)')
    parser.add_argument('--method', default='mppi', choices=PLANNER_METHODS)
    parser.add_argument('--threshold', type=float, default=DEFAULTS['success_threshold'],
                        metavar='M', help='success distance to the goal [m] (default '
                                          '%(default)s)')
    parser.add_argument('--goal-distance', type=float, nargs=2,
                        default=(DEFAULTS['goal_min_distance'], DEFAULTS['goal_max_distance']),
                        metavar=('MIN', 'MAX'),
                        help='start-goal straight-line distance range [m] (default '
                             f'{DEFAULTS["goal_min_distance"]} {DEFAULTS["goal_max_distance"]})')
    parser.add_argument('--policies', default=','.join(POLICIES),
                        help='comma-separated subset of agent,random (default both)')
    parser.add_argument('--report', default='out/closed_loop.json', metavar='REPORT.json',
                        help='JSON report to write (node logs go next to it)')
    parser.add_argument('--domain-id', type=int, default=None,
                        help='ROS domain of the run (default: a private one from the pid)')
    parser.add_argument('--lockstep-timeout', type=float, default=DEFAULTS['lockstep_timeout'],
                        help='wall seconds the simulator waits for a cmd_vel')
    parser.add_argument('--retries', type=int, default=DEFAULTS['retries'],
                        help='reruns of an episode that failed for an infrastructure reason '
                             '(default %(default)s)')
    parser.add_argument('--param', action='append', default=[], metavar='NODE:NAME=VALUE',
                        help='extra node parameter, e.g. planner_node:w_latent=0.5 (repeatable; '
                             'VALUE is YAML)')
    add_memory_arguments(parser)


def add_memory_arguments(parser):
    parser.add_argument('--mapping-steps', type=int, default=None, metavar='N',
                        help="control steps of the mapping tour before the agent's episodes "
                             f'(default {DEFAULTS["mapping_steps"]}; 0 with --memory)')
    parser.add_argument('--memory', default=None, metavar='PATH',
                        help="the world model's memory file of an earlier run (e.g. its "
                             '<report>-nodes/agent/memory-agent.sqlite3), used in place (not '
                             'copied): its map is extended by this run; skips mapping unless '
                             '--mapping-steps is given')
    parser.add_argument('--keep-memory', default=None, metavar='PATH',
                        help="copy the agent's memory file here after the run, for --memory")


def memory_settings(args) -> tuple[pathlib.Path | None, int]:
    """(memory file to use or None for the run's own, mapping steps); ConfigError if absent."""
    memory = None
    if args.memory is not None:
        memory = pathlib.Path(args.memory).expanduser().resolve()
        if not memory.is_file():
            raise ConfigError(f'--memory {args.memory}: no such file (pass the memory file of '
                              f'an earlier run, e.g. <report>-nodes/agent/memory-agent.sqlite3)')
    steps = args.mapping_steps
    if steps is None:
        steps = 0 if memory is not None else DEFAULTS['mapping_steps']
    return memory, steps


def fresh_memory(path: pathlib.Path):
    """Remove a previous run's memory file (and its WAL) from this run's workdir."""
    for suffix in ('', '-wal', '-shm'):
        pathlib.Path(f'{path}{suffix}').unlink(missing_ok=True)


def keep_memory(source: pathlib.Path, target) -> pathlib.Path:
    """Copy the memory file (with its WAL, if the node left one) to target."""
    import shutil

    target = pathlib.Path(target).expanduser().resolve()
    if target != source.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ('', '-wal'):
            if pathlib.Path(f'{source}{suffix}').is_file():
                shutil.copy2(f'{source}{suffix}', f'{target}{suffix}')
    return target


def harness_config(args, mapping_steps: int | None = None) -> HarnessConfig:
    return from_dict(HarnessConfig, {
        'mapping_steps': DEFAULTS['mapping_steps'] if mapping_steps is None else mapping_steps,
        'layout': args.layout, 'distractors': args.distractors, 'budget': args.budget,
        'success_threshold': args.threshold, 'goal_min_distance': args.goal_distance[0],
        'goal_max_distance': args.goal_distance[1], 'method': args.method,
        'lockstep_timeout': args.lockstep_timeout, 'retries': args.retries}, where='--')


def node_overrides(rules) -> dict:
    """{node: {name: value}} from NODE:NAME=VALUE rules (VALUE parsed as YAML)."""
    import yaml

    out = {}
    for rule in rules:
        node, _, assignment = rule.partition(':')
        name, sep, text = assignment.partition('=')
        if node not in AGENT_NODES or not name or not sep:
            raise ConfigError(f'--param {rule!r}: expected NODE:NAME=VALUE with NODE one of '
                              f'{", ".join(AGENT_NODES)}')
        declared = declared_parameters(node)
        if name not in declared:
            raise ConfigError(f'--param {rule!r}: {node} has no parameter {name!r}; it has '
                              f'{", ".join(sorted(declared))}')
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f'--param {rule!r}: VALUE is not YAML ({exc})') from None
        spec = declared.get(name)
        if spec is not None and spec.type is float and type(value) is int:
            value = float(value)  # ROS refuses an INTEGER for a DOUBLE parameter
        out.setdefault(node, {})[name] = value
    return out


def declared_parameters(node: str) -> dict:
    """{name: FieldSpec} of the parameters a node declares (from its config dataclasses)."""
    from world_model.config import field_specs

    if node == 'planner_node':
        from agent_node.planner_node import PlannerNodeConfig
        from world_model.planning.planner_config import PlannerConfig

        classes = (PlannerConfig, PlannerNodeConfig)
    elif node == 'sim_node':
        from agent_node.sim_node import SimNodeConfig
        from world_model.envs import SimConfig

        classes = (SimConfig, SimNodeConfig)
    else:
        from agent_node.ros.world_model_params import MAP_PREFIX, MEMORY_PREFIX
        from agent_node.world_model_node import WorldModelNodeConfig
        from world_model.memory import MapConfig, MemoryConfig

        nested = {f'{prefix}{spec.name}': spec for prefix, cls in (
            (MEMORY_PREFIX, MemoryConfig), (MAP_PREFIX, MapConfig)) for spec in field_specs(cls)}
        return {**{spec.name: spec for spec in field_specs(WorldModelNodeConfig)}, **nested}
    return {spec.name: spec for cls in classes for spec in field_specs(cls)}


def _policies(text: str) -> list[str]:
    names = [p.strip() for p in text.split(',') if p.strip()]
    bad = [p for p in names if p not in POLICIES]
    if bad or not names:
        raise ConfigError(f'--policies {text!r}: allowed a comma-separated subset of '
                          f'{",".join(POLICIES)}')
    return names


def _model_info(model_dir) -> dict:
    from agent_node.bringup import profiles

    path = pathlib.Path(model_dir or profiles.default_model_dir()).resolve()
    info = {'dir': str(path)}
    try:
        from world_model.export.manifest import manifest_sha256

        info['manifest_sha256'] = manifest_sha256(path)
    except Exception as exc:  # the report still says which directory was meant
        info['manifest_error'] = f'{type(exc).__name__}: {exc}'
    return info


def format_table(results: dict) -> str:
    """Plain-text comparison of the policies' summaries."""
    rows = [('success rate', 'success_rate', '{:.0%}'),
            ('success 95% interval', 'success_interval_95', _interval),
            ('final distance mean [m]', 'final_distance_mean', '{:.2f}'),
            ('steps to success (median)', 'steps_to_success_median', '{:.0f}'),
            ('collision steps / episode', 'collisions_per_episode', '{:.2f}'),
            ('plan rate median [Hz]', 'plan_hz_median', '{:.1f}'),
            ('control rate median [Hz]', 'control_hz_median', '{:.1f}'),
            ('latency p50 [ms]', 'latency_ms_p50', '{:.1f}'),
            ('latency p99 [ms]', 'latency_ms_p99', '{:.1f}'),
            ('goal estimate error med [m]', ('goal_localisation_error_m', 'median'), '{:.2f}'),
            ('goal estimate error p90 [m]', ('goal_localisation_error_m', 'p90'), '{:.2f}'),
            ('no goal estimate', 'no_goal_estimate_fraction', '{:.0%}'),
            ("'goal_unknown' frames / ep", 'goal_unknown_frames_mean', '{:.1f}'),
            ('wall time [s]', 'wall_s', '{:.0f}')]
    names = list(results)
    lines = [f'{"":28}' + ''.join(f'{n:>12}' for n in names)]
    for label, key, fmt in rows:
        cells = []
        for name in names:
            value = results[name]
            for part in key if isinstance(key, tuple) else (key,):
                value = value.get(part) if isinstance(value, dict) else None
            cells.append('-' if value is None or (isinstance(value, float) and
                                                  not math.isfinite(value))
                         else fmt(value) if callable(fmt) else fmt.format(value))
        lines.append(f'{label:28}' + ''.join(f'{c:>12}' for c in cells))
    return '\n'.join(lines)


def _interval(bounds) -> str:
    if not isinstance(bounds, list) or None in bounds:
        return '-'
    return f'{bounds[0]:.0%}-{bounds[1]:.0%}'


class _Progress:
    """tqdm bar over all episodes of all policies, with the running success count."""

    def __init__(self, total: int):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit='ep', file=sys.stderr, dynamic_ncols=True)
        self.wins = {}

    def episode(self, record):
        wins, runs = self.wins.get(record.policy, (0, 0))
        self.wins[record.policy] = (wins + record.success, runs + 1)
        self.bar.set_postfix_str(', '.join(f'{p} {w}/{n}' for p, (w, n) in self.wins.items()))
        self.bar.update(1)

    def mapping(self, record):
        self.bar.write(f'mapping tour: {record.steps} steps in {record.wall_s:.0f} s, '
                       f'{record.collisions} collision steps', file=sys.stderr)

    def retry(self, spec, error):
        self.bar.write(f'episode {spec.index}: infrastructure failure, running it again: '
                       f'{str(error).splitlines()[0]}', file=sys.stderr)

    def close(self):
        self.bar.close()


def run(args) -> int:
    try:
        memory, mapping_steps = memory_settings(args)
        config = harness_config(args, mapping_steps)
        policies = _policies(args.policies)
        overrides = node_overrides(args.param)
        if args.episodes < 1:
            raise ConfigError(f'--episodes={args.episodes} is out of range: allowed >= 1')
        sim_config = sim_config_of(node_parameters(config, ''))
        specs = plan_episodes(config, sim_config, args.episodes, args.seed)
    except ConfigError as exc:
        print(f'jepa-agent closed-loop: error: {exc}', file=sys.stderr)
        return 2
    report_path = pathlib.Path(args.report)
    workdir = report_path.with_name(report_path.stem + '-nodes')
    agent = 'agent' in policies
    memory_file = memory or (workdir / 'agent' / 'memory-agent.sqlite3').resolve()
    if agent and memory is None:
        fresh_memory(memory_file)  # a rerun into the same workdir starts a new map
    report = IncrementalReport(report_path, {
        'command': command_line(args),
        'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'host': {'machine': platform.machine(), 'python': platform.python_version(),
                 'cpus': _cpu_count()},
        'model': _model_info(args.model_dir),
        'protocol': {**protocol_report(config, sim_config), 'episodes': len(specs),
                     'seed': args.seed},
        'config': to_dict(config),
        'node_overrides': overrides,
        'mapping_steps': config.mapping_steps if agent else 0,
        'memory': str(memory_file) if agent else None,
        'memory_reused': memory is not None,
    })
    progress = _Progress(len(specs) * len(policies))

    def on_episode(record):
        report.add_episode(record)  # on disk before the next episode starts
        progress.episode(record)

    error = 'interrupted'
    try:
        for policy in policies:
            _, info = run_policy(config, specs, policy, model_dir=args.model_dir,
                                 workdir=workdir / policy, domain_id=args.domain_id,
                                 on_episode=on_episode, node_overrides=overrides,
                                 on_retry=progress.retry, memory_path=memory,
                                 mapping_seed=args.seed, on_mapping=progress.mapping)
            report.finish_policy(policy, info)
        error = None
    except InfrastructureError as exc:  # HarnessError included
        error = str(exc)
        print(f'jepa-agent closed-loop: error: {exc}', file=sys.stderr)
    finally:
        progress.close()
        report.finish(error)
    if error is not None:
        done = sum(len(r) for r in report.records.values())
        print(f'jepa-agent closed-loop: {done} finished episode(s) kept in '
              f'{report_path.resolve()}', file=sys.stderr)
        return 1
    print(f'{len(specs)} episodes, layout {config.layout!r}'
          f'{" with distractors" if config.distractors else ""}, budget {config.budget} steps, '
          f'success < {config.success_threshold} m, goals {config.goal_min_distance}-'
          f'{config.goal_max_distance} m away, method {config.method}')
    data = report.data()
    print(format_table(data['results']))
    retried = sum(r['episodes_retried'] for r in data['results'].values())
    if retried:
        print(f'{retried} episode(s) were rerun after an infrastructure failure (see '
              f"'infrastructure_errors' in the report)")
    if agent:
        kept = memory_file
        if args.keep_memory is not None:
            kept = keep_memory(memory_file, args.keep_memory)
        print(f"the agent's map: {kept} (reuse it with --memory {kept})")
    print(f'wrote {report_path.resolve()} ({data["wall_s"]:.0f} s)')
    return 0


def command_line(args) -> str:
    """The command that reproduces this run, every option spelled out."""
    words = ['jepa-agent', 'closed-loop', '--episodes', args.episodes, '--seed', args.seed,
             '--layout', args.layout, '--budget', args.budget]
    if args.distractors:
        words.append('--distractors')
    if args.model_dir is not None:
        words += ['--model-dir', args.model_dir]
    words += ['--method', args.method, '--threshold', args.threshold, '--goal-distance',
              *args.goal_distance, '--policies', args.policies, '--lockstep-timeout',
              args.lockstep_timeout, '--retries', args.retries]
    for rule in args.param:
        words += ['--param', rule]
    if args.mapping_steps is not None:
        words += ['--mapping-steps', args.mapping_steps]
    if args.memory is not None:
        words += ['--memory', args.memory]
    if args.keep_memory is not None:
        words += ['--keep-memory', args.keep_memory]
    words += ['--report', args.report]
    return shlex.join(str(w) for w in words)


def _cpu_count():
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
