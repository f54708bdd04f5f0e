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
"""The closed-loop protocol without ROS: deterministic, episode by episode, for A/B tests.

`jepa-agent closed-loop` runs the real nodes over DDS on the wall clock, so two runs of the same
code differ by a few episodes in 50. This runs the same protocol (its mapping tour, then its
episodes: starts, goal images, budget, success radius, the agent stopping at goal_reached) with
the nodes' ROS-free cores in lockstep: world_model_node's FramePipeline with the parameters of
config/sim_demo.yaml (its map.* too), and planner_node's PlannerDecider and LatentMPC, whose
decisions are carried out as planner_node carries them out. Floor homing is waited for every
frame, and each episode starts from a fresh copy of the mapped store with its own MPC seed: a
run is repeatable, and --only replays one episode exactly. What it leaves out: message timing
and drops, the planner running on the previous frame's futures, CPU contention. Its successes
matched the closed loop's within one episode in 50 on seed 4242 (BENCHMARKS.md, ninth session).
The report pairs with closed-loop reports in scripts/compare_closed_loop.py.

    python scripts/eval_offline_navigation.py --layout two_rooms --episodes 50 --seed 4242 \
        --map-file /tmp/tr_4242.sqlite3 --report /tmp/a.json
    python scripts/eval_offline_navigation.py ... --decision '{"approach": false}' \
        --report /tmp/b.json
    python scripts/eval_offline_navigation.py --distractors --map-file /tmp/trd_4242.sqlite3 ...
"""

import argparse
import dataclasses
import json
import math
import pathlib
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from agent_node.evaluation.node_params import (  # noqa: E402
    node_config_of,
    node_parameters,
    sim_config_of,
)
from world_model import geometry  # noqa: E402
from world_model.envs import DiffDriveSim  # noqa: E402
from world_model.envs.diff_drive_sim import episode_layout  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.mapping_tour import ActionLimits, MappingTour  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.memory import LatentStore, MapConfig, MemoryConfig  # noqa: E402
from world_model.online import FramePipeline, FramePipelineConfig, Proposal  # noqa: E402
from world_model.planning.decision import ESTIMATE, PlannerDecider  # noqa: E402
from world_model.planning.decision_config import DecisionConfig  # noqa: E402
from world_model.planning.mpc import LatentMPC  # noqa: E402
from world_model.planning.objectives import trajectory_costs  # noqa: E402
from world_model.planning.planner_config import PlannerConfig  # noqa: E402
from world_model.planning.status import GOAL_REACHED  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parent.parent


def overrides(text: str, cls) -> dict:
    """The JSON fields of cls given on the command line; a name cls lacks fails, named (the
    values are checked with the profile's, in node_config_of)."""
    values = json.loads(text)
    unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise SystemExit(f'unknown {cls.__name__} field(s) {unknown}')
    return values


def build_map(sim, model, configs, layout: str, seed: int, steps: int, path: str):
    """The protocol's mapping tour (driven on ground truth, as the harness drives it) into a
    store at path."""
    layout_geometry = episode_layout(sim.config, seed, layout)
    tour = MappingTour(layout_geometry, sim.config.robot_radius,
                       ActionLimits.from_config(sim.config), seed)
    pipeline_config, _, _, map_config = configs
    with LatentStore(MemoryConfig(path=path), dim=model.latent_dim) as store:
        pipeline = FramePipeline(model, pipeline_config, store, map_config=map_config)
        step = sim.reset(seed=seed, layout=layout, pose=tour.start)
        pipeline.restart_history()
        for _ in range(steps):
            pipeline.step(round(step.time * 1e9), step.image, step.odom_pose, step.odom_twist,
                          None, 0.0)
            step = sim.step(tour.act(step.true_pose))
        pipeline.close()
        return pipeline.map.kf.n


def plan_or_steer(decider, mpc, planner_config, result) -> np.ndarray:
    """One frame's command, carried out as planner_node._on_futures does."""
    decision = decider.on_futures('odom')
    if decision.restart:
        mpc.reset((0.0, 0.0))
    if decision.recover:
        return np.asarray(decider.recovery_command())
    if decision.steer:
        command = np.asarray(decider.steer_command())
        mpc.reset(command)
        decider.steered()
        return command
    if not decision.plan:
        return np.zeros(2)
    costs = trajectory_costs(planner_config, result.actions, result.poses, decision.target,
                             result.goal_dist, result.uncertainty, result.collision,
                             mpc.last_command)
    command = mpc.update(result.actions, costs)
    decider.cycle_planned(command)
    return command


def run_episode(spec, sim, model, configs, map_path: str, protocol: HarnessConfig) -> dict:
    """One goal episode on a fresh copy of the map; its summary (ground truth scores)."""
    pipeline_config, planner_config, decision_config, map_config = configs
    with tempfile.TemporaryDirectory() as tmp:
        path = shutil.copy(map_path, f'{tmp}/episode.sqlite3')
        for sidecar in ('-wal', '-shm'):  # a store not closed cleanly keeps writes in its WAL
            if pathlib.Path(map_path + sidecar).exists():
                shutil.copy(map_path + sidecar, path + sidecar)
        with LatentStore(MemoryConfig(path=path), dim=model.latent_dim) as store:
            pipeline = FramePipeline(model, pipeline_config, store, map_config=map_config)
            try:
                return drive(spec, sim, pipeline, planner_config, decision_config, protocol)
            finally:
                pipeline.close()


def drive(spec, sim, pipeline, planner_config, decision_config, protocol) -> dict:
    goal = np.asarray(spec.goal)
    step = sim.reset(seed=spec.seed, layout=sim.config.layout, pose=spec.start)
    pipeline.restart_history()  # the simulator's clock restarted, as after a reset
    pipeline.set_goal_image(sim.render_at(goal, distractors=False))
    mpc = LatentMPC(planner_config, seed=spec.seed)
    clock = [0.0]
    decider = PlannerDecider(planner_config, decision_config, clock=lambda: clock[0])
    floor = pipeline.map_goals.floor
    success, stopped, error, steps = False, 0, None, 0
    while steps < protocol.budget:
        steps += 1
        clock[0] = step.time
        result = pipeline.step(round(step.time * 1e9), step.image, step.odom_pose,
                               step.odom_twist, Proposal(mpc.propose().astype(np.float32), 0.0),
                               0.0)
        if floor is not None:
            floor.wait_idle()  # lockstep: the alignment is fused next frame, as at 30 Hz
        # world_model_node's outputs, then odometry, then the futures
        view = result.goal
        for decision in (decider.on_goal_status(view.status),
                         decider.on_goal(result.goal_pose, 'odom', ESTIMATE)
                         if result.goal_pose is not None else None,
                         decider.on_waypoints(view.waypoints if view.waypoints is not None
                                              else np.zeros((0, 3)), 'odom'),
                         decider.on_odom(step.odom_pose, step.time)):
            if decision is not None and decision.restart:
                mpc.reset((0.0, 0.0))
        if result.goal_pose is not None:  # scored in the world through the true odometry
            world_t_odom = geometry.compose(step.true_pose, geometry.invert(step.odom_pose))
            estimate = geometry.compose(world_t_odom, result.goal_pose)
            error = math.hypot(*(estimate[:2] - goal[:2]))
        step = sim.step(plan_or_steer(decider, mpc, planner_config, result))
        distance = math.hypot(*(step.true_pose[:2] - goal[:2]))
        if distance < protocol.success_threshold:
            success = True
            break
        stopped = stopped + 1 if decider.state == GOAL_REACHED else 0
        if stopped >= protocol.stop_frames:
            break
    return {'index': spec.index, 'seed': spec.seed, 'start': list(spec.start),
            'goal': list(spec.goal), 'success': success, 'steps': steps,
            'final_distance': round(distance, 4),
            'goal_localisation': None if error is None else {'last_error_m': round(error, 4)}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model-dir', default=str(REPO / 'models/default'))
    parser.add_argument('--layout', default='two_rooms')
    parser.add_argument('--distractors', action='store_true',
                        help='moving distractors in the camera images (as closed-loop '
                             '--distractors; give the run its own --map-file)')
    parser.add_argument('--episodes', type=int, default=50)
    parser.add_argument('--seed', type=int, default=4242,
                        help="the episodes' and the mapping tour's seed (as closed-loop)")
    parser.add_argument('--only', default='', help='comma-separated episode indices')
    parser.add_argument('--mapping-steps', type=int, default=HarnessConfig().mapping_steps)
    parser.add_argument('--map-file', help='keep the mapped store here, or reuse it if there')
    parser.add_argument('--profile', default=str(REPO / 'config/sim_demo.yaml'))
    parser.add_argument('--pipeline', default='{}', help='FramePipelineConfig fields (JSON)')
    parser.add_argument('--planner', default='{}', help='PlannerConfig fields (JSON)')
    parser.add_argument('--decision', default='{}', help='DecisionConfig fields (JSON)')
    parser.add_argument('--report', help='write the episodes (compare_closed_loop.py reads it)')
    args = parser.parse_args(argv)

    protocol = HarnessConfig(layout=args.layout, distractors=args.distractors)
    # the parameters the closed loop gives its nodes, with this run's overrides
    planner = {**overrides(args.planner, PlannerConfig),
               **overrides(args.decision, DecisionConfig)}
    parameters = node_parameters(protocol, '', args.profile, {
        'world_model_node': overrides(args.pipeline, FramePipelineConfig),
        'planner_node': planner})
    configs = (node_config_of(parameters, 'world_model_node', FramePipelineConfig),
               node_config_of(parameters, 'planner_node', PlannerConfig),
               node_config_of(parameters, 'planner_node', DecisionConfig),
               node_config_of(parameters, 'world_model_node', MapConfig, group='map'))
    model = OnnxWorldModel(args.model_dir, threads=1)
    sim = DiffDriveSim(sim_config_of(parameters))
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        map_path = args.map_file or f'{tmp}/map.sqlite3'
        if not pathlib.Path(map_path).exists():
            keyframes = build_map(sim, model, configs, args.layout, args.seed,
                                  args.mapping_steps, map_path)
            print(f'mapped {keyframes} keyframes in {args.mapping_steps} tour steps')
        specs = plan_episodes(protocol, sim.config, args.episodes, args.seed)
        only = {int(i) for i in args.only.split(',') if i}
        episodes = []
        for spec in specs:
            if only and spec.index not in only:
                continue
            episode = run_episode(spec, sim, model, configs, map_path, protocol)
            episodes.append(episode)
            error = (episode['goal_localisation'] or {}).get('last_error_m')
            print(f"episode {spec.index:2d}: {'reached' if episode['success'] else 'FAILED '} "
                  f"in {episode['steps']:3d} steps, final {episode['final_distance']:.2f} m, "
                  f"goal estimate off {'-' if error is None else f'{error:.2f} m'}", flush=True)
    wins = sum(e['success'] for e in episodes)
    print(f'{args.layout}, seed {args.seed}: {wins}/{len(episodes)} reached '
          f'({time.monotonic() - started:.0f} s)')
    if args.report:
        pathlib.Path(args.report).write_text(json.dumps(
            {'command': sys.argv, 'episodes': {'agent': episodes}}, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
