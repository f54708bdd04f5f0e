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
"""world_model.online.FramePipeline without DDS: the world model node's per-frame algorithm.

Most tests use FakeWorldModel (test/fake_world_model.py, a labelled test double whose latents
are poses, so every expected value is exact); one runs a really exported tiny model to prove
the pipeline drives the real runtime's interface.
"""

import dataclasses

from fake_world_model import FakeWorldModel, embed, motion
import numpy as np
import pytest

from world_model.geometry import compose, invert
from world_model.memory import LatentStore, MemoryConfig
from world_model.online import FramePipeline, FramePipelineConfig, GoalError, Proposal
from world_model.planning.candidates import fan_candidates
from world_model.planning.objectives import trajectory_costs
from world_model.planning.planner_config import PlannerConfig

PERIOD_NS = 100_000_000  # the fake's control period, 0.1 s
DRIVE = np.array([0.3, 0.0], np.float32)  # (v, omega) driving straight on
STAND = np.zeros(2, np.float32)


class Robot:
    """Feeds a pipeline the frames of a robot that moves as its twist says (world = odom)."""

    def __init__(self, pipeline, model, pose=(0.0, 0.0, 0.0), stamp_ns=10**12,
                 odom_from_world=(0.0, 0.0, 0.0)):
        self.pipeline, self.model = pipeline, model
        self.world = np.asarray(pose, np.float64)
        self.stamp_ns = stamp_ns
        self.odom_from_world = np.asarray(odom_from_world, np.float64)

    def odom(self, world=None) -> np.ndarray:
        return compose(self.odom_from_world, self.world if world is None else world)

    def frame(self, twist=DRIVE, dt_ns=PERIOD_NS, seen=None, odom=None, proposal=None,
              steady_s=0.0):
        """Move for dt_ns with twist, then one frame; seen / odom override what the camera
        sees (world pose) and what odometry says."""
        self.world = compose(self.world, motion(twist, dt_ns * 1e-9))
        self.stamp_ns += dt_ns
        image = self.model.image_at(self.world if seen is None else seen)
        return self.pipeline.step(self.stamp_ns, image, self.odom() if odom is None else odom,
                                  twist, proposal, steady_s)


def pipeline_and_robot(config=None, store=None, **robot):
    model = FakeWorldModel()
    pipeline = FramePipeline(model, config or FramePipelineConfig(num_candidates=8, horizon=4),
                             store)
    return pipeline, Robot(pipeline, model, **robot), model


def test_a_stamp_gap_an_odometry_jump_or_a_time_reset_restarts_the_history():
    pipeline, robot, _ = pipeline_and_robot()
    assert robot.frame().surprise is None  # nothing to compare with yet
    assert robot.frame().surprise is not None

    # a gap above history_max_age_s (1 s): the old frames are another trajectory
    gapped = robot.frame(dt_ns=12 * PERIOD_NS)
    assert gapped.surprise is None and gapped.odom_jump is None
    assert len(pipeline.timeline.frames) == 1
    assert robot.frame().surprise is not None

    # odometry 1 m away between consecutive frames (> odom_jump_m = 0.5): counted as a jump
    before = robot.odom()
    teleported = before + [1.0, 0.0, 0.0]
    jumped = robot.frame(odom=teleported)
    assert jumped.surprise is None
    np.testing.assert_allclose(jumped.odom_jump[0], before)
    np.testing.assert_allclose(jumped.odom_jump[1], teleported)
    assert len(pipeline.timeline.frames) == 1

    # the synchroniser saw the stamps go back: the next frame starts afresh
    robot.frame()
    pipeline.restart_history()
    assert robot.frame().surprise is None
    assert robot.frame().surprise is not None
    # a stamp earlier than the previous one is never compared with it either
    assert robot.frame(dt_ns=-PERIOD_NS).surprise is None


def test_a_reset_near_the_start_is_a_jump_and_driving_as_the_twist_says_is_not():
    pipeline, robot, _ = pipeline_and_robot()
    for _ in range(5):  # 0.3 m/s for 0.1 s per frame, a whole second of frames late too
        assert robot.frame().odom_jump is None
    assert robot.frame(dt_ns=10 * PERIOD_NS).odom_jump is None
    # the episode ends standing 0.45 m from where its odometry started, then a reset puts
    # its odometry back at the origin (0.5 m, the limit before it was twist-aware, missed it)
    assert robot.frame(twist=STAND).odom_jump is None
    np.testing.assert_allclose(robot.odom(), [0.45, 0.0, 0.0], atol=1e-9)
    robot.odom_from_world = invert(robot.world)
    reset = robot.frame(twist=STAND)
    assert reset.odom_jump is not None and reset.surprise is None
    # a turn on the spot as fast as the twist says is not one either
    turning = np.array([0.0, 1.5], np.float32)
    assert all(robot.frame(twist=turning).odom_jump is None for _ in range(4))


def test_surprise_compares_with_the_prediction_made_one_control_period_earlier():
    pipeline, robot, model = pipeline_and_robot()
    third = PERIOD_NS // 3  # a 30 Hz camera: the frame one period back is three frames back
    frames = [robot.frame(dt_ns=third) for _ in range(9)]
    # moving as commanded is predicted exactly, but only from the frame 0.1 s back: from the
    # previous frame (33 ms back) the prediction would be 20 mm ahead
    assert frames[-1].surprise[1] == pytest.approx(0.0, abs=1e-6)
    history, proprio, action = model.predict_calls[-1]
    np.testing.assert_allclose(history[-1], frames[-4].latent)
    np.testing.assert_allclose(action, DRIVE)  # the twist now, after proprio of then
    np.testing.assert_allclose(proprio, DRIVE)

    # pushed 0.3 m sideways while odometry says it drove on: 0.3 m of latent error
    robot.world = compose(robot.world, motion(DRIVE, third * 1e-9))
    robot.stamp_ns += third
    pushed = compose(robot.world, [0.0, 0.3, 0.0])
    result = pipeline.step(robot.stamp_ns, model.image_at(pushed), robot.odom(), DRIVE, None,
                           0.0)
    normalised, error, scale = result.surprise
    assert error == pytest.approx(0.3, abs=1e-5)
    assert normalised == pytest.approx(error / scale)


def test_the_surprise_scale_is_learnt_only_while_moving():
    pipeline, robot, _ = pipeline_and_robot()
    rng = np.random.default_rng(0)

    def noisy_frame(twist):  # the camera sees the pose with 1 cm of jitter
        seen = compose(robot.world, motion(twist, 0.1)) + [*rng.normal(0.0, 0.01, 2), 0.0]
        return robot.frame(twist, seen=seen)

    scales = [noisy_frame(DRIVE).surprise for _ in range(20)][1:]
    moving_scales = [s[2] for s in scales]
    assert len(set(moving_scales)) > 10  # each moving frame moves the scale
    noisy_frame(STAND)  # the frame it stopped at still compares a moving twist: learnt
    learnt = pipeline.surprise.scale
    standing = [noisy_frame(STAND).surprise for _ in range(20)]
    assert all(s[1] > 0 for s in standing)  # errors are measured ...
    assert pipeline.surprise.scale == learnt  # ... but not learnt
    assert {s[2] for s in standing} == {learnt}
    assert noisy_frame(DRIVE).surprise[2] == learnt and pipeline.surprise.scale != learnt


def test_every_frame_writes_the_history_and_keyframes_once_moved_far_enough(tmp_path):
    memory = MemoryConfig(path=str(tmp_path / 'memory.sqlite3'), keyframe_min_interval_s=0.0,
                          keyframe_min_distance_m=0.25, history_length=4)
    with LatentStore(memory, dim=FakeWorldModel.latent_dim) as store:
        pipeline, robot, _ = pipeline_and_robot(store=store)
        results = [robot.frame() for _ in range(30)]  # 0.03 m per frame, 0.9 m in all
        np.testing.assert_array_equal(store.history_stamps(), [r.stamp_ns for r in results[-4:]])
        np.testing.assert_allclose(store.history(), [r.latent for r in results[-4:]])
        keyframes = store.by_time(0, robot.stamp_ns)
        assert 3 <= len(keyframes) <= 4  # the first frame, then every 0.25 m
        gaps = np.diff([k.pose[0] for k in keyframes])
        assert (gaps >= 0.25 - 1e-9).all() and (gaps < 0.25 + 0.031).all()

        # a pipeline opened on the same memory resumes the history: no cold start
        resumed = FramePipeline(pipeline.model, pipeline.config, store)
        robot.pipeline = resumed
        assert robot.frame().surprise is not None


def test_a_goal_image_has_an_unknown_pose_and_is_scored_by_latent_distance():
    odom_from_world = np.array([0.5, -1.0, 0.4])
    pipeline, robot, model = pipeline_and_robot(odom_from_world=odom_from_world)
    goal_world = np.array([1.0, 0.0, 0.0])  # 1 m straight ahead
    assert robot.frame().goal_pose is None
    goal = pipeline.set_goal_image(model.image_at(goal_world))
    assert goal.label == 'goal image' and goal.pose is None
    result = robot.frame()
    assert result.goal_pose is None  # no world frame to localise it in
    # goal_dist: predicted latent vs goal latent, candidate by candidate
    predicted_world = compose(invert(odom_from_world), result.poses)
    expected = np.linalg.norm(np.apply_along_axis(embed, -1, predicted_world)
                              - embed(goal_world), axis=-1)
    np.testing.assert_allclose(result.goal_dist, expected, atol=1e-5)
    # the default fan is scored with the planner's objective: ahead, so forward is chosen
    costs = trajectory_costs(dataclasses.replace(PlannerConfig(), control_period=0.1),
                             result.actions, result.poses, result.goal_pose, result.goal_dist,
                             result.uncertainty, result.collision, last_command=DRIVE)
    np.testing.assert_allclose(result.costs, costs)
    assert result.source == 'default' and result.highlighted == int(np.argmin(costs)) == 0



def test_a_named_goal_comes_from_the_memory_at_its_remembered_odometry_pose(tmp_path):
    memory = MemoryConfig(path=str(tmp_path / 'memory.sqlite3'))
    with LatentStore(memory, dim=FakeWorldModel.latent_dim) as store:
        pipeline, robot, _ = pipeline_and_robot(store=store, odom_from_world=(2.0, 1.0, -0.5))
        with pytest.raises(GoalError, match='no frame processed yet'):
            pipeline.remember('home')
        home = robot.frame()
        np.testing.assert_allclose(pipeline.remember('home'), home.pose)
        for _ in range(5):
            robot.frame()
        goal = pipeline.activate_goal('home')
        assert goal.label == 'home'
        result = robot.frame()
        np.testing.assert_allclose(result.goal_pose, home.pose)  # as remembered, no probe
        assert np.isfinite(result.goal_dist).all()
        assert result.goal_dist[5, 0] == pytest.approx(
            np.linalg.norm(embed(robot.world) - home.latent), abs=1e-5)  # 'stop' stays here

        with pytest.raises(GoalError, match="no goal named 'nowhere'"):
            pipeline.activate_goal('nowhere')
        assert pipeline.goal.label == 'home'  # the active goal is kept
        pipeline.clear_goal()
        cleared = robot.frame()
        assert cleared.goal_pose is None and np.isnan(cleared.goal_dist).all()
    # without a memory, goals by name cannot exist
    with pytest.raises(GoalError):
        pipeline_and_robot()[0].activate_goal('home')


def test_a_fresh_proposal_is_rolled_out_and_its_nominal_highlighted_until_it_times_out():
    config = FramePipelineConfig(num_candidates=8, horizon=4, proposal_timeout_s=1.0)
    pipeline, robot, model = pipeline_and_robot(config)
    pipeline.set_goal_image(model.image_at([1.0, 0.0, 0.0]))  # straight ahead
    # candidate 0 (the planner's nominal) turns away; candidate 2 drives at the goal
    actions = np.stack([np.full((5, 2), a) for a in ((0.1, 1.0), (0.0, -1.0), (0.3, 0.0))])
    proposal = Proposal(actions.astype(np.float32), received_s=100.0)

    fresh = robot.frame(proposal=proposal, steady_s=100.9)
    assert fresh.source == 'proposal'
    np.testing.assert_array_equal(fresh.actions, proposal.actions)
    assert fresh.poses.shape == (3, 5, 3) and fresh.goal_dist.shape == (3, 5)
    assert int(np.argmin(fresh.costs)) == 2  # cheaper, but the planner chose its nominal
    assert fresh.highlighted == 0

    stale = robot.frame(proposal=proposal, steady_s=101.1)
    assert stale.source == 'default'
    np.testing.assert_array_equal(stale.actions, fan_candidates(8, 4, 0.3, 1.0))
    assert stale.highlighted == int(np.argmin(stale.costs))
    assert robot.frame(proposal=None).source == 'default'


def test_without_a_goal_the_cheapest_default_candidate_is_highlighted():
    pipeline, robot, _ = pipeline_and_robot()
    for twist in (DRIVE, DRIVE, STAND, STAND):
        result = robot.frame(twist, seen=compose(robot.world, [0.0, 0.01, 0.0]))
    # no goal terms: action size, smoothness from the measured twist, collision, uncertainty
    assert np.isnan(result.goal_dist).all() and result.goal_pose is None
    costs = trajectory_costs(dataclasses.replace(PlannerConfig(), control_period=0.1),
                             result.actions, result.poses, None, None, result.uncertainty,
                             result.collision, last_command=STAND)
    np.testing.assert_allclose(result.costs, costs)
    assert result.highlighted == 5  # 'stop', the cheapest for a standing robot
    # the uncertainty grows with sqrt(step) from the running error scale
    scale = pipeline.surprise.scale
    np.testing.assert_allclose(result.uncertainty[0], scale * np.sqrt([1, 2, 3, 4]), rtol=1e-6)


def test_parameter_changes_apply_to_the_running_pipeline():
    pipeline, robot, _ = pipeline_and_robot()
    robot.frame()
    pipeline.reconfigure(FramePipelineConfig(num_candidates=3, horizon=2, surprise_ema=0.5,
                                             odom_jump_m=0.0))
    assert pipeline.surprise.ema == 0.5
    result = robot.frame(odom=robot.odom() + [5.0, 0.0, 0.0])
    assert result.actions.shape == (3, 2, 2)
    assert result.odom_jump is None  # odom_jump_m = 0 disables the test (turns stay small)


@pytest.mark.slow
def test_the_pipeline_runs_a_really_exported_model(tmp_path):
    from test_world_model_node import export_tiny_model

    from world_model.runtime import OnnxWorldModel

    model = OnnxWorldModel(export_tiny_model(tmp_path), providers=('cpu',), threads=1)
    pipeline = FramePipeline(model, FramePipelineConfig(num_candidates=6, horizon=3))
    rng = np.random.default_rng(0)
    results = [pipeline.step(10**9 + i * PERIOD_NS, rng.integers(0, 256, (40, 48, 3), np.uint8),
                             (0.03 * i, 0.0, 0.0), DRIVE, None, 0.0) for i in range(4)]
    last = results[-1]
    assert last.latent.shape == (model.latent_dim,) and last.poses.shape == (6, 3, 3)
    assert last.surprise is not None and np.isfinite(last.surprise).all()
    pipeline.set_goal_image(rng.integers(0, 256, (40, 48, 3), np.uint8))
    goal = pipeline.step(10**9 + 4 * PERIOD_NS, rng.integers(0, 256, (40, 48, 3), np.uint8),
                         (0.12, 0.0, 0.0), DRIVE, None, 0.0)
    assert np.isfinite(goal.goal_dist).all() and goal.goal_pose is None
    assert 0 <= goal.highlighted < 6


# -- goals from the latent map -------------------------------------------------------------------
CIRCLE = np.array([0.3, 0.6], np.float32)  # a 0.5 m radius loop in about 105 frames


def test_a_goal_image_is_localised_in_the_map_and_again_after_a_restart(tmp_path):
    memory = MemoryConfig(path=str(tmp_path / 'memory.sqlite3'))
    with LatentStore(memory, dim=FakeWorldModel.latent_dim) as store:
        no_homing = FramePipelineConfig(num_candidates=8, horizon=4, homing_sigma_m=0.0)
        pipeline, robot, model = pipeline_and_robot(no_homing, store=store)
        for _ in range(120):  # map a loop; the first session is the map frame
            robot.frame(CIRCLE)
        goal_world = np.array([0.5, 0.5, np.pi / 2])  # on the loop, facing along it
        pipeline.set_goal_image(model.image_at(goal_world))
        result = robot.frame(CIRCLE)
        assert result.goal.status == 'localised' and result.goal.support >= 3
        np.testing.assert_allclose(result.goal_pose, goal_world, atol=1e-3)
        assert result.goal.waypoints is not None
        np.testing.assert_allclose(result.goal.waypoints[-1], goal_world, atol=1e-3)

        # a reset: odometry restarts elsewhere; the session must join before the goal is known
        robot.odom_from_world = invert(robot.world)  # odometry (0, 0, 0) here
        pipeline.restart_history()
        first = robot.frame(CIRCLE)
        assert first.goal.status == 'localising' and first.goal_pose is None
        for _ in range(30):
            result = robot.frame(CIRCLE)
            if result.goal.status == 'localised':
                break
        assert result.goal.status == 'localised', pipeline.map.stats()
        np.testing.assert_allclose(result.goal_pose, robot.odom(goal_world), atol=0.02)


def test_a_goal_unlike_anything_in_the_map_is_reported_unknown(tmp_path):
    model = FakeWorldModel()
    exact = model.relative_pose

    def overlapping_only(latents_a, latents_b):  # a real head is unsure of far views
        poses, sigma = exact(latents_a, latents_b)
        far = np.hypot(poses[:, 0], poses[:, 1]) > 1.5
        return poses, np.where(far[:, None], 10.0, sigma)

    model.relative_pose = overlapping_only
    memory = MemoryConfig(path=str(tmp_path / 'memory.sqlite3'))
    with LatentStore(memory, dim=FakeWorldModel.latent_dim) as store:
        pipeline = FramePipeline(model, FramePipelineConfig(num_candidates=8, horizon=4), store)
        robot = Robot(pipeline, model)
        for _ in range(60):
            robot.frame(CIRCLE)
        pipeline.set_goal_image(model.image_at((8.0, -6.0, 0.0)))  # never near there
        result = robot.frame(CIRCLE)
        assert result.goal.status == 'unknown' and result.goal_pose is None
    # without a memory there is no map: a goal image is unknown
    pipeline, robot, model = pipeline_and_robot()
    pipeline.set_goal_image(model.image_at((0.0, 0.0, 0.0)))
    assert robot.frame().goal.status == 'unknown'


def test_a_goal_in_view_is_placed_from_the_current_view_before_any_join(tmp_path):
    memory = MemoryConfig(path=str(tmp_path / 'memory.sqlite3'))
    with LatentStore(memory, dim=FakeWorldModel.latent_dim) as store:
        pipeline, robot, model = pipeline_and_robot(store=store, odom_from_world=(3, -1, 0.5))
        for _ in range(40):
            robot.frame(CIRCLE)
        pipeline.restart_history()  # a new session: not joined yet
        robot.odom_from_world = np.array([-2.0, 0.5, 1.0])
        goal_world = compose(robot.world, (0.6, 0.2, 0.3))  # 0.63 m ahead: in view
        pipeline.set_goal_image(model.image_at(goal_world))
        result = robot.frame(STAND)
        assert not pipeline.map.joined and result.goal.status == 'localised'
        np.testing.assert_allclose(result.goal_pose, robot.odom(goal_world), atol=1e-6)
