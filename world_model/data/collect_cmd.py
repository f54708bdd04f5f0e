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
"""`jepa-agent collect`: drive the simulator with the exploration policy, record a rosbag2 bag.

One MCAP bag holds all episodes; each starts with an /episode marker and continues the clock
of the previous one (stamps strictly increase across the bag). Episode k uses the k-th seed
derived from --seed, so the bag holds exactly what
`world_model.envs.generate_episodes(N, T, seed, layout, config)` returns in memory.

--sim-config YAML (SimConfig fields) records a robot unlike the default one: speed, steering,
camera rate (control_period), image size, camera height. --command-every K issues a command
every K simulator steps and holds it in between, as a planner slower than the camera does.
"""

import sys
import time

from world_model.config import ConfigError, from_dict, load_yaml
from world_model.envs.sim_config import LAYOUT_NAMES


def add_arguments(parser):
    parser.add_argument('--episodes', type=int, default=10, help='number of episodes')
    parser.add_argument('--steps', type=int, default=200, help='frames per episode')
    parser.add_argument('--seed', type=int, default=0, help='seed of the whole collection')
    parser.add_argument('--layout', choices=LAYOUT_NAMES,
                        help='arena layout (default: the SimConfig, open)')
    parser.add_argument('--out', required=True, help='bag directory to create (must not exist)')
    parser.add_argument('--distractors', action='store_true',
                        help='add moving, non-colliding distractor objects')
    parser.add_argument('--image-size', type=int,
                        help='camera width and height (default: the SimConfig, 64)')
    parser.add_argument('--sim-config', metavar='YAML',
                        help='SimConfig fields (robot, camera, arena); flags override it')
    parser.add_argument('--command-every', type=int, default=1, metavar='K',
                        help='a new command every K simulator steps, held in between; cmd_vel '
                             'is recorded only when issued (default 1)')
    parser.add_argument('--storage', default='mcap', choices=('mcap', 'sqlite3'),
                        help='rosbag2 storage plugin')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--pause-prob', type=float, default=0.0, metavar='P',
                        help='chance per step that the exploration policy stands still for '
                             '3-15 steps (0-1; default 0)')


class HeldPolicy:
    """Queries `policy` every `every` steps and repeats its command in between."""

    def __init__(self, policy, every: int):
        self.policy, self.every = policy, max(1, int(every))
        self.issued = False  # whether the last call issued a new command

    def reset(self, seed: int):
        self.policy.reset(seed)
        self._count, self._collided, self._action = 0, False, None

    def __call__(self, step):
        self._collided = self._collided or bool(step is not None and step.collision)
        self.issued = self._count % self.every == 0
        if self.issued:
            self._action = self.policy.act(self._collided)
            self._collided = False
        self._count += 1
        return self._action


def collect(out, episodes: int, steps: int, seed: int, config, layout: str | None = None,
            storage: str = 'mcap', progress: bool = True, pause_prob: float = 0.0,
            command_every: int = 1) -> dict:
    """Record `episodes` x `steps` frames into the bag directory `out`; returns a summary."""
    from tqdm import tqdm

    from world_model.data.bag_writer import BagWriter
    from world_model.envs import ActionLimits, DiffDriveSim, ExplorationPolicy
    from world_model.envs.exploration import episode_seeds, explore

    period_ns = round(config.control_period * 1e9)
    start_ns, collisions, stamp = 0, 0, 0
    bar = tqdm(total=episodes * steps, unit='frame', disable=not progress, file=sys.stderr)
    with DiffDriveSim(config) as sim, BagWriter(out, storage=storage) as writer:
        policy = HeldPolicy(ExplorationPolicy(seed, ActionLimits.from_config(config),
                                              pause_prob=pause_prob), command_every)
        for index, episode_seed in enumerate(episode_seeds(seed, episodes)):
            for t, (step, action) in enumerate(explore(sim, policy, steps, episode_seed,
                                                       layout)):
                stamp = start_ns + round(step.time * 1e9)  # as in sim_to_episode
                if t == 0:
                    writer.mark_episode(stamp, index)
                writer.write_frame(stamp, step.image, step.odom_pose, step.odom_twist,
                                   step.true_pose, step.true_twist,
                                   action if policy.issued else None)
                collisions += int(step.collision)
                bar.update(1)
            start_ns = stamp + period_ns
    bar.close()
    return {'frames': episodes * steps, 'episodes': episodes, 'collisions': collisions,
            'sim_seconds': start_ns / 1e9}


def run(args) -> int:
    from world_model.envs.sim_config import SimConfig

    try:
        if args.episodes < 1 or args.steps < 1:
            raise ConfigError(f'--episodes and --steps must be >= 1, got {args.episodes} and '
                              f'{args.steps}')
        if not 0.0 <= args.pause_prob <= 1.0:
            raise ConfigError(f'--pause-prob must be in [0, 1], got {args.pause_prob}')
        if args.command_every < 1:
            raise ConfigError(f'--command-every must be >= 1, got {args.command_every}')
        base = load_yaml(SimConfig, args.sim_config) if args.sim_config else SimConfig()
        fields = dict(base.__dict__, layout=args.layout or base.layout)
        if args.image_size is not None:
            fields.update(image_width=args.image_size, image_height=args.image_size)
        if args.distractors:
            fields['distractors'] = True
        config = from_dict(SimConfig, fields)
    except (ConfigError, OSError) as exc:
        print(f'jepa-agent collect: {exc}', file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        summary = collect(args.out, args.episodes, args.steps, args.seed, config, config.layout,
                          args.storage, progress=not args.no_progress,
                          pause_prob=args.pause_prob, command_every=args.command_every)
    except FileExistsError as exc:
        print(f'jepa-agent collect: {exc}', file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(f'collect: wrote {summary["episodes"]} episodes x {args.steps} frames '
          f'({summary["frames"]} frames, {summary["sim_seconds"]:.1f} s sim time, '
          f'{summary["collisions"]} collision steps) to {args.out} in {elapsed:.1f} s '
          f'({summary["frames"] / elapsed:.0f} frames/s)')
    return 0
