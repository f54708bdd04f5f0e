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
"""CommandLatency: which camera frame a velocity command answers first."""

from world_model.evaluation.command_latency import CommandLatency


def test_a_command_answers_the_newest_frame_sent_before_it_once():
    answers = CommandLatency()
    answers.frame(100, 'a')
    answers.frame(200, 'b')
    assert answers.command(250) == (200, 'b')
    assert answers.command(260) is None  # a second command for the same frame
    answers.frame(300, 'c')
    assert answers.command(310) == (300, 'c')


def test_a_command_sent_before_any_frame_answers_none():
    answers = CommandLatency()
    assert answers.command(50) is None
    answers.frame(100)
    assert answers.command(100) is None  # sent together with the frame: not after it
    assert answers.command(101) == (100, None)


def test_a_frame_skipped_by_the_planner_is_not_answered_later():
    # frames 1 and 2 arrive before the command: it answers the newest, frame 1 never
    answers = CommandLatency()
    answers.frame(100, 1)
    answers.frame(200, 2)
    assert answers.command(210) == (200, 2)
    answers.frame(300, 3)
    assert answers.command(290) is None  # sent before frame 3: frame 2 was answered already


def test_only_the_newest_frames_are_kept():
    answers = CommandLatency(keep=2)
    for t in (100, 200, 300):
        answers.frame(t)
    assert answers.command(150) is None  # frame 100 was dropped
    assert answers.command(250) == (200, None)
