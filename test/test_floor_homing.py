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
"""Floor homing: aligning a view with the goal view on the floor (floor_alignment.py), off the
frame's thread (floor_homing.py), fused into the goal estimate (map_goals.py).

Views are rendered by the real pybullet simulator (its checkerboard floor) at poses chosen
here; the simulator's camera geometry is the robot's calibration the aligner is given."""

import math
import types

import numpy as np
import pytest

from world_model import geometry
from world_model.config import ConfigError, validate
from world_model.envs import DiffDriveSim, SimConfig
from world_model.online import FramePipelineConfig
from world_model.online.floor_alignment import CameraGeometry, FloorAligner
from world_model.online.floor_homing import FloorHoming
from world_model.online.map_goals import MapGoals

SIM = SimConfig(layout='open', image_width=64, image_height=64)
CAMERA = CameraGeometry(SIM.camera_height, math.radians(SIM.camera_pitch_deg),
                        math.radians(SIM.fov_deg))
GOAL = np.array([0.3, -0.4, 0.5])  # facing the arena's plain east wall half a metre off


@pytest.fixture(scope='module')
def sim():
    with DiffDriveSim(SIM) as s:
        s.reset(seed=0)
        yield s


def _views(sim, offset):
    """(robot pose, its view, the goal view) with the robot at offset in the goal's frame."""
    robot = geometry.compose(GOAL, np.asarray(offset, np.float64))
    return robot, sim.render_at(robot, distractors=False), sim.render_at(GOAL, distractors=False)


@pytest.mark.parametrize('offset', [(0.0, 0.4, 0.0), (-0.3, -0.25, 0.2), (0.25, 0.1, -0.15)])
def test_alignment_finds_the_goal_view_to_the_side_where_the_guess_is_wrong(sim, offset):
    robot, view, goal_view = _views(sim, offset)
    truth = geometry.relative(robot, GOAL)
    guess = truth.copy()
    guess[1] -= math.copysign(0.35, truth[1])  # a head that shrinks the sideways offset
    found = FloorAligner(CAMERA).align(view, goal_view, guess)
    assert found.trusted
    assert np.hypot(*(found.pose[:2] - truth[:2])) < 0.08
    assert abs(geometry.wrap_angle(found.pose[2] - truth[2])) < 0.06


def test_a_floor_without_texture_gives_no_trusted_alignment():
    plain = np.full((64, 64, 3), 128, np.uint8)
    found = FloorAligner(CAMERA).align(plain, plain.copy(), np.zeros(3))
    assert not found.trusted


def test_views_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match='one camera'):
        FloorAligner(CAMERA).align(np.zeros((64, 64, 3), np.uint8),
                                   np.zeros((48, 64, 3), np.uint8), np.zeros(3))


def test_the_worker_returns_the_alignment_with_the_pose_its_view_was_taken_at(sim):
    robot, view, goal_view = _views(sim, (0.0, 0.4, 0.0))
    homing = FloorHoming(FloorAligner(CAMERA))
    try:
        assert homing.submit(robot, view, goal_view, np.zeros(3))
        assert homing.wait_idle()
        done = homing.take()
        assert done is not None and homing.take() is None  # taken once
        np.testing.assert_allclose(done.pose, robot)
        assert np.hypot(*(geometry.compose(done.pose, done.alignment.pose)[:2]
                          - GOAL[:2])) < 0.08
        assert homing.counters()['floor_trusted'] == 1
        # a reset (new goal) drops what was queued before it
        homing.submit(robot, view, goal_view, np.zeros(3))
        homing.reset()
        assert homing.wait_idle() and homing.take() is None
        assert not homing.submit(robot, view, goal_view[:32], np.zeros(3))
        assert homing.counters()['floor_skipped_shape'] == 1
    finally:
        homing.close()
    assert not homing.submit(robot, view, goal_view, np.zeros(3))  # closed


@pytest.mark.parametrize('size', [(1, 1), (2, 3), (64, 1)])
def test_a_view_the_aligner_cannot_use_is_counted_and_the_worker_goes_on(sim, size):
    robot, view, goal_view = _views(sim, (0.0, 0.4, 0.0))
    homing = FloorHoming(FloorAligner(CAMERA))
    tiny = np.zeros((*size, 3), np.uint8)
    try:
        homing.submit(robot, tiny, tiny.copy(), np.zeros(3))
        assert homing.wait_idle()
        done = homing.take()
        assert done is None or not done.alignment.trusted
        counters = homing.counters()
        assert counters['floor_errors'] + counters['floor_alignments'] == 1
        assert bool(counters['floor_last_error']) == (counters['floor_errors'] == 1)
        homing.submit(robot, view, goal_view, np.zeros(3))  # the next view still aligns
        assert homing.wait_idle() and homing.take().alignment.trusted
    finally:
        homing.close()


class _Map:
    """What MapGoals asks of a LatentMap while homing: nothing but the session."""

    joined, session = True, 1
    config = types.SimpleNamespace(fix_lateral_sigma_scale=10.0)


def test_map_goals_moves_a_homing_estimate_to_the_floor_alignment(sim):
    robot, view, goal_view = _views(sim, (0.0, 0.4, 0.0))
    truth = geometry.relative(robot, GOAL)

    def blind_sideways(za, zb):  # the head: right ahead and heading, sure, blind to the side
        rel = np.tile([truth[0], 0.0, truth[2]], (len(za), 1))
        return rel, np.tile([0.05, 0.08, 0.03], (len(za), 1))

    homing = FloorHoming(FloorAligner(CAMERA))
    goals = MapGoals(_Map(), blind_sideways, floor=homing)
    try:
        first = goals.update(robot, np.zeros(8), np.ones(8), image=view, goal_image=goal_view)
        assert np.hypot(*(first.pose[:2] - GOAL[:2])) > 0.3  # the head alone: beside the goal
        assert homing.wait_idle()
        later = goals.update(robot, np.zeros(8), np.ones(8), image=view, goal_image=goal_view)
        assert np.hypot(*(later.pose[:2] - GOAL[:2])) < 0.1
        without = MapGoals(_Map(), blind_sideways).update(robot, np.zeros(8), np.ones(8),
                                                          image=view, goal_image=goal_view)
        assert np.hypot(*(without.pose[:2] - GOAL[:2])) > 0.3
    finally:
        homing.close()


def test_floor_homing_without_the_camera_geometry_fails_at_start_up():
    with pytest.raises(ConfigError, match='camera_height_m'):
        validate(FramePipelineConfig(floor_homing=True, camera_height_m=0.25))
    validate(FramePipelineConfig(floor_homing=True, camera_height_m=0.25,
                                 camera_vfov_rad=1.57))


def test_the_world_model_node_refuses_floor_homing_without_the_camera():
    from agent_node.ros.world_model_params import WorldModelNodeConfig

    with pytest.raises(ConfigError, match='camera_vfov_rad'):
        validate(WorldModelNodeConfig(floor_homing=True, camera_height_m=0.25))
