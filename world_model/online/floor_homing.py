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
"""Floor alignments of the current view with the goal view, off the frame's thread.

An alignment (floor_alignment.py) takes about 25 ms on one core of a 2-core machine, most of a
30 Hz frame, so it runs on a worker thread: submit() hands over the newest view near the goal
(a pending older one is dropped), take() returns the newest finished alignment with the
odometry pose its view was taken at, so the goal it measures lands in the odometry frame
however far the robot has moved since.
"""

import threading
from typing import NamedTuple

import numpy as np

from world_model.online.floor_alignment import Alignment, FloorAligner


class FloorFix(NamedTuple):
    pose: np.ndarray  # (3,) odometry pose of the robot when its view was taken
    alignment: Alignment  # the goal view's pose relative to it


class FloorHoming:
    """A latest-only worker around a FloorAligner; reset() when the goal or the frame changes."""

    def __init__(self, aligner: FloorAligner):
        self.aligner = aligner
        self._lock = threading.Condition()
        self._job = None  # (generation, pose, image, goal image, init)
        self._done = None  # FloorFix of the current generation
        self._generation = 0
        self._busy = self._closed = False
        self._thread = None
        self.stats = {'floor_alignments': 0, 'floor_trusted': 0, 'floor_errors': 0,
                      'floor_skipped_shape': 0}
        self.last_error = ''

    def submit(self, pose, image: np.ndarray, goal_image: np.ndarray, init) -> bool:
        """Queue an alignment of image (taken at odometry pose) with goal_image, from init (the
        goal in the robot's frame); False when the two views differ in size (another camera)."""
        with self._lock:
            if np.shape(image)[:2] != np.shape(goal_image)[:2]:
                self.stats['floor_skipped_shape'] += 1
                return False
            if self._closed:
                return False
            self._job = (self._generation, np.array(pose, np.float64), image, goal_image,
                         np.array(init, np.float64))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name='floor_homing',
                                                daemon=True)
                self._thread.start()
            self._lock.notify()
        return True

    def take(self) -> FloorFix | None:
        """The newest finished alignment since the last take(), or None."""
        with self._lock:
            done, self._done = self._done, None
            return done

    def counters(self) -> dict:
        """A copy of the counters (diagnostics): alignments, trusted, errors, skipped, and the
        last error's text."""
        with self._lock:
            return dict(self.stats, floor_last_error=self.last_error)

    def reset(self):
        """Forget queued and finished alignments (a new goal or a new odometry frame)."""
        with self._lock:
            self._generation += 1
            self._job = self._done = None

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no alignment is queued or running (tests, shutdown)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._job is None and not self._busy, timeout)

    def close(self):
        """Stop the worker thread (a finished alignment is not fused any more)."""
        with self._lock:
            self._closed = True
            self._job = None
            self._lock.notify_all()

    def _run(self):
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._job is not None or self._closed)
                if self._closed:
                    return
                generation, pose, image, goal_image, init = self._job
                self._job, self._busy = None, True
            try:
                alignment = self.aligner.align(image, goal_image, init)
            except Exception as exc:  # noqa: BLE001 a view it cannot align must not end homing
                alignment, error = None, f'{type(exc).__name__}: {exc}'
            with self._lock:
                self._busy = False
                self._lock.notify_all()
                if alignment is None:
                    self.stats['floor_errors'] += 1
                    self.last_error = error
                    continue
                self.stats['floor_alignments'] += 1
                self.stats['floor_trusted'] += alignment.trusted
                if generation == self._generation:
                    self._done = FloorFix(pose, alignment)
