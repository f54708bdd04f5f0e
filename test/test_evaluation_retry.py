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
"""The harness's retry policy and incremental report, with injected episode runners (no DDS)."""

import json
import os

import pytest

from world_model.evaluation.episodes import EpisodeSpec
from world_model.evaluation.records import EpisodeRecord
from world_model.evaluation.report_file import IncrementalReport, write_json_atomic
from world_model.evaluation.retry import InfrastructureError, run_episodes, run_with_retries

SPECS = [EpisodeSpec(index=i, seed=100 + i, start=(0.0, 0.0, 0.0), goal=(1.0, 0.0, 0.0))
         for i in range(4)]


class ScriptedRunner:
    """Runs episodes from a script: {episode index: [error or None per attempt]}."""

    def __init__(self, failures=None, crash_at=None):
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.crash_at = crash_at
        self.calls, self.restarts = [], 0

    def run_episode(self, spec):
        self.calls.append(spec.index)
        if spec.index == self.crash_at:
            raise KeyboardInterrupt  # the process is killed mid-run
        script = self.failures.get(spec.index)
        error = script.pop(0) if script else None
        if error is not None:
            raise error
        record = EpisodeRecord(spec, 'agent')
        record.add_true_pose(0, spec.start)
        record.observe_distance(0, spec.distance)
        record.success, record.end_reason = spec.index % 2 == 0, 'budget'
        record.finish(1.0)
        return record

    def restart(self):
        self.restarts += 1


def test_an_infrastructure_failure_is_rerun_once_and_recorded_in_the_record():
    runner = ScriptedRunner({1: [InfrastructureError('no ground truth at the start pose\nlog')]})
    records = run_episodes(runner, SPECS, retries=1)
    assert runner.calls == [0, 1, 1, 2, 3]
    assert runner.restarts == 0  # a lost message does not need new nodes
    assert [r.spec.index for r in records] == [0, 1, 2, 3]
    assert records[1].retries == 1
    assert records[1].infrastructure_errors == ['no ground truth at the start pose']
    assert all(r.retries == 0 and not r.infrastructure_errors for i, r in enumerate(records)
               if i != 1)


def test_a_node_that_died_is_restarted_before_the_rerun():
    runner = ScriptedRunner({2: [InfrastructureError('node planner_node exited with code 1',
                                                     restart=True)]})
    retried = []
    records = run_episodes(runner, SPECS, retries=1,
                           on_retry=lambda spec, exc: retried.append((spec.index, exc.restart)))
    assert runner.restarts == 1 and retried == [(2, True)]
    assert records[2].retries == 1 and len(records) == 4


def test_an_episode_failing_every_attempt_stops_the_run_naming_the_attempts():
    runner = ScriptedRunner({1: [InfrastructureError('sim/reset: no answer')] * 2})
    finished = []
    with pytest.raises(InfrastructureError, match='episode 1 failed 2 time'):
        run_episodes(runner, SPECS, retries=1, on_episode=finished.append)
    assert [r.spec.index for r in finished] == [0]
    assert runner.calls == [0, 1, 1]


def test_the_agent_failing_the_task_is_a_result_not_a_retry():
    runner = ScriptedRunner()
    records = run_episodes(runner, SPECS, retries=1)
    assert runner.calls == [0, 1, 2, 3]
    assert [r.success for r in records] == [True, False, True, False]


def test_other_errors_are_not_retried():
    class Broken(ScriptedRunner):
        def run_episode(self, spec):
            self.calls.append(spec.index)
            raise ValueError('a bug')

    runner = Broken()
    with pytest.raises(ValueError):
        run_with_retries(runner, SPECS[0], retries=3)
    assert runner.calls == [0]


def test_no_retries_means_the_first_failure_stops_the_run():
    runner = ScriptedRunner({0: [InfrastructureError('stalled', restart=True)]})
    with pytest.raises(InfrastructureError, match='failed 1 time'):
        run_with_retries(runner, SPECS[0], retries=0)
    assert runner.restarts == 0


def _report(path):
    return IncrementalReport(path, {'command': 'jepa-agent closed-loop', 'protocol': {}},
                             clock=iter(range(100)).__next__)


def test_the_report_holds_every_finished_episode_when_the_run_crashes(tmp_path):
    path = tmp_path / 'out' / 'report.json'
    report = _report(path)
    runner = ScriptedRunner({1: [InfrastructureError('lost ground truth')]}, crash_at=3)
    with pytest.raises(KeyboardInterrupt):
        run_episodes(runner, SPECS, retries=1, on_episode=report.add_episode)
    # nothing ran finish(): what is on disk is what add_episode wrote after episode 2
    data = json.loads(path.read_text())
    assert data['command'] == 'jepa-agent closed-loop'
    assert data['complete'] is False
    assert [e['index'] for e in data['episodes']['agent']] == [0, 1, 2]
    assert data['episodes']['agent'][1]['retries'] == 1
    assert data['episodes']['agent'][1]['infrastructure_errors'] == ['lost ground truth']
    assert data['results']['agent']['episodes'] == 3
    assert data['results']['agent']['successes'] == 2
    assert data['results']['agent']['retries'] == 1
    assert [p.name for p in path.parent.iterdir()] == ['report.json']  # no temporary left


def test_the_report_is_rewritten_after_each_episode_and_marked_complete_at_the_end(tmp_path):
    path = tmp_path / 'report.json'
    report = _report(path)
    seen = []

    def on_episode(record):
        report.add_episode(record)
        seen.append(len(json.loads(path.read_text())['episodes']['agent']))

    run_episodes(ScriptedRunner(), SPECS[:3], retries=1, on_episode=on_episode)
    assert seen == [1, 2, 3]
    report.finish_policy('agent', {'startup_s': 4.2, 'clean_stop': True})
    report.finish()
    data = json.loads(path.read_text())
    assert data['complete'] is True and data['error'] is None
    assert data['results']['agent']['startup_s'] == 4.2
    assert data['results']['agent']['episodes'] == 3


def test_a_run_stopped_by_an_error_says_why(tmp_path):
    report = _report(tmp_path / 'report.json')
    report.finish('episode 30 failed 2 time(s)')
    data = json.loads((tmp_path / 'report.json').read_text())
    assert data['complete'] is False and data['error'] == 'episode 30 failed 2 time(s)'
    assert data['episodes'] == {} and data['results'] == {}


def test_atomic_write_keeps_the_previous_report_when_writing_fails(tmp_path):
    path = tmp_path / 'report.json'
    write_json_atomic(path, {'episodes': 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {'episodes': object()})  # not JSON: fails half-way
    assert json.loads(path.read_text()) == {'episodes': 1}
    assert os.listdir(tmp_path) == ['report.json']
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
