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
"""Model settings derived from the data, the checks before the first epoch, the verdict."""

import numpy as np
import pytest
from test_other_robots import write_robot_bag

from world_model.config import ConfigError, validate
from world_model.data.bag_inspection import inspect_bag, spread
from world_model.data.bag_reader import BagTopics
from world_model.data.bag_writer import BagWriter, image_msg, odometry_msg
from world_model.evaluation.learnability import likely_causes, ratio_interval, verdict
from world_model.models import ModelConfig
from world_model.training.data_checks import check_data, errors
from world_model.training.data_settings import derive_settings, round_up
from world_model.training.train_cmd import prepare_data

SEC = 1_000_000_000


def _levels(findings, topic):
    return {(f.level, f.topic) for f in findings if f.topic == topic}


def test_percentiles_ignore_a_glitch_and_round_up():
    rng = np.random.default_rng(0)
    speeds = rng.uniform(-3.0, 3.0, 5000)
    speeds[7] = 400.0  # one corrupt message
    assert spread(speeds).p99 < 3.0 and spread(speeds).max == 400.0
    assert round_up(3.0 * 1.1) == 3.3 and round_up(0.0312) == 0.032 and round_up(7.01) == 7.1


def test_settings_are_derived_from_a_fast_robot(tmp_path):
    bag = inspect_bag(write_robot_bag(tmp_path / 'bag', v=3.0, w=7.0))
    settings = derive_settings([bag], ModelConfig())
    # p99 x 1.1, rounded up: |v| of the commands 3.00..3.19 (p99 3.19), |omega| 7.0; the
    # commands come at 10 Hz
    assert settings.values == {'v_max': 3.6, 'omega_max': 7.7, 'control_period': 0.1}
    assert set(settings.sources.values()) == {'derived'}
    assert '/cmd_vel' in settings.notes['v_max'] or '/odom' in settings.notes['v_max']
    model = settings.apply(ModelConfig())
    assert (model.v_max, model.omega_max, model.control_period) == (3.6, 7.7, 0.1)
    # what the config sets is kept
    kept = derive_settings([bag], ModelConfig(v_max=5.0, control_period=0.05),
                           explicit={'v_max', 'control_period'})
    assert kept.values['v_max'] == 5.0 and kept.sources['v_max'] == 'config'
    assert kept.values['control_period'] == 0.05 and kept.sources['omega_max'] == 'derived'


def test_control_period_without_commands_or_with_a_slow_camera(tmp_path):
    no_cmd = inspect_bag(write_robot_bag(tmp_path / 'a', cmd=False))
    settings = derive_settings([no_cmd], ModelConfig())
    assert settings.values['control_period'] == 0.1 and settings.sources['control_period'] \
        == 'default'
    slow_camera = inspect_bag(write_robot_bag(tmp_path / 'b', camera_hz=20, cmd_hz=50))
    settings = derive_settings([slow_camera], ModelConfig())
    assert settings.values['control_period'] == 0.05  # one step per camera frame
    assert 'slower' in settings.notes['control_period']


def test_ranges_fit_a_car_and_a_slow_base():
    validate(ModelConfig(v_max=30.0, omega_max=7.0, control_period=0.02))
    validate(ModelConfig(v_max=0.05, omega_max=0.2, control_period=0.5))
    with pytest.raises(ConfigError, match='v_max'):
        validate(ModelConfig(v_max=1000.0))


def test_checks_flag_scales_far_outside_the_data(tmp_path):
    bag = inspect_bag(write_robot_bag(tmp_path / 'bag', v=3.0, w=7.0))
    settings = derive_settings([bag], ModelConfig(), explicit={'v_max', 'omega_max'})
    findings = check_data([bag], settings, BagTopics(), 1_000_000)
    scale = [f for f in findings if 'far outside' in f.message]
    assert {f.topic for f in scale} == {'/cmd_vel', '/odom'} and all(
        f.level == 'warning' and f.bag == bag.path for f in scale)
    assert any('v_max=0.5' in f.message for f in scale)
    assert any('omega_max=1.5' in f.message for f in scale)
    derived = derive_settings([bag], ModelConfig())
    assert not [f for f in check_data([bag], derived, BagTopics(), 1_000_000)
                if 'far outside' in f.message]


def test_checks_flag_a_camera_slower_than_the_control_rate(tmp_path):
    bag = inspect_bag(write_robot_bag(tmp_path / 'bag', camera_hz=20, cmd_hz=10))
    settings = derive_settings([bag], ModelConfig(control_period=0.02),
                               explicit={'control_period'})
    findings = check_data([bag], settings, BagTopics(), 1_000_000)
    (slow,) = [f for f in findings if 'below the control rate' in f.message]
    assert (slow.level, slow.topic) == ('error', '/camera/image_raw')
    assert '20 Hz' in slow.message and '50 Hz' in slow.message


def test_checks_flag_a_control_period_too_short_to_plan_with(tmp_path):
    fast = inspect_bag(write_robot_bag(tmp_path / 'fast', cmd_hz=50))
    settings = derive_settings([fast], ModelConfig())
    assert settings.values['control_period'] == 0.02  # from the 50 Hz commands
    (short,) = [f for f in check_data([fast], settings, BagTopics(), 1_000_000)
                if 'look only' in f.message]
    assert (short.level, short.topic) == ('warning', '/cmd_vel')
    assert '0.2 s ahead' in short.message and '--control-period 0.1' in short.message
    slow = inspect_bag(write_robot_bag(tmp_path / 'slow', cmd_hz=10))
    assert not [f for f in check_data([slow], derive_settings([slow], ModelConfig()),
                                      BagTopics(), 1_000_000) if 'look only' in f.message]


def test_checks_flag_too_few_frames_and_episodes(tmp_path):
    bag = inspect_bag(write_robot_bag(tmp_path / 'bag', seconds=2.0))
    settings = derive_settings([bag], ModelConfig())
    findings = check_data([bag], settings, BagTopics(), 1_700_000)
    messages = [f.message for f in findings if f.level == 'warning']
    assert any('about 20 frames' in m and '1.70M parameters' in m for m in messages)
    assert any('1 episodes (want >= 10)' in m for m in messages)
    assert not errors(findings)


def _write_out_of_order(path):
    with BagWriter(path) as writer:
        for i, k in enumerate([0, 1, 2, 4, 3, 5, 6, 7, 8, 9, 10, 11]):
            stamp = SEC + k * SEC // 10
            log = SEC + i * SEC // 10  # recorded in this order, stamped out of order
            writer.write('/camera/image_raw', image_msg(stamp, np.zeros((4, 4, 3), np.uint8)),
                         log)
            writer.write('/odom', odometry_msg(stamp, (0.0, 0.0, 0.0), (0.0, 0.0)), log)
    return path


def test_checks_flag_stamps_out_of_order_and_a_missing_topic(tmp_path):
    bag = inspect_bag(_write_out_of_order(tmp_path / 'bag'))
    assert bag.camera.out_of_order == 1 and bag.missing == ['cmd_vel']
    findings = check_data([bag], derive_settings([bag], ModelConfig()), BagTopics(), 1000)
    assert ('warning', '/camera/image_raw') in _levels(findings, '/camera/image_raw')
    assert any('earlier than the one before' in f.message for f in findings)
    # no command topic: a warning; no odometry: an error naming the topic and listing others
    assert ('warning', '/cmd_vel') in _levels(findings, '/cmd_vel')
    missing = inspect_bag(_write_out_of_order(tmp_path / 'b2'), BagTopics(odom='/wheel_odom'))
    (error,) = errors(check_data([missing], derive_settings([missing], ModelConfig()),
                                 BagTopics(odom='/wheel_odom'), 1000))
    assert error.topic == '/wheel_odom' and '/odom (nav_msgs/msg/Odometry)' in error.message


def test_training_refuses_bags_that_fail_a_check(tmp_path):
    bag = write_robot_bag(tmp_path / 'bag', camera_hz=20)
    with pytest.raises(ValueError, match='below the control rate'):
        prepare_data([bag], ModelConfig(control_period=0.02), {'control_period'},
                     log=lambda msg: None)
    lines = []
    model, report = prepare_data([bag], ModelConfig(), set(), log=lines.append)
    assert model.control_period == 0.1 and report['sources']['v_max'] == 'derived'
    assert any(line.startswith(f'setting v_max = {model.v_max:g} (derived: p99 |v|')
               for line in lines)


def test_verdict_for_a_model_that_does_not_beat_copy_last():
    rng = np.random.default_rng(3)
    copy = rng.uniform(50, 100, 8)
    found = verdict(copy * rng.uniform(0.95, 1.01, 8), copy, 8,
                    likely_causes({'values': {'v_max': 0.5, 'omega_max': 1.5,
                                              'control_period': 0.1},
                                   'sources': {'v_max': 'config'}},
                                  {'v_max': 3.2, 'omega_max': 1.4}))
    assert not found.learnt and found.episodes == 8
    assert found.low < found.ratio < found.high and found.low > 0.9
    assert 'NOT better than copying the last latent' in found.line
    assert 'action scale v_max=0.5 m/s (config) vs data p99 3.2 m/s' in found.line
    assert '\n' not in found.line
    good = verdict(copy * rng.uniform(0.55, 0.7, 8), copy, 8, ['unused'])
    assert good.learnt and good.high < 0.75 and 'beats' in good.line and not good.causes


def test_ratio_interval_is_seeded_and_covers_the_pooled_ratio():
    rng = np.random.default_rng(5)
    copy = rng.uniform(10, 20, 30)
    model = copy * rng.normal(0.6, 0.1, 30)
    first, second = ratio_interval(model, copy, seed=1), ratio_interval(model, copy, seed=1)
    assert first == second
    ratio, low, high = first
    assert low < ratio < high and abs(ratio - model.sum() / copy.sum()) < 1e-12
    assert np.isnan(ratio_interval(model[:1], copy[:1])[1])  # no interval from one episode


def test_likely_causes_name_collapse_period_and_data_size():
    causes = likely_causes({'values': {'control_period': 0.1}, 'sources': {}},
                           data_period=0.02, frames=500, num_params=1_700_000,
                           effective_rank=1.2, epochs=2)
    assert causes[0].startswith('latent collapse')
    assert any('control period 0.1 s' in c for c in causes)
    assert any('too little data (500 frames' in c for c in causes)
    assert any('short training' in c for c in causes)
    fast = likely_causes({'values': {'control_period': 0.1}}, {'omega_max': 3.0}, steps=228)
    assert any('large motion per step (p99 turn 0.3 rad per 0.1 s step)' in c for c in fast)
    assert any('few optimiser steps (228)' in c for c in fast)
    assert likely_causes()  # always one cause to try


def test_exported_metadata_records_the_settings_and_older_runs_still_export(tmp_path):
    import json

    from world_model.export import metadata as meta

    assert meta.data_settings(tmp_path) is None  # a run from before derived settings
    assert 'data_settings' not in meta.build_metadata(ModelConfig(), commit='x')
    report = {'values': {'v_max': 3.3}, 'sources': {'v_max': 'derived'}, 'notes': {},
              'bags': [{'path': '/somewhere'}]}
    (tmp_path / 'data_settings.json').write_text(json.dumps(report))
    settings = meta.data_settings(tmp_path)
    assert settings == {'values': {'v_max': 3.3}, 'sources': {'v_max': 'derived'}, 'notes': {}}
    built = meta.build_metadata(ModelConfig(v_max=3.3), commit='x', settings=settings)
    assert built['data_settings']['sources']['v_max'] == 'derived'
    assert built['action']['high'][0] == 3.3
