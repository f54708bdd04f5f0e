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

Loading (sessions.py) checks every file against manifest.json, then each graph against its
embedded metadata. Rollouts (rollout.py) reuse per-batch-size buffers bound to the predictor once
(IOBinding), so a planning step allocates nothing but the small checks on its inputs here.
"""

import collections
import logging
import pathlib
import threading

import numpy as np
import onnxruntime as ort

from world_model import geometry
from world_model.export import manifest as mf
from world_model.export import metadata as meta
from world_model.runtime.preprocess import check_images, resize_images
from world_model.runtime.providers import resolve_providers, session_options
from world_model.runtime.rollout import Futures, RolloutBuffers
from world_model.runtime.sessions import (
    ModelMetadataError,
    check_io,
    check_model_config,
    consistent_metadata,
    open_session,
)

__all__ = ['Futures', 'ModelMetadataError', 'OnnxWorldModel']

_LOG = logging.getLogger('jepa_agent.runtime')
_MAX_CACHED_BATCHES = 8


class OnnxWorldModel:
    """Encoder, predictor (with pose-delta and collision probes) and relative-pose head under ORT.

    model_dir: an exported MODEL_DIR (manifest.json, encoder/predictor/relpose .onnx). A model
    exported before the relative-pose head (place.onnx, no relpose.onnx) is refused with a
    ModelIntegrityError that says to re-export it.
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
            self.sessions[role], metadatas[name] = open_session(
                self.model_dir, self.manifest, name, role, options, self.requested_providers)
        self.metadata = consistent_metadata(self.model_dir, metadatas)
        check_model_config(self.model_dir, self.manifest, self.metadata)
        for role, name in files.items():
            check_io(self.model_dir, name, role, self.sessions[role], self.metadata)
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
        self.relative_pose(np.zeros((1, self.latent_dim), np.float32),
                           np.zeros((1, self.latent_dim), np.float32))
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

    def relative_pose(self, latents_a, latents_b) -> tuple[np.ndarray, np.ndarray]:
        """View b's pose in view a's frame from their latents [N, D] (or one [D] / [1, D],
        broadcast against the other) -> (poses [N, 3] (dx, dy, dyaw) float64, sigma [N, 3]
        float64 standard deviations; large when the views do not overlap)."""
        a = self._as_batch(latents_a, 2, 'latents_a', (self.latent_dim,))
        b = self._as_batch(latents_b, 2, 'latents_b', (self.latent_dim,))
        if a.shape[0] != b.shape[0]:
            if min(a.shape[0], b.shape[0]) != 1:
                raise ValueError(f'latents_a {a.shape} and latents_b {b.shape} do not broadcast')
            n = max(a.shape[0], b.shape[0])
            a, b = (np.ascontiguousarray(np.broadcast_to(x, (n, self.latent_dim)))
                    for x in (a, b))
        with self._lock:
            pose, log_std = self.sessions['relpose'].run(
                ['relpose', 'relpose_log_std'], {'latent_a': a, 'latent_b': b})
        pose = pose.astype(np.float64)
        pose[:, 2] = geometry.wrap_angle(pose[:, 2])
        return pose, np.exp(log_std.astype(np.float64))

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
            buf.step()
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
            return buf.rollout(actions, h)

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
            return buf.rollout(actions, h)

    # ---- internals ---------------------------------------------------------------------

    def _buffers_for(self, k: int) -> RolloutBuffers:
        buf = self._buffers.get(k)
        if buf is None:
            buf = RolloutBuffers(self.sessions['predictor'], k, self.history_length,
                                 self.latent_dim, self._io_binding)
            self._buffers[k] = buf
            if len(self._buffers) > _MAX_CACHED_BATCHES:
                self._buffers.popitem(last=False)
        else:
            self._buffers.move_to_end(k)
        return buf

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


def _check_finite(value, name: str):
    if not np.isfinite(value).all():
        raise ValueError(f'{name} contains NaN or infinite values')
