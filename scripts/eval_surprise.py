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
"""Surprise calibration: normalised surprise in normal driving vs real events, ROS-free.

Drives DiffDriveSim with the exploration policy and feeds its frames to world_model_node's
per-frame algorithm (world_model.online.FramePipeline with the node's defaults: predict_next
from the history one control period back, odometry twists as proprio and action, the scale
learnt while moving). Reports the
distribution in normal driving, with and without moving distractors, and the value at two kinds
of event:
- kidnap: the robot is teleported and its odometry does not notice (so no history restart);
- push: the robot is displaced 0.3 m sideways between two frames while odometry says it drove on.

    .venv/bin/python scripts/eval_surprise.py [--episodes 10] [--steps 100]

The planner stops above surprise_threshold; its false-stop rate is the fraction of normal
frames above it.
"""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model.envs import DiffDriveSim, ExplorationPolicy, SimConfig  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.online import FramePipeline, FramePipelineConfig  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402

THRESHOLDS = (3.0, 4.0, 5.0)


class SimFrames:
    """Simulator frames into the pipeline, stamped one control period apart."""

    def __init__(self, pipeline: FramePipeline, period_s: float):
        self.pipeline, self.period_ns, self.stamp_ns = pipeline, int(period_s * 1e9), 0

    def restart(self, first_step):
        """A fresh predictor history from first_step (an episode start, or after an event)."""
        self.pipeline.restart_history()
        self.observe(first_step.image, first_step)

    def observe(self, image, step) -> float | None:
        """The normalised surprise of image seen with step's odometry."""
        self.stamp_ns += self.period_ns
        result = self.pipeline.step(self.stamp_ns, image, step.odom_pose, step.odom_twist, None,
                                    0.0)
        return None if result.surprise is None else result.surprise[0]


def run(model, layout: str, distractors: bool, episodes: int, steps: int, seed: int):
    sim = DiffDriveSim(SimConfig(layout=layout, distractors=distractors))
    # world_model_node's defaults; one 1-step candidate is all surprise needs of the rollout
    frames = SimFrames(FramePipeline(model, FramePipelineConfig(num_candidates=1, horizon=1)),
                       sim.config.control_period)
    normal, kidnap, push = [], [], []
    rng = np.random.default_rng(seed)
    # the closed-loop protocol's episodes: seeds and collision-free start poses
    specs = plan_episodes(HarnessConfig(layout=layout), sim.config, episodes, seed)
    for episode, spec in enumerate(specs):
        step = sim.reset(seed=spec.seed, layout=layout, pose=spec.start)
        policy = ExplorationPolicy(seed=spec.seed)
        frames.restart(step)
        event_at = steps // 2
        for t in range(steps):
            step = sim.step(policy(step))
            if t == event_at:
                # the same odometry twist, another place: what the camera sees is unexplained
                image = sim.render_at(sim.sample_free_pose(rng)) if episode % 2 == 0 else \
                    sim.render_at(step.true_pose + np.array([
                        -0.3 * np.sin(step.true_pose[2]), 0.3 * np.cos(step.true_pose[2]), 0]))
                value = frames.observe(image, step)
                (kidnap if episode % 2 == 0 else push).append(value)
                step = sim.reset(seed=spec.seed, layout=layout, pose=step.true_pose)
                frames.restart(step)  # a fresh history after the event
                continue
            value = frames.observe(step.image, step)
            if t >= model.history_length + 2:
                normal.append(value)
    sim.close()
    return np.array(normal), np.array(kidnap), np.array(push)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model-dir', default='models/default')
    parser.add_argument('--layout', default='open')
    parser.add_argument('--episodes', type=int, default=10)
    parser.add_argument('--steps', type=int, default=100)
    parser.add_argument('--seed', type=int, default=200)
    args = parser.parse_args(argv)
    model = OnnxWorldModel(args.model_dir, providers=('cpu',), threads=1)
    header = ('| distractors | normal frames | p50 | p90 | p99 | max | '
              + ' | '.join(f'> {t:g}' for t in THRESHOLDS) + ' | kidnap (min / median) | '
              'push 0.3 m (min / median) |')
    print(header)
    print('|' + ' --- |' * (header.count('|') - 1))
    for distractors in (False, True):
        normal, kidnap, push = run(model, args.layout, distractors, args.episodes, args.steps,
                                   args.seed)
        p50, p90, p99 = np.percentile(normal, [50, 90, 99])
        above = ' | '.join(f'{(normal > t).mean():.1%}' for t in THRESHOLDS)
        print(f'| {"yes" if distractors else "no"} | {normal.size} | {p50:.2f} | {p90:.2f} | '
              f'{p99:.2f} | {normal.max():.2f} | {above} | {kidnap.min():.1f} / '
              f'{np.median(kidnap):.1f} | {push.min():.1f} / {np.median(push):.1f} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
