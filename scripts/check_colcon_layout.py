#!/usr/bin/env python3
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
"""Build the package with colcon in a scratch workspace and check the installed ROS 2 layout.

`ros2 run` / `ros2 launch` find things only where ament_python puts them, so this checks what a
real `colcon build` installs: the node executables under lib/jepa_agent/, the launch, config
and package.xml files under share/jepa_agent/, the ament index marker, and the Python packages.

    python scripts/check_colcon_layout.py [--keep]      (`make colcon-check`)

The sources (git-tracked plus untracked, not ignored files) are copied to
.colcon-check/src/jepa_agent; colcon comes from the venv this script runs in.
"""

import argparse
import glob
import os
import pathlib
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = 'jepa_agent'
EXECUTABLES = ('sim_node', 'world_model_node', 'planner_node', 'cmd_vel_relay',
               'nav2_goal_relay', 'jepa-agent')
PYTHON_PACKAGES = ('agent_node', 'world_model')
SOURCE_DIRS = ('agent_node', 'world_model', 'launch', 'config', 'models', 'resource')
SOURCE_FILES = ('setup.py', 'setup.cfg', 'package.xml', 'LICENSE')


def source_files() -> list[pathlib.Path]:
    """Files a checkout would hold: git's view of the tree, or the known folders without git."""
    try:
        out = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard',
                              '-z'], cwd=REPO, capture_output=True, check=True).stdout
        names = [n for n in out.decode().split('\0') if n]
    except (OSError, subprocess.CalledProcessError):
        names = [str(p.relative_to(REPO)) for d in SOURCE_DIRS for p in (REPO / d).rglob('*')
                 if p.is_file() and '__pycache__' not in p.parts]
        names += [f for f in SOURCE_FILES if (REPO / f).is_file()]
    return [pathlib.Path(n) for n in names if (REPO / n).is_file()]


def copy_sources(dest: pathlib.Path) -> int:
    if dest.exists():
        shutil.rmtree(dest)
    files = source_files()
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel)
    return len(files)


def colcon_build(workspace: pathlib.Path) -> tuple[int, str]:
    bin_dir = pathlib.Path(sys.executable).parent
    colcon = shutil.which('colcon', path=str(bin_dir)) or shutil.which('colcon')
    if colcon is None:
        return 127, (f'colcon not found in {bin_dir} or on PATH: install colcon-common-extensions '
                     f'(it is in requirements.txt; run `make setup`)')
    env = dict(os.environ)
    # colcon runs setup.py with the interpreter and tools of this venv.
    env['PATH'] = os.pathsep.join([str(bin_dir), env.get('PATH', '')])
    env.pop('PYTHONPATH', None)
    cmd = [colcon, '--log-base', 'log', 'build', '--base-paths', 'src',
           '--build-base', 'build', '--install-base', 'install',
           '--event-handlers', 'console_direct-']
    proc = subprocess.run(cmd, cwd=workspace, env=env, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def check_install(install: pathlib.Path, source: pathlib.Path) -> list[str]:
    """Every problem with the installed layout, as a message naming the missing path."""
    problems = []
    prefix = install / PACKAGE
    lib = prefix / 'lib' / PACKAGE
    for name in EXECUTABLES:
        path = lib / name
        if not path.is_file():
            problems.append(f'missing executable {path} (console_scripts in setup.py, '
                            f'install_scripts in setup.cfg)')
        elif not os.access(path, os.X_OK):
            problems.append(f'{path} is not executable')
    share = prefix / 'share' / PACKAGE
    wanted = ['package.xml']
    wanted += [str(p.relative_to(source)) for p in sorted(source.glob('launch/*.launch.py'))]
    wanted += [str(p.relative_to(source)) for p in sorted(source.glob('config/*.yaml'))]
    wanted += [str(p.relative_to(source)) for p in sorted(source.glob('models/*/*'))
               if p.is_file()]  # the shipped model, which world_model_node loads by default
    if not any(w.startswith('launch/') for w in wanted):
        problems.append(f'no launch/*.launch.py files in the sources ({source / "launch"})')
    if not any(w.startswith('config/') for w in wanted):
        problems.append(f'no config/*.yaml files in the sources ({source / "config"})')
    for rel in wanted:
        if not (share / rel).is_file():
            problems.append(f'missing {share / rel} (data_files in setup.py)')
    marker = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / PACKAGE
    if not marker.is_file():
        problems.append(f'missing ament index marker {marker} (resource/{PACKAGE} in data_files):'
                        f' get_package_share_directory({PACKAGE!r}) would fail')
    sites = glob.glob(str(prefix / 'lib' / 'python3*' / 'site-packages'))
    if not sites:
        problems.append(f'no {prefix}/lib/python3*/site-packages: the Python packages are not '
                        f'installed')
    for package in PYTHON_PACKAGES:
        if sites and not any((pathlib.Path(s) / package / '__init__.py').is_file()
                             for s in sites):
            problems.append(f'Python package {package} is not installed in {sites[0]}')
    return problems


def check_installed_runs(install: pathlib.Path) -> list[str]:
    """The installed jepa-agent imports the installed packages and finds the installed share."""
    prefix = install / PACKAGE
    sites = glob.glob(str(prefix / 'lib' / 'python3*' / 'site-packages'))
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(sites)  # what sourcing install/setup.bash adds
    env['AMENT_PREFIX_PATH'] = str(prefix)
    probe = ('import agent_node.bringup.profiles as n, world_model; '
             'print(n.__file__); print(world_model.__file__); print(n.share_directory())')
    proc = subprocess.run([sys.executable, '-c', probe], cwd=install, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return [f'importing the installed agent_node failed:\n{proc.stderr[-2000:]}']
    lines = proc.stdout.split()
    problems = [f'{line} is not from the install tree {install}' for line in lines[:2]
                if not line.startswith(str(install))]
    expected = str(prefix / 'share' / PACKAGE)
    if lines[2:] != [expected]:
        problems.append(f'installed share directory resolves to {lines[2:]}, expected '
                        f'{expected}')
    proc = subprocess.run([str(prefix / 'lib' / PACKAGE / 'jepa-agent'), 'run', '--help'],
                          cwd=install, env=env, capture_output=True, text=True)
    if proc.returncode != 0 or '--profile' not in proc.stdout:
        problems.append(f'installed `jepa-agent run --help` failed ({proc.returncode}):\n'
                        f'{(proc.stdout + proc.stderr)[-2000:]}')
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--workspace', default=str(REPO / '.colcon-check'),
                        help='scratch colcon workspace (recreated)')
    parser.add_argument('--keep', action='store_true', help='keep the workspace afterwards')
    args = parser.parse_args(argv)
    workspace = pathlib.Path(args.workspace).resolve()
    start = time.monotonic()
    for stale in ('build', 'install', 'log'):
        shutil.rmtree(workspace / stale, ignore_errors=True)
    source = workspace / 'src' / PACKAGE
    count = copy_sources(source)
    code, output = colcon_build(workspace)
    build_s = time.monotonic() - start
    if code != 0:
        print(output[-6000:], file=sys.stderr)
        print(f'colcon-check: FAILED: colcon build exited with {code} after {build_s:.1f} s '
              f'(workspace {workspace})', file=sys.stderr)
        return 2
    problems = check_install(workspace / 'install', source)
    if not problems:
        problems = check_installed_runs(workspace / 'install')
    if problems:
        for problem in problems:
            print(f'colcon-check: {problem}', file=sys.stderr)
        print(f'colcon-check: FAILED: {len(problems)} problem(s) in the installed layout '
              f'(workspace kept: {workspace})', file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(workspace, ignore_errors=True)
    print(f'colcon-check: OK: {count} source files, colcon build and layout check in '
          f'{time.monotonic() - start:.1f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
