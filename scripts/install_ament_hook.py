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
"""Make `get_package_share_directory('jepa_agent')` work inside the development venv.

The ROS 2 PyPI wheels do not set AMENT_PREFIX_PATH. This registers the venv as an ament prefix
(like `colcon build --symlink-install`): it writes the ament index marker, links
<venv>/share/jepa_agent to the source tree, and adds a .pth that appends the venv to
AMENT_PREFIX_PATH at interpreter start. An apt-installed ROS keeps its own prefixes first.
"""

import pathlib
import sys
import sysconfig

PACKAGE = 'jepa_agent'
PTH_NAME = 'jepa_agent_ament_prefix.pth'


def main():
    prefix = pathlib.Path(sys.prefix)
    source = pathlib.Path(__file__).resolve().parent.parent
    index = prefix / 'share' / 'ament_index' / 'resource_index' / 'packages'
    index.mkdir(parents=True, exist_ok=True)
    (index / PACKAGE).write_text('')
    share = prefix / 'share' / PACKAGE
    if share.is_symlink() or share.is_file():
        share.unlink()
    elif share.is_dir():
        # A non-editable install copied files here; replace them with the live source tree.
        import shutil
        shutil.rmtree(share)
    share.symlink_to(source, target_is_directory=True)
    site = pathlib.Path(sysconfig.get_paths()['purelib'])
    line = (
        'import os; _p = os.environ.get("AMENT_PREFIX_PATH", ""); '
        f'_v = {str(prefix)!r}; '
        'os.environ["AMENT_PREFIX_PATH"] = _p if _v in _p.split(os.pathsep) '
        'else os.pathsep.join(x for x in (_p, _v) if x)\n'
    )
    (site / PTH_NAME).write_text(line)
    print(f'ament prefix registered: {prefix} (share/{PACKAGE} -> {source})')


if __name__ == '__main__':
    main()
