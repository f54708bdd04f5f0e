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
"""OnnxWorldModel: the exported world model under onnxruntime, verified before it runs.

Loading checks every file against manifest.json (the bytes that were hashed are the bytes that
are loaded), then each graph's inputs and outputs against its embedded metadata. Rollouts reuse
per-batch-size buffers bound to the predictor once (IOBinding), so a planning step allocates
nothing but the small checks on its inputs.
"""

import collections
import dataclasses
import json
import logging
import pathlib
import threading

import numpy as np
import onnxruntime as ort

from world_model.export import manifest as mf
from world_model.export import metadata as meta
from world_model.runtime.preprocess import check_images, resize_images
from world_model.runtime.providers import (
    provider_options,
    resolve_providers,
    session_options,
)

_LOG = logging.getLogger('jepa_agent.runtime')
MODEL_CONFIG_FILE = 'model_config.json'
_SHARED_EXEMPT = ('role', 'precision')  # the only metadata keys that differ between files
_MAX_CACHED_BATCHES = 8


class ModelMetadataError(mf.ModelIntegrityError):
    """A graph contradicts its metadata (or the files of one model disagree with each other)."""


@dataclasses.dataclass
class Futures:
    """Predicted futures of K candidate action sequences over H steps.

    The arrays are views of buffers the runtime reuses: they stay valid until the next rollout
    with the same K. Call copy() to keep them longer.
    """

    latents: np.ndarray  # float32 [K, H, D]
    poses: np.ndarray  # float32 [K, H, 3] (x, y, yaw) body frame relative to now
    collision: np.ndarray  # float32 [K, H] contact probability

    def copy(self) -> 'Futures':
        return Futures(self.latents.copy(), self.poses.copy(), self.collision.copy())


class _RolloutBuffers:
    """Everything one rollout of batch size k needs, allocated once and bound to the session."""

    def __init__(self, session: ort.InferenceSession, k: int, hh: int, d: int,
                 io_binding: bool):
        f32 = np.float32
        self.k, self.hh, self.d = k, hh, d
        self.hist = np.zeros((k, hh, d), f32)
        self.proprio = np.zeros((k, 2), f32)
        self.action = np.zeros((k, 2), f32)
        self.next = np.zeros((k, d), f32)
        self.delta = np.zeros((k, 3), f32)
        self.logit = np.zeros((k, 1), f32)
        self.horizon = 0
        self.ensure_horizon(1)
        self.feeds = {'latent_history': self.hist, 'proprio': self.proprio, 'action': self.action}
        self.binding = None
        if io_binding:
            self.binding = session.io_binding()
            for name, array in self.feeds.items():
                self.binding.bind_cpu_input(name, array)  # backed by the array, no copy
            for name, array in (('next_latent', self.next), ('pose_delta', self.delta),
                                ('collision_logit', self.logit)):
                self.binding.bind_output(name, 'cpu', 0, f32, list(array.shape),
                                         array.ctypes.data)

    def ensure_horizon(self, h: int):
        if h <= self.horizon:
            return
        k, d, f32 = self.k, self.d, np.float32
        # step-major [H, K, ...]: each step writes one contiguous block
        self.latents = np.zeros((h, k, d), f32)
        self.deltas = np.zeros((h, k, 3), f32)
        self.poses = np.zeros((h, k, 3), f32)
        self.collision = np.zeros((h, k), f32)
        self.heading = np.zeros((h, k), f32)
        self.cos = np.zeros((h, k), f32)
        self.sin = np.zeros((h, k), f32)
        self.tmp = np.zeros((h, k), f32)
        self.horizon = h


class OnnxWorldModel:
    """Encoder, predictor (with pose-delta and collision probes) and place probe under ORT.

    model_dir: an exported MODEL_DIR (manifest.json, encoder/predictor/place .onnx).
    providers: preference order among 'tensorrt', 'cuda', 'openvino', 'cpu' (or ORT names);
    unavailable ones are skipped with a warning and listed in unavailable_providers.
    threads: intra-op threads per session. int8: use the *.int8.onnx encoder and predictor.
    io_binding: bind rollout buffers once (default) instead of letting ORT allocate outputs.
    spinning: let idle ORT worker threads busy-wait (only worth it on an otherwise idle CPU).
    Raises ModelIntegrityError (naming the file) when a file is missing, truncated or altered,
    and ModelMetadataError when a graph contradicts its metadata.
    """

    def __init__(self, model_dir, providers=('tensorrt', 'cuda', 'openvino', 'cpu'),
                 threads: int = 2, int8: bool = False, warmup: bool = True,
                 io_binding: bool = True, spinning: bool = False):
        self.model_dir = pathlib.Path(model_dir)
        self.manifest = mf.load_manifest(self.model_dir)
        self.manifest_sha256 = mf.manifest_sha256(self.model_dir)  # identifies the model
        mf.verify_all(self.model_dir, self.manifest)
        self.requested_providers, self.unavailable_providers = resolve_providers(providers)
        if self.unavailable_providers:
            _LOG.warning('execution provider(s) %s not available in this onnxruntime build '
                         '(available: %s); using %s',
                         ', '.join(self.unavailable_providers),
                         ', '.join(ort.get_available_providers()),
                         ', '.join(self.requested_providers))
        files = dict(meta.FP32_FILES)
        if int8:
            files.update(meta.INT8_FILES)
        self.files = files
        self.int8 = int8
        self.sessions, metadatas = {}, {}
        options = session_options(threads, spinning)
        for role, name in files.items():
            self.sessions[role], metadatas[name] = self._open(name, role, options)
        self.metadata = self._consistent_metadata(metadatas)
        self._check_model_config()
        for role, name in files.items():
            self._check_io(name, role, self.sessions[role])
        self._report_providers()
        size = self.metadata['input_size']
        self.input_height, self.input_width = int(size[0]), int(size[1])
        self.latent_dim = int(self.metadata['latent_dim'])
        self.history_length = int(self.metadata['history_length'])
        self._io_binding = io_binding
        self._buffers = collections.OrderedDict()
        self._resized = {}
        self._lock = threading.Lock()
        if warmup:
            self.warmup()

    # ---- loading and verification -------------------------------------------------------

    def _open(self, name: str, role: str, options):
        if name not in self.manifest['files']:
            hint = ' (export with --int8 to create it)' if name in meta.INT8_FILES.values() else ''
            raise mf.ModelIntegrityError(f'{self.model_dir / name} is missing: not listed in '
                                         f'{mf.MANIFEST_NAME}{hint}')
        data = mf.verified_bytes(self.model_dir, name, self.manifest)
        providers = [(p, provider_options(p)) for p in self.requested_providers]
        try:
            session = ort.InferenceSession(data, sess_options=options, providers=providers)
        except Exception as exc:  # ORT raises its own exception types (Fail, InvalidGraph...)
            raise mf.ModelIntegrityError(f'{self.model_dir / name} cannot be loaded by '
                                         f'onnxruntime: {exc}') from exc
        where = str(self.model_dir / name)
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

    def _consistent_metadata(self, metadatas: dict) -> dict:
        names = list(metadatas)
        first = metadatas[names[0]]
        keys = set(first) - set(_SHARED_EXEMPT)
        for name in names[1:]:
            other = metadatas[name]
            for key in sorted(keys | (set(other) - set(_SHARED_EXEMPT))):
                if first.get(key) != other.get(key):
                    raise ModelMetadataError(
                        f'{self.model_dir / name}: metadata {key!r}={other.get(key)!r} '
                        f'disagrees with {names[0]} ({first.get(key)!r}); the files come from '
                        f'different exports')
        for key in ('input_size', 'latent_dim', 'history_length', 'colour_order'):
            if key not in first:
                raise ModelMetadataError(f'{self.model_dir / names[0]}: metadata lacks {key!r}')
        if first['colour_order'] != meta.COLOUR_ORDER:
            raise ModelMetadataError(f'{self.model_dir / names[0]}: colour_order '
                                     f'{first["colour_order"]!r} is not supported (RGB only)')
        return {k: v for k, v in first.items() if k not in _SHARED_EXEMPT}

    def _check_model_config(self):
        if MODEL_CONFIG_FILE not in self.manifest['files']:
            return
        data = mf.verified_bytes(self.model_dir, MODEL_CONFIG_FILE, self.manifest)
        if json.loads(data) != self.metadata.get('model_config'):
            raise ModelMetadataError(f'{self.model_dir / MODEL_CONFIG_FILE} disagrees with the '
                                     f'model_config embedded in the ONNX metadata')

    def _check_io(self, name: str, role: str, session: ort.InferenceSession):
        expected = meta.expected_io(role, self.metadata)
        where = self.model_dir / name
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
                        f'metadata implies {shape} (input_size {self.metadata["input_size"]}, '
                        f'latent_dim {self.metadata["latent_dim"]}, history_length '
                        f'{self.metadata["history_length"]}); the file contradicts its '
                        f'metadata, re-export the model')

    def _report_providers(self):
        in_use = {role: s.get_providers() for role, s in self.sessions.items()}
        self.providers_by_session = in_use
        self.providers_in_use = list(dict.fromkeys(p for ps in in_use.values() for p in ps))
        preferred = self.requested_providers[0]
        for role, used in in_use.items():
            if used[0] != preferred:
                _LOG.warning('%s session runs on %s, not the preferred %s (it failed to '
                             'initialise)', role, used[0], preferred)
        _LOG.info('world model %s on %s', self.model_dir, ', '.join(self.providers_in_use))

    # ---- inference ---------------------------------------------------------------------

    def warmup(self, k_values=(1,), horizon: int = 1):
        """One call of every graph, and rollout buffers for each K (first runs are slow)."""
        self.encode(np.zeros((1, self.input_height, self.input_width, 3), np.uint8))
        self.place(np.zeros((1, self.latent_dim), np.float32))
        hist = np.zeros((self.history_length, self.latent_dim), np.float32)
        for k in k_values:
            self.rollout(hist, np.zeros(2, np.float32), np.zeros((k, horizon, 2), np.float32))

    def encode(self, images) -> np.ndarray:
        """uint8 RGB [B, h, w, 3] (or one [h, w, 3]) of any size -> latents float32 [B, D]."""
        images = check_images(images)
        key = images.shape[0]
        if images.shape[1:3] != (self.input_height, self.input_width):
            buf = self._resized.get(key)
            if buf is None:
                buf = np.empty((key, self.input_height, self.input_width, 3), np.uint8)
                if len(self._resized) < _MAX_CACHED_BATCHES:
                    self._resized[key] = buf
        else:
            buf = None
        with self._lock:
            batch = resize_images(images, self.input_height, self.input_width, out=buf)
            return self.sessions['encoder'].run(['latent'], {'images': batch})[0]

    def place(self, latents) -> np.ndarray:
        """latents [N, D] -> world poses [N, 3] (x, y, yaw) from the place probe."""
        latents = self._as_batch(latents, 2, 'latents', (self.latent_dim,))
        out = self.sessions['place'].run(['place'], {'latent': latents})[0]
        return np.stack([out[:, 0], out[:, 1], np.arctan2(out[:, 3], out[:, 2])], axis=1)

    def predict_next(self, latent_history, proprio, action) -> np.ndarray:
        """One predictor step: [Hh, D], (2,), (2,) -> [D]; or batched [B, Hh, D], [B, 2], [B, 2]
        -> [B, D] (a new array)."""
        single = np.ndim(latent_history) == 2
        hist = self._as_batch(latent_history, 3, 'latent_history',
                              (self.history_length, self.latent_dim))
        b = hist.shape[0]
        proprio = self._as_batch(proprio, 2, 'proprio', (2,), b)
        action = self._as_batch(action, 2, 'action', (2,), b)
        with self._lock:
            buf = self._buffers_for(b)
            buf.hist[...] = hist
            buf.proprio[...] = proprio
            buf.action[...] = action
            self._step(buf)
            out = buf.next.copy()
        return out[0] if single else out

    def rollout(self, latent_history, proprio, actions) -> Futures:
        """K candidate action sequences from one state.

        latent_history [Hh, D] (oldest first), proprio (2,) measured odometry twist (v, omega),
        actions [K, H, 2] (v, omega) -> Futures (latents [K, H, D], poses [K, H, 3] relative to
        the current body frame, collision [K, H] probability). Proprio for step h > 0 is
        action h-1.
        """
        hh, d = self.history_length, self.latent_dim
        if np.shape(latent_history) != (hh, d):
            raise ValueError(f'latent_history must have shape ({hh}, {d}) [history, latent], '
                             f'got {np.shape(latent_history)}')
        if np.shape(proprio) != (2,):
            raise ValueError(f'proprio must have shape (2,) (v, omega), got {np.shape(proprio)}')
        actions, k, h = self._check_actions(actions)
        _check_finite(latent_history, 'latent_history')
        _check_finite(proprio, 'proprio')
        with self._lock:
            buf = self._buffers_for(k)
            buf.hist[...] = latent_history  # broadcast over the K candidates
            buf.proprio[...] = proprio
            return self._rollout(buf, actions, h)

    def rollout_many(self, latent_histories, proprios, actions) -> Futures:
        """Like rollout, but every row has its own state: [B, Hh, D], [B, 2], [B, H, 2]."""
        actions, k, h = self._check_actions(actions)
        hist = self._as_batch(latent_histories, 3, 'latent_histories',
                              (self.history_length, self.latent_dim), k)
        proprios = self._as_batch(proprios, 2, 'proprios', (2,), k)
        with self._lock:
            buf = self._buffers_for(k)
            buf.hist[...] = hist
            buf.proprio[...] = proprios
            return self._rollout(buf, actions, h)

    # ---- internals ---------------------------------------------------------------------

    def _buffers_for(self, k: int) -> _RolloutBuffers:
        buf = self._buffers.get(k)
        if buf is None:
            buf = _RolloutBuffers(self.sessions['predictor'], k, self.history_length,
                                  self.latent_dim, self._io_binding)
            self._buffers[k] = buf
            if len(self._buffers) > _MAX_CACHED_BATCHES:
                self._buffers.popitem(last=False)
        else:
            self._buffers.move_to_end(k)
        return buf

    def _step(self, buf: _RolloutBuffers):
        session = self.sessions['predictor']
        if buf.binding is not None:
            session.run_with_iobinding(buf.binding)
        else:
            buf.next[...], buf.delta[...], buf.logit[...] = session.run(
                ['next_latent', 'pose_delta', 'collision_logit'], buf.feeds)

    def _rollout(self, buf: _RolloutBuffers, actions, h: int) -> Futures:
        buf.ensure_horizon(h)
        hist = buf.hist
        for step in range(h):
            buf.action[...] = actions[:, step]
            self._step(buf)
            buf.latents[step] = buf.next
            buf.deltas[step] = buf.delta
            buf.collision[step] = buf.logit[:, 0]
            for i in range(buf.hh - 1):  # shift the window; one row at a time avoids temporaries
                hist[:, i] = hist[:, i + 1]
            hist[:, -1] = buf.next
            buf.proprio[...] = buf.action
        _integrate_poses(buf, h)
        _sigmoid(buf.collision[:h], buf.tmp[:h])
        return Futures(buf.latents[:h].transpose(1, 0, 2), buf.poses[:h].transpose(1, 0, 2),
                       buf.collision[:h].T)

    def _check_actions(self, actions) -> tuple[np.ndarray, int, int]:
        actions = np.asarray(actions)  # no copy for an array; the steps cast into the buffer
        shape = actions.shape
        if len(shape) != 3 or shape[2] != 2 or shape[0] < 1 or shape[1] < 1:
            raise ValueError(f'actions must have shape [K, H, 2] (candidates, steps, (v, omega)) '
                             f'with K, H >= 1, got {shape}')
        _check_finite(actions, 'actions')
        return actions, shape[0], shape[1]

    @staticmethod
    def _as_batch(value, ndim: int, name: str, tail: tuple, batch: int | None = None):
        value = np.asarray(value, dtype=np.float32)
        if value.ndim == ndim - 1:
            value = value[None]
        if value.ndim != ndim or value.shape[1:] != tail or (batch is not None
                                                               and value.shape[0] != batch):
            want = ('B' if batch is None else str(batch),) + tuple(str(t) for t in tail)
            raise ValueError(f'{name} must have shape [{", ".join(want)}], got '
                             f'{tuple(np.shape(value))}')
        _check_finite(value, name)
        return np.ascontiguousarray(value)


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


def _check_finite(value, name: str):
    if not np.isfinite(value).all():
        raise ValueError(f'{name} contains NaN or infinite values')


def _integrate_poses(buf: _RolloutBuffers, h: int):
    """Compose the body-frame step motions into poses relative to now (SE(2)), vectorised.

    heading before step j is the sum of the earlier yaw steps, so every step's motion is rotated
    into the start frame at once and positions are cumulative sums.
    """
    dx, dy, dyaw = buf.deltas[:h, :, 0], buf.deltas[:h, :, 1], buf.deltas[:h, :, 2]
    heading, cos, sin, tmp = buf.heading[:h], buf.cos[:h], buf.sin[:h], buf.tmp[:h]
    heading[0] = 0.0
    if h > 1:
        np.cumsum(dyaw[:-1], axis=0, out=heading[1:])
    np.cos(heading, out=cos)
    np.sin(heading, out=sin)
    x, y, yaw = buf.poses[:h, :, 0], buf.poses[:h, :, 1], buf.poses[:h, :, 2]
    np.multiply(cos, dx, out=tmp)
    np.multiply(sin, dy, out=x)
    np.subtract(tmp, x, out=tmp)
    np.cumsum(tmp, axis=0, out=x)
    np.multiply(sin, dx, out=tmp)
    np.multiply(cos, dy, out=y)
    np.add(tmp, y, out=tmp)
    np.cumsum(tmp, axis=0, out=y)
    np.cumsum(dyaw, axis=0, out=tmp)
    # wrap to (-pi, pi] like atan2(sin, cos)
    np.sin(tmp, out=sin)
    np.cos(tmp, out=cos)
    np.arctan2(sin, cos, out=yaw)


def _sigmoid(logits: np.ndarray, tmp: np.ndarray):
    np.negative(logits, out=tmp)
    np.clip(tmp, -80.0, 80.0, out=tmp)  # exp stays finite, probabilities saturate cleanly
    np.exp(tmp, out=tmp)
    tmp += 1.0
    np.reciprocal(tmp, out=logits)
