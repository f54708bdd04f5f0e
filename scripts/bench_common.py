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
"""What every benchmark prints about the machine it ran on."""

import os
import platform
import subprocess


def machine() -> str:
    """'<CPU model>, <n> CPUs' from lscpu, falling back to platform.processor()."""
    try:
        out = subprocess.run(['lscpu'], capture_output=True, text=True, check=True).stdout
        model = next(line.split(':', 1)[1].strip() for line in out.splitlines()
                     if line.startswith('Model name'))
    except (OSError, subprocess.SubprocessError, StopIteration):
        model = platform.processor() or 'unknown CPU'
    return f'{model}, {os.cpu_count()} CPUs'
