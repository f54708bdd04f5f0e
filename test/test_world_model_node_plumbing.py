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
"""world_model_node's plumbing without DDS: the latest-only worker and the frame statistics."""

import threading
import time
from types import SimpleNamespace

from agent_node.ros.frame_stats import FrameStats
from agent_node.ros.latest_only_worker import LatestOnlyWorker


def wait_for(predicate, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.01)
    return predicate()


def test_the_worker_merges_wake_ups_while_busy_and_survives_a_failing_job():
    release = threading.Event()
    runs, errors = [], []

    def job():
        runs.append(len(runs))
        if len(runs) == 1:
            release.wait(10.0)  # a slow frame: wake-ups pile up meanwhile
        if len(runs) == 2:
            raise RuntimeError('bad frame')

    worker = LatestOnlyWorker(job, errors.append, name='test-worker')
    worker.start()
    worker.notify()
    assert wait_for(lambda: len(runs) == 1)
    for _ in range(5):
        worker.notify()
    release.set()
    assert wait_for(lambda: len(runs) == 2 and errors)  # five wake-ups, one more run
    assert [str(e) for e in errors] == ['bad frame']
    worker.notify()  # the loop survived the exception
    assert wait_for(lambda: len(runs) == 3)
    worker.join()
    worker.join()  # idempotent
    worker.notify()
    time.sleep(0.2)
    assert len(runs) == 3  # joined: no more runs
    worker.start()  # a deactivate / activate cycle starts it again
    worker.notify()
    assert wait_for(lambda: len(runs) == 4)
    worker.join()


def test_frame_stats_report_totals_rates_staleness_and_percentiles():
    stats = FrameStats()
    values = stats.values(None, stale_after_s=0.5)
    assert values['odom_stale'] and values['image_stale']  # nothing ever came
    assert values['frames_processed'] == 0 and 'latency_ms_p50' not in values
    for _ in range(4):
        stats.arrived('images')
    stats.arrived('odometry')
    stats.counters['processed'] += 3
    stats.latency_ms.extend([1.0, 2.0, 3.0])
    sync = SimpleNamespace(superseded=2, unmatched_images=1, skipped_images=0, backwards=0,
                           resets=1)
    values = stats.values(sync, stale_after_s=0.5)
    assert (values['images_received'], values['frames_processed'], values['frames_dropped']) \
        == (4, 3, 2)
    assert values['processed_hz'] > 0 and values['dropped_hz'] > 0
    assert not values['odom_stale'] and not values['image_stale']
    assert values['latency_ms_p50'] == 2.0 and values['time_resets'] == 1
    again = stats.values(sync, stale_after_s=0.5)
    assert again['processed_hz'] == 0.0  # rates count since the previous report
    assert stats.stale('images', 0.5, now=time.monotonic() + 1.0)
