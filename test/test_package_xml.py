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
"""package.xml names only rosdep keys that `rosdep install --from-paths src` can resolve on Jazzy.

A rosdep key is either a system dependency of rosdistro's rosdep/base.yaml or rosdep/python.yaml
(not an end-of-life alias) or a ROS package released in jazzy/distribution.yaml. Both lists are
copied into test/data with the rosdistro commit in their header; refresh them with

    python test/test_package_xml.py /path/to/rosdistro/checkout
"""

import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

REPO = pathlib.Path(__file__).resolve().parent.parent
DATA = REPO / 'test' / 'data'
DEPEND_TAGS = ('depend', 'build_depend', 'build_export_depend', 'buildtool_depend',
               'buildtool_export_depend', 'exec_depend', 'test_depend', 'doc_depend')
# Imported by the nodes or the launch files at run time: must be exec_depends.
RUNTIME_ROS_PACKAGES = ('rclpy', 'rcl_interfaces', 'ament_index_python', 'builtin_interfaces',
                        'std_msgs', 'std_srvs', 'geometry_msgs', 'sensor_msgs', 'nav_msgs',
                        'visualization_msgs', 'diagnostic_msgs', 'lifecycle_msgs',
                        'rosgraph_msgs', 'launch', 'launch_ros')
TRAINING_ONLY = ('torch', 'pytorch', 'pybullet', 'rosbags', 'safetensors', 'onnx-pip',
                 'matplotlib', 'tqdm')


def listed(name: str) -> tuple[set, str]:
    """(entries, rosdistro commit) of a test/data list."""
    text = (DATA / name).read_text()
    commit = re.search(r'ros/rosdistro at commit ([0-9a-f]{40})', text)
    assert commit, f'{name} does not record the rosdistro commit it was copied from'
    return {line for line in text.splitlines() if line and not line.startswith('#')}, commit[1]


def dependencies(environ=None) -> dict[str, list[str]]:
    """tag -> keys, with conditions evaluated like rosdep does (against the environment)."""
    from catkin_pkg.package import parse_package

    package = parse_package(str(REPO / 'package.xml'))
    package.evaluate_conditions(environ or {})
    out = {}
    for tag in DEPEND_TAGS:
        deps = getattr(package, tag + 's', [])  # <depend> is split into build and exec
        out[tag] = [d.name for d in deps if d.evaluated_condition]
    return out


def test_the_key_lists_are_copies_of_one_rosdistro_commit():
    keys, commit_a = listed('rosdep_keys.txt')
    eol, commit_b = listed('rosdep_eol_keys.txt')
    packages, commit_c = listed('jazzy_packages.txt')
    assert commit_a == commit_b == commit_c
    assert len(keys) > 2000 and len(packages) > 2000  # whole lists, not a hand-picked few
    assert {'python3-numpy', 'python3-onnxruntime-pip'} <= keys and not keys & eol
    assert 'python3-pytorch-pip' in eol
    assert {'rclpy', 'launch_ros', 'ros_gz_bridge'} <= packages


def test_every_key_in_package_xml_resolves_on_jazzy():
    keys, _ = listed('rosdep_keys.txt')
    eol, _ = listed('rosdep_eol_keys.txt')
    packages, _ = listed('jazzy_packages.txt')
    root = ET.parse(REPO / 'package.xml').getroot()
    names = [(e.tag, e.text.strip()) for tag in DEPEND_TAGS for e in root.iter(tag)]
    assert names, 'no dependencies found'
    for tag, name in names:  # every one, whatever its condition
        assert name not in eol, f'<{tag}>{name}: end-of-life alias in rosdistro'
        assert name in keys or name in packages, \
            f'<{tag}>{name}: neither a rosdep key nor a Jazzy package: rosdep install would stop'


def test_runtime_dependencies_are_declared_and_training_ones_are_not():
    deps = dependencies()
    for name in RUNTIME_ROS_PACKAGES:
        assert name in deps['exec_depend'], f'{name} is imported at run time but not declared'
    declared = [n for names in deps.values() for n in names]
    heavy = [n for n in declared if any(t in n for t in TRAINING_ONLY)]
    assert not heavy, f'training/simulation dependencies in package.xml: {heavy}'
    assert 'python3-onnxruntime-pip' in deps['exec_depend']


def test_ros_gz_bridge_is_an_opt_in_dependency_of_the_gazebo_profile():
    assert 'ros_gz_bridge' not in dependencies()['exec_depend']
    assert 'ros_gz_bridge' in dependencies({'JEPA_AGENT_GAZEBO': '1'})['exec_depend']


def test_training_requirements_cover_what_training_imports():
    runtime = (REPO / 'requirements-robot.txt').read_text()
    training = (REPO / 'requirements-training.txt').read_text()
    for name in ('torch', 'onnx', 'safetensors', 'pybullet', 'rosbags'):
        assert re.search(rf'^{name}==', training, re.M), name
        assert not re.search(rf'^{name}==', runtime, re.M), f'{name} on the robot'
    assert re.search(r'^onnxruntime==', runtime, re.M)
    # the dev venv (make setup) still gets everything the tests need
    top = (REPO / 'requirements.txt').read_text()
    assert '-r requirements-robot.txt' in top and '-r requirements-training.txt' in top
    pins = dict(re.findall(r'^([A-Za-z0-9_.-]+)==(\S+)', (REPO / 'constraints.txt').read_text(),
                           re.M))
    for text in (runtime, training, top):
        for name, version in re.findall(r'^([A-Za-z0-9_.\[\]-]+)==(\S+)', text, re.M):
            base = name.split('[')[0]
            assert pins.get(base) == version, f'{name}=={version} disagrees with constraints.txt'


def copy_rosdistro_lists(checkout: str, commit: str = 'HEAD'):
    """Write the three lists from a ros/rosdistro git checkout (see the module docstring)."""
    import yaml

    def show(path):
        return subprocess.run(['git', '-C', checkout, 'show', f'{commit}:{path}'],
                              capture_output=True, text=True, check=True).stdout

    sha = subprocess.run(['git', '-C', checkout, 'rev-parse', commit], capture_output=True,
                         text=True, check=True).stdout.strip()
    keys, eol = set(), set()
    for path in ('rosdep/base.yaml', 'rosdep/python.yaml'):
        text = show(path)
        keys |= set(yaml.safe_load(text))
        eol |= set(re.findall(r'^([^\s#:]+):\s*[&*]migrate_eol', text, re.M))
    packages = set()
    for repo, data in yaml.safe_load(show('jazzy/distribution.yaml'))['repositories'].items():
        release = data.get('release') or {}
        if release.get('version'):
            packages |= set(release.get('packages', [repo]))
    head = f'# Copied from https://github.com/ros/rosdistro at commit {sha}.\n'
    lists = {'rosdep_keys.txt': ('top-level keys of rosdep/base.yaml and rosdep/python.yaml, '
                                 'end-of-life aliases left out', keys - eol),
             'rosdep_eol_keys.txt': ('end-of-life aliases (migrate_eol_*) of those files', eol),
             'jazzy_packages.txt': ('packages released in jazzy/distribution.yaml', packages)}
    for name, (what, entries) in lists.items():
        (DATA / name).write_text(head + f'# {what}, one per line.\n' +
                                 '\n'.join(sorted(entries)) + '\n')


if __name__ == '__main__':
    copy_rosdistro_lists(*sys.argv[1:])
    print(f'wrote {", ".join(sorted(os.listdir(DATA)))}')
