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
"""`jepa-agent export`: real torch.onnx export, parity with torch, metadata, manifest, INT8.

The helpers at the top (tiny_config, make_run_dir, write_sim_bag, export_tiny) are shared with
test_runtime.py and test_evaluate.py.
"""

import json
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from agent_node.cli import main as cli_main
from world_model.export import manifest as mf
from world_model.export.export_cmd import export_run
from world_model.export.onnx_export import PARITY_TOLERANCE, ExportError
from world_model.models import ModelConfig, build_model
from world_model.models.jepa import load_model, save_model

FINGERPRINT = 'sha256:test-fingerprint-0123'


def tiny_config() -> ModelConfig:
    return ModelConfig(image_size=32, latent_dim=16, history_length=2, encoder_channels=[8, 8],
                       encoder_blocks=0, predictor_width=32, predictor_blocks=1, probe_width=16)


def make_run_dir(path, seed: int = 0, copy_last: bool = False) -> pathlib.Path:
    """A run directory holding a randomly initialised tiny model.

    The predictor's output layer starts at zero (an exact copy-last predictor); unless copy_last,
    it is randomised so rollouts actually move the latent.
    """
    torch.manual_seed(seed)
    model = build_model(tiny_config())
    if not copy_last:
        torch.nn.init.normal_(model.predictor.out.weight, std=0.2)
    save_model(model, path)
    (pathlib.Path(path) / 'data_fingerprint.txt').write_text(FINGERPRINT + '\n')
    return pathlib.Path(path)


def sim_episodes(n: int = 2, steps: int = 24, seed: int = 5):
    from world_model.envs import SimConfig, generate_episodes

    return generate_episodes(n, steps, seed=seed,
                             sim_config=SimConfig(image_width=48, image_height=40))


def write_sim_bag(path, episodes) -> pathlib.Path:
    """Simulator episodes written as a real rosbag2 bag (MCAP) with ground truth."""
    from world_model.data.bag_writer import BagWriter

    with BagWriter(path) as writer:
        for index, ep in enumerate(episodes):
            writer.mark_episode(int(ep.stamps_ns[0]), index)
            for t in range(len(ep)):
                writer.write_frame(int(ep.stamps_ns[t]), ep.images[t], ep.odom_pose[t],
                                   ep.odom_twist[t], ep.ground_truth[t], ep.odom_twist[t],
                                   ep.actions[t])
    return pathlib.Path(path)


def export_tiny(root, copy_last: bool = False, int8: bool = False) -> pathlib.Path:
    """Run dir + exported MODEL_DIR under root (parity on simulator frames)."""
    root = pathlib.Path(root)
    run_dir = make_run_dir(root / 'run', copy_last=copy_last)
    export_run(run_dir, root / 'model', int8=int8, log=lambda *_: None)
    return root / 'model'


@pytest.fixture(scope='module')
def run_dir(tmp_path_factory):
    return make_run_dir(tmp_path_factory.mktemp('export') / 'run')


@pytest.fixture(scope='module')
def parity_bag(tmp_path_factory):
    return write_sim_bag(tmp_path_factory.mktemp('bag') / 'heldout', sim_episodes())


@pytest.fixture(scope='module')
def exported(run_dir, parity_bag, tmp_path_factory):
    out = tmp_path_factory.mktemp('out') / 'model'
    rc = cli_main(['export', '--run', str(run_dir), '--out', str(out), '--int8',
                   '--parity-data', str(parity_bag)])
    assert rc == 0
    return out


def test_export_writes_every_file_with_a_matching_manifest(exported):
    names = {'encoder.onnx', 'predictor.onnx', 'relpose.onnx', 'encoder.int8.onnx',
             'predictor.int8.onnx', 'relpose.int8.onnx', 'model_config.json'}
    assert {p.name for p in exported.iterdir()} == names | {'manifest.json'}
    manifest = json.loads((exported / 'manifest.json').read_text())
    assert set(manifest['files']) == names
    for name, entry in manifest['files'].items():
        assert entry['sha256'] == mf.sha256_file(exported / name)
        assert entry['size'] == (exported / name).stat().st_size
    assert not list(exported.parent.glob('.model.*')), 'staging directory left behind'


def test_export_reports_fp32_parity_within_tolerance_and_int8_error(exported, parity_bag):
    report = json.loads((exported / 'manifest.json').read_text())['export']
    assert report['source'] == f'bag {parity_bag}'
    assert report['frames'] == 24
    for name in ('encoder.onnx', 'predictor.onnx', 'relpose.onnx'):
        for output, err in report['parity'][name].items():
            assert err['max_abs_error'] <= PARITY_TOLERANCE, (name, output)
            assert err['reference_max_abs'] > 0.0
    for name in ('encoder.int8.onnx', 'predictor.int8.onnx', 'relpose.int8.onnx'):
        errors = [e['max_abs_error'] for e in report['parity'][name].values()]
        assert all(np.isfinite(errors)) and max(errors) > 0.0  # quantisation is not lossless


def test_onnx_matches_torch_on_held_out_frames(exported, run_dir, parity_bag):
    """Independent of the exporter's own check: rerun the graphs against the torch model."""
    from world_model.data.bag_reader import read_bag

    model = load_model(run_dir)
    frames = np.concatenate([e.images for e in read_bag(parity_bag, image_size=(32, 32))])
    encoder = ort.InferenceSession(str(exported / 'encoder.onnx'))
    latents = encoder.run(None, {'images': frames})[0]
    with torch.no_grad():
        expected = model.encoder(torch.from_numpy(frames)).numpy()
    assert latents.shape == (48, 16)
    assert np.abs(latents - expected).max() <= PARITY_TOLERANCE

    rng = np.random.default_rng(0)
    hist = latents[:20].reshape(10, 2, 16)
    proprio = rng.uniform(-0.5, 0.5, (10, 2)).astype(np.float32)
    action = rng.uniform(-0.5, 0.5, (10, 2)).astype(np.float32)
    predictor = ort.InferenceSession(str(exported / 'predictor.onnx'))
    nxt, delta, logit = predictor.run(None, {'latent_history': hist, 'proprio': proprio,
                                             'action': action})
    with torch.no_grad():
        t_hist = torch.from_numpy(hist)
        t_next = model.predictor(t_hist, torch.from_numpy(proprio), torch.from_numpy(action))
        t_delta = model.pose_delta_probe(t_hist[:, -1], t_next)
        t_logit = model.collision_probe(t_next)
    assert np.abs(nxt - t_next.numpy()).max() <= PARITY_TOLERANCE
    assert np.abs(nxt - hist[:, -1]).max() > 1e-3  # the predictor really moves the latent
    assert np.abs(delta - t_delta.numpy()).max() <= PARITY_TOLERANCE
    assert np.abs(logit - t_logit.numpy()).max() <= PARITY_TOLERANCE
    assert logit.shape == (10, 1) and delta.shape == (10, 3)

    relpose = ort.InferenceSession(str(exported / 'relpose.onnx'))
    pose, log_std = relpose.run(['relpose', 'relpose_log_std'],
                                {'latent_a': latents[:24], 'latent_b': latents[24:]})
    with torch.no_grad():
        t_pose, t_log_std = model.relpose_head(torch.from_numpy(latents[:24]),
                                               torch.from_numpy(latents[24:]))
    assert np.abs(pose - t_pose.numpy()).max() <= PARITY_TOLERANCE
    assert np.abs(log_std - t_log_std.numpy()).max() <= PARITY_TOLERANCE


def test_metadata_is_embedded_in_every_onnx_file(exported):
    expected_role = {'encoder.onnx': 'encoder', 'predictor.onnx': 'predictor',
                     'relpose.onnx': 'relpose', 'encoder.int8.onnx': 'encoder',
                     'predictor.int8.onnx': 'predictor', 'relpose.int8.onnx': 'relpose'}
    for name, role in expected_role.items():
        props = {p.key: json.loads(p.value) for p in onnx.load(exported / name).metadata_props}
        assert props['role'] == role
        assert props['precision'] == ('int8' if 'int8' in name else 'fp32')
        assert props['input_size'] == [32, 32]
        assert props['colour_order'] == 'RGB'
        assert props['normalisation']['mean'] == [0.5, 0.5, 0.5]
        assert props['latent_dim'] == 16 and props['history_length'] == 2
        assert props['action']['high'] == [0.5, 1.5] and props['action']['low'] == [-0.5, -1.5]
        assert props['proprio']['names'] == ['v', 'omega']
        assert props['control_period'] == pytest.approx(0.1)
        assert props['data_fingerprint'] == FINGERPRINT
        assert props['git_commit'] and props['export_time'] and props['format_version'] == 1
        assert props['model_config']['latent_dim'] == 16


def test_export_has_a_dynamic_batch_axis(exported):
    session = ort.InferenceSession(str(exported / 'relpose.onnx'))
    for batch in (1, 7):
        zeros = np.zeros((batch, 16), np.float32)
        pose, log_std = session.run(['relpose', 'relpose_log_std'],
                                    {'latent_a': zeros, 'latent_b': zeros})
        assert pose.shape == log_std.shape == (batch, 3)
    assert isinstance(session.get_inputs()[0].shape[0], str)


def test_failed_parity_fails_the_export_and_writes_nothing(run_dir, tmp_path):
    out = tmp_path / 'model'
    with pytest.raises(ExportError, match='parity'):
        export_run(run_dir, out, tolerance=-1.0, log=lambda *_: None)  # no error is below 0
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_export_without_parity_data_uses_simulator_frames(run_dir, tmp_path):
    report = export_run(run_dir, tmp_path / 'model', log=lambda *_: None)
    assert report['source'].startswith('simulator')
    assert (tmp_path / 'model' / 'manifest.json').is_file()
    # re-exporting over an exported model replaces it
    export_run(run_dir, tmp_path / 'model', log=lambda *_: None)


def test_export_refuses_to_overwrite_an_unrelated_directory(run_dir, tmp_path, capsys):
    (tmp_path / 'notes.txt').write_text('precious')
    rc = cli_main(['export', '--run', str(run_dir), '--out', str(tmp_path)])
    assert rc == 1
    assert 'refusing to overwrite' in capsys.readouterr().err
    assert (tmp_path / 'notes.txt').read_text() == 'precious'


def test_export_of_a_missing_run_names_it(tmp_path, capsys):
    rc = cli_main(['export', '--run', str(tmp_path / 'nope'), '--out', str(tmp_path / 'm')])
    assert rc == 1
    assert 'model_config.json' in capsys.readouterr().err


def test_fp16_is_not_offered():
    with pytest.raises(SystemExit):
        cli_main(['export', '--run', 'r', '--out', 'm', '--fp16'])


def test_the_metadata_records_the_topics_training_read(tmp_path):
    run = make_run_dir(tmp_path / 'run')
    topics = {'image': '/camera/image_raw', 'odom': '/odom', 'cmd_vel': '/cmd_vel'}
    (run / 'data_settings.json').write_text(json.dumps({'training_topics': topics}))
    export_run(run, tmp_path / 'model', log=lambda *_: None)
    props = {p.key: json.loads(p.value)
             for p in onnx.load(tmp_path / 'model' / 'relpose.onnx').metadata_props}
    assert props['training_topics'] == topics
    manifest = json.loads((tmp_path / 'model' / 'manifest.json').read_text())
    assert manifest['training_topics'] == topics


def test_the_embedded_data_fingerprint_is_one_line_without_local_paths(tmp_path):
    from world_model.export.metadata import data_fingerprint

    (tmp_path / 'data_fingerprint.txt').write_text(
        'sha256 ab12\nbag /home/someone/data/train_open\nepisodes train 9 val 1 split_seed 0\n')
    assert data_fingerprint(tmp_path) == 'sha256 ab12; episodes train 9 val 1 split_seed 0'
    assert data_fingerprint(tmp_path / 'missing') == 'unknown'
