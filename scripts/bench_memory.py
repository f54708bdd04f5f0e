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
"""Benchmark the latent memory: per-frame cost in the frame loop, recall latency, reopen time.

    python scripts/bench_memory.py [--dim 128] [--keyframes 10000] [--frames 2000]

On a loaded machine a multi-threaded BLAS turns the 10k-row matrix-vector product of nearest()
(and the eviction search) into millisecond stalls at p99; OPENBLAS_NUM_THREADS=1 avoids them.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from world_model.config import from_dict  # noqa: E402
from world_model.memory import LatentStore, MemoryConfig  # noqa: E402


def _us(samples) -> str:
    a = np.asarray(samples) * 1e6
    return f'median {np.median(a):8.1f} us   p99 {np.percentile(a, 99):8.1f} us'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dim', type=int, default=128)
    parser.add_argument('--keyframes', type=int, default=10000)
    parser.add_argument('--frames', type=int, default=2000)
    parser.add_argument('--eviction', default='redundant', choices=('redundant', 'fifo'))
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    d, n = args.dim, args.keyframes
    latents = rng.normal(size=(n + args.frames, d)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = from_dict(MemoryConfig, {
            'path': f'{tmp}/mem.sqlite3', 'max_keyframes': n, 'keyframe_min_interval_s': 0.0,
            'keyframe_min_distance_m': 0.0, 'commit_interval_s': 1.0, 'history_length': 16,
            'eviction': args.eviction})
        store = LatentStore(cfg, dim=d)
        t0 = time.perf_counter()
        for i in range(n):
            store.add_keyframe(i, (0.01 * i, 0.0, 0.0), latents[i])
        fill = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.flush()
        commit = time.perf_counter() - t0
        blas = os.environ.get('OPENBLAS_NUM_THREADS', 'unset')
        print(f'memory bench: D={d}, {n} keyframes, eviction={args.eviction}, '
              f'OPENBLAS_NUM_THREADS={blas}')
        print(f'fill {n} keyframes: {fill:.3f} s; one commit of them: {commit:.3f} s')

        accepted, gated = [], []
        for j in range(args.frames):
            i = n + j
            t0 = time.perf_counter()
            store.push_history(i, latents[i])
            store.add_keyframe(i, (0.01 * i, 0.0, 0.0), latents[i])  # full store: evicts
            accepted.append(time.perf_counter() - t0)
        store.config.keyframe_min_interval_s = 1e9  # every frame now fails the gating
        for j in range(args.frames):
            i = n + j
            t0 = time.perf_counter()
            store.push_history(i, latents[i])
            store.add_keyframe(i, (0.01 * i, 0.0, 0.0), latents[i])
            gated.append(time.perf_counter() - t0)
        store.config.keyframe_min_interval_s = 0.0
        print(f'per frame, keyframe stored + eviction : {_us(accepted)}')
        print(f'per frame, keyframe gated out        : {_us(gated)}')
        store.flush()  # queries below measured without a commit running alongside

        for k in (1, 10):
            times = []
            for q in latents[:300]:
                t0 = time.perf_counter()
                store.nearest(q, k=k)
                times.append(time.perf_counter() - t0)
            print(f'nearest(k={k:2d}) over {len(store)} keyframes  : {_us(times)}')
        times = []
        for x in rng.uniform(0, 0.01 * n, size=300):
            t0 = time.perf_counter()
            store.by_pose_radius(x, 0.0, 0.5)
            times.append(time.perf_counter() - t0)
        print(f'by_pose_radius(0.5 m)                : {_us(times)}')
        t0 = time.perf_counter()
        store.close()
        closing = time.perf_counter() - t0
        t0 = time.perf_counter()
        store = LatentStore(cfg)
        reopen = time.perf_counter() - t0
        print(f'close (final commit): {closing * 1e3:.1f} ms; reopen with {len(store)} keyframes: '
              f'{reopen * 1e3:.1f} ms; file {pathlib.Path(cfg.path).stat().st_size / 1e6:.1f} MB')
        store.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
