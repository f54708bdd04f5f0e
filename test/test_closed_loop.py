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
"""The closed loop through the real nodes: sim_node, world_model_node and planner_node in their
own processes, driven by the evaluation harness's orchestrator over DDS.

The goal-reaching test needs the shipped model (models/default); the report and demo tests use a
tiny exported model, so the plumbing is checked even before the default model exists.
"""

import argparse
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from agent_node.cli import main as cli_main
from agent_node.evaluation.harness import EvaluationHarness
from world_model.evaluation.episodes import EpisodeSpec
from world_model.evaluation.protocol import HarnessConfig

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO / 'models' / 'default'
# a model exported before the relative-pose head (place.onnx, no relpose.onnx) cannot load
needs_default_model = pytest.mark.skipif(
    not (DEFAULT_MODEL / 'relpose.onnx').is_file(),
    reason='models/default/relpose.onnx does not exist yet (make default-model exports it)')
NEAR_GOAL_BUDGET = 60


def _domain() -> int:
    return int(os.environ['ROS_DOMAIN_ID'])  # conftest gives every session its own domain


def test_demo_progress_line_shows_the_latest_rate_not_the_first_reports_zero():
    from agent_node.evaluation.demo_cmd import progress_line
    from world_model.evaluation.records import EpisodeRecord

    record = EpisodeRecord(EpisodeSpec(0, 1, (0.0, 0.0, 0.0), (1.0, 0.0, 0.0)), 'agent')
    assert 'plan   nan Hz' in progress_line(record, 0, 1.0, budget=200)
    record.add_plan_rate(0.0)  # planner_node's first report of a goal: no rate yet
    assert 'plan   nan Hz' in progress_line(record, 10, 0.9, budget=200)
    record.add_plan_rate(27.5)
    assert 'plan  27.5 Hz' in progress_line(record, 20, 0.8, budget=200)


@pytest.mark.ros
@pytest.mark.slow
@needs_default_model
def test_agent_reaches_a_near_image_goal_and_its_nodes_stop_cleanly():
    config = HarnessConfig(layout='open', budget=NEAR_GOAL_BUDGET)
    # 0.7 m straight ahead in the open arena; the goal is given only as its camera image
    spec = EpisodeSpec(index=0, seed=7, start=(-0.6, -0.3, 0.0), goal=(0.1, -0.3, 0.0))
    with EvaluationHarness(config, 'agent', model_dir=DEFAULT_MODEL,
                           domain_id=_domain()) as harness:
        record = harness.run_episode(spec)
    summary = {k: v for k, v in record.summary().items() if k != 'trajectory'}
    assert record.success, f'the agent did not reach a 0.7 m goal: {summary}'
    assert record.steps <= NEAR_GOAL_BUDGET
    assert record.final_distance < config.success_threshold
    np.testing.assert_allclose(record.poses()[0], spec.start, atol=1e-6)
    assert record.latency_ms, 'the planner answered no camera frame with a cmd_vel'
    assert record.goal_image is not None and record.goal_image.ndim == 3
    assert harness.clean_stop, f'a node did not stop on SIGINT; see {harness.log_path}'


@pytest.mark.ros
@pytest.mark.slow
def test_a_node_dying_between_episodes_is_restarted_and_the_episode_rerun(tmp_path):
    from world_model.envs import SimConfig
    from world_model.evaluation.episodes import plan_episodes
    from world_model.evaluation.retry import run_episodes

    config = HarnessConfig(layout='open', budget=5)
    specs = plan_episodes(config, SimConfig(), 3, seed=2)
    finished = []

    def kill_sim_node_after_the_first_episode(record):
        finished.append(record)
        if len(finished) == 1:
            child = harness.nodes.supervisor.children[0]
            assert child.name == 'sim_node'
            os.killpg(child.proc.pid, signal.SIGKILL)
            child.proc.wait(10)

    with EvaluationHarness(config, 'random', workdir=tmp_path, domain_id=_domain()) as harness:
        records = run_episodes(harness, specs, config.retries,
                               on_episode=kill_sim_node_after_the_first_episode)
    assert [r.spec.index for r in records] == [0, 1, 2]
    assert harness.restarts == 1
    assert records[0].retries == 0 and records[2].retries == 0
    assert records[1].retries == 1, records[1].infrastructure_errors
    assert 'sim_node was killed by SIGKILL' in records[1].infrastructure_errors[0]
    for record in records:  # the rerun is a whole episode from its start pose
        assert record.end_reason in ('reached', 'budget')
        np.testing.assert_allclose(record.poses()[0], record.spec.start, atol=1e-6)
    assert harness.clean_stop, f'the restarted sim_node did not stop on SIGINT: {tmp_path}'


def _reap_nodes_of(tmp_path, timeout: float = 20.0):
    """Wait for the nodes whose params file is under tmp_path to go; SIGKILL what stays.

    They get SIGTERM when their parent dies (parent_death_signal); once in a while one has
    been seen to hang on it, and a test must not leave it running.
    """
    def pids():
        found = []
        for entry in pathlib.Path('/proc').iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    if str(tmp_path).encode() in (entry / 'cmdline').read_bytes():
                        found.append(int(entry.name))
                except OSError:
                    pass  # exited meanwhile
        return found

    deadline = time.monotonic() + timeout
    while pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.ros
@pytest.mark.slow
def test_a_killed_closed_loop_run_leaves_a_report_of_its_finished_episodes(tmp_path):
    report_path = tmp_path / 'report.json'
    proc = subprocess.Popen(
        [sys.executable, '-m', 'agent_node.cli', 'closed-loop', '--episodes', '40', '--seed',
         '1', '--policies', 'random', '--budget', '30', '--domain-id', str(_domain()),
         '--report', str(report_path)], cwd=REPO, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True)
    finished = []
    try:
        deadline = time.monotonic() + 180
        while len(finished) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            if report_path.exists():  # replaced atomically: always a whole JSON document
                finished = json.loads(report_path.read_text())['episodes'].get('random', [])
        assert len(finished) >= 2, proc.stderr.read() if proc.poll() is not None else 'slow'
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # no chance to finish the report
        proc.wait()
        _reap_nodes_of(tmp_path)
    report = json.loads(report_path.read_text())
    assert report['complete'] is False
    episodes = report['episodes']['random']
    assert len(episodes) >= 2 and [e['index'] for e in episodes] == list(range(len(episodes)))
    assert report['results']['random']['episodes'] == len(episodes)
    for episode in episodes:
        assert episode['steps'] <= 30 and episode['retries'] == 0
        np.testing.assert_allclose(episode['trajectory'][0], episode['start'], atol=1e-3)


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    from test_export import export_tiny

    return export_tiny(tmp_path_factory.mktemp('closed_loop'))


@pytest.mark.ros
@pytest.mark.slow
@needs_default_model
def test_closed_loop_report_compares_agent_and_random_on_the_same_episodes(tmp_path):
    # the shipped model: a random one's place probe puts the goal estimate on the start pose,
    # so its agent stops at once and never drives
    report_path = tmp_path / 'report.json'
    rc = cli_main(['closed-loop', '--episodes', '2', '--seed', '5', '--layout', 'open',
                   '--budget', '12', '--mapping-steps', '30', '--model-dir',
                   str(DEFAULT_MODEL), '--domain-id', str(_domain()), '--report',
                   str(report_path)])
    assert rc == 0
    report = json.loads(report_path.read_text())
    assert report['complete'] is True and report['error'] is None
    assert report['command'].startswith('jepa-agent closed-loop --episodes 2 --seed 5')
    protocol = report['protocol']
    assert protocol['budget_steps'] == 12 and protocol['success_threshold_m'] == 0.3
    assert protocol['goal_distance_m'] == [0.75, 2.5] and protocol['episodes'] == 2
    assert set(report['results']) == {'agent', 'random'}
    for policy, summary in report['results'].items():
        for key in ('success_rate', 'final_distance_mean', 'steps_to_success_median',
                    'collisions_per_episode', 'latency_ms_p50', 'latency_ms_p99',
                    'plan_hz_median'):
            assert key in summary, (policy, key)
        assert summary['episodes'] == 2 and summary['clean_stop'] is True
        reruns = [e['retries'] for e in report['episodes'][policy]]
        assert summary['retries'] == sum(reruns)  # 0 unless the machine hiccupped
        assert summary['episodes_retried'] == sum(n > 0 for n in reruns)
        assert summary['restarts'] >= 0
    agent, random = report['episodes']['agent'], report['episodes']['random']
    assert [(e['seed'], e['start'], e['goal']) for e in agent] == \
        [(e['seed'], e['start'], e['goal']) for e in random]
    for episode in agent + random:
        np.testing.assert_allclose(episode['trajectory'][0], episode['start'], atol=1e-3)
        assert episode['steps'] <= 12
        assert episode['end_reason'] in ('reached', 'budget', 'agent_stopped')
        assert len(episode['infrastructure_errors']) == episode['retries']
    for episode in random:  # the baseline used its whole budget unless it got lucky
        assert episode['success'] or episode['steps'] == 12
        assert len(episode['trajectory']) == episode['steps'] + 1
    assert report['results']['agent']['latency_ms_p50'] is not None  # the planner drove
    assert report['mapping_steps'] == 30 and report['memory_reused'] is False
    assert report['memory'] == str(report_path.parent.resolve() / 'report-nodes' / 'agent' /
                                   'memory-agent.sqlite3')
    assert pathlib.Path(report['memory']).is_file()  # kept for a later --memory run
    assert report['results']['agent']['mapping']['steps'] == 30
    assert 'mapping' not in report['results']['random']
    localisation = report['results']['agent']['goal_localisation_error_m']
    assert set(localisation) == {'median', 'p90', 'count'}
    assert 'goal_localisation_error_m' not in report['results']['random']
    assert 'goal_localisation' in agent[0] and 'goal_unknown_frames' in agent[0]


@pytest.mark.ros
@pytest.mark.slow
def test_the_mapping_tour_drives_the_real_nodes_without_a_goal(tiny_model, tmp_path):
    from world_model.planning.status import IDLE

    config = HarnessConfig(layout='two_rooms', mapping_steps=60, budget=3)
    with EvaluationHarness(config, 'agent', model_dir=tiny_model, workdir=tmp_path,
                           domain_id=_domain()) as harness:
        memory = harness.memory_path
        assert memory == tmp_path / 'memory-agent.sqlite3'
        tour = harness.run_mapping(config.mapping_steps, seed=3)
        assert harness.orchestrator.planner_state == IDLE  # no goal: the planner never drove
        assert memory.is_file()
        harness.restart()  # as after an infrastructure failure: the same memory file
        params = yaml.safe_load(harness.params_file.read_text())
        assert params['/**/world_model_node']['ros__parameters']['memory']['path'] == \
            str(memory.resolve())
        record = harness.run_episode(EpisodeSpec(0, 3, (-1.0, 1.0, 0.0), (1.0, -1.0, 0.0)))
    assert tour.steps == 60 and len(tour.trajectory) >= 55
    assert tour.goal_image is None and tour.goal_last_error is None  # no goal published
    np.testing.assert_allclose(tour.poses()[0], tour.spec.start, atol=1e-6)
    assert np.hypot(*(tour.poses()[-1][:2] - tour.poses()[0][:2])) > 0.3  # the tour drove
    assert record.goal_image is not None  # the episode's reset publishes its goal again
    assert harness.clean_stop


@pytest.mark.ros
@pytest.mark.slow
def test_demo_runs_one_episode_and_writes_the_png(tiny_model, tmp_path, capsys):
    from agent_node.evaluation import demo_cmd

    out = tmp_path / 'demo.png'
    parser = argparse.ArgumentParser()
    demo_cmd.add_arguments(parser)
    rc = demo_cmd.run(parser.parse_args([
        '--budget', '10', '--mapping-steps', '20', '--model-dir', str(tiny_model),
        '--domain-id', str(_domain()), '--out', str(out)]))
    assert rc == 0
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    printed = capsys.readouterr().out
    assert 'goal distance' in printed and str(out.resolve()) in printed


@pytest.mark.ros
@pytest.mark.slow
@needs_default_model
def test_demo_progress_shows_the_planners_rate_once_it_plans(tmp_path, capsys):
    from agent_node.evaluation import demo_cmd

    parser = argparse.ArgumentParser()
    demo_cmd.add_arguments(parser)
    rc = demo_cmd.run(parser.parse_args([
        '--layout', 'open', '--budget', '80', '--mapping-steps', '0', '--model-dir',
        str(DEFAULT_MODEL), '--domain-id', str(_domain()), '--out', str(tmp_path / 'demo.png')]))
    printed = capsys.readouterr().out
    assert rc == 0, printed
    rates = [float(m) for m in re.findall(r'plan\s+(\S+) Hz', printed)]
    assert rates, printed
    # nan until the planner's first /diagnostics report with a rate, then its rate: never 0
    shown = [r for r in rates if not np.isnan(r)]
    assert shown and min(shown) > 1.0, printed
    assert all(not np.isnan(r) for r in rates[rates.index(shown[0]):]), printed
    summary = re.search(r'plan rate (\S+) Hz', printed)
    assert summary and float(summary.group(1)) > 1.0, printed


@pytest.mark.ros
@pytest.mark.slow
@needs_default_model
def test_jepa_agent_run_starts_and_stops_the_demo_node_set_cleanly(tmp_path):
    # the shipped config, with the latent memory in tmp_path instead of the user's ~/.ros
    config = yaml.safe_load((REPO / 'config' / 'sim_demo.yaml').read_text())
    config['/**/world_model_node']['ros__parameters']['memory'] = {
        'path': str(tmp_path / 'memory.sqlite3')}
    config_path = tmp_path / 'sim_demo.yaml'
    config_path.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        [sys.executable, '-m', 'agent_node.cli', 'run', str(config_path), '--model-dir',
         str(DEFAULT_MODEL)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    ready = ('sim_node ready', '[world_model_node]: active:', 'planner ready')
    seen, lines = set(), []
    deadline = time.monotonic() + 60
    try:
        os.set_blocking(proc.stdout.fileno(), False)
        while len(seen) < len(ready) and time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            if not line:
                time.sleep(0.05)
                continue
            lines.append(line)
            seen.update(r for r in ready if r in line)
        assert len(seen) == len(ready), f'nodes not ready: {set(ready) - seen}\n{"".join(lines)}'
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, err
    assert 'still running' not in err, err  # no node needed SIGTERM or SIGKILL
