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
"""Time `jepa-agent collect`'s work: simulating, rendering and writing a rosbag2 MCAP bag.

The target is 200 episodes x 200 steps at 64x64. By default a representative fraction
(20 x 200) runs and the full collection is extrapolated from the per-frame median; pass
--episodes 200 to time the whole thing. Prints a markdown table.
"""

import argparse
import os
import pathlib
import platform
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model.data.bag_writer import BagWriter  # noqa: E402
from world_model.envs import ActionLimits, DiffDriveSim, ExplorationPolicy, SimConfig  # noqa: E402
from world_model.envs.exploration import episode_seeds, explore  # noqa: E402

TARGET = (200, 200)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--episodes', type=int, default=20)
    parser.add_argument('--steps', type=int, default=200)
    parser.add_argument('--image-size', type=int, default=64)
    parser.add_argument('--layout', default='two_rooms')
    parser.add_argument('--distractors', action='store_true')
    args = parser.parse_args()
    config = SimConfig(layout=args.layout, image_width=args.image_size,
                       image_height=args.image_size, distractors=args.distractors)
    sim_times, write_times, episode_times = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / 'bag'
        started = time.perf_counter()
        with DiffDriveSim(config) as sim, BagWriter(out) as writer:
            policy = ExplorationPolicy(0, ActionLimits.from_config(config))
            start_ns = 0
            for index, seed in enumerate(episode_seeds(0, args.episodes)):
                episode_start = time.perf_counter()
                frames = explore(sim, policy, args.steps, seed, args.layout)
                while True:
                    t0 = time.perf_counter()
                    item = next(frames, None)
                    if item is None:
                        break
                    t1 = time.perf_counter()
                    step, action = item
                    stamp = start_ns + round(step.time * 1e9)
                    if step.time == 0.0:
                        writer.mark_episode(stamp, index)
                    writer.write_frame(stamp, step.image, step.odom_pose, step.odom_twist,
                                       step.true_pose, step.true_twist, action)
                    sim_times.append(t1 - t0)
                    write_times.append(time.perf_counter() - t1)
                start_ns = stamp + round(config.control_period * 1e9)
                episode_times.append(time.perf_counter() - episode_start)
        total = time.perf_counter() - started
        size = sum(f.stat().st_size for f in out.iterdir())
    frames = args.episodes * args.steps
    per_frame = statistics.median(episode_times) / args.steps
    full_frames = TARGET[0] * TARGET[1]
    print(f'machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}')
    print(f'command: python scripts/bench_collect.py --episodes {args.episodes} --steps '
          f'{args.steps} --image-size {args.image_size} --layout {args.layout}'
          f'{" --distractors" if args.distractors else ""}\n')
    print('| measure | value |')
    print('| --- | --- |')
    print(f'| ran | {args.episodes} x {args.steps} = {frames} frames in {total:.1f} s '
          f'({frames / total:.0f} frames/s) |')
    print(f'| median sim step + render | {statistics.median(sim_times) * 1e3:.2f} ms |')
    print(f'| median bag write per frame | {statistics.median(write_times) * 1e3:.2f} ms |')
    print(f'| median per frame (from episode times) | {per_frame * 1e3:.2f} ms |')
    print(f'| bag size | {size / 1e6:.1f} MB ({size / frames / 1e3:.1f} kB/frame) |')
    print(f'| extrapolated {TARGET[0]} x {TARGET[1]} = {full_frames} frames | '
          f'{per_frame * full_frames:.0f} s, {size / frames * full_frames / 1e9:.2f} GB |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
