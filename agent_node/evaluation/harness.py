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
"""Image-goal episodes through the real nodes: the harness behind `closed-loop` and `demo`.

An EvaluationHarness starts the sim_demo node set (agent_node.evaluation.node_set) with
sim_node in lockstep on simulated time, and drives it from an rclpy orchestrator in this
process (agent_node.evaluation.orchestrator). Per episode it sets the simulator's seed,
start_pose and goal_pose parameters, calls sim/reset (the simulator renders the goal image at
goal_pose and latches it on goal_image; world_model_node encodes it and the planner drives),
and counts control steps (frames after the reset frame) until the ground-truth distance to the
goal drops below the success threshold or the step budget runs out.

Two policies run the same episodes (world_model.evaluation.episodes.plan_episodes):
- 'agent': sim_node + world_model_node + planner_node; the planner drives cmd_vel.
- 'random': sim_node only; the orchestrator itself publishes smooth random commands
  (world_model.envs.ExplorationPolicy, seeded per episode, without collision feedback so that
  the commands depend on the seed alone).

An episode that fails outside the agent raises HarnessError (an InfrastructureError); run_policy
reruns it (world_model.evaluation.retry), restarting the nodes first when one died or stalled.
"""

import math
import os
import pathlib
import tempfile
import time

import numpy as np
import yaml

from agent_node.bringup import profiles
from agent_node.evaluation.node_params import node_parameters, sim_config_of
from agent_node.evaluation.node_set import (
    AGENT_NODES,
    RANDOM_NODES,
    HarnessError,
    NodeSet,
    default_domain_id,
    discovery_range,
)
from agent_node.evaluation.orchestrator import EpisodeOrchestrator
from world_model.envs import ActionLimits, ExplorationPolicy
from world_model.envs.diff_drive_sim import episode_layout
from world_model.evaluation.episodes import EpisodeSpec
from world_model.evaluation.mapping_tour import MappingTour
from world_model.evaluation.protocol import POLICIES, HarnessConfig
from world_model.evaluation.records import EpisodeRecord
from world_model.evaluation.retry import run_episodes
from world_model.planning.status import GOAL_REACHED

__all__ = ['EvaluationHarness', 'HarnessError', 'run_policy']

_GROUND_TRUTH_WAIT_S = 20.0  # wall seconds for the reset frame after sim/reset
_PACE_WAIT_S = 0.2  # wall seconds the mapping tour waits for the world model's answer


class EvaluationHarness:
    """The node set of one policy plus the orchestrator; run_episode() as often as needed.

    with EvaluationHarness(config, 'agent', model_dir='models/default', workdir='out/run') as h:
        record = h.run_episode(spec)
    """

    def __init__(self, config: HarnessConfig, policy: str, model_dir=None, workdir=None,
                 domain_id: int | None = None, base_config=None, node_overrides=None,
                 memory_path=None):
        if policy not in POLICIES:
            raise ValueError(f'unknown policy {policy!r}: allowed one of {", ".join(POLICIES)}')
        self.config, self.policy = config, policy
        self.model_dir = pathlib.Path(model_dir or profiles.default_model_dir()).resolve()
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix='jepa-evaluation-')
            workdir = self._tmp.name
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.domain_id = default_domain_id() if domain_id is None else int(domain_id)
        # one memory file for the whole run: node restarts after a failure keep the map
        self.memory_path = pathlib.Path(memory_path or self.workdir / f'memory-{policy}.sqlite3')
        self.parameters = node_parameters(config, str(self.memory_path.resolve()), base_config,
                                          node_overrides)
        self.sim_config = sim_config_of(self.parameters)
        self.params_file = self.workdir / f'params-{policy}.yaml'
        self.params_file.write_text(yaml.safe_dump(self.parameters, sort_keys=False))
        self.log_path = self.workdir / f'nodes-{policy}.log'
        self.nodes = NodeSet(AGENT_NODES if policy == 'agent' else RANDOM_NODES,
                             self.params_file, self.model_dir, self.log_path, self.domain_id)
        self.context = None
        self.orchestrator = None
        self.startup_s = math.nan
        self.restarts = 0
        self.clean_stop = None

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if self.policy == 'agent' and not (self.model_dir / 'manifest.json').is_file():
            raise HarnessError(f'no exported model in {self.model_dir} (manifest.json missing): '
                               f'pass --model-dir or run `make default-model`')
        began = time.monotonic()
        self._start_nodes()
        self.startup_s = time.monotonic() - began

    def restart(self):
        """Stop the nodes and the orchestrator and start them afresh (after a failure)."""
        self.restarts += 1
        self._stop_nodes()
        self._start_nodes()

    def stop(self) -> bool:
        """Stop everything; True when every node exited on the first request."""
        if self.clean_stop is None and self.nodes.started:
            self.clean_stop = self._stop_nodes()
        else:
            self._stop_nodes()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return bool(self.clean_stop)

    def _start_nodes(self):
        import rclpy
        from rclpy.context import Context
        from rclpy.signals import SignalHandlerOptions

        self.nodes.start()
        os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = discovery_range()  # as the nodes'
        self.context = Context()
        rclpy.init(context=self.context, domain_id=self.domain_id,
                   signal_handler_options=SignalHandlerOptions.NO)
        self.orchestrator = EpisodeOrchestrator(self.context, self.config,
                                                self.sim_config.control_period, self.policy)
        self._wait_ready()

    def _stop_nodes(self) -> bool:
        import rclpy

        if self.orchestrator is not None:
            self.orchestrator.destroy()
            self.orchestrator = None
        if self.context is not None:
            rclpy.try_shutdown(context=self.context)
            self.context = None
        return self.nodes.stop() if self.nodes.started else bool(self.clean_stop)

    def _wait_ready(self):
        orch, timeout = self.orchestrator, self.config.startup_timeout
        for client in (orch.set_params, orch.reset):
            deadline = time.monotonic() + timeout
            while not client.wait_for_service(timeout_sec=0.5):
                self.nodes.check()
                if time.monotonic() > deadline:
                    raise HarnessError(f'service {client.srv_name} did not appear within '
                                       f'{timeout:.0f} s; node log {self.log_path}:\n'
                                       f'{self.nodes.tail()}')
        if self.policy != 'agent':
            return
        ready = orch.spin_until(lambda: orch.futures_seen > 0 and orch.planner_state is not None,
                                timeout, check=self.nodes.check)
        if not ready:
            missing = 'world_model/predicted_futures' if not orch.futures_seen else \
                'planner/status'
            raise HarnessError(f'no {missing} within {timeout:.0f} s of start-up: is the model '
                               f'in {self.model_dir} valid? node log {self.log_path}:\n'
                               f'{self.nodes.tail()}')

    # -- mapping ------------------------------------------------------------------------------
    def run_mapping(self, steps: int, seed: int, on_step=None) -> EpisodeRecord:
        """The mapping tour for `steps` control steps: no goal image, the planner idle.

        The orchestrator publishes the tour's commands, steered on the ground truth (a
        teleoperator's stand-in); the world model node builds its map from camera + odometry.
        Returns the tour's record (policy 'mapping'): trajectory, collisions, wall time.
        """
        layout = episode_layout(self.sim_config, seed, self.config.layout)
        tour = MappingTour(layout, self.sim_config.robot_radius,
                           ActionLimits.from_config(self.sim_config), seed)
        spec = EpisodeSpec(-1, int(seed) & 0x7FFF_FFFF,
                           tuple(round(float(v), 6) for v in tour.start), ())
        return self._drive(spec, 'mapping', steps, tour.act, on_step)

    def _drive(self, spec, policy, steps, act, on_step=None) -> EpisodeRecord:
        """Publish act(true pose) on every frame once the world model has answered it.

        Paced by world_model/predicted_futures (as the planner is in an episode), so the world
        model sees every frame of the tour rather than the newest of a burst.
        """
        orch, record = self.orchestrator, EpisodeRecord(spec, policy)
        orch.begin_episode(record)
        try:
            began = time.monotonic()
            orch.reset_simulator(spec, check=self.nodes.check)
            if not orch.spin_until(lambda: orch.started, _GROUND_TRUTH_WAIT_S,
                                   self.nodes.check):
                raise HarnessError(f'{policy}: no ground truth at the start pose after '
                                   f'sim/reset; node log {self.log_path}:\n{self.nodes.tail()}')
            handled, pose = -1, np.asarray(spec.start)
            deadline = began + self.config.episode_timeout * max(1.0, steps / 200)
            while handled < steps:
                orch.spin_once(0.05)
                self.nodes.check()
                if time.monotonic() > deadline:
                    raise HarnessError(f'{policy}: stalled at step {orch.last_step}; node log '
                                       f'{self.log_path}', restart=True)
                if orch.last_step <= handled:
                    continue
                if orch.futures_step < orch.last_step and \
                        time.monotonic() - orch.frame_wall < _PACE_WAIT_S:
                    continue
                handled = orch.last_step
                pose = record.trajectory.get(handled, pose)  # a dropped message: the last
                if on_step is not None:
                    on_step(record, handled)
                if handled < steps:
                    orch.publish_command(act(pose))
        finally:
            orch.end_episode()
        record.steps = handled
        record.finish(time.monotonic() - began)
        return record

    # -- episodes -----------------------------------------------------------------------------
    def run_episode(self, spec: EpisodeSpec, on_step=None) -> EpisodeRecord:
        """Reset to spec, run until success, budget or stop; on_step(record, step, distance).

        HarnessError when the episode could not be run (no ground truth after the reset, a
        stalled loop or service, a node died); the agent failing is an ordinary record.
        """
        cfg, orch = self.config, self.orchestrator
        record = EpisodeRecord(spec, self.policy)
        goal = np.asarray(spec.goal[:2])
        random_policy = None
        if self.policy == 'random':
            random_policy = ExplorationPolicy(spec.seed, ActionLimits.from_config(
                self.sim_config))
        orch.begin_episode(record)
        try:
            began = time.monotonic()
            orch.reset_simulator(spec, check=self.nodes.check)
            if not orch.spin_until(lambda: orch.started, _GROUND_TRUTH_WAIT_S,
                                   self.nodes.check):
                raise HarnessError(f'episode {spec.index}: no ground truth at the start pose '
                                   f'after sim/reset; node log {self.log_path}:\n'
                                   f'{self.nodes.tail()}')
            handled, commands_sent, stopped_frames = -1, 0, 0
            deadline = began + cfg.episode_timeout
            next_check = 0.0
            while True:
                orch.spin_once(0.05)
                now = time.monotonic()
                if now >= next_check:
                    self.nodes.check()
                    next_check = now + 0.5
                if now > deadline:
                    raise HarnessError(f'episode {spec.index}: stalled, not over after '
                                       f'{cfg.episode_timeout:g} s wall (at step '
                                       f'{orch.last_step}); node log {self.log_path}',
                                       restart=True)
                if orch.last_step <= handled:
                    continue
                for step in range(handled + 1, orch.last_step + 1):  # every new frame in order
                    pose = record.trajectory.get(step)
                    if pose is None:
                        continue  # a dropped ground-truth message
                    distance = float(np.hypot(*(pose[:2] - goal)))
                    record.observe_distance(step, distance)
                    record.add_planner_state(step, orch.planner_state)
                    if on_step is not None:
                        on_step(record, step, distance)
                    if distance < cfg.success_threshold:
                        record.success, record.end_reason = True, 'reached'
                    elif step >= cfg.budget:
                        record.end_reason = 'budget'
                    elif self.policy == 'agent':
                        stopped = orch.planner_state == GOAL_REACHED
                        stopped_frames = stopped_frames + 1 if stopped else 0
                        if stopped_frames >= cfg.stop_frames:
                            record.end_reason = 'agent_stopped'
                    if record.end_reason:
                        break
                handled = orch.last_step
                if record.end_reason:
                    break
                if random_policy is not None:
                    # one policy draw per step, so a dropped frame does not shift the sequence
                    command = None
                    while commands_sent <= handled:
                        command = random_policy.act(False)
                        commands_sent += 1
                    orch.publish_command(command)
        finally:
            orch.end_episode()
        record.finish(time.monotonic() - began)
        return record


def run_policy(config: HarnessConfig, specs, policy: str, model_dir=None, workdir=None,
               domain_id=None, on_episode=None, node_overrides=None,
               on_retry=None, memory_path=None, mapping_seed: int = 0,
               on_mapping=None) -> tuple[list[EpisodeRecord], dict]:
    """All specs under one policy; on_episode(record) after each. Returns (records, info).

    The agent first drives config.mapping_steps of the mapping tour (seeded by mapping_seed;
    on_mapping(record) after it) into its memory file, memory_path or the workdir's.
    An episode that fails for an infrastructure reason is rerun up to config.retries times
    (after a restart of the nodes when one died or stalled); on_retry(spec, error) before each.
    """
    mapping = None
    with EvaluationHarness(config, policy, model_dir=model_dir, workdir=workdir,
                           domain_id=domain_id, node_overrides=node_overrides,
                           memory_path=memory_path) as harness:
        if policy == 'agent' and config.mapping_steps > 0:
            mapping = _map_with_retries(harness, config, mapping_seed)
            if on_mapping is not None:
                on_mapping(mapping)
        records = run_episodes(harness, specs, config.retries, on_episode, on_retry)
    info = harness_info(harness, workdir is not None)
    if policy == 'agent':
        info['memory'] = str(harness.memory_path.resolve()) if workdir or memory_path else None
        info['mapping'] = mapping_info(mapping)
    return records, info


def _map_with_retries(harness: EvaluationHarness, config: HarnessConfig, seed: int):
    """The mapping tour, rerun from its start (after a restart) on an infrastructure failure.

    The rerun drives into the same memory file, so it extends what the failed attempt mapped.
    """
    for attempt in range(config.retries + 1):
        try:
            return harness.run_mapping(config.mapping_steps, seed)
        except HarnessError as exc:
            if attempt == config.retries:
                raise
            if exc.restart:
                harness.restart()
    raise AssertionError('unreachable')


def mapping_info(record: EpisodeRecord | None) -> dict:
    """What the report says about the mapping phase ({'steps': 0} when it was skipped)."""
    if record is None:
        return {'steps': 0}
    poses = record.poses()
    return {'steps': record.steps, 'wall_s': round(record.wall_s, 1),
            'control_hz': round(record.control_hz, 2), 'collisions': record.collisions,
            'start': list(record.spec.start),
            'x_range_m': [round(float(poses[:, 0].min()), 2), round(float(poses[:, 0].max()), 2)]
            if len(poses) else None}


def harness_info(harness: EvaluationHarness, keep_log: bool = True) -> dict:
    """What a report says about how the nodes ran."""
    return {'startup_s': round(harness.startup_s, 2), 'restarts': harness.restarts,
            'clean_stop': harness.clean_stop,
            'node_log': str(harness.log_path) if keep_log else None}
