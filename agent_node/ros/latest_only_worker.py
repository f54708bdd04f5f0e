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
"""A worker thread that runs one job per wake-up: a slow job coalesces wake-ups, never queues."""

from collections.abc import Callable
import threading


class LatestOnlyWorker:
    """Runs job() on its own thread after notify(); notifications while busy merge into one.

    The job takes the newest input itself (e.g. the synchroniser's newest pair), so frames that
    arrive while it runs are superseded rather than queued. An exception from job() goes to
    on_error and the loop goes on.
    """

    def __init__(self, job: Callable[[], None], on_error: Callable[[Exception], None],
                 name: str = 'worker'):
        self.job, self.on_error, self.name = job, on_error, name
        self._wake = threading.Condition()
        self._pending = False
        self._exit = False
        self._thread = None

    def start(self):
        self._exit, self._pending = False, False
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def notify(self):
        with self._wake:
            self._pending = True
            self._wake.notify()

    def join(self, timeout: float = 10.0):
        """Ask the thread to exit after its current job and wait for it (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with self._wake:
            self._exit = True
            self._wake.notify_all()
        thread.join(timeout=timeout)

    def _loop(self):
        while True:
            with self._wake:
                while not (self._pending or self._exit):
                    self._wake.wait(0.5)
                if self._exit:
                    return
                self._pending = False
            try:
                self.job()
            except Exception as exc:  # a bad frame must never stop the loop
                self.on_error(exc)
