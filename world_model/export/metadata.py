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
"""Metadata embedded in every exported ONNX file, and the I/O contract it implies.

ONNX metadata_props are string pairs; every value here is JSON so that lists and numbers survive.
The runtime reads this back and checks it against the graph before it runs anything.
"""

import dataclasses
import datetime
import json
import pathlib
import subprocess

FORMAT_VERSION = 1
COLOUR_ORDER = 'RGB'
RESIZE = 'cv2.resize(interpolation=cv2.INTER_AREA)'
ROLES = ('encoder', 'predictor', 'relpose')
BATCH = 'batch'  # name of the dynamic batch axis in every exported graph
FP32_FILES = {'encoder': 'encoder.onnx', 'predictor': 'predictor.onnx',
              'relpose': 'relpose.onnx'}
INT8_FILES = {'encoder': 'encoder.int8.onnx', 'predictor': 'predictor.int8.onnx',
              'relpose': 'relpose.int8.onnx'}


def git_commit(where=None) -> str:
    """HEAD of the repository holding this package, or 'unknown' outside a git checkout."""
    where = where or pathlib.Path(__file__).resolve().parent
    try:
        out = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=where, capture_output=True,
                             text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return 'unknown'
    return out.stdout.strip() or 'unknown'


def data_fingerprint(run_dir) -> str:
    """One line for the model metadata: the run's data digest and split, without the 'bag'
    lines (absolute paths of the training machine say nothing about the data)."""
    path = pathlib.Path(run_dir) / 'data_fingerprint.txt'
    if not path.is_file():
        return 'unknown'
    lines = [line.strip() for line in path.read_text(encoding='utf-8').splitlines()]
    return '; '.join(line for line in lines if line and not line.startswith('bag ')) or 'unknown'


def data_settings(run_dir) -> dict | None:
    """v_max, omega_max, control_period of the run with their sources ('derived' from the bags
    or 'config'), from RUN_DIR/data_settings.json; None for runs that predate it."""
    path = pathlib.Path(run_dir) / 'data_settings.json'
    if not path.is_file():
        return None
    report = json.loads(path.read_text(encoding='utf-8'))
    return {k: report[k] for k in ('values', 'sources', 'notes') if k in report}


def training_topics(run_dir) -> dict | None:
    """{'image', 'odom', 'cmd_vel': topic} that training read ('' cmd_vel: actions from the
    odometry twist), from RUN_DIR/data_settings.json; None for runs that predate it."""
    path = pathlib.Path(run_dir) / 'data_settings.json'
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding='utf-8')).get('training_topics')


def build_metadata(model_config, fingerprint: str = 'unknown', commit: str | None = None,
                   settings: dict | None = None, topics: dict | None = None) -> dict:
    """The metadata shared by all files of one export (model_config: a ModelConfig).

    settings (data_settings()): where the robot-dependent values came from; topics
    (training_topics()): what training read. Both optional, so older models still load.
    """
    cfg = model_config
    size = int(cfg.image_size)
    out = {
        'format_version': FORMAT_VERSION,
        'input_size': [size, size],
        'input_layout': 'NHWC',
        'input_dtype': 'uint8',
        'colour_order': COLOUR_ORDER,
        'resize': RESIZE,
        'normalisation': {'formula': '(pixel / 255 - mean) / std, inside the encoder graph',
                          'mean': list(cfg.pixel_mean), 'std': list(cfg.pixel_std)},
        'latent_dim': int(cfg.latent_dim),
        'history_length': int(cfg.history_length),
        'action': {'names': ['v', 'omega'], 'units': ['m/s', 'rad/s'], 'frame': 'base_link',
                   'low': [-cfg.v_max, -cfg.omega_max], 'high': [cfg.v_max, cfg.omega_max]},
        'proprio': {'names': ['v', 'omega'], 'units': ['m/s', 'rad/s'], 'frame': 'base_link',
                    'source': 'odometry twist (step 0), then the previous action',
                    'low': [-cfg.v_max, -cfg.omega_max], 'high': [cfg.v_max, cfg.omega_max]},
        'control_period': float(cfg.control_period),
        'pose_delta': 'body-frame (dx, dy, dyaw) from latent_history[-1] to next_latent',
        'relpose': "view b's pose (dx, dy, dyaw) in view a's frame, log std of each",
        'data_fingerprint': fingerprint,
        'git_commit': commit if commit is not None else git_commit(),
        'export_time': datetime.datetime.now(datetime.timezone.utc).isoformat(),
        'model_config': dataclasses.asdict(cfg),
    }
    if settings is not None:
        out['data_settings'] = settings
    if topics is not None:
        out['training_topics'] = topics
    return out


def expected_io(role: str, metadata: dict) -> dict:
    """{'inputs'|'outputs': {name: (onnx type string, shape)}} with BATCH for the batch axis."""
    h, w = metadata['input_size']
    d = metadata['latent_dim']
    hh = metadata['history_length']
    f32 = 'tensor(float)'
    if role == 'encoder':
        return {'inputs': {'images': ('tensor(uint8)', [BATCH, h, w, 3])},
                'outputs': {'latent': (f32, [BATCH, d])}}
    if role == 'predictor':
        return {'inputs': {'latent_history': (f32, [BATCH, hh, d]), 'proprio': (f32, [BATCH, 2]),
                           'action': (f32, [BATCH, 2])},
                'outputs': {'next_latent': (f32, [BATCH, d]), 'pose_delta': (f32, [BATCH, 3]),
                            'collision_logit': (f32, [BATCH, 1])}}
    if role == 'relpose':
        return {'inputs': {'latent_a': (f32, [BATCH, d]), 'latent_b': (f32, [BATCH, d])},
                'outputs': {'relpose': (f32, [BATCH, 3]), 'relpose_log_std': (f32, [BATCH, 3])}}
    raise ValueError(f'unknown model role {role!r}: allowed {ROLES}')


def embed(onnx_model, metadata: dict, role: str, precision: str):
    """Write metadata (plus role and precision) into onnx_model.metadata_props, replacing any."""
    values = dict(metadata, role=role, precision=precision)
    del onnx_model.metadata_props[:]
    for key, value in values.items():
        prop = onnx_model.metadata_props.add()
        prop.key, prop.value = key, json.dumps(value)
    return onnx_model


def decode(props: dict, source: str = 'model') -> dict:
    """Metadata dict from ONNX string properties (session.get_modelmeta().custom_metadata_map).

    Raises ValueError naming the source when a value is not JSON or the format is unknown.
    """
    out = {}
    for key, value in props.items():
        try:
            out[key] = json.loads(value)
        except ValueError as exc:
            raise ValueError(f'{source}: metadata {key!r} is not JSON ({value[:40]!r})') from exc
    version = out.get('format_version')
    if version != FORMAT_VERSION:
        raise ValueError(f'{source}: metadata format_version {version!r} is not supported by this '
                         f'jepa_agent (expects {FORMAT_VERSION}); re-export the model')
    return out
