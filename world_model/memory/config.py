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
"""MemoryConfig: where the latent memory lives and what it keeps (bounds included)."""

import dataclasses
import math
import pathlib

from world_model.config import param


@dataclasses.dataclass
class MemoryConfig:
    """Where the latent memory lives and what it keeps."""

    path: str = param('~/.ros/jepa_agent/latent_memory.sqlite3',
                      help='SQLite file of the memory (created with its folder if missing); '
                           '{model_id} becomes the first 12 hex digits of the model id, so '
                           'each model keeps its own memory')
    max_keyframes: int = param(10000, lo=1, hi=1_000_000,
                               help='keyframes kept; beyond this the eviction policy applies')
    keyframe_min_interval_s: float = param(1.0, lo=0.0, hi=3600.0,
                                           help='least time between two keyframes of '
                                                'LatentStore.add_keyframe (the latent '
                                                'map gates with map.keyframe_*)')
    keyframe_min_distance_m: float = param(0.25, lo=0.0, hi=1000.0,
                                           help='least travel since the last keyframe (or turn)')
    keyframe_min_turn_rad: float = param(0.5, lo=0.0, hi=math.pi,
                                         help='least rotation since the last keyframe (or travel)')
    history_length: int = param(16, lo=1, hi=4096,
                                help='recent latents kept so a restart resumes without cold start')
    commit_interval_s: float = param(1.0, lo=0.01, hi=60.0,
                                     help='background commit period: the most a crash can lose')
    eviction: str = param('redundant', choices=('redundant', 'fifo'),
                          help='which keyframe goes when full (see latent_store docstring)')
    eviction_window: int = param(64, lo=2, hi=4096,
                                 help="oldest keyframes searched by the 'redundant' eviction")


def memory_path(path: str, model_id: str = '') -> pathlib.Path:
    """The store file of a configured path: ~ expanded, {model_id} filled in."""
    model = ''.join(c for c in model_id if c.isalnum())[:12] or 'unknown'
    return pathlib.Path(path.replace('{model_id}', model)).expanduser()


def size_bound_bytes(config: MemoryConfig, dim: int) -> int:
    """Rough upper bound of the store's rows on disk: keyframes + history, float32 latents.

    Goals are not bounded (each one is set explicitly); SQLite page overhead and the WAL (reset
    at each checkpoint, about 4 MB at most by default) come on top.
    """
    keyframe_row = 4 * dim + 4 * 8 + 16  # latent blob, stamp + pose, row header
    history_row = 4 * dim + 8 + 16
    return config.max_keyframes * keyframe_row + config.history_length * history_row
