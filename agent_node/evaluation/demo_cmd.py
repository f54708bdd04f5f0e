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
"""`jepa-agent demo` (`make demo`): the robot drives to an image goal through the real nodes.

Starts sim_node + world_model_node + planner_node with the shipped model (models/default) as
separate processes, drives a short mapping tour (the robot builds its map, steered by the
orchestrator on ground truth), then runs one seeded image-goal episode
(agent_node.evaluation.harness); in 'two_rooms' the goal is in the other room, behind the
dividing wall. Prints the goal distance, plan rate and latency while it runs, then a summary,
and writes a PNG: top-down trajectory with the goal, the map's keyframes and edges and the
waypoint chain (when the world model publishes them), predicted futures at a few moments, the
goal image, camera frames, and the surprise and goal-distance traces.
"""

import math
import pathlib
import sys
import time

import numpy as np

from agent_node.evaluation.closed_loop_cmd import node_overrides
from agent_node.evaluation.harness import EvaluationHarness
from agent_node.evaluation.node_params import node_parameters, sim_config_of
from world_model.config import ConfigError, from_dict
from world_model.envs.diff_drive_sim import episode_layout
from world_model.envs.sim_config import LAYOUT_NAMES
from world_model.evaluation.episodes import plan_episodes
from world_model.evaluation.protocol import HarnessConfig
from world_model.evaluation.retry import InfrastructureError, run_with_retries
from world_model.planning.planner_config import PLANNER_METHODS

NAME = 'jepa-agent demo'
SNAPSHOTS = 3  # predicted futures drawn on the map
MAPPING_STEPS = 1000  # about one pass of the tour over both rooms
GOAL_DISTANCE = {'two_rooms': (1.2, 4.0)}  # else (1.0, 2.0)
# The closed-loop protocol gives 200 steps to goals up to 2.5 m away; the demo's goal behind the
# wall is up to 4 m away and the way round through the door longer still.
BUDGET = 300


def add_arguments(parser):
    parser.add_argument('--out', default='out/demo.png', help='PNG to write')
    parser.add_argument('--seed', type=int, default=0, help='episode seed (start and goal)')
    parser.add_argument('--layout', default='two_rooms', choices=LAYOUT_NAMES)
    parser.add_argument('--budget', type=int, default=BUDGET, metavar='STEPS',
                        help=f'control steps before giving up (default {BUDGET})')
    parser.add_argument('--distractors', action='store_true', help='moving distractors')
    parser.add_argument('--model-dir', default=None,
                        help='exported model directory (default: models/default)')
    parser.add_argument('--method', default='mppi', choices=PLANNER_METHODS)
    parser.add_argument('--goal-distance', type=float, nargs=2, default=None,
                        metavar=('MIN', 'MAX'),
                        help='start-goal distance range [m] (default 1.2 4.0 in two_rooms, '
                             'else 1.0 2.0)')
    parser.add_argument('--mapping-steps', type=int, default=None, metavar='N',
                        help=f'control steps of the mapping tour first (default '
                             f'{MAPPING_STEPS}, 0 with --memory; 0: none)')
    parser.add_argument('--memory', default=None, metavar='PATH',
                        help='memory file of an earlier run to use (in place); skips the '
                             'mapping tour unless --mapping-steps is given')
    parser.add_argument('--threshold', type=float, default=0.3, metavar='M',
                        help='success distance to the goal [m]')
    parser.add_argument('--domain-id', type=int, default=None,
                        help='ROS domain (default: a private one from the pid)')
    parser.add_argument('--param', action='append', default=[], metavar='NODE:NAME=VALUE',
                        help='extra node parameter, e.g. planner_node:w_latent=0.5 (repeatable)')


def behind_the_wall(spec) -> bool:
    """Start in the west room and goal in the east one, both off the door's row."""
    start, goal = spec.start, spec.goal
    return start[0] < -0.6 and goal[0] > 0.6 and abs(start[1]) > 0.8 and abs(goal[1]) > 0.8


def demo_episode(config: HarnessConfig, sim_config, seed: int):
    """The seed's first episode; in 'two_rooms' the first one whose goal is behind the wall."""
    if config.layout != 'two_rooms':
        return plan_episodes(config, sim_config, 1, seed)[0]
    for spec in plan_episodes(config, sim_config, 400, seed):
        if behind_the_wall(spec):
            return spec
    raise ConfigError(f'no episode of seed {seed} with start x < -0.6, goal x > 0.6 and '
                      f'|y| > 0.8: widen --goal-distance')


def draw_map(ax, record):
    """The map's edges and keyframes and the waypoint chain, when they were received."""
    if record.map_edges is not None and len(record.map_edges):
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(record.map_edges, colors='tab:green', linewidths=0.6,
                                         alpha=0.5, zorder=2, label='map edges'))
    if record.map_keyframes is not None and len(record.map_keyframes):
        ax.plot(*record.map_keyframes.T, '.', color='tab:green', markersize=3, zorder=2,
                label=f'map keyframes ({len(record.map_keyframes)})')
    if record.waypoints is not None and len(record.waypoints):
        ax.plot(*record.waypoints[:, :2].T, 'D-', color='darkorange', markersize=4, lw=1.2,
                zorder=4, label='waypoint chain to the goal')


def localisation_line(record) -> str:
    """The goal estimate's error, first and last, or that the world model gave none."""
    if record.goal_last_error is None:
        return 'the world model published no goal estimate'
    (first_step, first), (last_step, last) = record.goal_first_error, record.goal_last_error
    unknown = (f", planner 'goal_unknown' for {record.goal_unknown_frames} steps"
               if record.goal_unknown_frames else '')
    return (f'goal estimate error {first:.2f} m at step {first_step}, {last:.2f} m at step '
            f'{last_step}{unknown}')


def progress_line(record, step: int, distance: float, budget: int, every: int = 10) -> str:
    """Distance, the planner's latest reported rate, recent latency and the latest surprise."""
    rate = record.plan_hz[-1] if record.plan_hz else math.nan  # none until the planner has one
    latency = np.median(record.latency_ms[-every:]) if record.latency_ms else math.nan
    surprise = record.surprise[max(record.surprise)] if record.surprise else math.nan
    return (f'  step {step:3d}/{budget}  goal distance {distance:5.2f} m  plan {rate:5.1f} Hz  '
            f'latency {latency:5.1f} ms  surprise {surprise:4.2f}')


class _Printer:
    """One progress line every `every` steps."""

    def __init__(self, budget: int, every: int = 10):
        self.budget, self.every = budget, every

    def __call__(self, record, step, distance):
        if step % self.every == 0:
            print(progress_line(record, step, distance, self.budget, self.every), flush=True)


class _ShowingProgress:
    """The harness as an episode runner whose episodes print progress lines."""

    def __init__(self, harness: EvaluationHarness, on_step):
        self.harness, self.on_step = harness, on_step

    def run_episode(self, spec):
        return self.harness.run_episode(spec, on_step=self.on_step)

    def restart(self):
        self.harness.restart()


def _announce_retry(spec, error):
    print(f'{NAME}: infrastructure failure, running the episode again: '
          f'{str(error).splitlines()[0]}', flush=True)


def demo_figure(record, layout, threshold: float, title: str, tour=None):
    """Map (trajectory, goal, futures) + goal image + frames + surprise/distance traces."""
    import matplotlib.pyplot as plt

    from world_model import visualization as vis

    frames = sorted(record.frames)
    frame_steps = [frames[i] for i in vis.pick_frames(len(frames), 4)]
    fig = plt.figure(figsize=(12.5, 7.5))
    grid = fig.add_gridspec(3, 4, width_ratios=[2.3, 1, 1, 0.15], height_ratios=[1, 1, 1.05],
                            hspace=0.45, wspace=0.3)
    ax = fig.add_subplot(grid[:, 0])
    vis.draw_layout(ax, layout)
    if tour is not None and tour.trajectory:
        ax.plot(*tour.poses()[:, :2].T, '-', color='0.6', lw=0.6, alpha=0.6, zorder=1,
                label=f'mapping tour, {tour.steps} steps (ground truth)')
    draw_map(ax, record)
    snapshots = record.futures
    if snapshots:
        chosen = [snapshots[i] for i in vis.pick_frames(len(snapshots), SNAPSHOTS)]
        colours = plt.get_cmap('plasma')(np.linspace(0.1, 0.8, len(chosen)))
        for snap, colour in zip(chosen, colours):
            best = int(np.nanargmin(snap.costs)) if np.isfinite(snap.costs).any() else 0
            for path in snap.poses:
                ax.plot(path[:, 0], path[:, 1], '-', color=colour, lw=0.5, alpha=0.25, zorder=2)
            path = snap.poses[best]
            ax.plot(path[:, 0], path[:, 1], '-', color=colour, lw=2.0, zorder=3,
                    label=f'predicted futures, step {snap.step} (best bold)')
    poses = record.poses()
    steps = sorted(record.trajectory)
    vis.draw_trajectory(ax, poses, label='trajectory (ground truth)')
    ax.add_patch(plt.Circle(record.spec.goal[:2], threshold, fill=False, ls='--', color='0.3',
                            zorder=5, label=f'success radius {threshold} m'))
    vis.draw_goal(ax, record.spec.goal)
    if record.goal_estimate is not None:
        ax.plot(*record.goal_estimate[:2], 'P', color='darkorange', markersize=9,
                markeredgecolor='k', zorder=6, label='goal estimated by the world model')
    ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.1), fontsize=7, ncol=2)
    ax.set_title('top-down view')

    goal_ax = fig.add_subplot(grid[0, 1])
    vis.draw_frames([goal_ax], [record.goal_image] if record.goal_image is not None else [],
                    ['goal image (the only goal input)'])
    frame_axes = [fig.add_subplot(grid[i // 2, 1 + i % 2]) for i in range(1, 4)]
    shown = frame_steps[-3:] if len(frame_steps) > 3 else frame_steps
    vis.draw_frames(frame_axes, [record.frames[s] for s in shown],
                    [f'camera, step {s}' for s in shown])

    trace = fig.add_subplot(grid[2, 1:3])
    distance = [float(np.hypot(*(record.trajectory[s][:2] - np.asarray(record.spec.goal[:2]))))
                for s in steps]
    trace.plot(steps, distance, color='tab:blue', label='distance to goal [m]')
    trace.axhline(threshold, color='0.4', ls='--', lw=0.8)
    trace.set_xlabel('control step')
    trace.set_ylabel('distance [m]', color='tab:blue')
    if record.surprise:
        twin = trace.twinx()
        keys = sorted(record.surprise)
        twin.plot(keys, [record.surprise[k] for k in keys], color='tab:red', lw=0.9)
        twin.set_ylabel('surprise (normalised)', color='tab:red')
    trace.set_title('goal distance and world-model surprise', fontsize=9)
    fig.suptitle(title, fontsize=11)
    return fig


def run(args) -> int:
    began = time.monotonic()
    try:
        memory = None
        if args.memory is not None:
            memory = pathlib.Path(args.memory).expanduser().resolve()
            if not memory.is_file():
                raise ConfigError(f'--memory {args.memory}: no such file')
        mapping_steps = args.mapping_steps
        if mapping_steps is None:
            mapping_steps = 0 if memory is not None else MAPPING_STEPS
        distance = args.goal_distance or GOAL_DISTANCE.get(args.layout, (1.0, 2.0))
        config = from_dict(HarnessConfig, {
            'layout': args.layout, 'distractors': args.distractors, 'budget': args.budget,
            'success_threshold': args.threshold, 'goal_min_distance': distance[0],
            'goal_max_distance': distance[1], 'method': args.method,
            'snapshot_every': 5, 'keep_frames': True, 'mapping_steps': mapping_steps},
            where='--')
        overrides = node_overrides(args.param)
        sim_config = sim_config_of(node_parameters(config, ''))
        spec = demo_episode(config, sim_config, args.seed)
    except ConfigError as exc:
        print(f'{NAME}: error: {exc}', file=sys.stderr)
        return 2
    harness = EvaluationHarness(config, 'agent', model_dir=args.model_dir,
                                domain_id=args.domain_id, node_overrides=overrides,
                                memory_path=memory)
    print(f'{NAME}: starting sim_node, world_model_node and planner_node (model '
          f'{harness.model_dir}) ...', flush=True)
    try:
        with harness:
            print(f'{NAME}: nodes up in {harness.startup_s:.1f} s.', flush=True)
            tour = None
            if config.mapping_steps:
                print(f'{NAME}: mapping tour, {config.mapping_steps} steps (steered on ground '
                      f'truth, as a teleoperator would) ...', flush=True)
                tour = harness.run_mapping(config.mapping_steps, args.seed)
                print(f'{NAME}: map built in {tour.wall_s:.0f} s ({tour.collisions} collision '
                      f'steps)', flush=True)
            print(f'{NAME}: episode seed {args.seed}: '
                  f'layout {config.layout!r}, start ({spec.start[0]:.2f}, {spec.start[1]:.2f}), '
                  f'goal image rendered at ({spec.goal[0]:.2f}, {spec.goal[1]:.2f}), '
                  f'{spec.distance:.2f} m away', flush=True)
            runner = _ShowingProgress(harness, _Printer(config.budget))
            record = run_with_retries(runner, spec, config.retries, on_retry=_announce_retry)
    except InfrastructureError as exc:
        print(f'{NAME}: error: {exc}', file=sys.stderr)
        return 1
    outcome = (f'reached the goal in {record.steps} steps '
               f'({record.steps * sim_config.control_period:.1f} s simulated)'
               if record.success else f'did not reach the goal ({record.end_reason} after '
                                      f'{record.steps} steps)')
    latency = np.percentile(record.latency_ms, [50, 99]) if record.latency_ms else (math.nan,) * 2
    rate = np.median(record.plan_hz) if record.plan_hz else math.nan
    print(f'{NAME}: {outcome}; final distance {record.final_distance:.2f} m, '
          f'{record.collisions} collision steps, plan rate {rate:.1f} Hz, latency p50 '
          f'{latency[0]:.1f} ms p99 {latency[1]:.1f} ms')
    print(f'{NAME}: {localisation_line(record)}')
    from world_model.visualization import save_figure

    layout = episode_layout(sim_config, spec.seed, config.layout)
    fig = demo_figure(record, layout, config.success_threshold,
                      f'image-goal episode, seed {args.seed}, {config.layout!r}: '
                      f'{"success" if record.success else "failure"} in {record.steps} steps, '
                      f'final distance {record.final_distance:.2f} m', tour)
    out = save_figure(fig, pathlib.Path(args.out))
    print(f'{NAME}: wrote {out.resolve()} ({time.monotonic() - began:.0f} s in all)')
    return 0
