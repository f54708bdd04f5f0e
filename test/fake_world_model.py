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
"""TEST DOUBLE of OnnxWorldModel for ROS-free pipeline tests: exact, deterministic, no ONNX.

Not a model. Its latent is the pose the image was rendered at, in the simulator's world frame,
(x, y, cos yaw, sin yaw); images come from image_at(pose), which registers them, and
encode() looks them up. The predictor moves the newest latent's pose by one control period of
unicycle motion with the action, so a robot that moves as commanded is predicted exactly and
any displacement shows up in the latent error in metres. relative_pose() reads the two poses
back and returns the exact relative pose (sigma 0.01).
"""

import numpy as np

from world_model import geometry
from world_model.runtime.onnx_world_model import Futures


def embed(pose) -> np.ndarray:
    x, y, yaw = (float(v) for v in pose)
    return np.array([x, y, np.cos(yaw), np.sin(yaw)], np.float32)


def pose_of(latent) -> np.ndarray:
    latent = np.asarray(latent, np.float64)
    return np.array([latent[0], latent[1], np.arctan2(latent[3], latent[2])])


def motion(action, dt: float) -> np.ndarray:
    """Body-frame pose change of one step of (v, omega) (heading at mid-step)."""
    v, omega = float(action[0]), float(action[1])
    mid = 0.5 * omega * dt
    return np.array([v * dt * np.cos(mid), v * dt * np.sin(mid), omega * dt])


class FakeWorldModel:
    """The OnnxWorldModel interface the frame pipeline uses (see the module docstring)."""

    latent_dim = 4

    def __init__(self, history_length: int = 3, control_period: float = 0.1,
                 collision: float = 0.0):
        self.history_length = history_length
        self.metadata = {'control_period': control_period}
        self.period = control_period
        self.collision = collision
        self._latents = {}
        self.predict_calls = []  # (history [Hh, D], proprio, action) of every predict_next

    def image_at(self, world_pose) -> np.ndarray:
        """A unique 4x4 image whose latent is embed(world_pose)."""
        image = np.zeros((4, 4, 3), np.uint8)
        image.reshape(-1)[:4] = np.frombuffer(np.int32(len(self._latents)).tobytes(), np.uint8)
        self._latents[image.tobytes()] = embed(world_pose)
        return image

    def encode(self, images) -> np.ndarray:
        images = np.asarray(images)
        batch = images[None] if images.ndim == 3 else images
        return np.stack([self._latents[image.tobytes()] for image in batch])

    def relative_pose(self, latents_a, latents_b) -> tuple[np.ndarray, np.ndarray]:
        a = np.atleast_2d(np.asarray(latents_a, np.float64))
        b = np.atleast_2d(np.asarray(latents_b, np.float64))
        a, b = np.broadcast_arrays(a, b)
        poses = geometry.relative(np.stack([pose_of(z) for z in a]),
                                  np.stack([pose_of(z) for z in b]))
        return poses, np.full(poses.shape, 0.01)

    def predict_next(self, latent_history, proprio, action) -> np.ndarray:
        self.predict_calls.append((np.array(latent_history), np.array(proprio),
                                   np.array(action)))
        pose = pose_of(latent_history[-1])
        return embed(geometry.compose(pose, motion(action, self.period)))

    def rollout(self, latent_history, proprio, actions) -> Futures:
        actions = np.asarray(actions, np.float64)
        num, horizon = actions.shape[:2]
        start = pose_of(latent_history[-1])
        poses = np.zeros((num, horizon, 3))
        latents = np.zeros((num, horizon, self.latent_dim), np.float32)
        for k in range(num):
            relative = np.zeros(3)
            for h in range(horizon):
                relative = geometry.compose(relative, motion(actions[k, h], self.period))
                poses[k, h] = relative
                latents[k, h] = embed(geometry.compose(start, relative))
        collision = np.full((num, horizon), self.collision, np.float32)
        return Futures(latents, poses.astype(np.float32), collision)
