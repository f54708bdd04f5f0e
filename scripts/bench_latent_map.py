#!/usr/bin/env python3
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
"""Benchmark the latent map: observe() per frame, localise(), route() at several map sizes.

    OPENBLAS_NUM_THREADS=1 python scripts/bench_latent_map.py [--sizes 500 2000 10000]

A map of N keyframes is built by an anchor session driving random waypoints (the labelled fake
world of test/map_world.py: its relpose is a cheap decoder, a real head costs its own inference
on top), its odometry drifting in heading at --anchor-drift rad/s, so that observe() is timed
with the drift correction fitting and applying (heading_drift.py). Then a second session with a
shifted origin drives on: observe() is timed over all its frames (unjoined with join attempts,
then joined: keyframes, refinement, proximity batches, eviction at the bound); a third one in an
unmapped place times failing join attempts; localise() over goal views of the second session's
drive and route() from its last pose.
"""

import argparse
import pathlib
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'test'))

from map_world import FakeRelPose, drifting, drive, embed, odometry  # noqa: E402

from world_model import geometry  # noqa: E402
from world_model.config import from_dict  # noqa: E402
from world_model.memory import LatentMap, LatentStore, MemoryConfig  # noqa: E402


def _ms(samples) -> str:
    a = np.asarray(samples) * 1e3
    return f'median {np.median(a):6.3f} ms  p99 {np.percentile(a, 99):6.3f} ms'


def _waypoints(rng, n: int, half: float) -> list:
    return [tuple(p) for p in rng.uniform(-half, half, (n, 2))]


def bench(n: int, frames: int, seed: int = 0, drift: float = 0.005) -> dict:
    rng = np.random.default_rng(seed)
    half = max(2.0, 0.12 * np.sqrt(n))  # the area grows with the map: ~constant density
    with tempfile.TemporaryDirectory() as tmp:
        store = LatentStore(from_dict(MemoryConfig, {
            'path': f'{tmp}/map.sqlite3', 'max_keyframes': n, 'commit_interval_s': 1.0}),
            dim=128)
        amap = LatentMap(store, FakeRelPose(seed))
        amap.start_session()
        t0 = time.perf_counter()
        i, last, end, anchor = 0, [(0.0, 0.0)], None, []
        while len(store) < n:  # one continuous drive (a teleport would start a session)
            true = drive(last + _waypoints(rng, 20, half))
            last = [tuple(true[-1, :2])]
            # the odometry goes on from the last leg's end, turned as the new leg starts
            start = true[0] if end is None else geometry.compose(
                end[1], geometry.relative(end[0], true[0]))
            odom = drifting(true, drift, start=start)
            end = (true[-1], odom[-1])
            for pose, z in zip(odom, embed(true, rng)):
                t = time.perf_counter()
                amap.observe(i * 100_000_000, pose, z)
                anchor.append(time.perf_counter() - t)
                i += 1
        build = time.perf_counter() - t0
        shift = np.array([1.3, -0.7, 0.9])
        amap.start_session()
        true = drive(_waypoints(rng, 200, half))[:frames]
        odom, lat = odometry(true, shift), embed(true, rng)
        obs = []
        for pose, z in zip(odom, lat):
            i += 1
            t = time.perf_counter()
            amap.observe(i * 100_000_000, pose, z)
            obs.append(time.perf_counter() - t)
        # a third session somewhere never mapped: every other frame a join attempt that fails
        amap.start_session()
        far = drive(_waypoints(rng, 20, half) + np.array([10 * half, 0]))[:500]
        unjoined = []
        for pose, z in zip(far, embed(far, rng)):
            i += 1
            t = time.perf_counter()
            amap.observe(i * 100_000_000, pose, z)
            unjoined.append(time.perf_counter() - t)
        goals = true[rng.choice(len(true), 50)]
        loc, rte, err, found, routed = [], [], [], 0, 0
        for g, z in zip(goals, embed(goals, rng)):
            t = time.perf_counter()
            fix = amap.localise(z)
            loc.append(time.perf_counter() - t)
            if fix is None:
                continue
            found += 1
            err.append(float(np.hypot(*(fix.pose[:2] - g[:2]))))
            t = time.perf_counter()
            path = amap.route(geometry.compose(shift, odom[-1]), fix, latent=lat[-1])
            rte.append(time.perf_counter() - t)
            routed += bool(path)
        stats = amap.stats()
        store.close()
    return {'n': n, 'build_s': build, 'anchor': anchor, 'observe': obs, 'unjoined': unjoined,
            'localise': loc, 'route': rte, 'err': err, 'found': found, 'routed': routed,
            'stats': stats}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[500, 2000, 10000])
    parser.add_argument('--frames', type=int, default=2000)
    parser.add_argument('--anchor-drift', type=float, default=0.005,
                        help='heading drift of the mapping drive [rad/s]')
    args = parser.parse_args(argv)
    for n in args.sizes:
        r = bench(n, args.frames, drift=args.anchor_drift)
        s = r['stats']
        print(f'{n:6d} keyframes (built in {r["build_s"]:.1f} s, {s["edges"]} edges, '
              f'{s["evicted"]} evicted, {s["joined_sessions"]} of {s["sessions"]} sessions '
              f'joined)')
        rate = s['heading_drift_rate']
        print(f'       observe   {_ms(r["anchor"])}  ({len(r["anchor"])} frames, the mapping '
              f'drive; drift fitted {"none" if rate is None else f"{rate:.4f}"} rad/s)')
        print(f'       observe   {_ms(r["observe"])}  ({len(r["observe"])} frames, shifted '
              f'session joining the map)')
        print(f'       observe   {_ms(r["unjoined"])}  ({len(r["unjoined"])} frames, unmapped '
              f'place: join attempts)')
        print(f'       localise  {_ms(r["localise"])}  ({r["found"]}/50 goals found, median '
              f'error {np.median(r["err"] or [np.nan]):.3f} m)')
        if r['route']:
            print(f'       route     {_ms(r["route"])}  ({r["routed"]}/{r["found"]} routed)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
