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
"""MPPI vs CEM on the analytic unicycle model: success rate, steps to goal, plan time per cycle.

From random starts to random goals in a 4 m square, each configuration drives closed loop:
'online' does one update per control cycle (what planner_node does with the world model's
futures), 'offline' does PlannerConfig.iterations updates per cycle. Prints medians.

    .venv/bin/python scripts/bench_planner.py [--episodes 20] [--max-steps 150]
"""

import argparse
import dataclasses
import os
import pathlib
import platform
import shlex
import sys
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')  # a fair single-core figure on a shared machine
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from bench_common import machine  # noqa: E402  (scripts/ is on sys.path)
import numpy as np  # noqa: E402

from world_model.planning import (  # noqa: E402
    LatentMPC,
    PlannerConfig,
    Rollout,
    trajectory_costs,
    unicycle_rollout,
)


def random_task(rng, half_size=2.0, margin=0.3, min_distance=0.5):
    lim = half_size - margin
    while True:
        start = np.array([*rng.uniform(-lim, lim, 2), rng.uniform(-np.pi, np.pi)])
        goal = np.array([*rng.uniform(-lim, lim, 2), 0.0])
        if np.hypot(*(goal[:2] - start[:2])) >= min_distance:
            return start, goal


def run_episode(config, start, goal, max_steps, seed):
    """(reached, steps, per-cycle plan times [s]) of one closed-loop episode."""
    mpc = LatentMPC(config, seed=seed)
    mpc.goal = goal

    def rollout(state, actions):
        return Rollout(poses=unicycle_rollout(state, actions, config.control_period))

    pose, times = start.copy(), []
    for step in range(max_steps):
        began = time.perf_counter()
        command = mpc.plan(rollout, pose)
        times.append(time.perf_counter() - began)
        pose = unicycle_rollout(pose, command[None, None], config.control_period)[0, 0]
        if np.hypot(*(pose[:2] - goal[:2])) < config.goal_tolerance:
            return True, step + 1, times
    return False, max_steps, times


def closed_loop(args, tasks):
    """One markdown row per (mode, H, K, method) of closed-loop episodes."""
    print('| mode | updates/cycle | method | K | H | success | steps to goal (median) | '
          'ms/cycle (median) | ms/cycle (p95) |')
    print('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for mode, iterations in (('online', 1), ('offline', args.iterations)):
        for horizon in args.horizons:
            for samples in args.samples:
                for method in ('mppi', 'cem'):
                    config = dataclasses.replace(PlannerConfig(), method=method,
                                                 num_samples=samples, horizon=horizon,
                                                 iterations=iterations)
                    results = [run_episode(config, start, goal, args.max_steps, seed=i)
                               for i, (start, goal) in enumerate(tasks)]
                    steps = [r[1] for r in results if r[0]]
                    times = np.concatenate([r[2] for r in results]) * 1e3
                    success = len(steps) / len(results)
                    median_steps = f'{np.median(steps):.0f}' if steps else '-'
                    print(f'| {mode} | {iterations} | {method} | {samples} | {horizon} | '
                          f'{success:.0%} | {median_steps} | {np.median(times):.2f} | '
                          f'{np.percentile(times, 95):.2f} |', flush=True)


def core_cycle(args):
    """What planner_node adds per futures message: cost K x H futures, update, propose."""
    rng = np.random.default_rng(args.seed)
    print()
    print('| planner core per futures message (cost + update + propose) | K | H | '
          'median ms |')
    print('| --- | ---: | ---: | ---: |')
    for horizon in args.horizons:
        for samples in args.samples:
            for method in ('mppi', 'cem'):
                config = dataclasses.replace(PlannerConfig(), method=method,
                                             num_samples=samples, horizon=horizon)
                mpc = LatentMPC(config, seed=0)
                goal = np.array([1.0, 0.5, 0.0])
                samples_now = mpc.propose()
                times = []
                for _ in range(args.cycles):
                    poses = unicycle_rollout(np.zeros(3), samples_now, config.control_period)
                    extras = rng.random((3, samples, horizon))
                    began = time.perf_counter()
                    costs = trajectory_costs(config, samples_now, poses, goal, extras[0],
                                             extras[1], extras[2], mpc.last_command)
                    mpc.update(samples_now, costs)
                    samples_now = mpc.propose()
                    times.append(time.perf_counter() - began)
                print(f'| {method} | {samples} | {horizon} | '
                      f'{np.median(times) * 1e3:.3f} |', flush=True)




def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--episodes', type=int, default=20, help='random start/goal pairs')
    parser.add_argument('--max-steps', type=int, default=150,
                        help='control cycles (0.1 s) allowed per episode')
    parser.add_argument('--iterations', type=int, default=4, help="updates per cycle, 'offline'")
    parser.add_argument('--samples', type=int, nargs='+', default=[64, 128, 256])
    parser.add_argument('--horizons', type=int, nargs='+', default=[8, 10])
    parser.add_argument('--cycles', type=int, default=200, help='timed core cycles per row')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    tasks = [random_task(rng) for _ in range(args.episodes)]
    command = shlex.join([pathlib.Path(sys.executable).name, *sys.argv])
    print(f'Machine: {machine()}; numpy {np.__version__} on 1 thread, Python '
          f'{platform.python_version()}')
    print(f'Command: `{command}`')
    print(f'Unicycle model, {args.episodes} random start/goal pairs in a 4 m square; success = '
          f'within {PlannerConfig().goal_tolerance} m in {args.max_steps} cycles of 0.1 s; '
          f'ms/cycle includes the analytic rollout. Defaults of PlannerConfig otherwise.')
    print()
    closed_loop(args, tasks)
    core_cycle(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
