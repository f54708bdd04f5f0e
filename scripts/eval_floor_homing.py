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
"""Floor alignment against the relative-pose head near the goal: seeded offsets, without ROS.

For each held-out goal (the closed-loop protocol's episodes of --seed), the goal view is
rendered at the goal pose, and the robot's view at a seeded offset within --ahead / --side
metres and --yaw radians of it, with the moving distractors in the robot's view only (the goal
image is taken without them, as in the closed loop). The head predicts the goal in the robot's
frame; the floor alignment (world_model/online/floor_alignment.py, the simulator's camera as
the calibration) starts from that prediction. Both are scored against the rendered truth
(evaluation only): position error median / p90, how many alignments were trusted, and how many
trusted ones were more than 0.15 m off (what would mislead the goal filter).

    python scripts/eval_floor_homing.py --layout two_rooms --goals 100
"""

import argparse
import math
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model import geometry  # noqa: E402
from world_model.envs import DiffDriveSim, SimConfig  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.online.floor_alignment import CameraGeometry, FloorAligner  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402

WRONG_M = 0.15


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model-dir', default='models/default')
    parser.add_argument('--layout', default='open')
    parser.add_argument('--goals', type=int, default=100)
    parser.add_argument('--seed', type=int, default=4242, help='closed-loop episode seed')
    parser.add_argument('--ahead', type=float, default=0.5, help='largest offset along [m]')
    parser.add_argument('--side', type=float, default=0.5, help='largest offset across [m]')
    parser.add_argument('--yaw', type=float, default=0.35, help='largest heading offset [rad]')
    args = parser.parse_args(argv)

    model = OnnxWorldModel(args.model_dir, threads=2)
    config = SimConfig(layout=args.layout, image_width=model.input_width,
                       image_height=model.input_height)
    aligner = FloorAligner(CameraGeometry(config.camera_height,
                                          math.radians(config.camera_pitch_deg),
                                          math.radians(config.fov_deg)))
    specs = plan_episodes(HarnessConfig(layout=args.layout), config, args.goals, args.seed)
    rng = np.random.default_rng([args.seed, 17])
    head_err, floor_err, trusted, seconds = [], [], [], []
    with DiffDriveSim(config) as sim:
        sim.reset(seed=args.seed, layout=args.layout)
        for spec in specs:
            goal = np.asarray(spec.goal, np.float64)
            while True:  # a free robot pose near the goal
                offset = rng.uniform(-1.0, 1.0, 3) * (args.ahead, args.side, args.yaw)
                robot = geometry.compose(goal, offset)
                if sim.layout.is_free(robot[0], robot[1], config.robot_radius):
                    break
            goal_view = sim.render_at(goal, distractors=False)
            view = sim.render_at(robot, distractors=True)
            truth = geometry.relative(robot, goal)
            head, _ = model.relative_pose(model.encode(view), model.encode(goal_view))
            start = time.perf_counter()
            found = aligner.align(view, goal_view, head[0])
            seconds.append(time.perf_counter() - start)
            head_err.append(np.hypot(*(head[0][:2] - truth[:2])))
            floor_err.append(np.hypot(*(found.pose[:2] - truth[:2])))
            trusted.append(found.trusted)
    head_err, floor_err, trusted = map(np.asarray, (head_err, floor_err, trusted))
    ok = floor_err[trusted]
    print(f'{args.layout}, {len(specs)} goals of seed {args.seed}, offsets within '
          f'{args.ahead} m ahead, {args.side} m across, {args.yaw} rad')
    print('| estimate | position error median / p90 [m] | trusted | trusted but > '
          f'{WRONG_M} m off |')
    print('| --- | ---: | ---: | ---: |')
    print(f'| relative-pose head | {np.median(head_err):.3f} / '
          f'{np.percentile(head_err, 90):.3f} | - | - |')
    if len(ok):
        print(f'| floor alignment (trusted) | {np.median(ok):.3f} / {np.percentile(ok, 90):.3f} '
              f'| {trusted.sum()} / {len(trusted)} | {(ok > WRONG_M).sum()} |')
    print(f'alignment time median {1e3 * np.median(seconds):.0f} ms (this process)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
