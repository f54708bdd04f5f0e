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
"""The closed-loop protocol without DDS: seeded episode sampling and the figures of records."""

import math

import numpy as np
import pytest

from world_model.config import ConfigError, from_dict
from world_model.envs import SimConfig, build_layout
from world_model.envs.diff_drive_sim import episode_layout
from world_model.evaluation.episodes import EpisodeSpec, plan_episodes
from world_model.evaluation.protocol import HarnessConfig, protocol_report
from world_model.evaluation.records import EpisodeRecord, summarise


def test_episodes_are_seeded_collision_free_and_at_the_stated_distance():
    config = HarnessConfig(layout='two_rooms', goal_min_distance=1.0, goal_max_distance=2.0)
    sim_config = SimConfig(layout='two_rooms')
    specs = plan_episodes(config, sim_config, 8, seed=3)
    assert specs == plan_episodes(config, sim_config, 8, seed=3)
    assert specs != plan_episodes(config, sim_config, 8, seed=4)
    assert [s.index for s in specs] == list(range(8))
    assert len({s.seed for s in specs}) == 8
    assert all(0 <= s.seed < 2 ** 31 for s in specs)  # sim_node's seed is a signed int32
    layout = build_layout('two_rooms', sim_config.arena_size)
    for spec in specs:
        assert 1.0 <= spec.distance <= 2.0
        for x, y, _ in (spec.start, spec.goal):
            assert layout.is_free(x, y, sim_config.robot_radius + config.pose_margin)


def test_random_layout_episodes_avoid_that_episodes_obstacles():
    config = HarnessConfig(layout='random', goal_min_distance=0.5, goal_max_distance=3.0)
    sim_config = SimConfig(layout='random')
    for spec in plan_episodes(config, sim_config, 6, seed=11):
        layout = episode_layout(sim_config, spec.seed, 'random')
        for x, y, _ in (spec.start, spec.goal):
            assert layout.is_free(x, y, sim_config.robot_radius + config.pose_margin)


def test_a_longer_episode_list_starts_with_the_shorter_one():
    # so the finished episodes of a run that stopped early are the first ones of any rerun
    config, sim_config = HarnessConfig(), SimConfig()
    assert plan_episodes(config, sim_config, 3, seed=0) == \
        plan_episodes(config, sim_config, 10, seed=0)[:3]


def test_impossible_goal_distances_are_refused_naming_the_parameters():
    with pytest.raises(ConfigError, match='goal_min_distance'):
        from_dict(HarnessConfig, {'goal_min_distance': 2.0, 'goal_max_distance': 1.0})
    far = HarnessConfig(goal_min_distance=9.0, goal_max_distance=10.0)
    with pytest.raises(ConfigError, match='goal_min_distance/goal_max_distance'):
        plan_episodes(far, SimConfig(), 1, seed=0)


def test_protocol_report_states_the_figures_of_the_config():
    config = HarnessConfig(budget=123, success_threshold=0.25, retries=2)
    report = protocol_report(config, SimConfig(control_period=0.05))
    assert report['budget_steps'] == 123 and report['success_threshold_m'] == 0.25
    assert report['control_period_s'] == 0.05
    assert report['goal_distance_m'] == [0.75, 2.5]
    assert 'up to 2 time(s)' in report['infrastructure_failures']


SPEC = EpisodeSpec(index=0, seed=1, start=(0.0, 0.0, 0.0), goal=(1.0, 0.0, 0.0))


def _record(success, steps, final, collisions=0, latency=(), rates=(), wall=2.0, retries=0):
    record = EpisodeRecord(SPEC, 'agent')
    for step in range(steps + 1):
        record.add_true_pose(step, (step / steps * (1 - final), 0.0, 0.0))
        record.observe_distance(step, 1.0 - step / steps * (1 - final))
    record.success, record.end_reason = success, 'reached' if success else 'budget'
    for _ in range(collisions):
        record.add_collision()
    for value in latency:
        record.add_latency(value)
    for value in rates:
        record.add_plan_rate(value)
    for i in range(retries):
        record.add_infrastructure_error(f'failure {i}\nnode log tail')
    record.finish(wall)
    return record


def test_summarise_figures_on_hand_made_records():
    records = [_record(True, 10, 0.2, latency=(10.0, 30.0), rates=(20.0, 30.0)),
               _record(True, 30, 0.1, collisions=2, latency=(20.0,), rates=(10.0,),
                       retries=1),
               _record(False, 50, 0.8, wall=5.0)]
    summary = summarise(records)
    assert summary['episodes'] == 3 and summary['successes'] == 2
    assert summary['success_rate'] == pytest.approx(2 / 3, abs=1e-4)
    assert summary['final_distance_mean'] == pytest.approx((0.2 + 0.1 + 0.8) / 3, abs=1e-4)
    assert summary['final_distance_median'] == pytest.approx(0.2)
    assert summary['steps_to_success_mean'] == 20.0  # the failure's 50 steps do not count
    assert summary['steps_to_success_median'] == 20.0
    assert summary['collisions_per_episode'] == pytest.approx(2 / 3, abs=1e-3)
    assert summary['episodes_with_collision'] == 1
    assert summary['latency_ms_p50'] == 20.0 and summary['plan_hz_median'] == 20.0
    assert summary['control_hz_median'] == 10.0  # 5, 15 and 10 steps per wall second
    assert summary['end_reasons'] == {'reached': 2, 'budget': 1}
    assert summary['retries'] == 1 and summary['episodes_retried'] == 1
    assert summary['wall_s'] == 9.0


def test_summarise_of_no_episodes_and_of_no_measurements_is_none_not_nan():
    assert summarise([])['success_rate'] is None
    summary = summarise([_record(False, 5, 0.9)])
    assert summary['latency_ms_p50'] is None and summary['plan_hz_median'] is None
    assert summary['steps_to_success_median'] is None


def test_plan_rate_zero_means_no_rate_yet_and_is_not_counted():
    record = EpisodeRecord(SPEC, 'agent')
    for value in (0.0, math.nan, 25.0, 0.0, 30.0):
        record.add_plan_rate(value)
    assert record.plan_hz == [25.0, 30.0]


def test_episode_summary_lists_its_retries_and_keeps_only_the_first_line_of_each():
    summary = _record(True, 10, 0.2, retries=2).summary()
    assert summary['retries'] == 2
    assert summary['infrastructure_errors'] == ['failure 0', 'failure 1']
    assert summary['trajectory'][0] == [0.0, 0.0, 0.0] and len(summary['trajectory']) == 11


def test_finish_maps_odometry_frame_predictions_into_the_world():
    record = EpisodeRecord(SPEC, 'agent')
    # odometry has drifted: the robot is at world (1, 2, pi/2) but believes it is at (0, 0, 0)
    record.add_true_pose(5, (1.0, 2.0, math.pi / 2))
    record.add_odometry(5, (0.0, 0.0, 0.0))
    record.add_futures(5, np.array([[[1.0, 0.0, 0.0]]]), np.array([0.5]))
    record.set_goal_estimate(5, (2.0, 0.0, 0.0))
    record.add_futures(7, np.zeros((1, 1, 3)), np.zeros(1))  # no ground truth at step 7
    record.finish(1.0)
    assert len(record.futures) == 1 and record.futures[0].step == 5
    np.testing.assert_allclose(record.futures[0].poses[0, 0], [1.0, 3.0, math.pi / 2],
                               atol=1e-6)
    np.testing.assert_allclose(record.goal_estimate, [1.0, 4.0, math.pi / 2], atol=1e-9)
