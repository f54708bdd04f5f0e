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
"""Rollouts of the predictor: reusable per-batch-size buffers and the Futures they hold.

A planning step allocates nothing: the buffers of one batch size are bound to the predictor once
(IOBinding), the latent window shifts in place and the poses are integrated into preallocated
arrays.
"""

import dataclasses

import numpy as np
import onnxruntime as ort


@dataclasses.dataclass
class Futures:
    """Predicted futures of K candidate action sequences over H steps.

    The arrays are views of buffers the runtime reuses: they stay valid until the next rollout
    with the same K. Call copy() to keep them longer.
    """

    latents: np.ndarray  # float32 [K, H, D]
    poses: np.ndarray  # float32 [K, H, 3] (x, y, yaw) body frame relative to now
    collision: np.ndarray  # float32 [K, H] contact probability

    def copy(self) -> 'Futures':
        return Futures(self.latents.copy(), self.poses.copy(), self.collision.copy())


class RolloutBuffers:
    """Everything one rollout of batch size k needs, allocated once and bound to the session."""

    def __init__(self, session: ort.InferenceSession, k: int, hh: int, d: int,
                 io_binding: bool):
        f32 = np.float32
        self.session = session
        self.k, self.hh, self.d = k, hh, d
        self.hist = np.zeros((k, hh, d), f32)
        self.proprio = np.zeros((k, 2), f32)
        self.action = np.zeros((k, 2), f32)
        self.next = np.zeros((k, d), f32)
        self.delta = np.zeros((k, 3), f32)
        self.logit = np.zeros((k, 1), f32)
        self.horizon = 0
        self.ensure_horizon(1)
        self.feeds = {'latent_history': self.hist, 'proprio': self.proprio, 'action': self.action}
        self.binding = None
        if io_binding:
            self.binding = session.io_binding()
            for name, array in self.feeds.items():
                self.binding.bind_cpu_input(name, array)  # backed by the array, no copy
            for name, array in (('next_latent', self.next), ('pose_delta', self.delta),
                                ('collision_logit', self.logit)):
                self.binding.bind_output(name, 'cpu', 0, f32, list(array.shape),
                                         array.ctypes.data)

    def ensure_horizon(self, h: int):
        if h <= self.horizon:
            return
        k, d, f32 = self.k, self.d, np.float32
        # step-major [H, K, ...]: each step writes one contiguous block
        self.latents = np.zeros((h, k, d), f32)
        self.deltas = np.zeros((h, k, 3), f32)
        self.poses = np.zeros((h, k, 3), f32)
        self.collision = np.zeros((h, k), f32)
        self.heading = np.zeros((h, k), f32)
        self.cos = np.zeros((h, k), f32)
        self.sin = np.zeros((h, k), f32)
        self.tmp = np.zeros((h, k), f32)
        self.horizon = h

    def step(self):
        """One predictor call: hist, proprio, action -> next, delta, logit."""
        if self.binding is not None:
            self.session.run_with_iobinding(self.binding)
        else:
            self.next[...], self.delta[...], self.logit[...] = self.session.run(
                ['next_latent', 'pose_delta', 'collision_logit'], self.feeds)

    def rollout(self, actions, h: int) -> Futures:
        """actions [K, H, 2] from the state in hist and proprio, which advance in place."""
        self.ensure_horizon(h)
        hist = self.hist
        for step in range(h):
            self.action[...] = actions[:, step]
            self.step()
            self.latents[step] = self.next
            self.deltas[step] = self.delta
            self.collision[step] = self.logit[:, 0]
            for i in range(self.hh - 1):  # shift the window; one row at a time avoids temporaries
                hist[:, i] = hist[:, i + 1]
            hist[:, -1] = self.next
            self.proprio[...] = self.action
        integrate_poses(self, h)
        sigmoid(self.collision[:h], self.tmp[:h])
        return Futures(self.latents[:h].transpose(1, 0, 2), self.poses[:h].transpose(1, 0, 2),
                       self.collision[:h].T)


def integrate_poses(buf: RolloutBuffers, h: int):
    """Compose the body-frame step motions into poses relative to now (SE(2)), vectorised.

    heading before step j is the sum of the earlier yaw steps, so every step's motion is rotated
    into the start frame at once and positions are cumulative sums.
    """
    dx, dy, dyaw = buf.deltas[:h, :, 0], buf.deltas[:h, :, 1], buf.deltas[:h, :, 2]
    heading, cos, sin, tmp = buf.heading[:h], buf.cos[:h], buf.sin[:h], buf.tmp[:h]
    heading[0] = 0.0
    if h > 1:
        np.cumsum(dyaw[:-1], axis=0, out=heading[1:])
    np.cos(heading, out=cos)
    np.sin(heading, out=sin)
    x, y, yaw = buf.poses[:h, :, 0], buf.poses[:h, :, 1], buf.poses[:h, :, 2]
    np.multiply(cos, dx, out=tmp)
    np.multiply(sin, dy, out=x)
    np.subtract(tmp, x, out=tmp)
    np.cumsum(tmp, axis=0, out=x)
    np.multiply(sin, dx, out=tmp)
    np.multiply(cos, dy, out=y)
    np.add(tmp, y, out=tmp)
    np.cumsum(tmp, axis=0, out=y)
    np.cumsum(dyaw, axis=0, out=tmp)
    # wrap to (-pi, pi] like atan2(sin, cos)
    np.sin(tmp, out=sin)
    np.cos(tmp, out=cos)
    np.arctan2(sin, cos, out=yaw)


def sigmoid(logits: np.ndarray, tmp: np.ndarray):
    """In place: logits -> probabilities (tmp is scratch of the same shape)."""
    np.negative(logits, out=tmp)
    np.clip(tmp, -80.0, 80.0, out=tmp)  # exp stays finite, probabilities saturate cleanly
    np.exp(tmp, out=tmp)
    tmp += 1.0
    np.reciprocal(tmp, out=logits)
