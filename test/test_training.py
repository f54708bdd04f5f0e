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
"""Training: objective terms, collapse detection, data windows, and `jepa-agent train` on bags."""

import csv
import json
import math
import pathlib

import numpy as np
import pytest
from safetensors.torch import load_file
import torch
import yaml

from agent_node.cli import main as cli_main
from world_model.data.bag_writer import BagWriter
from world_model.data.episode import Episode
from world_model.models import ModelConfig, build_model
from world_model.training.collapse import CollapseError, check_collapse, effective_rank
from world_model.training.dataset import (
    WindowDataset,
    body_frame_deltas,
    derive_collisions,
    frame_arrays,
    split_episodes,
)
from world_model.training.losses import sigreg
from world_model.training.train_config import TrainConfig
from world_model.training.trainer import Trainer

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
TINY_MODEL = {'image_size': 32, 'latent_dim': 16, 'encoder_channels': [8, 16, 16],
              'encoder_blocks': 0, 'predictor_width': 32, 'probe_width': 16}
TINY_TRAIN = {'batch_size': 8, 'rollout_steps': 2, 'val_horizon': 4, 'warmup_steps': 0,
              'lr': 3e-3, 'epochs': 1, 'val_fraction': 0.34, 'probe_refit_epochs': 2}


def sim_episodes(n=3, steps=30, seed=0, size=32):
    from world_model.envs.exploration import generate_episodes
    from world_model.envs.sim_config import SimConfig

    config = SimConfig(image_width=size, image_height=size)
    return generate_episodes(n, steps, seed=seed, layout='two_rooms', sim_config=config)


def write_tiny_bag(path, n=3, steps=30, seed=0):
    """A real MCAP bag with n simulator episodes (episode markers, odom, truth, cmd_vel)."""
    with BagWriter(path) as writer:
        for index, ep in enumerate(sim_episodes(n, steps, seed)):
            writer.mark_episode(int(ep.stamps_ns[0]), index)
            for t in range(len(ep)):
                writer.write_frame(int(ep.stamps_ns[t]), ep.images[t], ep.odom_pose[t],
                                   ep.odom_twist[t], ep.ground_truth[t], None, ep.actions[t])
    return path


def write_tiny_config(path, **train):
    path.write_text(yaml.safe_dump({'model': TINY_MODEL, 'train': {**TINY_TRAIN, **train}}))
    return path


def read_metrics(run_dir):
    with open(run_dir / 'metrics.csv', newline='') as f:
        return list(csv.DictReader(f))


# -- objective and collapse --------------------------------------------------------------------

def test_sigreg_prefers_isotropic_gaussian():
    torch.manual_seed(0)
    gauss = torch.randn(512, 32)
    assert sigreg(gauss, 0) < 0.1 * sigreg(gauss * 0.1, 0)
    assert sigreg(gauss, 0) < 0.1 * sigreg(gauss[:, :1].expand(-1, 32).contiguous(), 0)


def test_effective_rank_counts_used_directions():
    torch.manual_seed(0)
    assert effective_rank(torch.randn(2000, 16)) > 14.0
    line = torch.randn(500, 1) * torch.randn(1, 16)
    assert effective_rank(line) < 1.01
    assert effective_rank(torch.ones(100, 16)) == 0.0


def test_collapse_detector_fires_on_constant_encoder():
    model = build_model(ModelConfig(**TINY_MODEL))
    for p in model.encoder.parameters():
        torch.nn.init.zeros_(p)  # every image -> the same latent
    with torch.no_grad():
        z = model.encoder(torch.randint(0, 256, (64, 32, 32, 3), dtype=torch.uint8))
    with pytest.raises(CollapseError, match='representation collapse.*embedding std'):
        check_collapse(z, min_std=1e-3, min_rank=2.0)
    healthy = torch.randn(64, 16)
    assert check_collapse(healthy, 1e-3, 2.0)['effective_rank'] > 2.0


# -- data ----------------------------------------------------------------------------------------

def test_body_frame_deltas_and_derived_collisions():
    poses = np.array([[0.0, 0.0, math.pi / 2], [0.0, 0.1, math.pi / 2], [0.0, 0.1, -math.pi]])
    d = body_frame_deltas(poses)
    assert np.allclose(d[0], [0.1, 0.0, 0.0], atol=1e-6)
    assert np.allclose(d[1], [0.0, 0.0, math.pi / 2], atol=1e-6)
    assert np.all(np.isnan(d[2]))
    ep = Episode(images=np.zeros((4, 8, 8, 3), np.uint8), stamps_ns=np.arange(4),
                 odom_pose=np.zeros((4, 3), np.float32),
                 odom_twist=np.array([[0, 0], [0.3, 0], [0.01, 0], [0.3, 0]], np.float32),
                 actions=np.full((4, 2), [0.3, 0.0], np.float32))
    assert derive_collisions(ep).tolist() == [False, False, True, False]


def test_split_and_windows_stay_inside_episodes():
    eps = sim_episodes(n=4, steps=20)
    train, val = split_episodes(eps, 0.25, seed=3)
    assert len(train) == 3 and len(val) == 1
    assert split_episodes(eps, 0.25, seed=3)[1][0] is val[0]  # seeded
    frames = frame_arrays(train, 32)
    data = WindowDataset(frames, length=5, stride=5, seed=0)
    episode = frames.episode_of()
    for epoch in range(4):
        data.set_epoch(epoch)
        for i in range(len(data)):
            s = data[i]
            assert episode[s] == episode[s + 4]
    one, rest = split_episodes(eps[:1], 0.2, seed=0)
    assert len(one) + len(rest) == 10  # one recording is cut into parts before the split


# -- training ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_short_training_lowers_the_loss(tmp_path):
    eps = sim_episodes(n=4, steps=40)
    train, val = split_episodes(eps, 0.25, seed=0)
    torch.manual_seed(0)
    model = build_model(ModelConfig(**TINY_MODEL))
    cfg = TrainConfig(**{**TINY_TRAIN, 'epochs': 6, 'window_stride': 2})
    trainer = Trainer(model, cfg, frame_arrays(train, 32), frame_arrays(val, 32), tmp_path,
                      log=lambda msg: None)
    rows = trainer.fit()
    assert rows[-1]['train_loss'] < 0.7 * rows[0]['train_loss']
    assert rows[-1]['train_rollout_loss'] < rows[0]['train_rollout_loss']
    assert rows[-1]['val_effective_rank'] > 2.0
    assert (tmp_path / 'checkpoint.safetensors').is_file()


@pytest.mark.slow
def test_trainer_stops_on_collapse_without_saving(tmp_path):
    eps = sim_episodes(n=3, steps=20)
    train, val = split_episodes(eps, 0.34, seed=0)
    cfg = TrainConfig(**{**TINY_TRAIN, 'min_effective_rank': 100.0})  # above latent_dim
    trainer = Trainer(build_model(ModelConfig(**TINY_MODEL)), cfg, frame_arrays(train, 32),
                      frame_arrays(val, 32), tmp_path, log=lambda msg: None)
    with pytest.raises(CollapseError, match='effective rank .* < min_effective_rank 100'):
        trainer.fit()
    assert not (tmp_path / 'checkpoint.safetensors').exists()
    assert len(read_metrics(tmp_path)) == 1  # the failing epoch is still on record


@pytest.fixture(scope='module')
def tiny_bag(tmp_path_factory):
    return write_tiny_bag(tmp_path_factory.mktemp('bags') / 'tiny')


@pytest.mark.slow
def test_train_from_bag_then_resume_matches_uninterrupted(tiny_bag, tmp_path):
    # constant learning rate and no final probe refit: then an uninterrupted run and a resumed
    # one take exactly the same steps
    config = write_tiny_config(tmp_path / 'train.yaml', min_lr_ratio=1.0, probe_refit_epochs=0)
    run = tmp_path / 'run'
    assert cli_main(['train', '--data', str(tiny_bag), '--out', str(run), '--config',
                     str(config), '--device', 'cpu', '--seed', '1']) == 0
    for name in ('model_config.json', 'train_config.json', 'checkpoint.safetensors',
                 'metrics.csv', 'data_fingerprint.txt', 'training_state.pt'):
        assert (run / name).is_file(), name
    rows = read_metrics(run)
    assert len(rows) == 1
    for column in ('train_loss', 'val_latent_error_ratio_at_1', 'val_latent_error_ratio_at_4',
                   'val_embedding_std', 'val_effective_rank',
                   'val_relpose_position_error_median', 'val_relpose_heading_error_median_deg'):
        assert math.isfinite(float(rows[0][column])), column
    assert 'sha256 ' in (run / 'data_fingerprint.txt').read_text()
    # the robot-dependent settings were derived from the bag and recorded with their source
    settings = json.loads((run / 'data_settings.json').read_text())
    assert settings['sources'] == {'v_max': 'derived', 'omega_max': 'derived',
                                   'control_period': 'derived'}
    assert settings['training_topics'] == {'image': '/camera/image_raw', 'odom': '/odom',
                                           'cmd_vel': '/cmd_vel'}
    saved = json.loads((run / 'model_config.json').read_text())
    assert saved['v_max'] == settings['values']['v_max']
    assert json.loads((run / 'learnability.json').read_text())['horizon'] == 4
    # a second run into the same directory must not overwrite it
    assert cli_main(['train', '--data', str(tiny_bag), '--out', str(run)]) == 1

    assert cli_main(['train', '--data', str(tiny_bag), '--out', str(run), '--resume',
                     '--epochs', '2', '--device', 'cpu']) == 0
    assert [r['epoch'] for r in read_metrics(run)] == ['1', '2']

    straight = tmp_path / 'straight'
    assert cli_main(['train', '--data', str(tiny_bag), '--out', str(straight), '--config',
                     str(config), '--epochs', '2', '--device', 'cpu', '--seed', '1']) == 0
    resumed = load_file(str(run / 'checkpoint.safetensors'))
    uninterrupted = load_file(str(straight / 'checkpoint.safetensors'))
    for name, value in uninterrupted.items():
        assert torch.allclose(resumed[name], value, atol=1e-6), name


def test_train_rejects_bad_config_and_missing_bag(tiny_bag, tmp_path, capsys):
    bad = tmp_path / 'bad.yaml'
    bad.write_text(yaml.safe_dump({'train': {'rollout_steps': 1}}))
    assert cli_main(['train', '--data', str(tiny_bag), '--out', str(tmp_path / 'r'),
                     '--config', str(bad)]) == 1
    assert "train.rollout_steps'=1 is out of range: allowed [2, 32]" in capsys.readouterr().err
    assert cli_main(['train', '--data', str(tmp_path / 'nope'), '--out',
                     str(tmp_path / 'r2')]) == 1
    assert 'does not exist' in capsys.readouterr().err
    assert cli_main(['train', '--data', str(tiny_bag), '--out', str(tmp_path / 'r3'),
                     '--resume']) == 1
    assert 'not a training run directory' in capsys.readouterr().err


def test_relpose_pairs_stay_in_one_episode_and_are_mostly_near():
    from world_model import geometry
    from world_model.data.relpose_pairs import NEAR_DISTANCE, NEAR_YAW, sample_pairs

    rng = np.random.default_rng(0)
    t = np.arange(200)
    # two episodes driving a circle of radius 2 m, each in its own odometry frame
    poses = np.stack([2 * np.sin(0.03 * t), 2 - 2 * np.cos(0.03 * t), 0.03 * t], axis=1)
    poses = np.concatenate([poses, poses + [5.0, 0.0, 0.0]])
    poses[:, 2] = geometry.wrap_angle(poses[:, 2])
    starts, ends = np.array([0, 200]), np.array([200, 400])
    a, b, labels = sample_pairs(poses, starts, ends, 2000, rng, near_fraction=0.8)
    assert len(a) == 2000
    assert ((a < 200) == (b < 200)).all()  # never across episodes
    np.testing.assert_allclose(labels, geometry.relative(poses[a], poses[b]), atol=1e-5)
    near = (np.hypot(labels[:, 0], labels[:, 1]) <= NEAR_DISTANCE) & (
        np.abs(labels[:, 2]) <= NEAR_YAW)
    assert 0.8 <= near.mean() < 0.95  # the near draws plus random pairs that happen to be near
    assert (~near).sum() > 100  # far pairs teach the uncertainty to grow


def test_the_relpose_nll_wraps_the_yaw_residual_and_rewards_honest_sigma():
    from world_model.training.losses import relpose_nll

    target = torch.tensor([[0.0, 0.0, math.pi - 0.01]])
    wrapped = torch.tensor([[0.0, 0.0, -math.pi + 0.01]])
    log_std = torch.full((1, 3), -2.0)
    assert relpose_nll((wrapped, log_std), target) < relpose_nll(
        (torch.zeros(1, 3), log_std), target)
    off = torch.tensor([[1.0, 0.0, 0.0]])  # 1 m wrong: a large sigma costs less than a small
    assert relpose_nll((off, torch.zeros(1, 3)), torch.zeros(1, 3)) < relpose_nll(
        (off, torch.full((1, 3), -3.0)), torch.zeros(1, 3))


def test_encoder_relpose_pairs_stay_in_one_episode_and_train_the_encoder(tmp_path):
    eps = sim_episodes(n=3, steps=20)
    frames = frame_arrays(eps, 32)
    episode = frames.episode_of()
    cfg = TrainConfig(**{**TINY_TRAIN, 'encoder_relpose_pairs': 6})
    torch.manual_seed(0)
    model = build_model(ModelConfig(**TINY_MODEL))
    trainer = Trainer(model, cfg, frames, None, tmp_path, log=lambda msg: None)
    pairs = trainer._epoch_pairs(4)
    assert pairs.shape == (2, 4, 6)
    assert (episode[pairs[0]] == episode[pairs[1]]).all()  # odometry compares within one
    np.testing.assert_array_equal(pairs, trainer._epoch_pairs(4))  # seeded: a resume redraws it
    trainer.epoch = 1
    assert not np.array_equal(pairs, trainer._epoch_pairs(4))  # ... and new each epoch
    # the pair loss reaches the encoder (the JEPA terms off, so only the probes could)
    cfg.teacher_forcing_weight = cfg.rollout_weight = cfg.sigreg_weight = 0.0
    windows = frames.windows(np.array([0, 20]), 3)
    for batch, reaches in ((windows, False), ({**windows, **frames.pairs(*pairs[:, 0])}, True)):
        model.zero_grad(set_to_none=True)
        loss, stats = trainer.objective(batch, 0)
        loss.backward()
        assert ('pair_relpose_loss' in stats) == reaches
        grad = model.encoder.head[1].weight.grad
        assert (grad is not None and float(grad.abs().sum()) > 0) == reaches
    off = Trainer(model, TrainConfig(**TINY_TRAIN), frames, None, tmp_path, log=lambda m: None)
    assert off._epoch_pairs(4) is None
