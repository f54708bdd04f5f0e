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
"""How well the latent map places goal images, in its own frame, without ROS or sessions.

The mapping tour builds a map (DiffDriveSim, the exported model, a LatentMap on a temporary
store); then the goal image of each planned episode is localised (LatentMap.localise) and the
fix is scored against where the goal truly is in the map frame (the tour start's odometry
frame). Ground truth only scores. It also says, per goal, whether retrieval found any keyframe
truly near the goal (recall: a miss is the encoder's; a found place outvoted is the vote's).
Each --map JSON is a variant, scored on the same map and goals (the map is built once).

    python scripts/eval_goal_fix.py --layout two_rooms --goals 200 \
        --map '{}' --map '{"localise_k": 64}'
"""

import argparse
import dataclasses
import json
import math
import pathlib
import sys
import tempfile

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from eval_map_localisation import map_by_tour  # noqa: E402  (scripts/ is on sys.path)

from world_model import geometry  # noqa: E402
from world_model.envs import DiffDriveSim, SimConfig  # noqa: E402
from world_model.evaluation.episodes import plan_episodes  # noqa: E402
from world_model.evaluation.protocol import HarnessConfig  # noqa: E402
from world_model.memory import LatentMap, LatentStore, MapConfig, MemoryConfig  # noqa: E402
from world_model.runtime import OnnxWorldModel  # noqa: E402

NEAR_M = 0.5  # a retrieved keyframe this close to the goal (and facing within NEAR_RAD) sees it
NEAR_RAD = 0.5


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model-dir', default='models/default')
    parser.add_argument('--layout', default='two_rooms')
    parser.add_argument('--goals', type=int, default=200)
    parser.add_argument('--seed', type=int, default=1000)
    parser.add_argument('--mapping-steps', type=int, default=1200)
    parser.add_argument('--tour-seed', type=int, default=0)
    parser.add_argument('--int8', action='store_true')
    parser.add_argument('--map', action='append', default=None,
                        help='MapConfig fields as JSON, one variant each (default: {})')
    parser.add_argument('--far-m', type=float, default=0.6, help='a fix this far off is wrong')
    args = parser.parse_args(argv)

    model = OnnxWorldModel(args.model_dir, threads=2, int8=args.int8)
    sim_config = SimConfig(layout=args.layout, image_width=model.input_width,
                           image_height=model.input_height)
    specs = plan_episodes(HarnessConfig(layout=args.layout), sim_config, args.goals, args.seed)
    variants = [json.loads(v) for v in (args.map or ['{}'])]
    with tempfile.TemporaryDirectory() as tmp, DiffDriveSim(sim_config) as sim, \
            LatentStore(MemoryConfig(path=f'{tmp}/map.sqlite3'), dim=model.latent_dim) as store:
        latent_map = LatentMap(store, model.relative_pose, MapConfig())
        origin, truth_at, _ = map_by_tour(sim, model, latent_map, args.layout, args.tour_seed,
                                          args.mapping_steps)
        latent_map.add_proximity_edges()
        kf = latent_map.kf
        truth = np.stack([truth_at[round(kf.stamp[i] * 1e9)] for i in range(kf.n)])
        goals = [(geometry.relative(origin, np.asarray(s.goal)),
                  model.encode(sim.render_at(s.goal, distractors=False))[0]) for s in specs]
        print(f'map: {kf.n} keyframes from {args.mapping_steps} tour steps; '
              f'{len(goals)} goals ({args.layout}, seed {args.seed})')
        base = latent_map.config
        for variant in variants:
            latent_map.config = dataclasses.replace(base, **variant)
            score(latent_map, truth, goals, args.far_m, json.dumps(variant))
        latent_map.config = base
    return 0


def score(latent_map, truth, goals, far_m: float, name: str):
    """Print the fix errors of goals [(true map pose, latent)] and retrieval's recall."""
    kf, cfg = latent_map.kf, latent_map.config
    errors, seen = [], 0
    for pose, latent in goals:
        idx = kf.retrieve(latent, cfg.localise_k)
        d = truth[idx] - pose
        seen += bool(np.any((np.hypot(d[:, 0], d[:, 1]) <= NEAR_M)
                            & (np.abs(geometry.wrap_angle(d[:, 2])) <= NEAR_RAD)))
        fix = latent_map.localise(latent)
        if fix is None:
            continue
        errors.append(float(np.hypot(*(fix.pose[:2] - pose[:2]))))
    e = np.asarray(errors)
    median, p90 = (np.median(e), np.percentile(e, 90)) if len(e) else (math.nan, math.nan)
    print(f'{name}: placed {len(e)}/{len(goals)}, error median {median:.3f} m, p90 '
          f'{p90:.3f} m, {(e > far_m).sum()} more than {far_m} m off; '
          f'retrieval saw the goal place for {seen}/{len(goals)}')


if __name__ == '__main__':
    sys.exit(main())
