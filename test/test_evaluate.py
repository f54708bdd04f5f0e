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
"""`jepa-agent evaluate`: report keys and plots from an exported model on a real rosbag2 bag."""

import json

import numpy as np
import pytest
from test_export import export_tiny, sim_episodes, write_sim_bag

from agent_node.cli import main as cli_main
from world_model.evaluation import metrics
from world_model.export.manifest import manifest_sha256

REQUIRED_KEYS = ('latent_error_ratio', 'latent_error_ratio_at_8', 'pose_r2', 'embedding_std',
                 'effective_rank', 'counts', 'model', 'command', 'pose_r2_components',
                 'pose_delta_position_error_m', 'pose_delta_yaw_error_rad')


@pytest.fixture(scope='module')
def bag(tmp_path_factory):
    return write_sim_bag(tmp_path_factory.mktemp('evalbag') / 'bag', sim_episodes(2, 20, seed=9))


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
    return export_tiny(tmp_path_factory.mktemp('evalmodel'))


def _evaluate(model_dir, bag, report, *extra):
    rc = cli_main(['evaluate', '--model', str(model_dir), '--data', str(bag), '--report',
                   str(report), '--threads', '1', *extra])
    return rc, (json.loads(report.read_text()) if report.exists() else None)


def test_evaluate_writes_the_report_and_plots(model_dir, bag, tmp_path):
    rc, report = _evaluate(model_dir, bag, tmp_path / 'eval' / 'report.json')
    assert rc == 0
    for key in REQUIRED_KEYS:
        assert key in report, key
    assert len(report['latent_error_ratio']) == 8
    assert report['latent_error_ratio_at_8'] == report['latent_error_ratio'][7]
    assert all(np.isfinite(report['latent_error_ratio']))
    assert report['counts'] == {'bags': 1, 'episodes': 2, 'episodes_used': 2, 'frames': 40,
                                'rollout_starts': 2 * (20 - 8 - 1)}
    assert report['pose_source'] == 'ground_truth'
    assert set(report['pose_r2_components']) == {'x', 'y', 'cos_yaw', 'sin_yaw'}
    assert report['embedding_std'] > 0 and 1.0 <= report['effective_rank'] <= 16
    assert report['model']['manifest_sha256'] == manifest_sha256(model_dir)
    assert report['model']['providers'][-1] == 'CPUExecutionProvider'
    for name in report['plots']:
        png = (tmp_path / 'eval' / name).read_bytes()
        assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 2000
    assert sorted(report['plots']) == ['report_error_vs_k.png', 'report_trajectories.png']
    # the pose-delta probe's error is measured per step and grows with the horizon
    assert report['pose_delta_position_error_m'][7] > report['pose_delta_position_error_m'][0]


def test_a_copy_last_predictor_scores_a_ratio_of_exactly_one(bag, tmp_path):
    """The untrained predictor adds a zero residual, i.e. it IS the copy-last baseline."""
    copy_last = export_tiny(tmp_path / 'copy', copy_last=True)
    rc, report = _evaluate(copy_last, bag, tmp_path / 'r.json', '--horizon', '4')
    assert rc == 0
    np.testing.assert_allclose(report['latent_error_ratio'], 1.0, atol=1e-5)
    assert report['latent_error_ratio_at_8'] is None  # horizon 4 has no k = 8
    # ... and the verdict says so in one line, with causes
    verdict = report['learnability']
    assert not verdict['learnt'] and verdict['horizon'] == 4
    assert 'NOT better than copying the last latent' in verdict['line']
    assert verdict['causes'] and '\n' not in verdict['line']


def test_a_predictor_that_moves_the_latent_differs_from_copy_last(model_dir, bag, tmp_path):
    rc, report = _evaluate(model_dir, bag, tmp_path / 'r.json', '--horizon', '3')
    assert rc == 0
    assert abs(report['latent_error_ratio'][0] - 1.0) > 1e-3


def test_episodes_shorter_than_the_horizon_are_a_clear_error(model_dir, bag, tmp_path, capsys):
    rc, _ = _evaluate(model_dir, bag, tmp_path / 'r.json', '--horizon', '50')
    assert rc == 1
    assert 'has the 52 frames a 50-step rollout needs' in capsys.readouterr().err


def test_a_tampered_model_is_not_evaluated(model_dir, bag, tmp_path, capsys):
    import shutil

    copy = shutil.copytree(model_dir, tmp_path / 'model')
    (copy / 'place.onnx').write_bytes(b'not a model')
    rc, _ = _evaluate(copy, bag, tmp_path / 'r.json')
    assert rc == 1
    assert 'place.onnx' in capsys.readouterr().err


# ---- metrics -----------------------------------------------------------------------------

def test_r2_is_one_for_perfect_and_zero_for_the_mean():
    rng = np.random.default_rng(0)
    poses = np.column_stack([rng.normal(size=50), rng.normal(size=50),
                             rng.uniform(-np.pi, np.pi, 50)])
    assert metrics.pose_r2(poses, poses)['mean'] == pytest.approx(1.0)
    mean_pred = np.tile(poses.mean(axis=0), (50, 1))
    assert metrics.r2_score(mean_pred[:, :2], poses[:, :2]) == pytest.approx([0.0, 0.0])


def test_effective_rank_and_std_detect_collapse():
    rng = np.random.default_rng(0)
    isotropic = rng.normal(size=(2000, 8))
    assert metrics.effective_rank(isotropic) > 7.5
    line = np.outer(rng.normal(size=100), rng.normal(size=8))
    assert metrics.effective_rank(line) == pytest.approx(1.0, abs=1e-3)
    assert metrics.effective_rank(np.ones((10, 8))) == 0.0
    assert metrics.embedding_std(np.ones((10, 8))) == 0.0
