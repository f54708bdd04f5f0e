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
"""Does a zero command predict no motion? Rollouts of 1 s from random standing views.

For `--views` seeded collision-free poses of each layout, the robot stands (twist 0) and the
model rolls out 10 steps of (0, 0) and of (0.3 m/s, 0): the predicted displacement after 1 s
(median, p90) for each, against the truth (0 m and 0.3 m).

    python scripts/eval_standstill.py --model-dir models/default --views 40
"""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model.envs import DiffDriveSim, SimConfig  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model-dir', default='models/default')
    parser.add_argument('--views', type=int, default=40)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    model = OnnxWorldModel(args.model_dir, threads=2)
    steps = int(round(1.0 / float(model.metadata.get('control_period', 0.1))))
    rng = np.random.default_rng(args.seed)
    moved = {0.0: [], 0.3: []}
    for layout in ('open', 'two_rooms'):
        config = SimConfig(layout=layout, image_width=model.input_width,
                           image_height=model.input_height)
        with DiffDriveSim(config) as sim:
            sim.reset(seed=args.seed, layout=layout)
            for _ in range(args.views // 2):
                z = model.encode(sim.render_at(sim.sample_free_pose(rng)))
                history = np.repeat(z, model.history_length, axis=0)
                for v in moved:
                    actions = np.tile(np.array([v, 0.0], np.float32), (1, steps, 1))
                    futures = model.rollout(history, np.zeros(2, np.float32), actions)
                    moved[v].append(float(np.hypot(*futures.poses[0, -1, :2])))
    for v, values in moved.items():
        print(f'command v={v} m/s for {steps} steps: predicted displacement median '
              f'{np.median(values):.3f} m, p90 {np.percentile(values, 90):.3f} m '
              f'(truth {v * steps * 0.1:.1f} m, {len(values)} views)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
