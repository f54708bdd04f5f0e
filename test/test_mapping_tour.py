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
"""The mapping tour driven in DiffDriveSim directly (no ROS)."""

import math

import numpy as np
import pytest

from world_model.envs import DiffDriveSim, SimConfig
from world_model.envs.exploration import ActionLimits
from world_model.evaluation.mapping_tour import MappingTour, plan_tour
from world_model.evaluation.protocol import HarnessConfig

DEFAULT_STEPS = HarnessConfig().mapping_steps


def drive(layout: str, seed: int, steps: int):
    config = SimConfig(layout=layout, image_width=8, image_height=8)
    with DiffDriveSim(config) as sim:
        sim.reset(seed=seed)
        limits = ActionLimits.from_config(config)
        tour = MappingTour(sim.layout, config.robot_radius, limits, seed)
        step = sim.reset(seed=seed, pose=tour.start)
        poses, collisions, commands = [step.true_pose], 0, []
        for _ in range(steps):
            command = tour.act(step.true_pose)
            commands.append(command)
            step = sim.step(command)
            poses.append(step.true_pose)
            collisions += step.collision
    return tour, np.array(poses), collisions, np.array(commands), limits


@pytest.mark.parametrize('seed', [0, 1])
def test_the_default_tour_maps_both_rooms_through_the_door_at_every_heading(seed):
    tour, poses, collisions, commands, limits = drive('two_rooms', seed, DEFAULT_STEPS)
    assert collisions <= 3
    assert tour.skipped == 0
    west, east = poses[:, 0] < -0.2, poses[:, 0] > 0.2
    assert west.mean() > 0.25 and east.mean() > 0.25  # both rooms, a fair share each
    sides = np.sign(poses[:, 0])
    crossings = np.flatnonzero(sides[1:] != sides[:-1])
    assert len(crossings) >= 1
    assert np.all(np.abs(poses[crossings, 1]) < 0.45)  # through the door, not the wall
    for room in (west, east):
        headings = np.histogram(poses[room, 2], bins=8, range=(-math.pi, math.pi))[0]
        assert headings.min() > 0, headings  # every 45-degree sector seen in each room
    # spread over the room, not only its middle
    for room in (west, east):
        assert np.ptp(poses[room, 1]) > 2.5
    assert np.all(commands[:, 0] <= limits.max_linear + 1e-9)
    assert np.all(commands[:, 0] >= -limits.max_reverse - 1e-9)
    assert np.all(np.abs(commands[:, 1]) <= limits.max_angular + 1e-9)


def test_the_tour_is_seeded_and_keeps_going_past_its_last_waypoint():
    with DiffDriveSim(SimConfig(layout='two_rooms', image_width=8, image_height=8)) as sim:
        sim.reset(seed=0)
        layout = sim.layout
    assert plan_tour(layout, 0.18, 3) == plan_tour(layout, 0.18, 3)
    assert plan_tour(layout, 0.18, 3) != plan_tour(layout, 0.18, 4)
    tour, poses, collisions, _, _ = drive('two_rooms', 0, 2 * DEFAULT_STEPS)
    assert tour.visited > len(tour.waypoints)  # turned back along the route
    assert collisions <= 5


@pytest.mark.parametrize('layout', ['open', 'random'])
def test_the_tour_drives_other_layouts_without_running_into_things(layout):
    tour, poses, collisions, _, _ = drive(layout, 2, 600)
    assert collisions <= 3
    assert tour.visited >= 3

