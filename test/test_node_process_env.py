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
"""What every node process gets from the agent_node package before its module imports numpy."""

import os
import subprocess
import sys

import pytest

PROBE = ('import agent_node.planner_node, os, numpy; '
         "print(os.environ.get('OPENBLAS_NUM_THREADS'))")


@pytest.mark.parametrize('exported, expected', [(None, '1'), ('3', '3')])
def test_nodes_default_openblas_to_one_thread_unless_exported(exported, expected):
    env = {k: v for k, v in os.environ.items() if k != 'OPENBLAS_NUM_THREADS'}
    if exported is not None:
        env['OPENBLAS_NUM_THREADS'] = exported
    out = subprocess.run([sys.executable, '-c', PROBE], env=env, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == expected
