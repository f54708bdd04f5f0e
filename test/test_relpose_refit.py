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
"""The sideways oversampling of relative-pose pairs, the held-out score, and `jepa-agent
refit-relpose` on a real exported model and a real bag."""

import dataclasses
import json

import numpy as np
import pytest
from test_export import export_tiny, sim_episodes, tiny_config, write_sim_bag

from agent_node.cli import main as cli_main
from world_model import geometry
from world_model.data.relpose_pairs import (
    LOOKALIKE_FAR_M,
    LOOKALIKE_FAR_RAD,
    homing_window,
    sample_lookalike_pairs,
    sample_pairs,
    sample_training_pairs,
    sideways,
)
from world_model.export import manifest as mf
from world_model.runtime import OnnxWorldModel
from world_model.training import relpose_refit
from world_model.training.relpose_refit import (
    Latents,
    fit_relpose_head,
    heldout_errors,
    torch_relpose,
)


def wandering_poses(episodes: int = 6, steps: int = 300, seed: int = 0):
    """Odometry of a base that drives forward and turns at random (poses [N, 3], starts,
    ends)."""
    rng = np.random.default_rng(seed)
    poses = []
    for _ in range(episodes):
        pose = np.zeros(3)
        for _ in range(steps):
            poses.append(pose.copy())
            pose = geometry.compose(pose, np.array([0.04, 0.0, rng.normal(0.0, 0.25)]))
    ends = np.arange(1, episodes + 1) * steps
    return np.array(poses), ends - steps, ends


def pose_latents(poses, dim: int = 16, seed: int = 1) -> np.ndarray:
    """Latents that hold the pose (a fixed random embedding of x, y, cos, sin)."""
    features = np.column_stack([poses[:, 0], poses[:, 1], np.cos(poses[:, 2]),
                                np.sin(poses[:, 2])])
    return (features @ np.random.default_rng(seed).normal(size=(4, dim))).astype(np.float32)


def test_a_boost_of_one_is_the_plain_draw():
    poses, starts, ends = wandering_poses()
    plain = sample_pairs(poses, starts, ends, 500, np.random.default_rng(3))
    same = sample_training_pairs(poses, starts, ends, 500, np.random.default_rng(3), 1.0)
    for x, y in zip(plain, same):
        np.testing.assert_array_equal(x, y)


def test_the_boost_keeps_sideways_pairs_more_often_with_true_labels():
    poses, starts, ends = wandering_poses()
    _, _, plain = sample_pairs(poses, starts, ends, 4000, np.random.default_rng(4))
    a, b, labels = sample_training_pairs(poses, starts, ends, 4000, np.random.default_rng(4),
                                         20.0)
    assert len(a) == 4000
    share, boosted = sideways(plain).mean(), sideways(labels).mean()
    assert 0.0 < share < 0.3
    assert boosted > 2.5 * share
    episode = np.searchsorted(ends, a, side='right')
    np.testing.assert_array_equal(episode, np.searchsorted(ends, b, side='right'))
    np.testing.assert_allclose(labels, geometry.relative(poses[a], poses[b]), atol=1e-5)


def test_lookalike_pairs_are_far_apart_yet_the_nearest_in_latent_space():
    poses, starts, ends = wandering_poses(episodes=4, steps=200, seed=8)
    rng = np.random.default_rng(9)
    # latents that confuse each place with its mirror image across y = 0
    z = np.column_stack([poses[:, 0], np.abs(poses[:, 1]), np.cos(poses[:, 2]),
                         np.abs(np.sin(poses[:, 2]))]).astype(np.float32)
    a, b, labels = sample_lookalike_pairs(z, poses, starts, ends, 600, rng, top=1)
    assert 500 <= len(a) <= 600
    episode = np.searchsorted(ends, a, side='right')
    np.testing.assert_array_equal(episode, np.searchsorted(ends, b, side='right'))
    np.testing.assert_allclose(labels, geometry.relative(poses[a], poses[b]), atol=1e-5)
    assert np.all((np.hypot(labels[:, 0], labels[:, 1]) >= LOOKALIKE_FAR_M)
                  | (np.abs(labels[:, 2]) >= LOOKALIKE_FAR_RAD))
    # b is the far frame nearest to a in latent space: nearer than any other far frame
    for i in range(0, len(a), 50):
        lo, hi = starts[episode[i]], ends[episode[i]]
        rel = geometry.relative(poses[a[i]], poses[lo:hi])
        far = (np.hypot(rel[:, 0], rel[:, 1]) >= LOOKALIKE_FAR_M) | (
            np.abs(rel[:, 2]) >= LOOKALIKE_FAR_RAD)
        d = np.linalg.norm(z[lo:hi] - z[a[i]], axis=1)
        assert d[b[i] - lo] == pytest.approx(d[far].min(), abs=1e-5)
    # far pairs drawn at random look much less alike
    ra, rb, rl = sample_pairs(poses, starts, ends, 600, rng, near_fraction=0.0)
    far = (np.hypot(rl[:, 0], rl[:, 1]) >= LOOKALIKE_FAR_M) | (
        np.abs(rl[:, 2]) >= LOOKALIKE_FAR_RAD)
    assert np.median(np.linalg.norm(z[a] - z[b], axis=1)) < 0.5 * np.median(
        np.linalg.norm(z[ra[far]] - z[rb[far]], axis=1))


def test_the_homing_window_holds_views_near_the_goal_at_nearly_its_heading():
    labels = np.array([[0.3, -0.5, 0.2], [0.7, 0.0, 0.0], [0.0, 0.0, 0.5], [-0.6, 0.6, -0.4]])
    assert homing_window(labels).tolist() == [True, False, False, True]


def test_heldout_errors_score_a_perfect_and_a_blind_head():
    poses, starts, ends = wandering_poses(seed=5)
    data = Latents(np.column_stack([poses, np.zeros((len(poses), 5))]).astype(np.float32),
                   poses, starts, ends)

    def perfect(za, zb):
        return geometry.relative(za[:, :3].astype(np.float64), zb[:, :3]), np.ones((len(za), 3))

    def blind_sideways(za, zb):
        pose, sigma = perfect(za, zb)
        pose[:, 1] = 0.0
        return pose, sigma

    good, blind = heldout_errors(perfect, data), heldout_errors(blind_sideways, data)
    assert good['sideways_pairs'] > 0
    assert good['position_error_median_m'] < 1e-3 and good['sideways_error_median_m'] < 1e-3
    assert good['sideways_shrink'] == pytest.approx(1.0, abs=1e-3)
    assert blind['sideways_shrink'] == pytest.approx(0.0, abs=1e-6)
    assert blind['sideways_error_median_m'] > 0.08  # every sideways pair is off by > 0.08 m
    assert good['lookalike_pairs'] > 0 and good['lookalike_misleading'] == 0.0
    # the homing window: near the goal view at nearly its heading
    assert good['homing_pairs'] > 0 and good['homing_position_error_median_m'] < 1e-3
    assert good['homing_sideways_correlation'] == pytest.approx(1.0, abs=1e-3)
    assert blind['homing_sideways_correlation'] == 0.0
    assert blind['homing_sideways_error_median_m'] > good['homing_sideways_error_median_m']


def test_heldout_errors_count_sure_and_wrong_lookalike_answers():
    poses, starts, ends = wandering_poses(seed=5)
    data = Latents(np.column_stack([poses, np.zeros((len(poses), 5))]).astype(np.float32),
                   poses, starts, ends)

    def here(za, zb):  # every view is where the other one is, and it is sure of it
        return np.zeros((len(za), 3)), np.full((len(za), 3), 0.1)

    def here_unsure(za, zb):
        return np.zeros((len(za), 3)), np.full((len(za), 3), 1.0)

    assert heldout_errors(here, data)['lookalike_misleading'] > 0.9
    assert heldout_errors(here_unsure, data)['lookalike_misleading'] == 0.0


def test_a_fitted_head_beats_an_untrained_one_held_out():
    cfg = dataclasses.replace(tiny_config(), probe_width=64)
    poses, starts, ends = wandering_poses(episodes=8, steps=150, seed=6)
    z = pose_latents(poses, cfg.latent_dim)
    fit = Latents(z[:ends[5]], poses[:ends[5]], starts[:6], ends[:6])
    held = Latents(z[ends[5]:], poses[ends[5]:], starts[6:] - ends[5], ends[6:] - ends[5])
    untrained = fit_relpose_head(cfg, fit, epochs=1, sideways_boost=1.0, lr=0.0)
    trained = fit_relpose_head(cfg, fit, epochs=10, sideways_boost=20.0, lookalike_fraction=0.2,
                               width=96)
    assert trained.mlp[1].out_features == 96
    before = heldout_errors(torch_relpose(untrained), held)
    after = heldout_errors(torch_relpose(trained), held)
    # measured: 0.64 -> 0.27 m, sideways shrink -0.01 -> 0.47
    assert after['position_error_median_m'] < 0.5 * before['position_error_median_m']
    assert after['sideways_shrink'] > 0.3


@pytest.fixture(scope='module')
def model_and_bag(tmp_path_factory):
    root = tmp_path_factory.mktemp('refit')
    model = export_tiny(root, int8=True)
    (model / 'report.json').write_text('{"written": "by evaluate"}\n')
    bag = write_sim_bag(root / 'bag', sim_episodes(n=4, steps=40, seed=11))
    return model, bag


def test_refit_replaces_only_the_relpose_graphs(model_and_bag, tmp_path, capsys):
    model, bag = model_and_bag
    out = tmp_path / 'refit'
    rc = cli_main(['refit-relpose', '--model', str(model), '--data', str(bag), '--out', str(out),
                   '--epochs', '2', '--val-fraction', '0.25', '--allow-worse'])
    assert rc == 0
    old, new = mf.load_manifest(model)['files'], mf.load_manifest(out)['files']
    for name in ('encoder.onnx', 'predictor.onnx', 'encoder.int8.onnx', 'predictor.int8.onnx',
                 'model_config.json'):
        assert new[name] == old[name], name
    for name in ('relpose.onnx', 'relpose.int8.onnx'):
        assert new[name]['sha256'] != old[name]['sha256'], name
    assert set(new) == set(old)  # a report beside the model is carried over, not hashed
    assert (out / 'report.json').read_text() == (model / 'report.json').read_text()
    entry = mf.load_manifest(out)['relpose_refit']
    assert entry['episodes_held_out'] == 1 and entry['epochs'] == 2
    assert entry['width'] == tiny_config().probe_width and entry['lookalike_fraction'] == 0.0
    assert entry['parity']['relpose.onnx']['relpose']['max_abs_error'] < 1e-4
    for key in ('held_out_before', 'held_out_after'):
        assert entry[key]['pairs'] > 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.rindex('\n{') + 1:])
    assert summary['held_out_after'] == entry['held_out_after']
    wm = OnnxWorldModel(out, providers=('cpu',), threads=1, int8=True, warmup=False)
    pose, sigma = wm.relative_pose(np.zeros(16, np.float32), np.ones(16, np.float32))
    assert pose.shape == (1, 3) and np.isfinite(sigma).all()


def test_a_worse_refit_is_refused_and_nothing_changes(model_and_bag, tmp_path, monkeypatch,
                                                      capsys):
    model, bag = model_and_bag
    scores = iter([0.1, 0.2])  # test double for the score: the model's head, then the refit's

    def scored(relpose, data, seed=7):
        error = next(scores)
        return {'pairs': 1, 'sideways_pairs': 1, 'position_error_median_m': error,
                'sideways_error_median_m': error}

    monkeypatch.setattr(relpose_refit, 'heldout_errors', scored)
    before = (model / 'manifest.json').read_bytes()
    rc = cli_main(['refit-relpose', '--model', str(model), '--data', str(bag), '--out',
                   str(model), '--epochs', '1', '--val-fraction', '0.25'])
    assert rc == 1
    assert 'scores worse held out on every measure' in capsys.readouterr().err
    assert (model / 'manifest.json').read_bytes() == before


def test_bad_arguments_and_an_unrelated_out_directory_are_refused(model_and_bag, tmp_path,
                                                                  capsys):
    model, bag = model_and_bag
    rc = cli_main(['refit-relpose', '--model', str(model), '--data', str(bag), '--out',
                   str(tmp_path / 'x'), '--sideways-boost', '0'])
    assert rc == 1 and '--sideways-boost must be in [1, 1000]' in capsys.readouterr().err
    rc = cli_main(['refit-relpose', '--model', str(model), '--data', str(bag), '--out',
                   str(tmp_path / 'x'), '--lookalike-fraction', '1'])
    assert rc == 1 and '--lookalike-fraction must be in [0, 1)' in capsys.readouterr().err
    unrelated = tmp_path / 'notes'
    unrelated.mkdir()
    (unrelated / 'keep.txt').write_text('mine')
    rc = cli_main(['refit-relpose', '--model', str(model), '--data', str(bag), '--out',
                   str(unrelated)])
    assert rc == 1 and 'refusing to overwrite' in capsys.readouterr().err
    assert (unrelated / 'keep.txt').read_text() == 'mine'
