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
"""Compare closed-loop reports of the same episodes, episode by episode, against the first.

Each report's success rate comes with its Wilson 95% interval; every later report is paired
with the first on the episodes both played (same seed, start and goal; others are left out
and counted): the difference with a bootstrap 95% interval and the exact McNemar p-value
(world_model/evaluation/success_stats.py). Reports of different seeds share no episodes.

    python scripts/compare_closed_loop.py out/two_rooms.json out/two_rooms_distractors.json
"""

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model.evaluation.success_stats import compare, success_interval  # noqa: E402


def outcomes(path: str, policy: str) -> dict:
    """{(seed, start, goal): success} of one policy's episodes in a closed-loop report."""
    report = json.loads(pathlib.Path(path).read_text())
    episodes = report.get('episodes', {}).get(policy)
    if not episodes:
        raise SystemExit(f'{path}: no {policy!r} episodes in this report')
    return {(e['seed'], tuple(e['start']), tuple(e['goal'])): bool(e['success'])
            for e in episodes}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('reports', nargs='+', help='jepa-agent closed-loop --report JSONs')
    parser.add_argument('--policy', default='agent', choices=('agent', 'random'))
    parser.add_argument('--seed', type=int, default=0, help='bootstrap seed')
    args = parser.parse_args(argv)

    runs = [(path, outcomes(path, args.policy)) for path in args.reports]
    stems = [pathlib.Path(p).stem for p in args.reports]
    names = {p: (str(pathlib.Path(*pathlib.Path(p).parts[-2:]).with_suffix(''))
                 if stems.count(pathlib.Path(p).stem) > 1 else pathlib.Path(p).stem)
             for p in args.reports}  # a/run.json and b/run.json: 'a/run', 'b/run'
    for path, run in runs:
        wins = sum(run.values())
        low, high = success_interval(wins, len(run))
        print(f'{path}: {wins}/{len(run)} = {wins / len(run):.0%} (95% interval '
              f'{low:.0%}-{high:.0%})')
    base_path, base = runs[0]
    for path, run in runs[1:]:
        shared = sorted(set(base) & set(run))
        if not shared:
            print(f'{path}: no episode in common with {base_path}')
            continue
        result = compare([base[k] for k in shared], [run[k] for k in shared], seed=args.seed)
        left_out = len(base) + len(run) - 2 * len(shared)
        print(result.line(names[base_path], names[path])
              + (f' ({left_out} unpaired episodes left out)' if left_out else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
