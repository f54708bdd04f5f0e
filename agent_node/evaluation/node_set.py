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
"""The node processes of the evaluation harness, started and stopped by bringup's Supervisor.

The same Supervisor as `jepa-agent run` (agent_node.bringup.supervisor), used without its
blocking run(): the harness starts the nodes, checks them between steps and stops them. Output
goes to one log file, each line prefixed with the node name.
"""

import contextlib
import os
import pathlib

from agent_node.bringup import profiles, supervisor
from world_model.evaluation.retry import InfrastructureError

AGENT_NODES = ('sim_node', 'world_model_node', 'planner_node')
RANDOM_NODES = ('sim_node',)


class HarnessError(InfrastructureError):
    """The node set failed to start, a node died, or a service call failed."""


def discovery_range() -> str:
    """The user's ROS_AUTOMATIC_DISCOVERY_RANGE, else LOCALHOST: a harness stays on this host."""
    return os.environ.get('ROS_AUTOMATIC_DISCOVERY_RANGE') or 'LOCALHOST'


def default_domain_id() -> int:
    """A private DDS domain (10-99, from the process id): never a robot's default domain 0."""
    return 10 + os.getpid() % 90


class NodeSet:
    """Some nodes of the sim_demo profile as child processes of one Supervisor (on simulated
    time, or on the wall clock with use_sim_time=False: no sim_node, a camera instead)."""

    def __init__(self, nodes, params_file, model_dir, log_path, domain_id: int,
                 shutdown_timeout: float = 5.0, use_sim_time: bool = True):
        values = profiles.resolve_arguments('sim_demo', profiles.share_directory(), {
            'config': str(params_file), 'model_dir': str(model_dir),
            'use_sim_time': str(use_sim_time).lower()})
        self.specs = [s for s in profiles.node_specs('sim_demo', values) if s.name in nodes]
        self.log_path = pathlib.Path(log_path)
        self.env = {**os.environ, 'ROS_DOMAIN_ID': str(domain_id),
                    'ROS_AUTOMATIC_DISCOVERY_RANGE': discovery_range()}
        self.shutdown_timeout = shutdown_timeout
        self.supervisor = None
        self._log = None
        self.clean = None

    def start(self):
        """Start the nodes (a fresh process each, also after a stop)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, 'a', encoding='utf-8')  # noqa: SIM115 closed in stop()
        children = [supervisor.Child(s.name, supervisor.executable_for(s) +
                                     supervisor.ros_arguments(s)) for s in self.specs]
        self.supervisor = supervisor.Supervisor(children, out=self._log,
                                                shutdown_timeout=self.shutdown_timeout,
                                                name='jepa-agent evaluation')
        self.clean = None
        self.supervisor.start(self.env)
        return self

    @property
    def started(self) -> bool:
        """True between start() and stop()."""
        return self._log is not None

    def check(self):
        """HarnessError (restart needed) naming the first node that exited."""
        dead = self.supervisor.exited() if self.supervisor is not None else []
        if dead:
            raise HarnessError(f'node {dead[0].name} {dead[0].exit_description()}; last lines '
                               f'of {self.log_path}:\n{self.tail()}', restart=True)

    def tail(self, lines: int = 25) -> str:
        with contextlib.suppress(OSError):
            return '\n'.join(self.log_path.read_text(errors='replace').splitlines()[-lines:])
        return ''

    def stop(self) -> bool:
        """SIGINT, then SIGTERM, then SIGKILL; True when every node exited on the SIGINT."""
        if self.supervisor is None:
            return bool(self.clean)
        children = self.supervisor.children
        was_alive = all(c.alive() for c in children)
        self.clean = self.supervisor.stop() and was_alive and all(
            c.proc.returncode in supervisor.STOPPED_ON_REQUEST for c in children)
        self.supervisor = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.clean
