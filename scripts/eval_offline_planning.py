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
"""ROS-free closed loop of the core: DiffDriveSim + FramePipeline + LatentMPC, no nodes.

Isolates the model and the planner from the ROS plumbing, for cost-design questions:

    .venv/bin/python scripts/eval_offline_planning.py --goal-source truth --episodes 16
    .venv/bin/python scripts/eval_offline_planning.py --w-latent 0.3 --latent-fade 0.6

Each episode: the closed-loop protocol's seeded start and goal (world_model.evaluation.episodes,
0.75-2.5 m apart by default, as `jepa-agent closed-loop`); the goal image goes to
world_model.online.FramePipeline (latent goal distance) and, with --goal-source truth, its pose
is given exactly in the odometry frame (odometry starts at zero at the start pose). Goal images
are placed by the latent map only in `jepa-agent closed-loop` (its mapping tour first); here
'truth' is the only source. Success: the true
position comes within --threshold of the goal within --budget steps (the episode does not stop
at the estimate, unlike `jepa-agent closed-loop`).
"""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model.envs import DiffDriveSim, SimConfig  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.geometry import relative  # noqa: E402
from world_model.online import FramePipeline, FramePipelineConfig, Proposal  # noqa: E402
from world_model.planning.mpc import LatentMPC  # noqa: E402
from world_model.planning.objectives import trajectory_costs  # noqa: E402
from world_model.planning.planner_config import PlannerConfig  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model-dir', default='models/default')
    parser.add_argument('--layout', default='open')
    parser.add_argument('--episodes', type=int, default=16)
    parser.add_argument('--seed', type=int, default=100)
    parser.add_argument('--budget', type=int, default=200)
    parser.add_argument('--threshold', type=float, default=HarnessConfig.success_threshold)
    parser.add_argument('--goal-distance', type=float, nargs=2, metavar=('MIN', 'MAX'),
                        default=(HarnessConfig.goal_min_distance,
                                 HarnessConfig.goal_max_distance))
    parser.add_argument('--goal-source', choices=('truth',), default='truth')
    parser.add_argument('--w-latent', type=float, default=0.0)
    parser.add_argument('--latent-fade', type=float, default=0.0,
                        help='> 0: latent weight ramps in within this distance of the goal [m]')
    args = parser.parse_args(argv)

    wm = OnnxWorldModel(args.model_dir, threads=1)
    sim = DiffDriveSim(SimConfig(layout=args.layout))
    successes, finals = 0, []
    protocol = HarnessConfig(layout=args.layout, success_threshold=args.threshold,
                             goal_min_distance=args.goal_distance[0],
                             goal_max_distance=args.goal_distance[1])
    for episode, spec in enumerate(plan_episodes(protocol, sim.config, args.episodes,
                                                 args.seed)):
        step = sim.reset(seed=spec.seed, layout=args.layout, pose=spec.start)
        goal = np.asarray(spec.goal)
        goal_odom = relative(step.true_pose, goal)  # odometry is (0, 0, 0) at the start
        # world_model_node's per-frame algorithm; the MPC below plays planner_node
        pipeline = FramePipeline(wm, FramePipelineConfig())
        pipeline.set_goal_image(sim.render_at(goal))
        mpc = LatentMPC(PlannerConfig(num_samples=64, horizon=8), seed=episode)
        command = np.zeros(2)
        for _ in range(args.budget):
            samples = mpc.propose()
            result = pipeline.step(round(step.time * 1e9), step.image, step.odom_pose,
                                   step.odom_twist, Proposal(samples.astype(np.float32), 0.0),
                                   0.0)
            target = goal_odom
            weight = args.w_latent
            if args.latent_fade > 0:
                to_goal = np.hypot(*(step.odom_pose[:2] - target[:2]))
                weight *= float(np.clip(1.0 - to_goal / args.latent_fade, 0.0, 1.0))
            config = PlannerConfig(num_samples=64, horizon=8, w_latent=weight)
            costs = trajectory_costs(config, samples, poses=result.poses, goal=target,
                                     goal_dist=result.goal_dist, collision=result.collision,
                                     last_command=command)
            command = mpc.update(samples, costs)
            step = sim.step(command)
            distance = np.hypot(*(step.true_pose[:2] - goal[:2]))
            if distance < args.threshold:
                successes += 1
                break
        finals.append(distance)
        print(f'episode {episode}: final distance {distance:.2f} m, goal estimate error '
              f'{np.hypot(*(target[:2] - goal_odom[:2])):.2f} m', flush=True)
    print(f'success {successes}/{args.episodes}, median final distance '
          f'{np.median(finals):.2f} m ({vars(args)})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
