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
"""Checks of the bags against the model settings, before the first epoch.

Each finding names the bag and the topic. 'error' stops training (it cannot give a useful
model), 'warning' is printed loudly and training goes on, 'info' states a convention that was
applied (twist rotated from the odom frame, covariance unused).
"""

import dataclasses

from world_model.planning.planner_config import PlannerConfig

SCALE_FAR = 1.5  # p99 above this many scales: inputs far outside [-1, 1]
SCALE_UNUSED = 0.2  # p99 below this fraction of the scale: most of the range unused
RATE_SLACK = 0.9  # a stream below this fraction of the control rate is too slow
FRAMES_PER_MILLION_PARAMS = 4000  # fewer training frames than this overfit (BENCHMARKS.md)
MIN_EPISODES = 10  # whole episodes are held out; fewer leave a noisy held-out ratio
MAX_STANDSTILL = 0.5
# The planner looks PLANNER_STEPS control periods ahead; below this it cannot see round a bend
# (50 Hz commands derive 0.02 s: 10 steps are 0.2 s; BENCHMARKS.md, the fast car)
MIN_LOOKAHEAD_S = 0.5
PLANNER_STEPS = PlannerConfig().horizon


@dataclasses.dataclass
class Finding:
    level: str  # 'error' | 'warning' | 'info'
    bag: str
    topic: str
    message: str

    def line(self) -> str:
        return f'{self.level}: bag {self.bag}, topic {self.topic}: {self.message}'


def _topics(bag) -> str:
    return ', '.join(f'{t["name"]} ({t["type"]})' for t in bag.topics) or '(none)'


def _presence(bag, topics) -> list:
    out = []
    names = {'camera': topics.image, 'odometry': topics.odom, 'cmd_vel': topics.cmd_vel}
    for role in bag.missing:
        name = names[role]
        wrong = bag.wrong_types.get(name if name.startswith('/') else '/' + name)
        state = f'has type {wrong}' if wrong else 'is missing or empty'
        if role == 'cmd_vel':
            out.append(Finding('warning', bag.path, name, f'{state}: actions are the measured '
                               f'odometry twist, and the control period is not derived from '
                               f'the command rate; topics present: {_topics(bag)}'))
        else:
            out.append(Finding('error', bag.path, name, f'{state} ({role} is required; set '
                               f'its topic name); topics present: {_topics(bag)}'))
    return out


def _timing(bag, period: float, period_source: str) -> list:
    out = []
    for stream in (bag.camera, bag.odometry, bag.commands):
        if stream is None:
            continue
        if stream.out_of_order:
            out.append(Finding('warning', bag.path, stream.topic,
                               f'{stream.out_of_order} stamps are earlier than the one before '
                               f'(recording order): frames are sorted by stamp and the '
                               f'resampling drops late ones; check the publisher clock'))
        if stream.gaps:
            out.append(Finding('warning', bag.path, stream.topic,
                               f'{stream.gaps} stamp gaps longer than 2.5 periods (longest '
                               f'{stream.max_gap_s:.3g} s at {stream.rate_hz:.3g} Hz): windows '
                               f'across them mix unequal steps'))
    control_hz = 1.0 / period
    camera = bag.camera
    if camera is not None and 0 < camera.rate_hz < RATE_SLACK * control_hz:
        level = 'error' if period_source == 'config' else 'warning'
        out.append(Finding(level, bag.path, camera.topic,
                           f'camera at {camera.rate_hz:.3g} Hz is below the control rate '
                           f'{control_hz:.3g} Hz (control_period {period} s, {period_source}): '
                           f'steps would lack frames; raise control_period to at least '
                           f'{camera.median_dt_s:.3g} s'))
    odom = bag.odometry
    if odom is not None and 0 < odom.rate_hz < RATE_SLACK * control_hz:
        out.append(Finding('warning', bag.path, odom.topic,
                           f'odometry at {odom.rate_hz:.3g} Hz is below the control rate '
                           f'{control_hz:.3g} Hz: frames without odometry within '
                           f'max_pair_gap_s are dropped'))
    return out


def _scales(bag, settings) -> list:
    out = []
    pairs = (('v_max', 'm/s', (('cmd_speed', bag.commands), ('odom_speed', bag.odometry))),
             ('omega_max', 'rad/s', (('cmd_turn', bag.commands), ('odom_turn', bag.odometry))))
    for key, unit, streams in pairs:
        scale, source = settings.values[key], settings.sources[key]
        for field, stream in streams:
            spread = getattr(bag, field)
            if spread is None or stream is None:
                continue
            what = ('|v|' if key == 'v_max' else '|omega|')
            if spread.p99 > SCALE_FAR * scale:
                out.append(Finding('warning', bag.path, stream.topic,
                                   f'p99 {what} {spread.p99:.3g} {unit} is '
                                   f'{spread.p99 / scale:.1f}x {key}={scale} ({source}): the '
                                   f'predictor sees inputs far outside [-1, 1]; raise {key} '
                                   f'(or leave it unset to derive it)'))
            elif spread.p99 < SCALE_UNUSED * scale and spread.p99 > 0:
                out.append(Finding('warning', bag.path, stream.topic,
                                   f'p99 {what} {spread.p99:.3g} {unit} uses only '
                                   f'{100 * spread.p99 / scale:.0f}% of {key}={scale} '
                                   f'({source}): lower {key} (or leave it unset)'))
    return out


def _conventions(bag, topics) -> list:
    out = []
    if bag.odometry is None:
        return out
    topic = bag.odometry.topic
    if bag.odom_twist_frame == 'odom':
        if topics.odom_twist_frame == 'body':
            out.append(Finding('warning', bag.path, topic, 'the twist looks expressed in the '
                               'odom frame but odom_twist_frame is body: set it to auto or '
                               'odom'))
        else:
            out.append(Finding('info', bag.path, topic, 'twist expressed in the odom frame '
                               '(header.frame_id): rotated into the body frame'))
    if bag.odom_covariance_zero:
        out.append(Finding('info', bag.path, topic, 'pose and twist covariances are all zero '
                           '(unset): training does not use them'))
    if bag.standstill_fraction is not None and bag.standstill_fraction > MAX_STANDSTILL:
        out.append(Finding('warning', bag.path, topic,
                           f'the robot stands still in {100 * bag.standstill_fraction:.0f}% of '
                           f'the odometry: little motion to learn from'))
    return out


def expected_frames(bag, period: float) -> int:
    """Frames left after resampling the camera onto the control period."""
    if bag.camera is None or bag.camera.count == 0:
        return 0
    keep = min(1.0, bag.camera.median_dt_s / period) if bag.camera.median_dt_s else 1.0
    return int(bag.camera.count * keep)


def check_data(inspections, settings, topics, num_params: int) -> list[Finding]:
    """Findings for the bags (BagInspection) under settings (DataSettings) and BagTopics."""
    period = settings.values['control_period']
    findings = []
    for bag in inspections:
        findings += _presence(bag, topics)
        findings += _timing(bag, period, settings.sources['control_period'])
        findings += _scales(bag, settings)
        findings += _conventions(bag, topics)
    where = inspections[0].path if len(inspections) == 1 else f'{len(inspections)} bags'
    if PLANNER_STEPS * period < MIN_LOOKAHEAD_S:
        findings.append(Finding('warning', where, topics.cmd_vel,
                                f'control_period {period} s ({settings.sources["control_period"]})'
                                f': {PLANNER_STEPS} planner steps look only '
                                f'{PLANNER_STEPS * period:.2g} s ahead and the ratio against '
                                f'copy-last is judged on tiny motions; a longer one (e.g. '
                                f'--control-period 0.1, commands held between steps) looks '
                                f'further, with more motion per step to predict'))
    frames = sum(expected_frames(b, period) for b in inspections)
    episodes = sum(b.episodes for b in inspections)
    needed = int(FRAMES_PER_MILLION_PARAMS * num_params / 1e6)
    if frames < needed:
        findings.append(Finding('warning', where, topics.image,
                                f'about {frames} frames at the control period {period} s for a '
                                f'model of {num_params / 1e6:.2f}M parameters (want >= '
                                f'{needed}): expect overfitting; record more or shrink the '
                                f'model'))
    if episodes < MIN_EPISODES:
        findings.append(Finding('warning', where, topics.episode,
                                f'{episodes} episodes (want >= {MIN_EPISODES}): validation '
                                f'holds out whole episodes, so its ratio will be noisy'))
    return findings


def errors(findings) -> list:
    return [f for f in findings if f.level == 'error']
