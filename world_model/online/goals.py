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
"""The frame pipeline's active goal: a goal image, or a named goal from the latent memory."""

import dataclasses

import numpy as np


class GoalError(ValueError):
    """A goal request that cannot be served (unknown name, nothing seen yet); the message says
    why."""


@dataclasses.dataclass
class ActiveGoal:
    name: str  # '' for a goal image
    latent: np.ndarray  # [D]
    pose: np.ndarray | None  # map frame, when known (a named goal remembered in a joined session)
    image: np.ndarray | None = None  # rgb of a goal image (floor homing); a named goal has none

    @property
    def label(self) -> str:
        return self.name or 'goal image'

