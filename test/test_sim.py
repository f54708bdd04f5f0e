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
"""DiffDriveSim behaviour: determinism, motion, walls, odometry noise, distractors, layouts."""

import math

import numpy as np
import pytest

from world_model.config import ConfigError, validate
from world_model.envs import (
    DiffDriveSim,
    ExplorationPolicy,
    SimConfig,
    build_layout,
    generate_episodes,
)
from world_model.geometry import relative

SMALL = dict(image_width=16, image_height=16)
NO_NOISE = dict(odom_linear_noise=0.0, odom_angular_noise=0.0, odom_scale_error=0.0,
                odom_gyro_bias=0.0)


def drive(sim, actions):
    return [sim.step(a) for a in actions]


def test_same_seed_and_actions_reproduce_frames_and_poses():
    config = SimConfig(distractors=True, layout='random', **SMALL)
    actions = np.random.default_rng(0).uniform([-0.2, -1.5], [0.5, 1.5], size=(15, 2))
    runs = []
    for _ in range(2):
        with DiffDriveSim(config) as sim:  # two instances, each with its own pybullet client
            runs.append([sim.reset(seed=7)] + drive(sim, actions))
    a, b = runs
    for sa, sb in zip(a, b):
        np.testing.assert_array_equal(sa.image, sb.image)
        np.testing.assert_array_equal(sa.true_pose, sb.true_pose)
        np.testing.assert_array_equal(sa.odom_pose, sb.odom_pose)
    with DiffDriveSim(config) as sim:
        other = sim.reset(seed=8)
    assert not np.allclose(other.true_pose, a[0].true_pose)


def test_two_sims_in_one_process_are_independent():
    with DiffDriveSim(SimConfig(**SMALL)) as a, DiffDriveSim(SimConfig(**SMALL)) as b:
        a.reset(seed=1, pose=(0.0, 0.0, 0.0))
        b.reset(seed=1, pose=(0.0, 0.0, 0.0))
        drive(a, [(0.5, 0.0)] * 5)
        assert b.step((0.0, 0.0)).true_pose[0] == 0.0


def test_forward_command_moves_along_heading():
    yaw = 0.7
    with DiffDriveSim(SimConfig(**SMALL)) as sim:
        sim.reset(seed=0, layout='open', pose=(-0.5, -0.5, yaw))
        last = drive(sim, [(0.4, 0.0)] * 10)[-1]
    dx, dy = last.true_pose[:2] - (-0.5, -0.5)
    assert math.hypot(dx, dy) > 0.3
    assert abs(math.atan2(dy, dx) - yaw) < 1e-6
    assert last.true_twist[0] == pytest.approx(0.4)
    assert not last.collision


def test_turning_changes_yaw_in_place():
    with DiffDriveSim(SimConfig(**SMALL)) as sim:
        sim.reset(seed=0, pose=(0.0, 0.0, 0.0))
        steps = drive(sim, [(0.0, 1.0)] * 10)
        np.testing.assert_allclose(steps[-1].true_pose[:2], 0.0, atol=1e-12)
        assert steps[-1].true_pose[2] > 0.8
        steps = drive(sim, [(0.0, -1.0)] * 20)
        assert steps[-1].true_pose[2] < -0.5


def test_wall_stops_robot_and_reports_collision():
    config = SimConfig(**SMALL)
    with DiffDriveSim(config) as sim:
        sim.reset(seed=0, layout='open', pose=(1.0, 0.0, 0.0))  # facing the east wall
        steps = drive(sim, [(0.5, 0.0)] * 40)
        xs = np.array([s.true_pose[0] for s in steps])
        limit = sim.layout.half - config.robot_radius
        assert xs.max() <= limit + 1e-9
        assert xs[-1] > limit - 0.02  # it did reach the wall
        assert steps[-1].collision and steps[-1].true_twist[0] == 0.0
        assert not steps[0].collision
        # Backing off is allowed and clears the contact.
        back = drive(sim, [(-0.2, 0.0)] * 3)
        assert back[-1].true_pose[0] < xs[-1] and not back[-1].collision


def test_non_finite_and_out_of_range_commands_are_made_safe():
    with DiffDriveSim(SimConfig(**SMALL)) as sim:
        sim.reset(seed=0, pose=(0.0, 0.0, 0.0))
        step = sim.step((float('nan'), float('inf')))
        np.testing.assert_array_equal(step.applied_action, (0.0, 0.0))
        step = sim.step((9.0, -9.0))
        np.testing.assert_array_equal(step.applied_action, (0.5, -1.5))


def test_odometry_is_exact_without_noise_and_within_envelope_with_noise():
    actions = [(0.3, 0.2)] * 30
    with DiffDriveSim(SimConfig(**SMALL, **NO_NOISE)) as sim:
        start = sim.reset(seed=0, pose=(-1.0, -1.0, 0.3))
        np.testing.assert_array_equal(start.odom_pose, (0.0, 0.0, 0.0))
        for s in drive(sim, actions):
            # odometry is the true motion relative to the start pose
            np.testing.assert_allclose(s.odom_pose, relative(start.true_pose, s.true_pose),
                                       atol=1e-9)
    config = SimConfig(**SMALL)
    n, dt = len(actions), config.control_period
    # 4-sigma envelope: scale error over the distance, white speed noise, heading drift.
    heading = 4 * (config.odom_gyro_bias * n * dt + config.odom_angular_noise * dt * n ** 0.5)
    errors = []
    with DiffDriveSim(config) as sim:
        for seed in range(5):
            start = sim.reset(seed=seed, pose=(-1.0, -1.0, 0.3))
            np.testing.assert_array_equal(start.odom_pose, (0.0, 0.0, 0.0))
            steps = drive(sim, actions)
            truth = relative(start.true_pose, steps[-1].true_pose)
            dist = sum(abs(s.true_twist[0]) * dt for s in steps)
            bound = (dist * (4 * config.odom_scale_error + heading)
                     + 4 * config.odom_linear_noise * dt * n ** 0.5)
            error = np.linalg.norm(steps[-1].odom_pose[:2] - truth[:2])
            yaw_error = abs(math.remainder(steps[-1].odom_pose[2] - truth[2], 2 * math.pi))
            assert error < bound and yaw_error < heading
            errors.append(error)
    assert max(errors) > 1e-4  # noise is really applied


def test_distractors_change_images_but_not_poses():
    actions = np.random.default_rng(1).uniform([0.0, -1.0], [0.5, 1.0], size=(12, 2))
    runs = {}
    for flag in (False, True):
        with DiffDriveSim(SimConfig(distractors=True if flag else False, num_distractors=6,
                                    **SMALL)) as sim:
            runs[flag] = [sim.reset(seed=3)] + drive(sim, actions)
    for a, b in zip(runs[False], runs[True]):
        np.testing.assert_array_equal(a.true_pose, b.true_pose)
        np.testing.assert_array_equal(a.odom_pose, b.odom_pose)
    assert any(not np.array_equal(a.image, b.image) for a, b in zip(runs[False], runs[True]))


@pytest.mark.parametrize('layout', ['open', 'two_rooms', 'random'])
def test_sampled_poses_are_collision_free(layout):
    config = SimConfig(**SMALL)
    rng = np.random.default_rng(5)
    with DiffDriveSim(config) as sim:
        sim.reset(seed=2, layout=layout)
        assert sim.layout.name == layout
        for _ in range(20):
            pose = sim.sample_free_pose(rng)
            assert sim.layout.is_free(pose[0], pose[1], config.robot_radius)
            assert not sim._penetrates(pose)  # pybullet agrees with the layout geometry
            assert -math.pi < pose[2] <= math.pi
            sim.reset(seed=2, layout=layout, pose=pose)


def test_layouts_have_walls_landmarks_and_seeded_obstacles():
    two = build_layout('two_rooms', 4.0)
    assert {b.kind for b in two.blocks} == {'wall', 'landmark'}
    assert two.is_free(0.0, 0.0, 0.18)  # the door
    assert not two.is_free(0.0, 1.5, 0.18)  # the dividing wall
    a, b, c = (build_layout('random', 4.0, seed) for seed in (1, 1, 2))
    assert a == b and a != c
    assert any(block.kind == 'obstacle' for block in a.blocks)


def test_bad_start_pose_and_bad_config_are_named():
    with DiffDriveSim(SimConfig(**SMALL)) as sim:
        with pytest.raises(ValueError, match='start pose'):
            sim.reset(seed=0, pose=(5.0, 0.0, 0.0))
    with pytest.raises(ConfigError, match="'fov_deg'.*allowed"):
        validate(SimConfig(fov_deg=500.0))


def test_exploration_episodes_have_consistent_shapes_and_chained_clock():
    config = SimConfig(**SMALL)
    episodes = generate_episodes(2, 12, seed=4, layout='two_rooms', sim_config=config)
    assert [len(e) for e in episodes] == [12, 12]
    stamps = np.concatenate([e.stamps_ns for e in episodes])
    assert np.all(np.diff(stamps) > 0)
    first = episodes[0]
    assert first.images.shape == (12, 16, 16, 3)
    assert np.abs(first.actions[:, 0]).max() <= config.max_linear_speed
    assert np.ptp(first.ground_truth[:, 0]) + np.ptp(first.ground_truth[:, 1]) > 0.1
    again = generate_episodes(1, 12, seed=4, layout='two_rooms', sim_config=config)[0]
    np.testing.assert_array_equal(again.images, first.images)


def test_exploration_backs_off_after_collision():
    policy = ExplorationPolicy(seed=0)
    policy.act(False)
    reverse = [policy.act(i == 0) for i in range(3)]
    assert all(a[0] < 0 for a in reverse)


def test_exploration_pauses_stand_still_and_leave_the_motion_sequence_alone():
    moving, pausing = ExplorationPolicy(seed=3), ExplorationPolicy(seed=3, pause_prob=0.05)
    plain = np.array([moving.act() for _ in range(400)])
    with_pauses = np.array([pausing.act() for _ in range(600)])
    still = np.all(with_pauses == 0.0, axis=1)
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, still.astype(int), 0])))[::2]
    runs = runs[:-1] if still[-1] else runs  # the last pause may be cut off
    assert 3 <= runs.min() and runs.max() <= 15 and 0.1 < still.mean() < 0.6
    # between the pauses, the same smooth motion as without them
    np.testing.assert_array_equal(with_pauses[~still][:len(plain)], plain[:(~still).sum()])
    assert not np.any(np.all(plain == 0.0, axis=1))  # without pauses it never stands still
    with pytest.raises(ValueError, match='pause_prob'):
        ExplorationPolicy(pause_prob=1.5)


def test_demo_writes_png(tmp_path, capsys):
    from agent_node.cli import main as cli_main

    out = tmp_path / 'nested' / 'demo.png'
    assert cli_main(['explore', '--seconds', '1', '--image-size', '16', '--out', str(out)]) == 0
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert str(out.resolve()) in capsys.readouterr().out
