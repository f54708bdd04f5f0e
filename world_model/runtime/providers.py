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
"""Execution provider preferences -> onnxruntime providers, with an honest report of the choice.

A silent fall-back to the CPU is the classic complaint of ORT users; resolve_providers() says which
preferences are unavailable so the runtime can warn, and the runtime reports what sessions use.
"""

import os
import pathlib

import onnxruntime as ort

PROVIDER_NAMES = {
    'tensorrt': 'TensorrtExecutionProvider',
    'cuda': 'CUDAExecutionProvider',
    'openvino': 'OpenVINOExecutionProvider',
    'cpu': 'CPUExecutionProvider',
}
CPU = PROVIDER_NAMES['cpu']


def provider_name(preference: str) -> str:
    """'cuda' (or 'CUDAExecutionProvider') -> 'CUDAExecutionProvider'; ValueError if unknown."""
    key = preference.strip()
    if key.lower() in PROVIDER_NAMES:
        return PROVIDER_NAMES[key.lower()]
    if key in PROVIDER_NAMES.values():
        return key
    raise ValueError(f'unknown execution provider {preference!r}: allowed '
                     f'{", ".join(PROVIDER_NAMES)} (or their onnxruntime names)')


def resolve_providers(preferences, available=None) -> tuple[list[str], list[str]]:
    """(providers to request in order, preferred providers this onnxruntime build lacks).

    The CPU provider always ends the list: ORT needs it for nodes other providers do not take.
    """
    available = set(ort.get_available_providers() if available is None else available)
    if isinstance(preferences, str):
        preferences = [p for p in preferences.split(',') if p.strip()]
    chosen, missing = [], []
    for preference in preferences:
        name = provider_name(preference)
        if name in chosen or name in missing:
            continue
        (chosen if name in available else missing).append(name)
    if CPU not in chosen:
        chosen.append(CPU)
    return chosen, missing


def provider_options(name: str) -> dict:
    """Options per provider: TensorRT caches its engines (building one takes minutes)."""
    if name == PROVIDER_NAMES['tensorrt']:
        cache = pathlib.Path(os.environ.get('XDG_CACHE_HOME', pathlib.Path.home() / '.cache'))
        cache = cache / 'jepa_agent' / 'tensorrt'
        return {'trt_engine_cache_enable': True, 'trt_engine_cache_path': str(cache)}
    return {}


def session_options(threads: int, spinning: bool = False) -> ort.SessionOptions:
    """Intra-op threads as configured, sequential execution, full graph optimisation.

    spinning=False stops idle ORT workers from busy-waiting between calls: on a shared 2-core
    machine spinning pools starve everything else (a rollout went from 17 ms to 49 ms).
    """
    if threads < 1:
        raise ValueError(f'threads={threads} is out of range: allowed >= 1')
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry('session.intra_op.allow_spinning', '1' if spinning else '0')
    options.log_severity_level = 3  # errors only; our own log says which providers run
    return options
