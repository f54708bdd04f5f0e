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
"""Latent MPC core on a known analytic model (unicycle): MPPI / CEM steer to goals, in limits."""

import dataclasses

import numpy as np
import pytest

from world_model.config import ConfigError, from_dict
from world_model.planning import (
    CANDIDATE_NAMES,
    LatentMPC,
    PlannerConfig,
    Rollout,
    default_candidates,
    enforce_limits,
    fit_horizon,
    trajectory_costs,
    unicycle_rollout,
)
from world_model.planning.cem import cem_update, elite_indices
from world_model.planning.mppi import mppi_update, mppi_weights

METHODS = ('mppi', 'cem')


def unicycle(config):
    def rollout(state, actions):
        return Rollout(poses=unicycle_rollout(state, actions, config.control_period))
    return rollout


def assert_within_limits(actions, last_command, config):
    low = np.array([config.v_min, -config.omega_max]) - 1e-9
    high = np.array([config.v_max, config.omega_max]) + 1e-9
    assert (actions >= low).all() and (actions <= high).all()
    previous = np.concatenate([np.broadcast_to(last_command, (actions.shape[0], 1, 2)),
                               actions[:, :-1]], axis=1)
    step = np.array([config.accel_linear, config.accel_angular]) * config.control_period
    assert (np.abs(actions - previous) <= step + 1e-9).all()


def drive(config, goal, start=(0.0, 0.0, 0.0), steps=80, seed=0):
    """Closed loop on the unicycle: returns (final pose, steps used, commands)."""
    mpc = LatentMPC(config, seed=seed)
    mpc.goal = goal
    pose = np.asarray(start, dtype=np.float64)
    commands = []
    for step in range(steps):
        command = mpc.plan(unicycle(config), pose)
        commands.append(command)
        pose = unicycle_rollout(pose, command[None, None], config.control_period)[0, 0]
        if np.hypot(*(pose[:2] - np.asarray(goal[:2]))) < config.goal_tolerance:
            return pose, step + 1, np.array(commands)
    return pose, steps, np.array(commands)


@pytest.mark.parametrize('method', METHODS)
def test_plan_reaches_goal_and_first_action_points_at_it(method):
    config = PlannerConfig(method=method, num_samples=64, horizon=10, iterations=3)
    goal = (1.5, 1.0, 0.0)
    pose, steps, commands = drive(config, goal)
    assert np.hypot(pose[0] - goal[0], pose[1] - goal[1]) < config.goal_tolerance, pose
    assert steps < 80
    # Goal ahead-left: the first command moves forward and turns left.
    assert commands[0, 0] > 0.0 and commands[0, 1] > 0.0


@pytest.mark.parametrize('method', METHODS)
def test_goal_behind_turns_toward_it(method):
    config = PlannerConfig(method=method, num_samples=64, iterations=3)
    mpc = LatentMPC(config, seed=1)
    mpc.goal = (-0.2, -1.5, 0.0)  # to the right and slightly behind
    commands = [mpc.plan(unicycle(config), np.zeros(3)) for _ in range(3)]
    assert commands[-1][1] < 0.0  # turning right (clockwise)


@pytest.mark.parametrize('method', METHODS)
def test_goal_straight_behind_turns_around_instead_of_reversing(method):
    config = PlannerConfig(method=method, num_samples=64, iterations=1)  # as online
    pose, steps, _ = drive(config, (-1.5, 0.05, 0.0), steps=90)
    assert steps < 90, pose
    assert abs(pose[2]) > 2.5, pose  # arrived facing the goal direction, not reversing there


@pytest.mark.parametrize('method', METHODS)
def test_cost_decreases_over_iterations(method):
    config = PlannerConfig(method=method, num_samples=128, iterations=6)
    mpc = LatentMPC(config, seed=0)
    mpc.goal = (2.0, -1.0, 0.0)
    mpc.plan(unicycle(config), np.zeros(3))
    costs = mpc.iteration_costs
    assert len(costs) == 6
    assert costs[-1] < costs[0] - 1e-3, costs


@pytest.mark.parametrize('method', METHODS)
def test_limits_always_respected(method):
    config = PlannerConfig(method=method, num_samples=64, horizon=8, iterations=2,
                           noise_v=2.0, noise_omega=5.0, v_max=0.4, v_min=-0.1, omega_max=1.0,
                           accel_linear=0.5, accel_angular=2.0)
    mpc = LatentMPC(config, seed=3)
    mpc.goal = (-2.0, 0.5, 0.0)
    pose = np.zeros(3)
    rng = np.random.default_rng(0)
    for _ in range(10):
        last = mpc.last_command.copy()
        samples = mpc.propose()
        assert_within_limits(samples, last, config)
        command = mpc.plan(unicycle(config), pose)
        assert_within_limits(command[None, None], last, config)
        # Arbitrary (infeasible) samples and costs must still give a feasible command.
        last = mpc.last_command.copy()
        wild = rng.normal(scale=10.0, size=(16, 8, 2))
        command = mpc.update(wild, rng.normal(size=16))
        assert_within_limits(command[None, None], last, config)
        pose = unicycle_rollout(pose, command[None, None], config.control_period)[0, 0]


def test_warm_start_shifts_plan_by_one_step():
    config = PlannerConfig(horizon=5, v_max=10.0, v_min=-10.0, omega_max=10.0,
                           accel_linear=100.0, accel_angular=100.0)
    mpc = LatentMPC(config)
    plan = np.stack([np.arange(5) * 0.1, -np.arange(5) * 0.2], axis=1)
    samples = np.repeat(plan[None], 8, axis=0)
    command = mpc.update(samples, np.zeros(8))  # identical samples: mean = plan
    np.testing.assert_allclose(command, plan[0])
    np.testing.assert_allclose(mpc.nominal, np.concatenate([plan[1:], plan[-1:]]))
    proposal = mpc.propose()
    np.testing.assert_allclose(proposal[0], mpc.nominal)  # shifted nominal is candidate 0
    np.testing.assert_allclose(proposal[1], 0.0)  # stop is candidate 1


def test_proposal_contains_nominal_and_decelerating_stop():
    config = PlannerConfig(num_samples=16, horizon=6, accel_linear=1.0)
    mpc = LatentMPC(config)
    mpc.reset(last_command=(0.35, 0.0))
    proposal = mpc.propose()
    assert proposal.shape == (16, 6, 2)
    np.testing.assert_allclose(proposal[1, :, 0], [0.25, 0.15, 0.05, 0.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(proposal[0], mpc.nominal)


def test_default_candidates_cover_forward_turns_and_stop():
    candidates = default_candidates(horizon=7, v=0.3, omega=1.0)
    assert candidates.shape == (len(CANDIDATE_NAMES), 7, 2)
    by_name = dict(zip(CANDIDATE_NAMES, candidates))
    assert (by_name['forward'][:, 0] > 0).all() and (by_name['forward'][:, 1] == 0).all()
    assert (by_name['turn_left'][:, 1] > 0).all() and (by_name['turn_right'][:, 1] < 0).all()
    assert (by_name['arc_left'][:, 1] > 0).all() and (by_name['arc_right'][:, 1] < 0).all()
    assert (by_name['stop'] == 0).all()
    poses = unicycle_rollout(np.zeros(3), candidates, 0.1)
    assert poses[CANDIDATE_NAMES.index('turn_left'), -1, 2] > 0.5
    with pytest.raises(ValueError, match='horizon'):
        default_candidates(0)


@pytest.mark.parametrize('method', METHODS)
def test_seeded_determinism(method):
    config = PlannerConfig(method=method, num_samples=32, iterations=2)
    runs = [drive(config, (1.0, 0.5, 0.0), steps=5, seed=7)[2] for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    other = drive(config, (1.0, 0.5, 0.0), steps=5, seed=8)[2]
    assert not np.array_equal(runs[0], other)


def test_mppi_weights_prefer_low_cost_and_ignore_nan():
    weights = mppi_weights(np.array([0.0, 1.0, np.nan, np.inf]), temperature=0.5)
    assert weights[0] > weights[1] > 0 and weights[2] == 0 and weights[3] == 0
    assert weights.sum() == pytest.approx(1.0)
    samples = np.stack([np.full((3, 2), 1.0), np.full((3, 2), -1.0)])
    mean, _ = mppi_update(samples, np.array([0.0, 100.0]), temperature=0.01)
    np.testing.assert_allclose(mean, 1.0)
    np.testing.assert_allclose(mppi_weights(np.full(3, np.nan), 1.0), 1.0 / 3)


def test_cem_refits_to_elites():
    samples = np.arange(10, dtype=float)[:, None, None] * np.ones((10, 2, 2))
    costs = np.arange(10, dtype=float)[::-1]  # the largest samples are best
    np.testing.assert_array_equal(elite_indices(costs, 0.3), [9, 8, 7])
    mean, std, weights = cem_update(samples, costs, 0.3, min_std=0.5)
    np.testing.assert_allclose(mean, 8.0)
    np.testing.assert_allclose(std, max(np.std([7, 8, 9]), 0.5))
    assert weights[7:].sum() == pytest.approx(1.0)


def test_costs_terms_and_nan_goal_dist():
    config = PlannerConfig(w_action=0.0, w_smooth=0.0, w_heading=0.0)
    actions = np.zeros((2, 3, 2))
    poses = np.zeros((2, 3, 3))
    poses[1, :, 0] = 1.0  # candidate 1 ends 1 m from the goal, candidate 0 at 2 m
    costs = trajectory_costs(config, actions, poses, goal=(2.0, 0.0, 0.0))
    np.testing.assert_allclose(costs, [2.0, 1.0])
    # NaN goal_dist: that entry costs nothing; all-NaN disables the term.
    goal_dist = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 1.0]])
    costs = trajectory_costs(config, actions, poses, goal_dist=goal_dist)
    np.testing.assert_allclose(costs, [0.0, config.w_latent * 2.0 / 3.0])
    assert trajectory_costs(config, actions, poses, goal_dist=np.full((2, 3), np.nan)).sum() == 0
    collision = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    costs = trajectory_costs(config, actions, poses, collision=collision)
    np.testing.assert_allclose(costs, [0.0, config.w_collision])
    terminal = dataclasses.replace(config, horizon_weighting='terminal')
    poses[0, -1, 0] = 2.0  # candidate 0 only reaches the goal at the last step
    costs = trajectory_costs(terminal, actions, poses, goal=(2.0, 0.0, 0.0))
    np.testing.assert_allclose(costs, [0.0, 1.0])
    with pytest.raises(ValueError, match='poses'):
        trajectory_costs(config, actions, poses[:, :2], goal=(0.0, 0.0, 0.0))


def test_fit_horizon_and_enforce_limits():
    actions = np.arange(12, dtype=float).reshape(2, 3, 2)
    np.testing.assert_array_equal(fit_horizon(actions, 2), actions[:, :2])
    padded = fit_horizon(actions, 5)
    np.testing.assert_array_equal(padded[:, 3:], np.repeat(actions[:, -1:], 2, axis=1))
    config = PlannerConfig(v_max=0.5, accel_linear=1.0, accel_angular=1.0, omega_max=1.0)
    clipped = enforce_limits(np.full((1, 4, 2), 5.0), (0.0, 0.0), config)
    np.testing.assert_allclose(clipped[0, :, 0], [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(clipped[0, :, 1], [0.1, 0.2, 0.3, 0.4])


def test_config_ranges_are_enforced():
    with pytest.raises(ConfigError, match=r"'temperature'.*allowed \[0.0001"):
        from_dict(PlannerConfig, {'temperature': -1.0})
    with pytest.raises(ConfigError, match="'method'"):
        from_dict(PlannerConfig, {'method': 'ilqr'})
    with pytest.raises(ConfigError, match='v_max and omega_max'):
        from_dict(PlannerConfig, {'v_max': 0.0, 'omega_max': 0.0})
    with pytest.raises(ConfigError, match=r'goal_hold_radius=0.1 is below goal_tolerance=0.2'):
        from_dict(PlannerConfig, {'goal_tolerance': 0.2, 'goal_hold_radius': 0.1})
