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
"""No ground truth outside evaluation: training, probes, export and the robot's nodes see only
what a robot has (camera, odometry, commands).

A text scan of every module under world_model/ and agent_node/: `ground_truth` may appear only
in the modules allowed below, each for the reason given.
"""

import pathlib

REPO = pathlib.Path(__file__).resolve().parents[1]
WORD = 'ground_truth'

# Keep this minimal: each entry is a place where simulator truth is produced, recorded,
# carried to evaluation, reported as present, or used to score.
ALLOWED_DIRS = (
    'world_model/evaluation',  # scores models against the truth
    'agent_node/evaluation',  # the closed-loop harness records the true pose
    'world_model/envs',  # the simulator produces it
)
ALLOWED_FILES = {
    'agent_node/sim_node.py': 'publishes ground_truth/odom (for evaluation only)',
    'world_model/data/bag_writer.py': 'records the simulator truth into the bag',
    'world_model/data/bag_reader.py': 'reads it only with read_ground_truth=True (evaluate)',
    'world_model/data/episode.py': 'the Episode field that carries it to evaluation',
    'world_model/data/bag_inspection.py': 'reports whether a bag holds it',
    'world_model/data/inspect_cmd.py': "prints bag_inspection's presence line",
}


def _allowed(relative: str) -> bool:
    return relative in ALLOWED_FILES or any(relative.startswith(d + '/') for d in ALLOWED_DIRS)


def test_only_evaluation_and_simulator_modules_mention_ground_truth():
    offenders = []
    for package in ('world_model', 'agent_node'):
        for path in sorted((REPO / package).rglob('*.py')):
            relative = path.relative_to(REPO).as_posix()
            if _allowed(relative):
                continue
            for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
                if WORD in line:
                    offenders.append(f'{relative}:{number}: {line.strip()}')
    assert not offenders, ('ground truth outside evaluation (a robot has none; use odometry, '
                           'or add the module to the allow-list with a reason):\n'
                           + '\n'.join(offenders))


def test_the_allow_list_names_only_existing_modules_that_need_it():
    for relative in ALLOWED_FILES:
        path = REPO / relative
        assert path.is_file(), relative
        assert WORD in path.read_text(encoding='utf-8'), f'{relative} no longer needs the entry'
    for directory in ALLOWED_DIRS:
        assert (REPO / directory).is_dir(), directory


def test_the_allow_list_matches_whole_module_paths():
    assert not _allowed('world_model/training/dataset.py')
    assert not _allowed('world_model/export/onnx_export.py')
    assert _allowed('world_model/evaluation/metrics.py')
    assert not _allowed('world_model/evaluationx/metrics.py')
