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
"""StampSynchronizer: approximate-time image/odometry pairing that keeps only the latest pair."""

import threading

import pytest

from world_model.sync import StampSynchronizer

MS = 1_000_000


def test_pairs_nearest_odometry_and_pops_once():
    sync = StampSynchronizer(tolerance_s=0.01, queue_size=20)
    for i in range(10):  # odometry at 50 Hz: 0, 20, ..., 180 ms
        sync.add_odom(i * 20 * MS, f'odom{i}')
    sync.add_image(47 * MS, 'img')  # nearest odometry: 40 ms (7 ms away), 60 ms is 13 ms away
    pair = sync.pop()
    assert pair.image == 'img' and pair.odom == 'odom2' and pair.gap_ns == 7 * MS
    assert sync.pop() is None  # consumed
    assert sync.latest_pair() == pair  # still visible for peeking
    assert sync.stats.pairs == 1 and sync.stats.consumed == 1


def test_only_the_latest_pair_is_kept():
    sync = StampSynchronizer(tolerance_s=0.005)
    for i in range(3):
        sync.add_odom(i * 100 * MS, i)
        sync.add_image(i * 100 * MS + MS, f'img{i}')
    pair = sync.pop()
    assert (pair.image, pair.odom) == ('img2', 2)
    assert sync.stats.superseded == 2 and sync.stats.pairs == 3


def test_image_before_its_odometry_then_refined():
    sync = StampSynchronizer(tolerance_s=0.02)
    sync.add_image(100 * MS, 'img')
    assert sync.pop() is None and sync.pending_images() == 1  # waits for odometry
    sync.add_odom(90 * MS, 'early')  # within tolerance: eager pair
    assert sync.latest_pair().odom == 'early'
    sync.add_odom(101 * MS, 'closer')  # arrives later but is nearer: the unconsumed pair improves
    sync.add_odom(115 * MS, 'later')  # farther: no change
    pair = sync.pop()
    assert pair.odom == 'closer' and pair.odom_stamp_ns == 101 * MS
    sync.add_odom(200 * MS, 'x')  # after pop, a pair is never rewritten
    assert sync.latest_pair().odom == 'closer'


def test_image_without_odometry_in_tolerance_is_dropped_and_counted():
    sync = StampSynchronizer(tolerance_s=0.02)
    sync.add_odom(0, 'a')
    sync.add_image(100 * MS, 'lonely')  # odometry gap: 0 ms then 200 ms
    assert sync.pending_images() == 1
    sync.add_odom(200 * MS, 'b')
    assert sync.pending_images() == 0 and sync.stats.unmatched_images == 1
    assert sync.pop() is None


def test_older_pending_images_are_skipped_for_a_newer_pair():
    sync = StampSynchronizer(tolerance_s=0.01)
    for i in range(3):
        sync.add_image((10 + i) * 100 * MS, f'img{i}')
    sync.add_odom(1200 * MS, 'o')  # only the newest image pairs; the older two cannot anymore
    assert sync.pop().image == 'img2'
    assert sync.stats.skipped_images + sync.stats.unmatched_images == 2


def test_backwards_stamps_rejected_large_jump_resets():
    resets = []
    sync = StampSynchronizer(tolerance_s=0.01, reset_jump_s=1.0,
                             on_reset=lambda stream, old, new: resets.append((stream, old, new)))
    sync.add_odom(5000 * MS, 'o1')
    sync.add_image(5000 * MS, 'i1')
    assert sync.pop().image == 'i1'
    assert not sync.add_image(4900 * MS, 'late')  # 0.1 s back: out of order, rejected
    assert not sync.add_odom(4999 * MS, 'late')
    assert sync.stats.backwards == 2
    sync.add_image(5100 * MS, 'pending')
    assert sync.add_odom(10 * MS, 'after reset')  # 5 s back: simulator reset
    assert resets == [('odom', 5000 * MS, 10 * MS)] and sync.stats.resets == 1
    assert sync.pending_images() == 0 and sync.latest_pair() is None
    assert sync.add_image(12 * MS, 'new')  # the image stream restarts too
    assert sync.pop().odom == 'after reset'


def test_queue_overflow_counted():
    sync = StampSynchronizer(tolerance_s=0.001, queue_size=3)
    for i in range(5):
        sync.add_image(i * MS * 100, i)
    assert sync.pending_images() == 3 and sync.stats.overflow == 2


def test_zero_tolerance_pairs_exact_stamps_only():
    sync = StampSynchronizer(tolerance_s=0.0)
    sync.add_odom(10, 'o')
    sync.add_image(11, 'i')
    assert sync.pop() is None
    sync.add_image(12, 'j')
    sync.add_odom(12, 'p')
    assert sync.pop() == (12, 'j', 12, 'p')


def test_bad_arguments():
    with pytest.raises(ValueError, match='tolerance_s'):
        StampSynchronizer(tolerance_s=-1)
    with pytest.raises(ValueError, match='queue_size'):
        StampSynchronizer(queue_size=0)


def test_concurrent_callbacks_give_consistent_pairs():
    sync = StampSynchronizer(tolerance_s=0.004, queue_size=50)
    gaps = []

    def odom():
        for i in range(2000):
            sync.add_odom(i * 2 * MS, i)

    def images():
        for i in range(400):
            sync.add_image(i * 10 * MS + MS, i)
            pair = sync.pop()
            if pair is not None:
                gaps.append(pair.gap_ns)

    threads = [threading.Thread(target=odom), threading.Thread(target=images)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gaps and max(gaps) <= 4 * MS
    s = sync.stats
    assert s.pairs == s.consumed + s.superseded + (1 if sync.pop() else 0)
