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
"""manifest.json: the SHA-256 and size of every file of a MODEL_DIR, and its verification.

The runtime refuses any model directory whose files do not match the manifest written at export,
so a truncated copy or a tampered file never reaches the robot silently.
"""

import datetime
import hashlib
import json
import pathlib

MANIFEST_NAME = 'manifest.json'
MANIFEST_FORMAT = 1


class ModelIntegrityError(RuntimeError):
    """A model directory is incomplete, altered or inconsistent; the message names the file."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path) -> dict:
    path = pathlib.Path(path)
    return {'sha256': sha256_file(path), 'size': path.stat().st_size}


def write_manifest(model_dir, extra: dict | None = None) -> dict:
    """Hash every regular file in model_dir (except the manifest) into model_dir/manifest.json."""
    model_dir = pathlib.Path(model_dir)
    files = {p.name: file_entry(p) for p in sorted(model_dir.iterdir())
             if p.is_file() and p.name != MANIFEST_NAME}
    manifest = {'format': MANIFEST_FORMAT,
                'created': datetime.datetime.now(datetime.timezone.utc).isoformat(),
                'files': files}
    manifest.update(extra or {})
    (model_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + '\n',
                                           encoding='utf-8')
    return manifest


def load_manifest(model_dir) -> dict:
    path = pathlib.Path(model_dir) / MANIFEST_NAME
    if not path.is_file():
        raise ModelIntegrityError(f'{path} is missing: not an exported model directory (create '
                                  f'one with `jepa-agent export --run RUN_DIR --out MODEL_DIR`)')
    try:
        manifest = json.loads(path.read_text(encoding='utf-8'))
        files = manifest['files']
        for name, entry in files.items():
            if not isinstance(entry['sha256'], str) or not isinstance(entry['size'], int):
                raise TypeError(name)
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(f'{path} is not a valid manifest ({exc!r})') from exc
    return manifest


def manifest_sha256(model_dir) -> str:
    """Identifies an exported model in reports (the manifest pins every file)."""
    return sha256_file(pathlib.Path(model_dir) / MANIFEST_NAME)


def verified_bytes(model_dir, name: str, manifest: dict) -> bytes:
    """The content of model_dir/name after checking it against the manifest.

    Reading the bytes once and handing the same bytes to onnxruntime means the file that was
    checked is the file that runs (no gap between verification and loading).
    """
    path = pathlib.Path(model_dir) / name
    entry = manifest['files'].get(name)
    if entry is None:
        raise ModelIntegrityError(f'{path} is not listed in {MANIFEST_NAME}: re-export the model '
                                  f'(files present: {sorted(manifest["files"])})')
    if not path.is_file():
        raise ModelIntegrityError(f'{path} is missing (listed in {MANIFEST_NAME})')
    data = path.read_bytes()
    if len(data) != entry['size']:
        raise ModelIntegrityError(f'{path} has {len(data)} bytes but {MANIFEST_NAME} records '
                                  f'{entry["size"]}: truncated or replaced file')
    digest = sha256_bytes(data)
    if digest != entry['sha256']:
        raise ModelIntegrityError(f'{path} SHA-256 {digest[:16]}... does not match '
                                  f'{MANIFEST_NAME} ({entry["sha256"][:16]}...): the file was '
                                  f'modified after export')
    return data


def verify_all(model_dir, manifest: dict | None = None) -> dict:
    """Check every file listed in the manifest; returns the manifest."""
    manifest = manifest or load_manifest(model_dir)
    for name in manifest['files']:
        verified_bytes(model_dir, name, manifest)
    return manifest
