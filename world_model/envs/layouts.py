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
"""Arena layouts as plain geometry: coloured walls, landmarks and obstacles (axis-aligned).

The geometry is independent of pybullet so that visualisation and planning tools can draw or
query it. Walls have distinct colours and landmarks stand in fixed places so that a forward
camera image tells where the robot is and which way it faces.
"""

import dataclasses
import math

import numpy as np

WALL_THICKNESS = 0.1
WALL_HEIGHT = 0.5

# North, south, east, west walls: distinct hues so every heading sees a different colour.
WALL_COLOURS = {
    'north': (0.85, 0.15, 0.15, 1.0),
    'south': (0.15, 0.3, 0.85, 1.0),
    'east': (0.15, 0.7, 0.2, 1.0),
    'west': (0.9, 0.8, 0.1, 1.0),
}
DIVIDER_COLOUR = (0.75, 0.75, 0.75, 1.0)
OBSTACLE_PALETTE = (
    (0.95, 0.5, 0.05, 1.0),  # orange
    (0.6, 0.2, 0.8, 1.0),  # purple
    (0.1, 0.75, 0.75, 1.0),  # teal
    (0.55, 0.35, 0.15, 1.0),  # brown
    (0.95, 0.4, 0.7, 1.0),  # pink
    (0.3, 0.3, 0.3, 1.0),  # dark grey
)


@dataclasses.dataclass(frozen=True)
class Block:
    """A static, colliding body: a box (size = x, y extents) or a cylinder (size = diameter)."""

    name: str
    kind: str  # 'wall', 'landmark' or 'obstacle'
    shape: str  # 'box' or 'cylinder'
    center: tuple[float, float]
    size: tuple[float, float]
    height: float
    rgba: tuple[float, float, float, float]

    def distance(self, x: float, y: float) -> float:
        """Distance from point (x, y) to the block's footprint (negative inside)."""
        dx, dy = x - self.center[0], y - self.center[1]
        if self.shape == 'cylinder':
            return math.hypot(dx, dy) - self.size[0] / 2
        qx, qy = abs(dx) - self.size[0] / 2, abs(dy) - self.size[1] / 2
        outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
        return outside + min(max(qx, qy), 0.0)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Arena bounds [-half, half]^2 (inner wall faces) and its static blocks."""

    name: str
    half: float
    blocks: tuple[Block, ...]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) of the free arena interior."""
        return (-self.half, self.half, -self.half, self.half)

    def clearance(self, x: float, y: float) -> float:
        """Distance from (x, y) to the nearest block (negative inside one)."""
        return min(block.distance(x, y) for block in self.blocks)

    def is_free(self, x: float, y: float, radius: float) -> bool:
        """True when a disc of radius at (x, y) lies inside the arena and touches no block."""
        inside = abs(x) <= self.half - radius and abs(y) <= self.half - radius
        return inside and self.clearance(x, y) > radius


def _walls(half: float) -> list[Block]:
    t, h, length = WALL_THICKNESS, WALL_HEIGHT, 2 * half + 2 * WALL_THICKNESS
    off = half + t / 2
    return [
        Block('north', 'wall', 'box', (0.0, off), (length, t), h, WALL_COLOURS['north']),
        Block('south', 'wall', 'box', (0.0, -off), (length, t), h, WALL_COLOURS['south']),
        Block('east', 'wall', 'box', (off, 0.0), (t, length), h, WALL_COLOURS['east']),
        Block('west', 'wall', 'box', (-off, 0.0), (t, length), h, WALL_COLOURS['west']),
    ]


def _landmarks(half: float) -> list[Block]:
    """Two pillars and a low box in fixed places near the corners."""
    d = half - 0.35
    return [
        Block('pillar_magenta', 'landmark', 'cylinder', (d, d), (0.24, 0.24), 0.8,
              (0.9, 0.1, 0.85, 1.0)),
        Block('pillar_cyan', 'landmark', 'cylinder', (-d, -d), (0.24, 0.24), 0.8,
              (0.1, 0.85, 0.95, 1.0)),
        Block('box_white', 'landmark', 'box', (-d, d), (0.3, 0.3), 0.35, (0.95, 0.95, 0.95, 1.0)),
    ]


def open_layout(half: float) -> Layout:
    return Layout('open', half, tuple(_walls(half) + _landmarks(half)))


def two_rooms_layout(half: float, door_width: float = 0.9) -> Layout:
    """Two rooms split by a wall along x = 0, joined by a door centred at y = 0."""
    seg = half - door_width / 2  # length of each divider segment
    t = WALL_THICKNESS
    dividers = [
        Block('divider_north', 'wall', 'box', (0.0, half - seg / 2), (t, seg), WALL_HEIGHT,
              DIVIDER_COLOUR),
        Block('divider_south', 'wall', 'box', (0.0, -half + seg / 2), (t, seg), WALL_HEIGHT,
              DIVIDER_COLOUR),
    ]
    return Layout('two_rooms', half, tuple(_walls(half) + dividers + _landmarks(half)))


def random_layout(half: float, seed: int, clearance: float = 0.55) -> Layout:
    """3 to 6 seeded random obstacles, kept `clearance` apart so that passages stay open."""
    rng = np.random.default_rng([seed, 7919])
    blocks = _walls(half) + _landmarks(half)
    count = int(rng.integers(3, 7))
    placed, tries = 0, 0
    while placed < count and tries < 200:
        tries += 1
        cylinder = rng.random() < 0.3
        if cylinder:
            size = (float(rng.uniform(0.2, 0.45)),) * 2
        else:
            size = (float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8)))
        margin = max(size) / 2 + clearance
        center = (float(rng.uniform(-half + margin, half - margin)),
                  float(rng.uniform(-half + margin, half - margin)))
        candidate = Block(f'obstacle_{placed}', 'obstacle', 'cylinder' if cylinder else 'box',
                          center, size, float(rng.uniform(0.25, 0.6)),
                          OBSTACLE_PALETTE[int(rng.integers(len(OBSTACLE_PALETTE)))])
        # Keep a robot-sized passage between this obstacle and every non-wall block.
        if all(_gap(candidate, other) > clearance for other in blocks[4:]):
            blocks.append(candidate)
            placed += 1
    return Layout('random', half, tuple(blocks))


def _gap(a: Block, b: Block) -> float:
    """Lower bound of the distance between two footprints (cylinders taken as their boxes)."""
    gap_x = abs(a.center[0] - b.center[0]) - (a.size[0] + b.size[0]) / 2
    gap_y = abs(a.center[1] - b.center[1]) - (a.size[1] + b.size[1]) / 2
    return max(gap_x, gap_y)


LAYOUTS = ('open', 'two_rooms', 'random')


def build_layout(name: str, arena_size: float, seed: int = 0) -> Layout:
    """The named layout for a square arena of side arena_size (seed used by 'random')."""
    half = arena_size / 2
    if name == 'open':
        return open_layout(half)
    if name == 'two_rooms':
        return two_rooms_layout(half)
    if name == 'random':
        return random_layout(half, seed)
    raise ValueError(f'unknown layout {name!r}: allowed one of {", ".join(LAYOUTS)}')
