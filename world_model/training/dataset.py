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
"""Episodes -> flat training arrays, seeded episode split, and fixed-length training windows.

A window is history_length + rollout_steps consecutive frames of one episode. Windows start
every `stride` frames (offset redrawn each epoch), so each frame is encoded about once per epoch
while every transition inside a window feeds the teacher-forced loss.
"""

import dataclasses
import math

import cv2
import numpy as np
import torch

from world_model import geometry
from world_model.data.episode import Episode

# A frame counts as a contact when a clear command was given but the measured speed stayed
# far below it (how the simulator and a real base behave against an obstacle).
_CONTACT_MIN_COMMAND = 0.1  # m/s
_CONTACT_SPEED_RATIO = 0.25


def body_frame_deltas(poses: np.ndarray) -> np.ndarray:
    """Motion from pose t to pose t+1 in the body frame at t, [T, 3]; the last row is NaN."""
    out = np.full(poses.shape, np.nan, dtype=np.float32)
    if len(poses) < 2:
        return out
    d = poses[1:, :2] - poses[:-1, :2]
    cos, sin = np.cos(poses[:-1, 2]), np.sin(poses[:-1, 2])
    out[:-1, 0] = cos * d[:, 0] + sin * d[:, 1]
    out[:-1, 1] = -sin * d[:, 0] + cos * d[:, 1]
    out[:-1, 2] = geometry.wrap_angle(poses[1:, 2] - poses[:-1, 2])
    return out


def derive_collisions(episode: Episode) -> np.ndarray:
    """Contact labels from odometry when a recording has none: commanded but did not move."""
    command = np.concatenate([[0.0], episode.actions[:-1, 0]])
    measured = np.abs(episode.odom_twist[:, 0])
    stuck = measured < _CONTACT_SPEED_RATIO * np.abs(command)
    return (np.abs(command) > _CONTACT_MIN_COMMAND) & stuck


def odometry_poses(episode: Episode) -> np.ndarray:
    """The motion / relative-pose labels: odometry only (a robot has no ground truth)."""
    return np.asarray(episode.odom_pose, dtype=np.float64)


@dataclasses.dataclass
class FrameArrays:
    """All frames of a set of episodes, concatenated; episode e spans [starts[e], ends[e])."""

    images: np.ndarray  # uint8 [N, S, S, 3]
    proprio: np.ndarray  # float32 [N, 2] measured (v, omega)
    actions: np.ndarray  # float32 [N, 2] command in force until the next frame
    odom_pose: np.ndarray  # float32 [N, 3] odometry (x, y, yaw), compared within an episode
    step_delta: np.ndarray  # float32 [N, 3] body-frame motion to the next frame (NaN at ends)
    collision: np.ndarray  # float32 [N] 0/1
    starts: np.ndarray  # int64 [E]
    ends: np.ndarray  # int64 [E]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def num_episodes(self) -> int:
        return int(self.starts.shape[0])

    def episode_of(self) -> np.ndarray:
        return np.repeat(np.arange(self.num_episodes), self.ends - self.starts)

    def windows(self, starts: np.ndarray, length: int) -> dict:
        """Tensors for windows [B, length, ...] starting at frame indices `starts`."""
        idx = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(length)[None, :]
        return {
            'images': torch.from_numpy(self.images[idx]),
            'proprio': torch.from_numpy(self.proprio[idx]),
            'actions': torch.from_numpy(self.actions[idx]),
            'odom_pose': torch.from_numpy(self.odom_pose[idx]),
            'step_delta': torch.from_numpy(self.step_delta[idx]),
            'collision': torch.from_numpy(self.collision[idx]),
        }

    def pairs(self, a: np.ndarray, b: np.ndarray) -> dict:
        """Tensors of frame pairs (a [M], b [M] frame indices): images [M, 2, ...], odometry
        poses [M, 2, 3]."""
        idx = np.stack([np.asarray(a, np.int64), np.asarray(b, np.int64)], axis=1)
        return {'pair_images': torch.from_numpy(self.images[idx]),
                'pair_poses': torch.from_numpy(self.odom_pose[idx])}

    def window_starts(self, length: int, stride: int = 1) -> np.ndarray:
        """Every `stride`-th start of a full window inside one episode."""
        out = [np.arange(s, e - length + 1, stride) for s, e in zip(self.starts, self.ends)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _resized(images: np.ndarray, size: int) -> np.ndarray:
    if images.shape[1:3] == (size, size):
        return images
    return np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA)
                     for im in images])


def frame_arrays(episodes: list[Episode], image_size: int) -> FrameArrays:
    """Concatenate episodes (resizing images to image_size) with their labels."""
    if not episodes:
        raise ValueError('no episodes: the data holds no frames to train on')
    parts = {k: [] for k in ('images', 'proprio', 'actions', 'odom_pose', 'step_delta',
                             'collision')}
    lengths = []
    for episode in episodes:
        episode.check()
        poses = odometry_poses(episode)
        collisions = (episode.collisions if episode.collisions is not None
                      else derive_collisions(episode))
        parts['images'].append(_resized(episode.images, image_size))
        parts['proprio'].append(np.asarray(episode.odom_twist, dtype=np.float32))
        parts['actions'].append(np.asarray(episode.actions, dtype=np.float32))
        parts['odom_pose'].append(poses.astype(np.float32))
        parts['step_delta'].append(body_frame_deltas(poses))
        parts['collision'].append(np.asarray(collisions, dtype=np.float32))
        lengths.append(len(episode))
    ends = np.cumsum(lengths).astype(np.int64)
    return FrameArrays(**{k: np.concatenate(v) for k, v in parts.items()},
                       starts=ends - np.asarray(lengths), ends=ends)


def split_long_episodes(episodes: list[Episode], pieces: int) -> list[Episode]:
    """Cut each episode into `pieces` contiguous parts (a bag without episode markers)."""
    out = []
    for ep in episodes:
        bounds = np.linspace(0, len(ep), pieces + 1).astype(int)
        for a, b in zip(bounds[:-1], bounds[1:]):
            if b > a:
                out.append(Episode(**{f.name: (None if getattr(ep, f.name) is None
                                               else getattr(ep, f.name)[a:b])
                                      for f in dataclasses.fields(Episode)}))
    return out


def split_episodes(episodes: list[Episode], val_fraction: float,
                   seed: int) -> tuple[list[Episode], list[Episode]]:
    """Seeded hold-out of whole episodes; a single long recording is cut into 10 parts first."""
    if val_fraction <= 0.0:
        return list(episodes), []
    if len(episodes) < 2:
        episodes = split_long_episodes(episodes, 10)
    n_val = min(len(episodes) - 1, max(1, math.ceil(val_fraction * len(episodes))))
    order = np.random.default_rng([seed, 7919]).permutation(len(episodes))
    val_ids = set(order[:n_val].tolist())
    train = [ep for i, ep in enumerate(episodes) if i not in val_ids]
    val = [ep for i, ep in enumerate(episodes) if i in val_ids]
    return train, val


class WindowDataset(torch.utils.data.Dataset):
    """Window start indices; set_epoch(e) shifts every start by a seeded offset in [0, stride)."""

    def __init__(self, frames: FrameArrays, length: int, stride: int, seed: int = 0):
        self.frames, self.length, self.stride, self.seed = frames, length, max(1, stride), seed
        anchors, last = [], []
        for start, end in zip(frames.starts, frames.ends):
            here = np.arange(start, end - length + 1, self.stride)
            anchors.append(here)
            last.append(np.full(here.shape, end - length))  # a shifted start may not pass this
        self.anchors = np.concatenate(anchors).astype(np.int64)
        self.last_start = np.concatenate(last).astype(np.int64)
        self.offset = 0
        if len(self.anchors) == 0:
            raise ValueError(f'no episode has {length} frames (history + rollout steps): '
                             f'record longer episodes or lower rollout_steps')

    def set_epoch(self, epoch: int):
        self.offset = int(np.random.default_rng([self.seed, epoch]).integers(self.stride))

    def __len__(self) -> int:
        return len(self.anchors)

    def __getitem__(self, i: int) -> int:
        return int(min(self.anchors[i] + self.offset, self.last_start[i]))
