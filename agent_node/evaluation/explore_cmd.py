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
"""`jepa-agent explore` (ROS-free): drive the simulator with the exploration policy that
`collect` uses and write a PNG with camera frames and the top-down trajectory: a quick look at
what the training data covers. The agent demo is `jepa-agent demo`
(agent_node/evaluation/demo_cmd.py).
"""

import pathlib

import numpy as np

from world_model.envs import ActionLimits, DiffDriveSim, ExplorationPolicy, SimConfig
from world_model.envs.sim_config import LAYOUT_NAMES


def add_arguments(parser):
    parser.add_argument('--out', default='out/demo.png', help='PNG to write')
    parser.add_argument('--seconds', type=float, default=20.0, help='simulated seconds')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--layout', default='two_rooms', choices=LAYOUT_NAMES)
    parser.add_argument('--image-size', type=int, default=64, help='camera width and height')
    parser.add_argument('--distractors', action='store_true', help='add moving distractors')


def run(args) -> int:
    from world_model.visualization import episode_figure, save_figure

    config = SimConfig(layout=args.layout, image_width=args.image_size,
                       image_height=args.image_size, distractors=args.distractors)
    steps = max(int(round(args.seconds / config.control_period)), 1)
    policy = ExplorationPolicy(args.seed, ActionLimits.from_config(config))
    with DiffDriveSim(config) as sim:
        step = sim.reset(seed=args.seed)
        record = [step]
        for _ in range(steps):
            step = sim.step(policy(step))
            record.append(step)
        layout = sim.layout
    poses = np.stack([s.true_pose for s in record])
    odom = np.stack([s.odom_pose for s in record])
    collisions = [s.collision for s in record]
    fig = episode_figure(layout, poses, images=[s.image for s in record],
                         stamps_s=[s.time for s in record], collisions=collisions,
                         title=f'exploration in {args.layout!r}, seed {args.seed}, '
                               f'{record[-1].time:.0f} s')
    fig.axes[-1].plot(odom[:, 0], odom[:, 1], '--', color='tab:orange', lw=1.0,
                      label='odometry', zorder=3)
    fig.axes[-1].legend(loc='upper left', fontsize=7, bbox_to_anchor=(1.01, 1.0))
    out = save_figure(fig, pathlib.Path(args.out))
    drift = float(np.linalg.norm(odom[-1, :2] - poses[-1, :2]))
    print(f'demo: {steps} steps ({record[-1].time:.1f} s sim time), {sum(collisions)} '
          f'collisions, odometry drift {drift:.3f} m; wrote {out.resolve()}')
    return 0
