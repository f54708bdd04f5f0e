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
"""`jepa-agent collect` writes a rosbag2 bag that the bag reader turns back into the episodes."""

import numpy as np

from agent_node.cli import main as cli_main
from world_model.data.bag_reader import read_bag
from world_model.envs import SimConfig, generate_episodes


def test_collect_bag_reads_back_to_the_simulated_episodes(tmp_path, capsys):
    out = tmp_path / 'bag'
    argv = ['collect', '--episodes', '2', '--steps', '10', '--seed', '3', '--layout',
            'two_rooms', '--image-size', '32', '--out', str(out), '--no-progress']
    assert cli_main(argv) == 0
    assert 'wrote 2 episodes' in capsys.readouterr().out
    assert list(out.glob('*.mcap'))

    episodes = read_bag(out, read_ground_truth=True)
    expected = generate_episodes(2, 10, seed=3, layout='two_rooms',
                                 sim_config=SimConfig(layout='two_rooms', image_width=32,
                                                      image_height=32))
    assert [len(e) for e in episodes] == [10, 10]
    for got, want in zip(episodes, expected):
        np.testing.assert_array_equal(got.images, want.images)
        np.testing.assert_array_equal(got.stamps_ns, want.stamps_ns)
        np.testing.assert_allclose(got.odom_pose, want.odom_pose, atol=1e-5)
        np.testing.assert_allclose(got.odom_twist, want.odom_twist, atol=1e-5)
        np.testing.assert_allclose(got.ground_truth, want.ground_truth, atol=1e-5)
        np.testing.assert_allclose(got.actions, want.actions, atol=1e-5)
    stamps = np.concatenate([e.stamps_ns for e in episodes])
    assert np.all(np.diff(stamps) > 0)  # the second episode continues the clock

    # The bag is never overwritten; bad arguments are named.
    assert cli_main(argv) == 2
    assert 'exists' in capsys.readouterr().err
    assert cli_main(['collect', '--out', str(tmp_path / 'b2'), '--image-size', '4']) == 2
    assert "'image_width'" in capsys.readouterr().err
    assert cli_main(['collect', '--out', str(tmp_path / 'b3'), '--pause-prob', '2']) == 2
    assert '--pause-prob must be in [0, 1]' in capsys.readouterr().err
