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
"""`jepa-agent evaluate --model MODEL_DIR --data BAG [BAG ...] --report REPORT.json`.

Runs the exported model through OnnxWorldModel (what the robot runs) on recorded episodes:
- latent prediction: the k-step open-loop rollout of the recorded actions vs the encoder's latent
  of the true frame t+k, against the copy-last-latent baseline (error = mean L2 distance);
- pose: the pose-delta probe integrated over the rollout (position / yaw error after k steps),
  against ground truth (else odometry);
- relative_pose: the relative-pose head on pairs of frames of one episode, labels from odometry
  (never ground truth: what a robot would have), binned by the pair's distance and heading
  difference (median errors, median predicted sigma, count);
- collapse: embedding std and effective rank of the encoded frames;
- learnability: ratio@horizon with a 95% interval over episodes, and one line that says whether
  the model beats copy-last and, if not, the likeliest causes (evaluation.learnability).
Frames are resampled onto the model's control period first, as in training.
Writes REPORT.json and PNG plots beside it (REPORT_error_vs_k.png, REPORT_trajectories.png).
"""

import json
import pathlib
import shlex
import sys
import time

import numpy as np

from world_model import geometry
from world_model.data.topic_arguments import add_topic_arguments, topics_from_args
from world_model.evaluation import learnability, metrics

ENCODE_BATCH = 256
ROLLOUT_BATCH = 256
TRAJECTORY_EPISODES = 3
TRAJECTORY_STEPS = 100


def add_arguments(parser):
    parser.add_argument('--model', required=True, metavar='MODEL_DIR',
                        help='exported model directory (jepa-agent export)')
    parser.add_argument('--data', required=True, nargs='+', metavar='BAG',
                        help='held-out rosbag2 bag(s)')
    parser.add_argument('--report', required=True, metavar='REPORT.json',
                        help='report to write; PNG plots go beside it')
    parser.add_argument('--horizon', type=int, default=8,
                        help='rollout steps k = 1..horizon (default 8)')
    parser.add_argument('--int8', action='store_true', help='evaluate the *.int8.onnx models')
    parser.add_argument('--threads', type=int, default=2, help='onnxruntime threads')
    parser.add_argument('--providers', default='tensorrt,cuda,openvino,cpu',
                        help='execution provider preference, comma separated (default: '
                             '%(default)s)')
    add_topic_arguments(parser)


class _Accumulator:
    """Sums of per-sample errors per horizon step."""

    def __init__(self, horizon: int):
        self.model = np.zeros(horizon)
        self.copy_last = np.zeros(horizon)
        self.position = np.zeros(horizon)
        self.yaw = np.zeros(horizon)
        self.count = 0

    def add(self, pred_latents, true_latents, last_latent, pred_poses, true_poses):
        """[B, H, D], [B, H, D], [B, D], [B, H, 3], [B, H, 3]."""
        self.model += np.linalg.norm(pred_latents - true_latents, axis=-1).sum(axis=0)
        self.copy_last += np.linalg.norm(last_latent[:, None] - true_latents, axis=-1).sum(axis=0)
        self.position += np.linalg.norm(pred_poses[..., :2] - true_poses[..., :2],
                                        axis=-1).sum(axis=0)
        self.yaw += np.abs(geometry.wrap_angle(pred_poses[..., 2] - true_poses[..., 2])).sum(0)
        self.count += len(pred_latents)

    def merge(self, other: '_Accumulator'):
        for name in ('model', 'copy_last', 'position', 'yaw'):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.count += other.count


def encode_images(wm, images) -> np.ndarray:
    """Latents [N, D] of images [N, H, W, 3], encoded ENCODE_BATCH at a time."""
    return np.concatenate([wm.encode(images[i:i + ENCODE_BATCH])
                           for i in range(0, len(images), ENCODE_BATCH)])


def encode_episode(wm, episode) -> np.ndarray:
    return encode_images(wm, episode.images)


def evaluate_episode(wm, episode, latents, poses, horizon: int, acc: _Accumulator):
    """Open-loop rollouts of the recorded actions from every start with a full window."""
    hh = wm.history_length
    starts = np.arange(hh - 1, len(episode) - horizon)
    steps = np.arange(1, horizon + 1)
    for i in range(0, len(starts), ROLLOUT_BATCH):
        t = starts[i:i + ROLLOUT_BATCH]
        hist = latents[t[:, None] + np.arange(1 - hh, 1)[None]]
        actions = episode.actions[t[:, None] + np.arange(horizon)[None]]
        futures = wm.rollout_many(hist, episode.odom_twist[t], actions)
        future_idx = t[:, None] + steps[None]
        true_poses = geometry.relative(poses[t][:, None], poses[future_idx])
        acc.add(futures.latents, latents[future_idx], latents[t], futures.poses, true_poses)


def open_loop_trajectory(wm, episode, latents, poses, steps: int):
    """(predicted, true) world poses [L+1, 3] over an open-loop rollout from the first window."""
    t0 = wm.history_length - 1
    steps = min(steps, len(episode) - 1 - t0)
    futures = wm.rollout(latents[t0 - wm.history_length + 1:t0 + 1], episode.odom_twist[t0],
                         episode.actions[None, t0:t0 + steps])
    predicted = geometry.compose(poses[t0], futures.poses[0])
    return (np.concatenate([poses[t0][None], predicted]), poses[t0:t0 + steps + 1])


def plot_errors(path, acc: _Accumulator, ratios: list):
    import matplotlib

    matplotlib.use('Agg')
    from matplotlib import pyplot as plt

    k = np.arange(1, len(ratios) + 1)
    fig, (ax_err, ax_ratio) = plt.subplots(1, 2, figsize=(10, 4))
    ax_err.plot(k, acc.model / acc.count, 'o-', label='world model rollout')
    ax_err.plot(k, acc.copy_last / acc.count, 's--', label='copy last latent')
    ax_err.set(xlabel='steps ahead k', ylabel='mean L2 latent error', title='Latent error vs k')
    ax_err.legend()
    ax_ratio.plot(k, ratios, 'o-')
    ax_ratio.axhline(1.0, color='grey', lw=0.8)
    ax_ratio.set(xlabel='steps ahead k', ylabel='model / copy-last', title='Error ratio',
                 ylim=(0, max(1.1, np.nanmax(ratios) * 1.1 if np.isfinite(ratios).any() else 1)))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_trajectories(path, trajectories: list):
    import matplotlib

    matplotlib.use('Agg')
    from matplotlib import pyplot as plt

    fig, axes = plt.subplots(1, len(trajectories), figsize=(4 * len(trajectories), 4),
                             squeeze=False)
    for ax, (name, predicted, true) in zip(axes[0], trajectories):
        ax.plot(true[:, 0], true[:, 1], 'k-', label='ground truth')
        ax.plot(predicted[:, 0], predicted[:, 1], 'r--', label='open-loop prediction')
        ax.plot(true[0, 0], true[0, 1], 'go', label='start')
        ax.set(title=name, xlabel='x [m]', ylabel='y [m]', aspect='equal')
    axes[0][0].legend(fontsize=8)
    fig.suptitle('Pose-delta probe integrated over an open-loop rollout of the recorded actions')
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _load_episodes(paths, image_size: int, period_s: float | None = None, topics=None):
    from world_model.data.bag_reader import read_bag

    episodes = []
    for path in paths:
        # ground truth, where a simulator bag has it, only scores the rollout poses
        for i, episode in enumerate(read_bag(path, topics, image_size=(image_size, image_size),
                                             period_s=period_s, read_ground_truth=True)):
            episodes.append((f'{pathlib.Path(path).name}#{i}', episode))
    return episodes


def evaluate(model_dir, bags, report_path, horizon: int = 8, int8: bool = False,
             threads: int = 2, command: str | None = None, progress: bool = True,
             providers='tensorrt,cuda,openvino,cpu', topics=None) -> dict:
    """Evaluate MODEL_DIR on the bags; writes report_path and the plots, returns the report."""
    from tqdm import tqdm

    from world_model.runtime.onnx_world_model import OnnxWorldModel

    if horizon < 1:
        raise ValueError(f'--horizon={horizon} is out of range: allowed >= 1')
    started = time.monotonic()
    wm = OnnxWorldModel(model_dir, providers=providers, threads=threads, int8=int8)
    period = wm.metadata.get('control_period')
    episodes = _load_episodes(bags, wm.input_height, float(period) if period else None, topics)
    usable = [(n, e) for n, e in episodes if len(e) >= wm.history_length + horizon]
    if not usable:
        raise ValueError(f'no episode in {", ".join(map(str, bags))} has the '
                         f'{wm.history_length + horizon} frames a {horizon}-step rollout needs '
                         f'(episode lengths: {[len(e) for _, e in episodes]})')
    acc = _Accumulator(horizon)
    episode_model, episode_copy = [], []
    all_latents, per_episode = [], {}
    pose_source = 'ground_truth'
    for name, episode in tqdm(usable, desc='evaluate', unit='episode', disable=not progress):
        latents = encode_episode(wm, episode)
        poses = metrics.reference_poses(episode)
        if episode.ground_truth is None:
            pose_source = 'odometry'
        one = _Accumulator(horizon)
        evaluate_episode(wm, episode, latents, poses, horizon, one)
        acc.merge(one)
        episode_model.append(one.model[-1])
        episode_copy.append(one.copy_last[-1])
        all_latents.append(latents)
        per_episode[name] = (episode, latents, poses)
    relpose = relative_pose_report(wm, [(per_episode[n][0], per_episode[n][1])
                                        for n in per_episode])
    latents = np.concatenate(all_latents)
    ratios = metrics.error_ratios(acc.model, acc.copy_last)

    report_path = pathlib.Path(report_path)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    stem = report_path.with_suffix('')
    error_png = stem.with_name(stem.name + '_error_vs_k.png')
    trajectory_png = stem.with_name(stem.name + '_trajectories.png')
    plot_errors(error_png, acc, ratios)
    longest = sorted(per_episode, key=lambda n: -len(per_episode[n][0]))[:TRAJECTORY_EPISODES]
    trajectories, final_errors = [], {}
    for name in longest:
        predicted, true = open_loop_trajectory(wm, *per_episode[name], TRAJECTORY_STEPS)
        trajectories.append((name, predicted, true))
        final_errors[name] = {'steps': len(true) - 1,
                              'final_position_error_m': float(np.linalg.norm(
                                  predicted[-1, :2] - true[-1, :2]))}
    plot_trajectories(trajectory_png, trajectories)
    found = learnability.verdict(episode_model, episode_copy, horizon,
                                 _causes(wm, [e for _, e in usable], latents))

    report = {
        'latent_error_ratio': ratios,
        'latent_error_ratio_at_8': ratios[7] if horizon >= 8 else None,
        'latent_error_model': (acc.model / acc.count).tolist(),
        'latent_error_copy_last': (acc.copy_last / acc.count).tolist(),
        'latent_error_definition': 'mean L2 distance to the encoder latent of the true frame '
                                   't+k; copy-last predicts the latent at t',
        'relative_pose': relpose,
        'pose_source': pose_source,
        'pose_delta_position_error_m': (acc.position / acc.count).tolist(),
        'pose_delta_yaw_error_rad': (acc.yaw / acc.count).tolist(),
        'open_loop_trajectories': final_errors,
        'embedding_std': metrics.embedding_std(latents),
        'effective_rank': metrics.effective_rank(latents),
        'learnability': found.to_dict(),
        'latent_dim': wm.latent_dim,
        'horizon': horizon,
        'counts': {'bags': len(bags), 'episodes': len(episodes), 'episodes_used': len(usable),
                   'frames': int(len(latents)), 'rollout_starts': int(acc.count)},
        'model': {'path': str(pathlib.Path(model_dir).resolve()),
                  'manifest_sha256': wm.manifest_sha256, 'int8': int8,
                  'providers': wm.providers_in_use,
                  'data_fingerprint': wm.metadata.get('data_fingerprint'),
                  'git_commit': wm.metadata.get('git_commit')},
        'data': [str(b) for b in bags],
        'command': command or shlex.join(['jepa-agent', *sys.argv[1:]]),
        'plots': [error_png.name, trajectory_png.name],
        'seconds': round(time.monotonic() - started, 2),
    }
    report_path.write_text(json.dumps(report, indent=2) + '\n', encoding='utf-8')
    return report


def relative_pose_report(wm, episodes, pairs_per_frame: int = 4, seed: int = 0) -> dict:
    """The relative-pose head on pairs inside each (episode, latents): half near pairs (as at
    run time), half any two frames; labels from odometry."""
    from world_model.data.relpose_pairs import sample_pairs

    rng = np.random.default_rng(seed)
    preds, sigmas, labels = [], [], []
    for episode, latents in episodes:
        poses = np.asarray(episode.odom_pose, np.float64)
        a, b, label = sample_pairs(poses, np.array([0]), np.array([len(poses)]),
                                   pairs_per_frame * len(poses), rng, near_fraction=0.5)
        for i in range(0, len(a), ROLLOUT_BATCH):
            pose, sigma = wm.relative_pose(latents[a[i:i + ROLLOUT_BATCH]],
                                           latents[b[i:i + ROLLOUT_BATCH]])
            preds.append(pose)
            sigmas.append(sigma)
        labels.append(label)
    if not preds:
        return {'pairs': 0, 'bins': []}
    pred, sigma, label = (np.concatenate(x) for x in (preds, sigmas, labels))
    return {'pairs': int(len(label)), 'label_source': 'odometry',
            'bins': metrics.relpose_bins(pred, sigma, label)}


def _causes(wm, episodes, latents) -> list:
    """Likeliest causes of a model that does not beat copy-last, from its metadata and data."""
    actions = np.concatenate([e.actions for e in episodes])
    twist = np.concatenate([e.odom_twist for e in episodes])
    p99 = {'v_max': float(np.percentile(np.abs(np.concatenate([actions[:, 0], twist[:, 0]])),
                                        99)),
           'omega_max': float(np.percentile(np.abs(np.concatenate([actions[:, 1],
                                                                   twist[:, 1]])), 99))}
    steps = np.concatenate([np.diff(e.stamps_ns) for e in episodes if len(e) > 1]) * 1e-9
    settings = wm.metadata.get('data_settings') or {
        'values': {k: wm.metadata.get('model_config', {}).get(k) for k in
                   ('v_max', 'omega_max', 'control_period')},
        'sources': {k: 'not recorded (exported before derived settings)' for k in
                    ('v_max', 'omega_max', 'control_period')}}
    return learnability.likely_causes(
        settings, p99, float(np.median(steps)) if steps.size else None,
        effective_rank=metrics.effective_rank(latents))


def run(args) -> int:
    from world_model.export.manifest import ModelIntegrityError

    try:
        report = evaluate(args.model, args.data, args.report, args.horizon, args.int8,
                          args.threads, providers=args.providers, topics=topics_from_args(args))
    except (ModelIntegrityError, ValueError, FileNotFoundError) as exc:
        print(f'jepa-agent evaluate: {exc}', file=sys.stderr)
        return 1
    keys = ('latent_error_ratio_at_8', 'embedding_std', 'effective_rank')
    print(json.dumps({k: report[k] for k in keys} | {'report': str(args.report)}, indent=2))
    print(metrics.relpose_table(report['relative_pose']['bins']))
    print(report['learnability']['line'])
    return 0
