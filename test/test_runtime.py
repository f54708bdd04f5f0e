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
"""OnnxWorldModel: verification of MODEL_DIR, providers, and inference against the torch model."""

import json
import logging
import re
import shutil

import cv2
import numpy as np
import onnx
import pytest
from test_export import export_tiny
import torch

from world_model.export import manifest as mf
from world_model.models.jepa import load_model
from world_model.runtime import Futures, ModelIntegrityError, ModelMetadataError, OnnxWorldModel
from world_model.runtime.providers import resolve_providers


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
    return export_tiny(tmp_path_factory.mktemp('runtime'), int8=True)


@pytest.fixture(scope='module')
def wm(model_dir):
    return OnnxWorldModel(model_dir, providers=('cpu',), threads=1)


@pytest.fixture(scope='module')
def torch_model(model_dir):
    return load_model(model_dir.parent / 'run')


@pytest.fixture
def copy_dir(model_dir, tmp_path):
    return shutil.copytree(model_dir, tmp_path / 'model')


def _state(wm, k=6, h=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    hist = wm.encode(images)
    proprio = np.array([0.2, -0.3], np.float32)
    actions = rng.uniform(-0.5, 0.5, (k, h, 2)).astype(np.float32)
    return hist, proprio, actions


# ---- verification ------------------------------------------------------------------------

def test_loads_a_verified_model_and_reports_metadata(wm):
    assert wm.metadata['input_size'] == [32, 32]
    assert wm.metadata['latent_dim'] == 16 and wm.history_length == 2
    assert 'role' not in wm.metadata
    assert wm.providers_in_use == ['CPUExecutionProvider']


def test_refuses_a_tampered_file_naming_it(copy_dir):
    path = copy_dir / 'predictor.onnx'
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit, same size
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match=r'predictor\.onnx.*modified'):
        OnnxWorldModel(copy_dir, providers=('cpu',))


def test_refuses_a_truncated_file_naming_it(copy_dir):
    path = copy_dir / 'encoder.onnx'
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelIntegrityError, match=r'encoder\.onnx.*truncated'):
        OnnxWorldModel(copy_dir, providers=('cpu',))


def test_refuses_a_tampered_file_it_would_not_even_load(copy_dir):
    """Every file in the manifest is checked, including the INT8 files of an FP32 run."""
    path = copy_dir / 'encoder.int8.onnx'
    path.write_bytes(path.read_bytes()[::-1])
    with pytest.raises(ModelIntegrityError, match=r'encoder\.int8\.onnx'):
        OnnxWorldModel(copy_dir, providers=('cpu',), int8=False)


@pytest.mark.parametrize('name', ['relpose.onnx', 'model_config.json', 'manifest.json'])
def test_refuses_a_missing_file_naming_it(copy_dir, name):
    (copy_dir / name).unlink()
    with pytest.raises(ModelIntegrityError, match=re.escape(name) + '.*missing'):
        OnnxWorldModel(copy_dir, providers=('cpu',))


def test_int8_without_int8_files_names_the_missing_file(tmp_path):
    plain = export_tiny(tmp_path, int8=False)
    with pytest.raises(ModelIntegrityError, match=r'encoder\.int8\.onnx.*--int8'):
        OnnxWorldModel(plain, providers=('cpu',), int8=True)


def _rewrite_metadata(model_dir, names, **changes):
    """Edit the embedded metadata and re-sign the manifest (a buggy exporter, not tampering)."""
    for name in names:
        model = onnx.load(model_dir / name)
        for prop in model.metadata_props:
            if prop.key in changes:
                prop.value = json.dumps(changes[prop.key])
        onnx.save(model, model_dir / name)
    mf.write_manifest(model_dir)


def test_refuses_a_model_whose_input_shape_contradicts_its_metadata(copy_dir):
    names = [p.name for p in copy_dir.glob('*.onnx')]
    _rewrite_metadata(copy_dir, names, input_size=[64, 64])
    with pytest.raises(ModelMetadataError,
                       match=r"encoder\.onnx: input 'images' has shape \['batch', 32, 32, 3\] "
                             r"but the metadata implies \['batch', 64, 64, 3\]"):
        OnnxWorldModel(copy_dir, providers=('cpu',))


def test_refuses_a_latent_dim_that_contradicts_the_graphs(copy_dir):
    names = [p.name for p in copy_dir.glob('*.onnx')]
    _rewrite_metadata(copy_dir, names, latent_dim=32)
    with pytest.raises(ModelMetadataError, match=r'encoder\.onnx: output .latent. has shape'):
        OnnxWorldModel(copy_dir, providers=('cpu',))


def test_refuses_files_from_different_exports(copy_dir):
    _rewrite_metadata(copy_dir, ['relpose.onnx'], export_time='1999-01-01T00:00:00+00:00')
    with pytest.raises(ModelMetadataError,
                       match=r'relpose\.onnx.*export_time.*different exports'):
        OnnxWorldModel(copy_dir, providers=('cpu',))


def test_refuses_a_file_renamed_to_another_role(copy_dir):
    shutil.copyfile(copy_dir / 'relpose.onnx', copy_dir / 'encoder.onnx')
    mf.write_manifest(copy_dir)
    with pytest.raises(ModelMetadataError, match=r"encoder\.onnx: metadata says role 'relpose'"):
        OnnxWorldModel(copy_dir, providers=('cpu',))


# ---- providers ---------------------------------------------------------------------------

def test_unavailable_preferred_providers_are_reported(model_dir, caplog):
    with caplog.at_level(logging.WARNING, logger='jepa_agent.runtime'):
        wm = OnnxWorldModel(model_dir, providers=('tensorrt', 'cuda', 'cpu'), threads=1,
                            warmup=False)
    assert 'CPUExecutionProvider' in wm.providers_in_use
    assert wm.unavailable_providers == ['TensorrtExecutionProvider', 'CUDAExecutionProvider']
    assert 'TensorrtExecutionProvider, CUDAExecutionProvider not available' in caplog.text
    assert set(wm.providers_by_session) == {'encoder', 'predictor', 'relpose'}


def test_provider_preferences_resolve_against_what_is_available():
    chosen, missing = resolve_providers(('cuda', 'openvino'), available=['CUDAExecutionProvider',
                                                                         'CPUExecutionProvider'])
    assert chosen == ['CUDAExecutionProvider', 'CPUExecutionProvider']  # CPU always closes
    assert missing == ['OpenVINOExecutionProvider']
    assert resolve_providers('cpu, cuda', available=['CPUExecutionProvider'])[1] == [
        'CUDAExecutionProvider']
    with pytest.raises(ValueError, match="unknown execution provider 'rocm'.*tensorrt"):
        resolve_providers(('rocm',))


# ---- inference ---------------------------------------------------------------------------

def test_rollout_matches_the_torch_model(wm, torch_model):
    hist, proprio, actions = _state(wm)
    futures = wm.rollout(hist, proprio, actions)
    assert isinstance(futures, Futures)
    assert futures.latents.shape == (6, 5, 16)
    assert futures.poses.shape == (6, 5, 3) and futures.collision.shape == (6, 5)
    k = len(actions)
    with torch.no_grad():
        t_hist = torch.from_numpy(np.repeat(hist[None], k, axis=0))
        latents = torch_model.rollout(t_hist, torch.from_numpy(np.tile(proprio, (k, 1))),
                                      torch.from_numpy(actions))
        poses = torch_model.rollout_poses(t_hist[:, -1], latents)
        collision = torch.sigmoid(torch_model.collision_probe(latents.flatten(0, 1)))
    np.testing.assert_allclose(futures.latents, latents.numpy(), atol=1e-4)
    np.testing.assert_allclose(futures.poses, poses.numpy(), atol=1e-4)
    np.testing.assert_allclose(futures.collision, collision.view(k, 5).numpy(), atol=1e-5)
    assert np.abs(np.diff(futures.latents, axis=1)).max() > 1e-3  # not a frozen latent
    assert np.all((futures.collision > 0) & (futures.collision < 1))


def test_rollout_first_step_equals_predict_next(wm):
    hist, proprio, actions = _state(wm, k=4, h=3)
    futures = wm.rollout(hist, proprio, actions).copy()
    for k in range(4):
        np.testing.assert_allclose(wm.predict_next(hist, proprio, actions[k, 0]),
                                   futures.latents[k, 0], atol=1e-6)
    batched = wm.predict_next(np.repeat(hist[None], 4, 0), np.tile(proprio, (4, 1)),
                              actions[:, 0])
    np.testing.assert_allclose(batched, futures.latents[:, 0], atol=1e-6)


def test_rollout_many_with_equal_rows_equals_rollout(wm):
    hist, proprio, actions = _state(wm, k=3, h=4)
    single = wm.rollout(hist, proprio, actions).copy()
    many = wm.rollout_many(np.repeat(hist[None], 3, 0), np.tile(proprio, (3, 1)), actions)
    np.testing.assert_allclose(many.latents, single.latents, atol=1e-6)
    np.testing.assert_allclose(many.poses, single.poses, atol=1e-6)


def test_io_binding_and_plain_runs_agree(model_dir, wm):
    plain = OnnxWorldModel(model_dir, providers=('cpu',), threads=1, io_binding=False)
    hist, proprio, actions = _state(wm, k=5, h=4)
    a = wm.rollout(hist, proprio, actions).copy()
    b = plain.rollout(hist, proprio, actions)
    np.testing.assert_allclose(a.latents, b.latents, atol=1e-6)
    np.testing.assert_allclose(a.collision, b.collision, atol=1e-6)


def test_rollout_reuses_its_buffers_and_copy_keeps_a_result(wm):
    hist, proprio, actions = _state(wm, k=4, h=3)
    first = wm.rollout(hist, proprio, actions)
    kept = first.copy()
    second = wm.rollout(hist, proprio, -actions)
    assert np.shares_memory(first.latents, second.latents)  # no per-call allocation
    assert not np.allclose(kept.latents, second.latents)
    longer = wm.rollout(hist, proprio, np.zeros((4, 7, 2), np.float32))
    assert longer.latents.shape == (4, 7, 16)


def test_straight_motion_integrates_in_the_body_frame(wm):
    """Poses are SE(2) compositions: x grows with dx; y stays put when dy and dyaw are zero."""
    from world_model.runtime.rollout import RolloutBuffers, integrate_poses

    buf = RolloutBuffers(wm.sessions['predictor'], 2, 2, 16, io_binding=False)
    buf.ensure_horizon(4)
    buf.deltas[:4] = 0.0
    buf.deltas[:4, 0, 0] = 0.1  # candidate 0 drives straight
    buf.deltas[:4, 1, 2] = np.pi / 2  # candidate 1 turns in place, then drives
    buf.deltas[3, 1, 0] = 1.0
    integrate_poses(buf, 4)
    np.testing.assert_allclose(buf.poses[:4, 0], [[0.1 * (i + 1), 0, 0] for i in range(4)],
                               atol=1e-6)
    np.testing.assert_allclose(buf.poses[3, 1], [0.0, -1.0, 0.0], atol=1e-6)  # heading pi*3/2
    np.testing.assert_allclose(abs(buf.poses[1, 1, 2]), np.pi, atol=1e-6)  # wrapped


def test_encode_resizes_like_opencv_inter_area(wm):
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)
    resized = cv2.resize(frame, (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(wm.encode(frame), wm.encode(resized[None]), atol=1e-6)
    assert wm.encode(np.stack([frame, frame])).shape == (2, 16)
    with pytest.raises(ValueError, match='uint8 RGB'):
        wm.encode(frame.astype(np.float32))


def test_relative_pose_returns_wrapped_poses_and_positive_sigmas(wm):
    images = np.random.default_rng(3).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    z = wm.encode(images)
    poses, sigma = wm.relative_pose(z, z[::-1])
    assert poses.shape == sigma.shape == (3, 3)
    assert poses.dtype == sigma.dtype == np.float64
    assert np.all(np.abs(poses[:, 2]) <= np.pi) and np.all(sigma > 0)
    # one latent (a stored keyframe) broadcasts against N queries, [D] or [1, D]
    one, _ = wm.relative_pose(z[0], z)
    np.testing.assert_allclose(one, wm.relative_pose(z[:1], z)[0])
    np.testing.assert_allclose(wm.relative_pose(z, z[2])[0][0], poses[0], atol=1e-6)
    with pytest.raises(ValueError, match='do not broadcast'):
        wm.relative_pose(z[:2], z)


def test_a_model_exported_with_the_place_probe_names_the_missing_relpose_role(copy_dir):
    (copy_dir / 'relpose.onnx').rename(copy_dir / 'place.onnx')  # what models/default ships
    mf.write_manifest(copy_dir)
    with pytest.raises(ModelIntegrityError,
                       match=r'relpose\.onnx is missing.*relpose role.*re-export.*make '
                             r'default-model'):
        OnnxWorldModel(copy_dir, providers=('cpu',))


def test_bad_rollout_inputs_are_named(wm):
    hist, proprio, actions = _state(wm)
    with pytest.raises(ValueError, match=r'latent_history must have shape \(2, 16\)'):
        wm.rollout(hist[:1], proprio, actions)
    with pytest.raises(ValueError, match=r'actions must have shape \[K, H, 2\]'):
        wm.rollout(hist, proprio, actions[0])
    bad = actions.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match='actions contains NaN'):
        wm.rollout(hist, proprio, bad)


def test_int8_model_runs_close_to_fp32(model_dir, wm):
    q = OnnxWorldModel(model_dir, providers=('cpu',), threads=1, int8=True)
    images = np.random.default_rng(2).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    z, zq = wm.encode(images), q.encode(images)
    assert 0.0 < np.abs(z - zq).max() < 0.1 * np.abs(z).max()
