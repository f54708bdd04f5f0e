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
"""How many closed-loop goal images have a look-alike view elsewhere, in pixels and in latents.

For the goals `jepa-agent closed-loop` plans (same layout, seed and count), each goal image is
compared with views rendered on a grid over the free space
(world_model/evaluation/view_ambiguity.py): a view at least --far-m away that is closer to the
goal image than the views --near-m beside the goal is a look-alike (a hint of confusable places,
not a proof: see the module). With --report (a closed-loop report of the same protocol), how
many goals with and without a look-alike were reached, and the failed episodes by cause.
Ground truth only scores.

    python scripts/eval_goal_ambiguity.py --layout two_rooms --episodes 50 --seed 4242 \
        --report out/cl.json
"""

import argparse
import json
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model.envs import DiffDriveSim, SimConfig  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.evaluate_cmd import encode_images  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.evaluation.view_ambiguity import ambiguity, near_poses, view_grid  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402


def render(sim: DiffDriveSim, poses: np.ndarray) -> np.ndarray:
    """uint8 views [N, H, W, 3] of poses, without distractors (as goal images are)."""
    return np.stack([sim.render_at(pose, distractors=False) for pose in poses])


def failures(report_path: str | None) -> dict:
    """{goal (rounded): failed agent episode summary} of a closed-loop report; {} without."""
    if not report_path:
        return {}
    report = json.loads(pathlib.Path(report_path).read_text())
    return {tuple(np.round(e['goal'], 3)): e for e in report['episodes']['agent']
            if not e['success']}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model-dir', default='models/default')
    parser.add_argument('--layout', default='two_rooms')
    parser.add_argument('--episodes', type=int, default=50)
    parser.add_argument('--seed', type=int, default=4242)
    parser.add_argument('--spacing', type=float, default=0.1, help='grid spacing [m]')
    parser.add_argument('--headings', type=int, default=36, help='yaws per grid cell')
    parser.add_argument('--near-m', type=float, default=0.15,
                        help='views this far beside the goal count as the goal (success < 0.3 m)')
    parser.add_argument('--far-m', type=float, default=0.6,
                        help='a view this far from the goal is elsewhere')
    parser.add_argument('--ratio', type=float, default=1.0,
                        help='a look-alike is this many times nearer the goal image than the '
                             'near views are, or nearer still')
    parser.add_argument('--report', help='a closed-loop report of the same layout and seed')
    parser.add_argument('--verbose', action='store_true', help='one line per goal')
    args = parser.parse_args(argv)

    model = OnnxWorldModel(args.model_dir, threads=2)
    sim_config = SimConfig(layout=args.layout, image_width=model.input_width,
                           image_height=model.input_height)
    specs = plan_episodes(HarnessConfig(layout=args.layout), sim_config, args.episodes, args.seed)
    failed = failures(args.report)
    reached = {True: [0, 0], False: [0, 0]}  # pixel look-alike -> [goals, failed]
    with DiffDriveSim(sim_config) as sim:
        sim.reset(seed=specs[0].seed)
        grid = view_grid(sim.layout, sim.config.robot_radius, args.spacing, args.headings)
        grid_pixels = render(sim, grid)
        grid_latents = encode_images(model, grid_pixels)
        print(f'{args.layout}, seed {args.seed}: {len(specs)} goals, {len(grid)} grid views '
              f'({args.spacing} m, {args.headings} headings); near {args.near_m} m, far '
              f'{args.far_m} m')
        counts = {'pixels': 0, 'latents': 0, 'both': 0}
        by_cause = {}
        for spec in specs:
            goal = np.asarray(spec.goal)
            views = render(sim, np.concatenate([goal[None], near_poses(goal, args.near_m)]))
            latents = encode_images(model, views)
            tests = {'pixels': ambiguity(goal, views[0], views[1:], grid, grid_pixels,
                                         args.far_m),
                     'latents': ambiguity(goal, latents[0], latents[1:], grid, grid_latents,
                                          args.far_m)}
            flags = {space: test.ratio < args.ratio for space, test in tests.items()}
            for space, flag in flags.items():
                counts[space] += flag
            counts['both'] += flags['pixels'] and flags['latents']
            episode = failed.get(tuple(np.round(spec.goal, 3)))
            reached[flags['pixels']][0] += 1
            reached[flags['pixels']][1] += episode is not None
            if episode is not None:
                error = (episode.get('goal_localisation') or {}).get('last_error_m')
                kind = ('never placed' if error is None else
                        'misplaced' if error > 0.5 else 'placed')
                row = by_cause.setdefault(kind, [0, 0, 0])
                row[0] += 1
                row[1] += flags['pixels']
                row[2] += flags['latents']
            if args.verbose:
                print(f'  episode {spec.index:2d}: ' + ', '.join(
                    f'{space} ratio {t.ratio:.2f} at {t.far_gap_m:.2f} m {t.far_pose}'
                    for space, t in tests.items())
                    + (' FAILED' if episode is not None else ''))
        n = len(specs)
        print(f'look-alike (ratio < {args.ratio}) in pixels: {counts["pixels"]}/{n}, in latents: '
              f'{counts["latents"]}/{n}, both: {counts["both"]}/{n}')
        if args.report:
            print('reached: ' + ', '.join(
                f'{goals - lost} of {goals} goals {name}' for name, (goals, lost) in
                (('with a pixel look-alike', reached[True]), ('without', reached[False]))))
        for kind, (total, pixels, latents) in sorted(by_cause.items()):
            print(f'failed, {kind}: {total}; goal a look-alike in pixels {pixels}, '
                  f'in latents {latents}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
