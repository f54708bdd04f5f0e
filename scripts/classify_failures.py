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
"""Why the agent's episodes of a closed-loop report failed, one cause each (ground truth scores).

Causes, first match wins:
- never placed: the world model published no goal estimate (the session never joined the map,
  or no keyframe matched the goal);
- misplaced: the last estimate was more than --misplaced-m from the goal (a look-alike place
  or a bad join);
- stuck: --stuck-steps or more steps in contact (a door jamb, a wall);
- short: the estimate was close, yet the robot ended outside the success radius (homing's
  residual, a stop short of the goal, the budget spent).
In two rooms each failure also says whether the goal was in the other room.

    python scripts/classify_failures.py out/cl.json [--verbose]
"""

import argparse
import collections
import json
import sys

CAUSES = ('never placed', 'misplaced', 'stuck', 'short')


def cause(episode: dict, misplaced_m: float, stuck_steps: int) -> str:
    """The failure cause of one agent episode summary (see the module docstring)."""
    localisation = episode.get('goal_localisation') or {}
    error = localisation.get('last_error_m')
    if error is None:
        return 'never placed'
    if error > misplaced_m:
        return 'misplaced'
    if episode['collisions'] >= stuck_steps:
        return 'stuck'
    return 'short'


def other_room(episode: dict) -> bool:
    """Start and goal on either side of the two-rooms divider (x = 0)."""
    return (episode['start'][0] < 0.0) != (episode['goal'][0] < 0.0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('report', help='a jepa-agent closed-loop --report JSON')
    parser.add_argument('--misplaced-m', type=float, default=0.5)
    parser.add_argument('--stuck-steps', type=int, default=20)
    parser.add_argument('--verbose', action='store_true', help='one line per failed episode')
    args = parser.parse_args(argv)
    report = json.loads(open(args.report).read())
    episodes = report['episodes'].get('agent')
    if not episodes:
        print(f'{args.report}: no agent episodes', file=sys.stderr)
        return 1
    two_rooms = report['protocol']['layout'] == 'two_rooms'
    failed = [e for e in episodes if not e['success']]
    counts = collections.Counter(cause(e, args.misplaced_m, args.stuck_steps) for e in failed)
    print(f'{args.report}: {len(episodes) - len(failed)} of {len(episodes)} reached the goal; '
          f'failures: ' + ', '.join(f'{name} {counts[name]}' for name in CAUSES))
    if two_rooms:
        across = [e for e in episodes if other_room(e)]
        print(f'goal in the other room: {sum(e["success"] for e in across)} of {len(across)} '
              f'reached')
    if args.verbose:
        for e in failed:
            loc = e.get('goal_localisation') or {}
            print(f'  episode {e["index"]:3d} {cause(e, args.misplaced_m, args.stuck_steps):12s}'
                  f' final {e["final_distance"]:.2f} m, estimate off '
                  f'{loc.get("last_error_m", float("nan")):.2f} m, {e["collisions"]} contact '
                  f'steps, {e["end_reason"]}' + (', other room' if two_rooms and other_room(e)
                                                 else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
