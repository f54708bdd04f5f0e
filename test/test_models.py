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
"""The model contract of docs/architecture.md: shapes, dtypes, rollout convention, run-dir I/O."""

import math

import pytest
import torch

from world_model.config import ConfigError, from_dict
from world_model.models import ModelConfig, build_model
from world_model.models.jepa import integrate_body_deltas, load_model, save_model

SMALL = ModelConfig(latent_dim=32, history_length=2, encoder_channels=[8, 16, 16, 16],
                    predictor_width=64, probe_width=32)


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return build_model(SMALL).eval()


def test_submodules_and_shapes(model):
    images = torch.randint(0, 256, (3, 64, 64, 3), dtype=torch.uint8)
    with torch.no_grad():
        z = model.encoder(images)
        assert z.shape == (3, 32) and z.dtype == torch.float32
        z_hist = torch.stack([z, z], dim=1)
        z_next = model.predictor(z_hist, torch.zeros(3, 2), torch.zeros(3, 2))
        assert z_next.shape == (3, 32)
        assert model.pose_delta_probe(z, z_next).shape == (3, 3)
        pose, log_std = model.relpose_head(z, z_next)
        assert pose.shape == log_std.shape == (3, 3)
        assert (pose[:, 2].abs() <= torch.pi).all() and torch.isfinite(log_std).all()
        assert model.collision_probe(z).shape == (3, 1)


def test_encoder_normalises_inside_and_rejects_bad_images(model):
    dark = torch.zeros(1, 64, 64, 3, dtype=torch.uint8)
    bright = torch.full((1, 64, 64, 3), 255, dtype=torch.uint8)
    with torch.no_grad():
        assert not torch.allclose(model.encode(dark), model.encode(bright))
    with pytest.raises(ValueError, match='uint8'):
        model.encode(torch.zeros(1, 64, 64, 3))
    with pytest.raises(ValueError, match='64, 64, 3'):
        model.encode(torch.zeros(1, 32, 32, 3, dtype=torch.uint8))


def test_untrained_predictor_is_copy_last(model):
    z_hist = torch.randn(4, 2, 32)
    with torch.no_grad():
        z_next = model.predictor(z_hist, torch.randn(4, 2), torch.randn(4, 2))
    assert torch.equal(z_next, z_hist[:, -1])


def test_rollout_convention_proprio_then_previous_action():
    torch.manual_seed(1)
    model = build_model(SMALL).eval()
    for p in model.predictor.out.parameters():
        torch.nn.init.normal_(p, std=0.1)  # make the predictor depend on its inputs
    z_hist, proprio = torch.randn(5, 2, 32), torch.randn(5, 2)
    actions = torch.randn(5, 4, 2)
    with torch.no_grad():
        latents = model.rollout(z_hist, proprio, actions)
        assert latents.shape == (5, 4, 32)
        hist, expected = z_hist, []
        for k in range(4):
            control = proprio if k == 0 else actions[:, k - 1]
            z = model.predictor(hist, control, actions[:, k])
            expected.append(z)
            hist = torch.cat([hist[:, 1:], z[:, None]], dim=1)
        assert torch.allclose(latents, torch.stack(expected, 1))
        # the proprio input matters at step 0 only
        other = model.rollout(z_hist, proprio + 1.0, actions)
        assert not torch.allclose(other[:, 0], latents[:, 0])
        poses = model.rollout_poses(z_hist[:, -1], latents)
        assert poses.shape == (5, 4, 3)


def test_integrate_body_deltas_turn_then_forward():
    deltas = torch.tensor([[[0.0, 0.0, math.pi / 2], [1.0, 0.0, 0.0], [1.0, 0.0, math.pi]]])
    poses = integrate_body_deltas(deltas)
    assert torch.allclose(poses[0, 1], torch.tensor([0.0, 1.0, math.pi / 2]), atol=1e-6)
    assert torch.allclose(poses[0, 2, :2], torch.tensor([0.0, 2.0]), atol=1e-6)
    assert abs(abs(poses[0, 2, 2].item()) - math.pi / 2) < 1e-6  # wrapped to (-pi, pi]


def test_default_model_is_a_few_megabytes():
    n = sum(p.numel() for p in build_model().parameters())
    assert 4 * n < 8e6


def test_config_ranges_are_checked():
    with pytest.raises(ConfigError, match='history_length'):
        from_dict(ModelConfig, {'history_length': 4})
    with pytest.raises(ConfigError, match='encoder_channels'):
        from_dict(ModelConfig, {'image_size': 48, 'encoder_channels': [8, 8, 8, 8, 8]})


def test_save_and_load_round_trip(model, tmp_path):
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    images = torch.randint(0, 256, (2, 64, 64, 3), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.equal(loaded.encoder(images), model.encoder(images))
    assert loaded.config == SMALL
    with pytest.raises(FileNotFoundError, match='not a training run'):
        load_model(tmp_path / 'missing')
