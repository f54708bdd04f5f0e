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
"""Which camera frame a velocity command answers, for the camera-to-cmd_vel latency.

A command answers the newest frame sent before it, and only the first command after a frame
counts: the planner may send several per frame, and the latency is how long the robot waits for
its first reaction. Times are DDS writer timestamps (one host clock), so the pairing holds
whatever order an executor hands the messages over in. Used by the closed-loop orchestrator and
scripts/bench_pipeline_latency.py.
"""

import collections


class CommandLatency:
    """frame() per camera frame sent, command() per command: the frame it first answers."""

    def __init__(self, keep: int = 16):
        self._frames = collections.deque(maxlen=keep)  # (sent ns, payload)
        self._answered = None  # sent time of the newest frame a command answered

    def frame(self, sent_ns: int, payload=None):
        """A camera frame sent at sent_ns (payload comes back with its answer)."""
        self._frames.append((int(sent_ns), payload))

    def command(self, sent_ns: int):
        """(frame sent ns, payload) of the frame a command sent at sent_ns is the first answer
        to; None when no kept frame came before it or its frame was answered already."""
        frame = next((f for f in reversed(self._frames) if f[0] < sent_ns), None)
        if frame is None or frame[0] == self._answered:
            return None
        self._answered = frame[0]
        return frame
