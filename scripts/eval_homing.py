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
"""How well the relative-pose head homes on a goal view: controlled offsets, without ROS.

For each held-out goal (the closed-loop protocol's episodes), the goal view is rendered at the
goal pose and the robot's view at a known offset from it: ahead or behind (along the goal's
heading) or to a side, at several distances, with the heading turned or not. The head's
prediction of the goal in the robot's frame is scored against the rendered truth (evaluation
only): the position error, the shrink (the predicted offset projected on the true one, over the
true length: 1 is right, 0 sees no offset), the head's own std and the latent L2 distance
between the two views (does the encoder tell the views apart where the head does not?).

    python scripts/eval_homing.py --layout open --goals 20
"""

import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model import geometry  # noqa: E402
from world_model.envs import DiffDriveSim, SimConfig  # noqa: E402
from world_model.envs.diff_drive_sim import episode_layout  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402

DIRECTIONS = {'ahead/behind': (0.0, np.pi), 'sideways': (np.pi / 2, -np.pi / 2)}
DISTANCES = (0.1, 0.2, 0.3, 0.5)
YAW_OFFSETS = (0.0, 0.3)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model-dir', default='models/default')
    parser.add_argument('--layout', default='open')
    parser.add_argument('--goals', type=int, default=20)
    parser.add_argument('--seed', type=int, default=4242, help='closed-loop episode seed')
    parser.add_argument('--per-bin', type=int, default=4, help='views per goal and bin')
    parser.add_argument('--int8', action='store_true')
    parser.add_argument('--report', help='write the table as JSON here')
    args = parser.parse_args(argv)

    model = OnnxWorldModel(args.model_dir, threads=2, int8=args.int8)
    sim_config = SimConfig(layout=args.layout, image_width=model.input_width,
                           image_height=model.input_height)
    specs = plan_episodes(HarnessConfig(layout=args.layout), sim_config, args.goals, args.seed)
    rng = np.random.default_rng(0)
    rows = {}
    with DiffDriveSim(sim_config) as sim:
        for spec in specs:
            sim.reset(seed=spec.seed, layout=args.layout, pose=spec.start)
            layout = episode_layout(sim_config, spec.seed, args.layout)
            goal = np.asarray(spec.goal, np.float64)
            goal_latent = model.encode(sim.render_at(goal, distractors=False))
            for direction, angles in DIRECTIONS.items():
                for distance in DISTANCES:
                    for yaw_offset in YAW_OFFSETS:
                        for _ in range(args.per_bin):
                            angle = rng.choice(angles) + rng.uniform(-0.3, 0.3)
                            offset = (distance * np.cos(angle), distance * np.sin(angle),
                                      yaw_offset * rng.choice((-1.0, 1.0)))
                            robot = geometry.compose(goal, np.array(offset))
                            if not layout.is_free(robot[0], robot[1],
                                                  sim_config.robot_radius):
                                continue  # inside a wall or a block
                            latent = model.encode(sim.render_at(robot))
                            rel, sigma = model.relative_pose(latent, goal_latent)
                            truth = geometry.relative(robot, goal)[:2]
                            error = float(np.hypot(*(rel[0, :2] - truth)))
                            shrink = float(rel[0, :2] @ truth / (truth @ truth))
                            rows.setdefault((direction, distance, yaw_offset), []).append(
                                (error, shrink, float(sigma[0, :2].max()),
                                 float(np.linalg.norm(latent - goal_latent))))
    table = []
    print('| offset | distance [m] | heading offset [rad] | views | position error [m] | '
          'shrink | predicted std [m] | latent distance |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for (direction, distance, yaw_offset), values in sorted(rows.items()):
        v = np.array(values)
        row = {'offset': direction, 'distance_m': distance, 'yaw_offset_rad': yaw_offset,
               'views': len(v), 'error_m': round(float(np.median(v[:, 0])), 3),
               'shrink': round(float(np.median(v[:, 1])), 2),
               'std_m': round(float(np.median(v[:, 2])), 3),
               'latent_distance': round(float(np.median(v[:, 3])), 2)}
        table.append(row)
        print(f'| {direction} | {distance:.1f} | {yaw_offset:.1f} | {len(v)} | '
              f'{row["error_m"]:.3f} | {row["shrink"]:.2f} | {row["std_m"]:.3f} | '
              f'{row["latent_distance"]:.2f} |')
    if args.report:
        pathlib.Path(args.report).write_text(json.dumps(
            {'model': args.model_dir, 'layout': args.layout, 'goals': args.goals,
             'seed': args.seed, 'int8': args.int8, 'rows': table}, indent=2) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
