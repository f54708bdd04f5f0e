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
"""Place recognition and goal localisation of the latent map with a real model, without ROS.

The mapping tour builds a map (DiffDriveSim, the exported model, a LatentMap on a temporary
store); then, per held-out episode, the robot is reset at a seeded start (odometry restarts at
zero: a new session), turns on the spot until the session joins the map (or the turn budget
ends), and the goal image is localised. Ground truth is used only to score: the join error
(against where the session's origin truly is in the map frame, the tour start's odometry frame;
it includes the map's own drift), the fix's error in the map frame, the goal error in the
world (both together) and whether the route, drawn into the world, is drivable. With
--drive-steps N the robot drives at random (ExplorationPolicy) for N steps instead of turning,
as an episode's start does in the closed loop, and the join is scored again at the end (a wrong
join kept, or rejoined); the goal is then localised from where it ends.

    python scripts/eval_map_localisation.py --layout two_rooms --episodes 20 [--drive-steps 150]
"""

import argparse
import json
import math
import pathlib
import sys
import tempfile

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model import geometry  # noqa: E402
from world_model.envs import ActionLimits, DiffDriveSim, SimConfig  # noqa: E402
from world_model.envs.diff_drive_sim import episode_layout  # noqa: E402
from world_model.envs.exploration import ExplorationPolicy  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.mapping_tour import MappingTour  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.memory import LatentMap, LatentStore, MapConfig, MemoryConfig  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model-dir', default='models/default')
    parser.add_argument('--layout', default='two_rooms')
    parser.add_argument('--episodes', type=int, default=20)
    parser.add_argument('--seed', type=int, default=1000)
    parser.add_argument('--mapping-steps', type=int, default=1200)
    parser.add_argument('--tour-seed', type=int, default=0, help='mapping tour (and its odometry)')
    parser.add_argument('--turn-steps', type=int, default=80, help='join budget per episode')
    parser.add_argument('--drive-steps', type=int, default=0,
                        help='drive at random this long per episode instead of turning')
    parser.add_argument('--int8', action='store_true')
    parser.add_argument('--map', default='{}', help='MapConfig fields as JSON')
    args = parser.parse_args(argv)

    model = OnnxWorldModel(args.model_dir, threads=2, int8=args.int8)
    sim_config = SimConfig(layout=args.layout, image_width=model.input_width,
                           image_height=model.input_height)
    harness = HarnessConfig(layout=args.layout)
    specs = plan_episodes(harness, sim_config, args.episodes, args.seed)
    with tempfile.TemporaryDirectory() as tmp, DiffDriveSim(sim_config) as sim, \
            LatentStore(MemoryConfig(path=f'{tmp}/map.sqlite3'), dim=model.latent_dim) as store:
        latent_map = LatentMap(store, model.relative_pose, MapConfig(**json.loads(args.map)))
        map_origin, truth_at, drift = map_by_tour(sim, model, latent_map, args.layout,
                                                  args.tour_seed, args.mapping_steps)
        stats = latent_map.stats()
        shown = latent_map.display()
        kf = latent_map.kf
        kf_err = [np.hypot(*(pose[:2] - truth_at[round(kf.stamp[kf.slot[int(kid)]] * 1e9)][:2]))
                  for pose, kid in zip(shown.poses, shown.ids)]
        rate = stats['heading_drift_rate']
        print(f'map: {stats["keyframes"]} keyframes, {stats["edges"]} edges; mapping odometry '
              f'drift at the end {drift[-1]:.2f} m (max {max(drift):.2f} m); keyframes off by '
              f'median {np.median(kf_err):.2f} m (max {max(kf_err):.2f} m); heading drift '
              + ('not corrected' if rate is None else
                 f'{rate:+.4f} +- {stats["heading_drift_std"]:.4f} rad/s taken out '
                 f'({stats["heading_drift_inliers"]}/{stats["heading_drift_closures"]} '
                 f'revisits inliers)') + f", the simulator's bias {sim.gyro_bias:+.4f} rad/s")
        joins, join_err, goal_err, fix_err, route_err, found = [], [], [], [], [], 0
        end_err, policy = [], ExplorationPolicy(0, ActionLimits.from_config(sim_config))
        blocked = []  # per route: its polyline (from the robot) touches a wall or block
        for spec in specs:
            step = sim.reset(seed=spec.seed, layout=args.layout, pose=spec.start)
            latent_map.start_session()
            t_join = None
            policy.reset(spec.seed)
            for t in range(args.drive_steps or args.turn_steps):
                latent = model.encode(step.image)[0]
                latent_map.observe(int(step.time * 1e9), step.odom_pose, latent)
                if latent_map.joined and t_join is None:
                    t_join = t
                    join_err.append(origin_error(latent_map, map_origin, step))
                    if not args.drive_steps:
                        break
                step = sim.step(policy(step) if args.drive_steps else np.array([0.0, 0.8]))
            joins.append(t_join)
            if t_join is None:
                continue
            if args.drive_steps:
                end_err.append(origin_error(latent_map, map_origin, step))
            goal_latent = model.encode(sim.render_at(spec.goal, distractors=False))[0]
            fix = latent_map.localise(goal_latent)
            if fix is None:
                continue
            found += 1
            world_t_odom = geometry.compose(step.true_pose, geometry.invert(step.odom_pose))
            goal_world = geometry.compose(world_t_odom, latent_map.to_odom(fix.pose))
            goal_err.append(float(np.hypot(*(goal_world[:2] - np.asarray(spec.goal[:2])))))
            # the fix alone, in the map frame: no join error in it
            true_goal_map = geometry.relative(map_origin, np.asarray(spec.goal))
            fix_err.append(float(np.hypot(*(fix.pose[:2] - true_goal_map[:2]))))
            # what the node publishes: the end of the route composed along the graph's edges
            route = latent_map.route(latent_map.to_map(step.odom_pose), fix, latent=latent)
            if route:
                end = geometry.compose(world_t_odom, latent_map.to_odom(route[-1]))
                route_err.append(float(np.hypot(*(end[:2] - np.asarray(spec.goal[:2])))))
                world = np.stack([geometry.compose(world_t_odom, latent_map.to_odom(p))
                                  for p in route])
                blocked.append(not drivable(episode_layout(sim_config, spec.seed, args.layout),
                                            np.vstack([step.true_pose, world]),
                                            sim_config.robot_radius))
        joined = [j for j in joins if j is not None]
        steps = args.drive_steps or args.turn_steps
        print(f'joined {len(joined)}/{len(joins)} sessions within {steps} steps '
              f'(median {np.median(joined) if joined else math.nan:.0f} steps); join error '
              f'median {np.median(join_err) if join_err else math.nan:.3f} m, p90 '
              f'{np.percentile(join_err, 90) if join_err else math.nan:.3f} m')
        if join_err:
            far = np.asarray(join_err)
            print(f'joins off by more than 0.5 m: {(far > 0.5).sum()}, by more than 1 m: '
                  f'{(far > 1.0).sum()} (look-alike places)')
        if end_err:
            far = np.asarray(end_err)
            print(f'after {args.drive_steps} steps: {(far > 0.5).sum()} sessions off by more '
                  f'than 0.5 m, {(far > 1.0).sum()} by more than 1 m (median '
                  f'{np.median(far):.3f} m); rejoins {latent_map.stats()["rejoins"]}')
        if fix_err:
            far = np.asarray(fix_err)
            print(f'fix in the map frame: error median {np.median(far):.3f} m, p90 '
                  f'{np.percentile(far, 90):.3f} m, {(far > 0.6).sum()} more than 0.6 m off')
        print(f'goal localised {found}/{len(joined)}; error median '
              f'{np.median(goal_err) if goal_err else math.nan:.3f} m, p90 '
              f'{np.percentile(goal_err, 90) if goal_err else math.nan:.3f} m (the fix)'
              f'; route end ({len(route_err)} routes): median '
              f'{np.median(route_err) if route_err else math.nan:.3f} m, p90 '
              f'{np.percentile(route_err, 90) if route_err else math.nan:.3f} m')
        if blocked:
            print(f'routes a robot cannot drive as drawn (the polyline from the robot through '
                  f'its waypoints, in the world, touches a wall or a block): {sum(blocked)} of '
                  f'{len(blocked)}')
    return 0


def map_by_tour(sim, model, latent_map, layout_name: str, tour_seed: int, steps: int):
    """Drive the seeded mapping tour for steps into latent_map; (map_origin: the tour start's
    true pose, whose odometry frame is the map frame; truth_at: stamp ns -> true pose in the
    map frame of each frame observed; drift: the odometry's position error [m] per step)."""
    layout = episode_layout(sim.config, tour_seed, layout_name)
    tour = MappingTour(layout, sim.config.robot_radius, ActionLimits.from_config(sim.config),
                       tour_seed)
    step = sim.reset(seed=tour_seed, layout=layout_name, pose=tour.start)
    map_origin = step.true_pose.copy()
    drift, truth_at = [], {}
    for _ in range(steps):
        stamp = int(step.time * 1e9)
        truth_at[stamp] = geometry.relative(map_origin, step.true_pose)
        latent_map.observe(stamp, step.odom_pose, model.encode(step.image)[0])
        step = sim.step(tour.act(step.true_pose))
        truth = geometry.relative(map_origin, step.true_pose)
        drift.append(np.hypot(*(truth[:2] - step.odom_pose[:2])))
    return map_origin, truth_at, drift


def origin_error(latent_map, map_origin, step) -> float:
    """How far the session's odometry origin is placed from where it truly is in the map (the
    tour start's odometry frame; the map's own drift included)."""
    true_t = geometry.relative(map_origin, step.true_pose)
    true_map_t_odom = geometry.compose(true_t, geometry.invert(step.odom_pose))
    return float(np.hypot(*(latent_map.map_T_odom()[:2] - true_map_t_odom[:2])))


def drivable(layout, poses, radius: float, step: float = 0.02) -> bool:
    """A disc of radius fits everywhere along the polyline through poses [N, 2+]."""
    xy = np.asarray(poses, np.float64)[:, :2]
    for a, b in zip(xy[:-1], xy[1:]):
        n = max(2, int(math.ceil(np.hypot(*(b - a)) / step)) + 1)
        for x, y in np.linspace(a, b, n):
            if not layout.is_free(float(x), float(y), radius):
                return False
    return True


if __name__ == '__main__':
    sys.exit(main())
