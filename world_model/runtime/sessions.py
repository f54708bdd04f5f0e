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
"""Opening the graphs of an exported model under onnxruntime, verified before anything runs.

Every file is checked against manifest.json (the bytes that were hashed are the bytes that are
loaded), then each graph's inputs and outputs against its embedded metadata, and the files of one
model against each other.
"""

import json
import pathlib

import onnxruntime as ort

from world_model.export import manifest as mf
from world_model.export import metadata as meta
from world_model.runtime.providers import provider_options

MODEL_CONFIG_FILE = 'model_config.json'
_SHARED_EXEMPT = ('role', 'precision')  # the only metadata keys that differ between files


class ModelMetadataError(mf.ModelIntegrityError):
    """A graph contradicts its metadata (or the files of one model disagree with each other)."""


def open_session(model_dir: pathlib.Path, manifest: dict, name: str, role: str, options,
                 providers: list) -> tuple[ort.InferenceSession, dict]:
    """The verified bytes of one file -> (session on the providers, its decoded metadata)."""
    if name not in manifest['files']:
        hint = ' (export with --int8 to create it)' if name in meta.INT8_FILES.values() else ''
        if role == 'relpose' and 'place.onnx' in manifest['files']:
            hint = (' (the model has the relpose role missing: it was exported with the place '
                    'probe that the relative-pose head replaced; re-export its run with '
                    '`jepa-agent export`, or `make default-model` for models/default)')
        raise mf.ModelIntegrityError(f'{model_dir / name} is missing: not listed in '
                                     f'{mf.MANIFEST_NAME}{hint}')
    data = mf.verified_bytes(model_dir, name, manifest)
    with_options = [(p, provider_options(p)) for p in providers]
    try:
        session = ort.InferenceSession(data, sess_options=options, providers=with_options)
    except Exception as exc:  # ORT raises its own exception types (Fail, InvalidGraph...)
        raise mf.ModelIntegrityError(f'{model_dir / name} cannot be loaded by '
                                     f'onnxruntime: {exc}') from exc
    where = str(model_dir / name)
    try:
        metadata = meta.decode(session.get_modelmeta().custom_metadata_map, where)
    except ValueError as exc:
        raise ModelMetadataError(str(exc)) from exc
    expected_precision = 'int8' if name in meta.INT8_FILES.values() else 'fp32'
    if metadata.get('role') != role or metadata.get('precision') != expected_precision:
        raise ModelMetadataError(f'{where}: metadata says role {metadata.get("role")!r} '
                                 f'precision {metadata.get("precision")!r}, expected '
                                 f'{role!r} {expected_precision!r} for this file name')
    return session, metadata


def consistent_metadata(model_dir: pathlib.Path, metadatas: dict) -> dict:
    """{file name: metadata} of one model -> the metadata they share (they must agree)."""
    names = list(metadatas)
    first = metadatas[names[0]]
    keys = set(first) - set(_SHARED_EXEMPT)
    for name in names[1:]:
        other = metadatas[name]
        for key in sorted(keys | (set(other) - set(_SHARED_EXEMPT))):
            if first.get(key) != other.get(key):
                raise ModelMetadataError(
                    f'{model_dir / name}: metadata {key!r}={other.get(key)!r} '
                    f'disagrees with {names[0]} ({first.get(key)!r}); the files come from '
                    f'different exports')
    for key in ('input_size', 'latent_dim', 'history_length', 'colour_order'):
        if key not in first:
            raise ModelMetadataError(f'{model_dir / names[0]}: metadata lacks {key!r}')
    if first['colour_order'] != meta.COLOUR_ORDER:
        raise ModelMetadataError(f'{model_dir / names[0]}: colour_order '
                                 f'{first["colour_order"]!r} is not supported (RGB only)')
    return {k: v for k, v in first.items() if k not in _SHARED_EXEMPT}


def check_model_config(model_dir: pathlib.Path, manifest: dict, metadata: dict):
    """model_config.json, when the model ships one, must be the config embedded in the graphs."""
    if MODEL_CONFIG_FILE not in manifest['files']:
        return
    data = mf.verified_bytes(model_dir, MODEL_CONFIG_FILE, manifest)
    if json.loads(data) != metadata.get('model_config'):
        raise ModelMetadataError(f'{model_dir / MODEL_CONFIG_FILE} disagrees with the '
                                 f'model_config embedded in the ONNX metadata')


def check_io(model_dir: pathlib.Path, name: str, role: str, session: ort.InferenceSession,
             metadata: dict):
    """The graph's inputs and outputs must have the names, types and shapes metadata implies."""
    expected = meta.expected_io(role, metadata)
    where = model_dir / name
    for kind, actual in (('input', session.get_inputs()), ('output', session.get_outputs())):
        want = expected[kind + 's']
        have = {a.name: a for a in actual}
        if kind == 'input' and set(have) != set(want):
            raise ModelMetadataError(f'{where}: inputs {sorted(have)} do not match the '
                                     f'expected {sorted(want)}')
        for io_name, (dtype, shape) in want.items():
            if io_name not in have:
                raise ModelMetadataError(f'{where}: {kind} {io_name!r} is missing '
                                         f'({kind}s: {sorted(have)})')
            arg = have[io_name]
            if arg.type != dtype:
                raise ModelMetadataError(f'{where}: {kind} {io_name!r} has type {arg.type}, '
                                         f'expected {dtype}')
            if not _shape_matches(arg.shape, shape):
                raise ModelMetadataError(
                    f'{where}: {kind} {io_name!r} has shape {list(arg.shape)} but the '
                    f'metadata implies {shape} (input_size {metadata["input_size"]}, '
                    f'latent_dim {metadata["latent_dim"]}, history_length '
                    f'{metadata["history_length"]}); the file contradicts its '
                    f'metadata, re-export the model')


def _shape_matches(actual, expected) -> bool:
    if len(actual) != len(expected):
        return False
    for have, want in zip(actual, expected):
        if want == meta.BATCH:
            if isinstance(have, int):  # a fixed batch size would break every K but one
                return False
        elif have != want:
            return False
    return True
