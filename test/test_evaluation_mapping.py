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
"""Goal-localisation figures from episode records, the report table and --memory (no ROS)."""

import argparse
import math

import numpy as np
import pytest

from world_model import geometry
from world_model.config import ConfigError
from world_model.evaluation.episodes import EpisodeSpec
from world_model.evaluation.protocol import HarnessConfig
from world_model.evaluation.records import GOAL_UNKNOWN, EpisodeRecord, summarise

START, GOAL = (-1.0, 0.5, math.pi / 2), (1.0, -0.5, 0.0)


def record_with(estimates, policy='agent', odom_start=(0.0, 0.0, 0.0), states=()):
    """An episode whose odometry starts at odom_start (zero, or the true pose as today)."""
    record = EpisodeRecord(EpisodeSpec(0, 1, START, GOAL), policy)
    for step in range(4):
        record.add_true_pose(step, START)
        record.add_odometry(step, odom_start)
    for step, odom_pose in estimates:
        record.set_goal_estimate(step, odom_pose)
    for step, state in enumerate(states):
        record.add_planner_state(step, state)
    record.finish(1.0)
    return record


def odom_of(world_pose, odom_start=(0.0, 0.0, 0.0)):
    """The odometry-frame pose of a world pose when the odometry reads odom_start at START."""
    odom_t_world = geometry.compose(odom_start, geometry.invert(START))
    return geometry.compose(odom_t_world, world_pose)


@pytest.mark.parametrize('odom_start', [(0.0, 0.0, 0.0), START])
def test_goal_errors_map_the_estimate_by_the_true_start_pose(odom_start):
    near, off = (1.1, -0.5, 0.0), (1.0, 0.5, 0.0)  # 0.1 m and 1.0 m from the goal
    record = record_with([(1, odom_of(off, odom_start)), (3, odom_of(near, odom_start))],
                         odom_start=odom_start)
    assert record.goal_first_error == (1, pytest.approx(1.0))
    assert record.goal_last_error == (3, pytest.approx(0.1))
    summary = record.summary()['goal_localisation']
    assert summary == {'first_error_m': 1.0, 'first_step': 1, 'last_error_m': 0.1,
                       'last_step': 3}
    trace = record.summary()['goal_trace']  # every estimate, in the world frame
    np.testing.assert_allclose([row[1:] for row in trace], [off, near], atol=1e-3)
    assert [row[0] for row in trace] == [1, 3]


def test_the_waypoint_trace_keeps_each_changed_chain_in_the_world_frame():
    record = EpisodeRecord(EpisodeSpec(0, 1, START, GOAL), 'agent')
    for step in range(4):
        record.add_true_pose(step, START)
        record.add_odometry(step, (0.0, 0.0, 0.0))
    door, goal = (0.0, 0.0, 0.0), GOAL
    chain = [odom_of(door), odom_of(goal)]
    record.set_waypoints(chain, 1)
    record.set_waypoints(np.array(chain) + 0.001, 2)  # republished, the same chain
    record.set_waypoints(chain[1:], 3)  # the door passed
    record.set_waypoints([], None)  # unstamped: kept as the last chain, not traced
    record.finish(1.0)
    trace = record.summary()['waypoint_trace']
    assert [row[0] for row in trace] == [1, 3]
    np.testing.assert_allclose(trace[0][1], [door, goal], atol=2e-3)
    np.testing.assert_allclose(trace[1][1], [goal], atol=1e-3)


def test_summary_counts_episodes_without_an_estimate_and_goal_unknown_frames():
    records = [record_with([(2, odom_of((1.0, -0.5 + d, 0.0)))]) for d in (0.1, 0.2, 0.4)]
    records.append(record_with([], states=[GOAL_UNKNOWN] * 3 + ['planning']))
    summary = summarise(records)
    assert summary['goal_localisation_error_m'] == {'median': 0.2, 'p90': pytest.approx(0.36),
                                                    'count': 3}
    assert summary['no_goal_estimate_fraction'] == 0.25
    assert summary['goal_unknown_frames_mean'] == 0.75
    assert records[3].summary()['goal_localisation'] is None
    assert records[3].summary()['goal_unknown_frames'] == 3
    assert records[3].summary()['planner_states'] == [[0, GOAL_UNKNOWN], [3, 'planning']]
    assert 'success_rate' in summary and 'plan_hz_median' in summary
    # the random baseline runs no world model: no goal-localisation figures
    assert 'goal_localisation_error_m' not in summarise([record_with([], policy='random')])


def test_map_and_waypoints_are_drawn_in_the_world_frame_or_not_at_all():
    record = EpisodeRecord(EpisodeSpec(0, 1, START, GOAL), 'agent')
    record.add_true_pose(0, START)
    record.add_odometry(0, (0.0, 0.0, 0.0))
    record.set_map([(1.0, 0.0)], [(0.0, 0.0), (1.0, 0.0)])
    record.set_waypoints([(0.0, 2.0, 0.0)])
    record.finish(1.0)
    np.testing.assert_allclose(record.map_keyframes, [[-1.0, 1.5]], atol=1e-9)
    np.testing.assert_allclose(record.map_edges, [[[-1.0, 0.5], [-1.0, 1.5]]], atol=1e-9)
    np.testing.assert_allclose(record.waypoints[:, :2], [[-3.0, 0.5]], atol=1e-9)
    silent = record_with([])
    assert silent.map_keyframes is None and silent.waypoints is None


def test_table_shows_goal_localisation_and_dashes_for_the_baseline():
    from agent_node.evaluation.closed_loop_cmd import format_table

    agent = summarise([record_with([(2, odom_of((1.0, -0.3, 0.0)))])])
    table = format_table({'agent': agent, 'random': summarise([record_with([], 'random')])})
    line = next(row for row in table.splitlines() if row.startswith('goal estimate error med'))
    assert line.split()[-2:] == ['0.20', '-']
    assert 'no goal estimate' in table and "'goal_unknown' frames" in table
    assert agent['success_interval_95'][1] < 1.0  # one failed episode: 0-79% (Wilson)
    interval = next(row for row in table.splitlines() if row.startswith('success 95% interval'))
    assert interval.split()[-2:] == ['0%-79%', '0%-79%']


def _memory_args(*words):
    from agent_node.evaluation.closed_loop_cmd import add_memory_arguments

    parser = argparse.ArgumentParser()
    add_memory_arguments(parser)
    return parser.parse_args(list(words))


def test_memory_must_exist_and_skips_mapping_unless_asked(tmp_path):
    from agent_node.evaluation.closed_loop_cmd import memory_settings

    default = HarnessConfig().mapping_steps
    assert memory_settings(_memory_args()) == (None, default)
    assert memory_settings(_memory_args('--mapping-steps', '0')) == (None, 0)
    with pytest.raises(ConfigError, match='no such file'):
        memory_settings(_memory_args('--memory', str(tmp_path / 'missing.sqlite3')))
    path = tmp_path / 'memory.sqlite3'
    path.write_bytes(b'')
    assert memory_settings(_memory_args('--memory', str(path))) == (path.resolve(), 0)
    assert memory_settings(_memory_args('--memory', str(path), '--mapping-steps', '300')) == \
        (path.resolve(), 300)


def test_closed_loop_and_demo_refuse_a_missing_memory_file(tmp_path, capsys):
    from agent_node.cli import main as cli_main

    missing = str(tmp_path / 'nope.sqlite3')
    assert cli_main(['closed-loop', '--memory', missing, '--report',
                     str(tmp_path / 'r.json')]) == 2
    assert cli_main(['demo', '--memory', missing, '--out', str(tmp_path / 'd.png')]) == 2
    err = capsys.readouterr().err
    assert err.count(f'--memory {missing}: no such file') == 2
    assert not (tmp_path / 'r.json').exists()


def test_keep_memory_copies_the_file_and_its_wal(tmp_path):
    from agent_node.evaluation.closed_loop_cmd import keep_memory

    source = tmp_path / 'run' / 'memory-agent.sqlite3'
    source.parent.mkdir()
    source.write_bytes(b'db')
    (tmp_path / 'run' / 'memory-agent.sqlite3-wal').write_bytes(b'wal')
    target = keep_memory(source, tmp_path / 'kept' / 'map.sqlite3')
    assert target.read_bytes() == b'db'
    assert (tmp_path / 'kept' / 'map.sqlite3-wal').read_bytes() == b'wal'
    assert keep_memory(source, source) == source.resolve()  # the same file: nothing to copy


def test_the_demo_goal_is_behind_the_wall_in_two_rooms():
    from agent_node.evaluation.demo_cmd import behind_the_wall, demo_episode
    from world_model.envs import SimConfig
    from world_model.evaluation.episodes import plan_episodes

    config = HarnessConfig(layout='two_rooms', goal_min_distance=1.2, goal_max_distance=4.0)
    spec = demo_episode(config, SimConfig(), seed=0)
    assert behind_the_wall(spec)
    assert spec.start[0] < -0.6 and spec.goal[0] > 0.6
    assert abs(spec.start[1]) > 0.8 and abs(spec.goal[1]) > 0.8
    assert spec == demo_episode(config, SimConfig(), seed=0)  # seeded
    open_config = HarnessConfig(layout='open', goal_min_distance=1.0, goal_max_distance=2.0)
    assert demo_episode(open_config, SimConfig(), 0) == \
        plan_episodes(open_config, SimConfig(), 1, 0)[0]


def test_a_mapping_tour_that_fails_outside_the_agent_is_rerun_after_a_restart():
    from agent_node.evaluation.harness import HarnessError, _map_with_retries

    class Harness:
        def __init__(self, failures):
            self.failures, self.restarts, self.runs = failures, 0, 0

        def run_mapping(self, steps, seed):
            self.runs += 1
            if self.runs <= self.failures:
                raise HarnessError('sim_node died', restart=True)
            return ('tour', steps, seed)

        def restart(self):
            self.restarts += 1

    config = HarnessConfig(mapping_steps=50, retries=1)
    once = Harness(failures=1)
    assert _map_with_retries(once, config, 7) == ('tour', 50, 7)
    assert once.restarts == 1 and once.runs == 2
    with pytest.raises(HarnessError, match='sim_node died'):
        _map_with_retries(Harness(failures=2), config, 7)


def test_the_orchestrator_reads_the_map_markers_and_waypoints_of_this_episode():
    from builtin_interfaces.msg import Time
    from geometry_msgs.msg import Point, PoseStamped
    from nav_msgs.msg import Path
    from visualization_msgs.msg import Marker, MarkerArray

    from agent_node.evaluation.orchestrator import EpisodeOrchestrator

    orch = EpisodeOrchestrator.__new__(EpisodeOrchestrator)  # the callbacks, without DDS
    orch.period_ns, orch._frame0_ns = 100_000_000, 5_000_000_000
    orch._record = EpisodeRecord(EpisodeSpec(0, 1, START, GOAL), 'agent')
    now, before = Time(sec=6), Time(sec=4)

    def markers(stamp):
        clear = Marker(action=Marker.DELETEALL)  # unstamped, as a map often starts
        points = Marker(ns='keyframes', points=[Point(x=1.0, y=2.0), Point(x=3.0, y=4.0)])
        edges = Marker(ns='edges', type=Marker.LINE_LIST,
                       points=[Point(x=1.0, y=2.0), Point(x=3.0, y=4.0), Point(x=9.0)])
        points.header.stamp = edges.header.stamp = stamp
        return MarkerArray(markers=[clear, points, edges])

    orch._on_map(markers(before))  # stamped before the reset frame: another session's frame
    assert orch._record._odom_map is None
    orch._on_map(markers(now))
    keyframes, edges = orch._record._odom_map
    np.testing.assert_allclose(keyframes, [[1, 2], [3, 4]])
    np.testing.assert_allclose(edges, [[[1, 2], [3, 4]]])  # the odd point left out
    path = Path(poses=[PoseStamped(), PoseStamped()])
    path.header.stamp = now
    path.poses[1].pose.position.x = 2.0
    path.poses[1].pose.orientation.w = 1.0
    path.poses[0].pose.orientation.w = 1.0
    orch._on_waypoints(path)
    np.testing.assert_allclose(orch._record._odom_waypoints, [[0, 0, 0], [2, 0, 0]])


def test_a_missing_reset_frame_odometry_falls_back_to_the_first_step_with_both():
    record = EpisodeRecord(EpisodeSpec(0, 1, START, GOAL), 'agent')
    record.add_true_pose(0, START)  # its odometry arrived before the reset frame's truth
    record.add_true_pose(1, START)
    record.add_odometry(1, (0.0, 0.0, 0.0))
    record.set_goal_estimate(1, odom_of((1.0, 0.0, 0.0)))
    record.finish(1.0)
    assert record.goal_last_error == (1, pytest.approx(0.5))


def test_param_overrides_reach_the_map_and_memory_parameters_and_name_a_bad_one():
    from agent_node.evaluation.closed_loop_cmd import node_overrides

    out = node_overrides(['world_model_node:map.grow_map=false',
                          'world_model_node:map.localise_tolerance_m=1',
                          'planner_node:goal_tolerance=0.1'])
    assert out == {'world_model_node': {'map.grow_map': False,
                                        'map.localise_tolerance_m': 1.0},  # a DOUBLE for ROS
                   'planner_node': {'goal_tolerance': 0.1}}
    assert node_overrides(['world_model_node:memory.path=/tmp/m.sqlite3']) == {
        'world_model_node': {'memory.path': '/tmp/m.sqlite3'}}
    with pytest.raises(ConfigError, match=r"world_model_node has no parameter 'map\.nope'"):
        node_overrides(['world_model_node:map.nope=1'])
