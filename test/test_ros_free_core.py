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
"""world_model/ is the ROS-free core: every module imports with rclpy and ROS messages absent."""

import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent

PROBE = """
import importlib, pkgutil, sys
for name in ('rclpy', 'sensor_msgs', 'nav_msgs', 'geometry_msgs', 'std_msgs', 'launch'):
    sys.modules[name] = None  # any import of these now raises ImportError
import world_model
names = [m.name for m in pkgutil.walk_packages(world_model.__path__, 'world_model.')]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_every_world_model_module_imports_without_ros():
    result = subprocess.run([sys.executable, '-c', PROBE], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip().splitlines()[-1]) >= 30  # the walk really found the core


def test_no_world_model_module_imports_agent_node():
    import ast

    offenders = []
    for path in sorted((REPO / 'world_model').rglob('*.py')):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ''] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f'{path.relative_to(REPO)}: {n}' for n in names
                          if n == 'agent_node' or n.startswith('agent_node.')]
    assert not offenders, 'the core must not name the ROS layer:\n' + '\n'.join(offenders)
