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
"""`make bench`: run every benchmark script in sequence and print their tables.

Each bench_*.py prints a markdown table with the machine and its command; copy the figures into
BENCHMARKS.md. Benchmarks are never part of `make test`: timings do not belong in pass/fail tests.
"""

import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ORDER = ['bench_models.py', 'bench_planner.py', 'bench_memory.py', 'bench_collect.py',
         'bench_world_model_node.py', 'bench_pipeline_latency.py']


def main() -> int:
    failed = []
    for name in ORDER:
        script = HERE / name
        if not script.exists():
            continue
        print(f'\n## {name}\n', flush=True)
        if subprocess.call([sys.executable, str(script)], cwd=HERE.parent) != 0:
            failed.append(name)
    if failed:
        print(f'failed: {failed}', file=sys.stderr)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
