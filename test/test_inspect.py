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
"""`jepa-agent inspect`: what a bag holds and what training would do with it."""

import json

from test_other_robots import write_robot_bag
import yaml

from agent_node.cli import main as cli_main


def test_inspect_text_reports_rates_images_motion_and_settings(tmp_path, capsys):
    bag = write_robot_bag(tmp_path / 'bag', seconds=2.0, v=3.0, w=7.0, child='chassis')
    assert cli_main(['inspect', str(bag)]) == 0
    out = capsys.readouterr().out
    for text in ('/camera/image_raw', 'sensor_msgs/msg/Image', '100 msgs',
                 'camera /camera/image_raw: 50 Hz', 'images 8x6 (100); encoding rgb8 (100)',
                 'odometry /odom: 50 Hz', 'child frames chassis', 'twist frame body',
                 'covariance all zero', 'commands /cmd_vel: 10 Hz', 'p99 7 max 7 rad/s',
                 'standstill 0%', 'ground truth: absent', 'v_max = 3.6 (derived',
                 'omega_max = 7.7 (derived', 'control_period = 0.1 (derived',
                 '20 frames at the control period (of 100 camera frames)',
                 'warning: bag', '1 episodes (want >= 10)'):
        assert text in out, text


def test_inspect_json_and_a_config_that_overrides(tmp_path, capsys):
    bag = write_robot_bag(tmp_path / 'bag', seconds=2.0, v=3.0, w=7.0)
    config = tmp_path / 'c.yaml'
    config.write_text(yaml.safe_dump({'model': {'v_max': 0.5}}))
    assert cli_main(['inspect', str(bag), '--json', '--config', str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    (info,) = report['bags']
    assert info['camera']['rate_hz'] == 50.0 and info['commands']['rate_hz'] == 10.0
    assert info['cmd_speed']['p99'] > 3.0 and info['standstill_fraction'] == 0.0
    assert info['ground_truth'] is False and info['image_sizes'] == {'8x6': 100}
    assert report['settings']['sources'] == {'v_max': 'config', 'omega_max': 'derived',
                                             'control_period': 'derived'}
    assert report['settings']['values']['v_max'] == 0.5
    assert any('far outside' in f['message'] and f['topic'] == '/cmd_vel'
               for f in report['findings'])


def test_inspect_fails_for_a_bag_training_would_refuse(tmp_path, capsys):
    bag = write_robot_bag(tmp_path / 'bag', seconds=2.0, camera_hz=20)
    config = tmp_path / 'c.yaml'
    config.write_text(yaml.safe_dump({'model': {'control_period': 0.02}}))
    assert cli_main(['inspect', str(bag), '--config', str(config)]) == 1
    assert 'error: bag' in capsys.readouterr().out
    assert cli_main(['inspect', str(tmp_path / 'nope')]) == 2
    assert 'does not exist' in capsys.readouterr().err


def test_inspect_compressed_images_and_an_odom_frame_twist(tmp_path, capsys):
    import numpy as np

    from world_model.data.bag_inspection import inspect_bag
    from world_model.data.bag_reader import BagTopics
    from world_model.data.bag_writer import BagWriter, compressed_image_msg, odometry_msg
    from world_model.data.image_codec import encode_compressed

    sec = 1_000_000_000
    with BagWriter(tmp_path / 'bag') as writer:
        for i in range(60):
            stamp = sec + i * sec // 20
            yaw = 0.05 * i
            image = np.full((12, 16, 3), i, np.uint8)
            writer.write('/camera/image_raw',
                         compressed_image_msg(stamp, encode_compressed(image), 'png'), stamp)
            x, y = np.sin(yaw), 1 - np.cos(yaw)  # 1 m/s, 1 rad/s: a 1 m circle
            msg = odometry_msg(stamp, (x, y, yaw), (0.0, 1.0), child_frame_id='base_footprint')
            msg.twist.twist.linear.x, msg.twist.twist.linear.y = np.cos(yaw), np.sin(yaw)
            writer.write('/odom', msg, stamp)
    bag = inspect_bag(tmp_path / 'bag')
    assert bag.image_sizes == {'16x12': 1} and bag.image_encodings == {'compressed png': 60}
    assert bag.odom_twist_frame == 'odom' and bag.odom_child_frames == {'base_footprint': 60}
    assert abs(bag.odom_speed.p50 - 1.0) < 1e-6  # rotated into the body frame
    as_body = inspect_bag(tmp_path / 'bag', BagTopics(odom_twist_frame='body'))
    assert abs(as_body.odom_speed.p50 - 1.0) > 0.1  # forced: read as is
    assert cli_main(['inspect', str(tmp_path / 'bag'), '--odom-twist-frame', 'body']) == 0
    assert 'the twist looks expressed in the odom frame but odom_twist_frame is body' in \
        capsys.readouterr().out
    assert bag.camera.rate_hz == 20.0 and bag.missing == ['cmd_vel']


def test_inspect_says_what_simulator_truth_in_a_bag_is_used_for(tmp_path, capsys):
    bag = tmp_path / 'sim'
    assert cli_main(['collect', '--no-progress', '--episodes', '1', '--steps', '12',
                     '--seed', '5', '--out', str(bag)]) == 0
    capsys.readouterr()
    assert cli_main(['inspect', str(bag)]) == 0
    out = capsys.readouterr().out
    assert 'ground truth: present (simulator truth: evaluate scores rollouts with it' in out


def test_a_robot_s_own_topic_names_are_flags_of_inspect_train_and_evaluate(tmp_path, capsys):
    names = ('/camera/color/image_raw', '/wheel/odometry', '/base/cmd_vel')
    bag = write_robot_bag(tmp_path / 'bag', seconds=2.0, names=names)
    assert cli_main(['inspect', str(bag)]) == 1  # the default topics are missing: an error
    assert 'missing' in capsys.readouterr().out
    flags = ['--camera-topic', names[0], '--odom-topic', names[1], '--cmd-vel-topic', names[2]]
    assert cli_main(['inspect', str(bag), '--json', *flags]) == 0
    info = json.loads(capsys.readouterr().out)['bags'][0]
    assert info['camera']['topic'] == names[0] and info['commands']['rate_hz'] > 9
    for verb in ('train', 'evaluate'):
        parser_args = {'train': ['--data', 'B', '--out', 'R'],
                       'evaluate': ['--model', 'M', '--data', 'B', '--report', 'r.json']}[verb]
        from agent_node.cli import build_parser

        args = build_parser(verb).parse_args([verb, *parser_args, *flags])
        from world_model.data.topic_arguments import topics_from_args

        topics = topics_from_args(args)
        assert (topics.image, topics.odom, topics.cmd_vel) == names
