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
"""Infrastructure failures of an episode, told apart from the agent failing the task, and retried.

An episode runner raises InfrastructureError when the episode could not be run as specified (no
ground truth after the reset, a service or the loop stalled, a node died); the agent failing the
task is an ordinary result. run_episodes reruns such an episode (restarting the runner's nodes
first when the error asks for it) and records the failed attempts in the episode's record.
"""

from typing import Protocol

from world_model.evaluation.episodes import EpisodeSpec
from world_model.evaluation.records import EpisodeRecord


class InfrastructureError(RuntimeError):
    """An episode failed outside the agent; restart: the nodes must be restarted to go on."""

    def __init__(self, message: str, restart: bool = False):
        super().__init__(message)
        self.restart = restart


class EpisodeRunner(Protocol):
    def run_episode(self, spec: EpisodeSpec) -> EpisodeRecord: ...

    def restart(self) -> None: ...


def run_with_retries(runner: EpisodeRunner, spec: EpisodeSpec, retries: int,
                     on_retry=None) -> EpisodeRecord:
    """runner.run_episode(spec), rerun up to `retries` times after an InfrastructureError.

    on_retry(spec, error) is called before each rerun. When every attempt failed, the last
    error is raised, its message naming how many attempts were made.
    """
    errors = []
    while True:
        try:
            record = runner.run_episode(spec)
        except InfrastructureError as exc:
            errors.append(str(exc))
            if len(errors) > retries:
                raise InfrastructureError(
                    f'episode {spec.index} failed {len(errors)} time(s) for infrastructure '
                    f'reasons; the last: {exc}', restart=exc.restart) from exc
            if on_retry is not None:
                on_retry(spec, exc)
            if exc.restart:
                runner.restart()  # an error here ends the run: the nodes cannot come back
            continue
        for message in errors:
            record.add_infrastructure_error(message)
        return record


def run_episodes(runner: EpisodeRunner, specs, retries: int, on_episode=None,
                 on_retry=None) -> list[EpisodeRecord]:
    """Every spec in order with run_with_retries; on_episode(record) as soon as each ends."""
    records = []
    for spec in specs:
        record = run_with_retries(runner, spec, retries, on_retry)
        records.append(record)
        if on_episode is not None:
            on_episode(record)
    return records
