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
"""`jepa-agent train` under torch.distributed: two real gloo processes on a tiny bag."""

import re
import subprocess
import sys

import pytest
from test_training import REPO_ROOT, read_metrics, write_tiny_bag, write_tiny_config

from world_model.models.jepa import load_model
from world_model.training.trainer import parameter_digest


@pytest.mark.slow
def test_two_process_gloo_training(tmp_path):
    bag = write_tiny_bag(tmp_path / 'bag')
    config = write_tiny_config(tmp_path / 'train.yaml')
    run = tmp_path / 'run'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
           '-m', 'agent_node.cli', 'train', '--data', str(bag), '--out', str(run),
           '--config', str(config), '--device', 'cpu', '--epochs', '1']
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    started = set(re.findall(r'\[rank (\d)/2\] \d+ training windows', out))
    assert started == {'0', '1'}, out
    digests = dict(re.findall(r'\[rank (\d)/2\] parameter digest ([0-9a-f]{16})', out))
    assert set(digests) == {'0', '1'}, out
    assert digests['0'] == digests['1']  # DDP kept the replicas identical
    # rank 0 alone wrote the run directory, and its checkpoint is what both ranks hold
    assert len(read_metrics(run)) == 1
    assert parameter_digest(load_model(run)) == digests['0']
