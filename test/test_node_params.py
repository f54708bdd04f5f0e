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
"""agent_node/evaluation/node_params.py: the configs a node builds from a parameters file."""

from agent_node.evaluation.node_params import node_config_of, node_parameters, sim_config_of
from world_model.evaluation.protocol import HarnessConfig
from world_model.memory import MapConfig
from world_model.online import FramePipelineConfig
from world_model.planning.planner_config import PlannerConfig


def test_a_node_config_reads_the_shared_and_the_node_sections():
    parameters = node_parameters(HarnessConfig(layout='two_rooms', distractors=True), '',
                                 'config/sim_demo.yaml', {
                                     'world_model_node': {'horizon': 7, 'map': {'localise_k': 16}},
                                     'planner_node': {'num_samples': 96}})
    pipeline = node_config_of(parameters, 'world_model_node', FramePipelineConfig)
    assert pipeline.horizon == 7 and pipeline.floor_homing  # the override and the profile's
    parameters['/**']['ros__parameters']['control_period'] = 0.2  # shared by every node
    planner = node_config_of(parameters, 'planner_node', PlannerConfig)
    assert planner.num_samples == 96 and planner.control_period == 0.2
    # map.* are a group of world_model_node's parameters, not its FramePipelineConfig fields
    assert node_config_of(parameters, 'world_model_node', MapConfig, group='map') == \
        MapConfig(localise_k=16)
    sim = sim_config_of(parameters)
    assert sim.layout == 'two_rooms' and sim.distractors


def test_no_group_in_the_file_gives_the_defaults():
    parameters = node_parameters(HarnessConfig(), '', 'config/sim_demo.yaml')
    assert node_config_of(parameters, 'world_model_node', MapConfig, group='map') == MapConfig()
    assert not sim_config_of(parameters).distractors
