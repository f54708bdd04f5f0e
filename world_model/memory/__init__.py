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
"""Persistent latent memory: recent history, keyframes (place recall), named goals, and the
latent map (sessions joined into one map frame, a graph for routes)."""

from world_model.memory.config import MemoryConfig, memory_path
from world_model.memory.keyframe_index import Keyframe, Recall
from world_model.memory.latent_map import Fix, LatentMap, MapDisplay
from world_model.memory.latent_store import Goal, LatentStore
from world_model.memory.map_config import MapConfig
from world_model.memory.recovery import Recovery, StoreAccessError
from world_model.memory.schema import CorruptStoreError, StoreMismatchError

__all__ = ['CorruptStoreError', 'Fix', 'Goal', 'Keyframe', 'LatentMap', 'LatentStore', 'MapConfig',
           'MapDisplay', 'MemoryConfig', 'Recall', 'Recovery', 'StoreAccessError',
           'StoreMismatchError', 'memory_path']
