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
"""The mapping drive's heading drift, measured on its own revisits and taken out of its map.

A gyro's bias, or a base's uneven wheels, turn the odometry's heading at a rate that holds for
minutes, so the map a drive records bends: a place revisited dt seconds later is seen turned by
rate * dt. A closure is a keyframe latent-near one of the same session recorded at least
min_gap_s earlier, whose relative pose the head gives within the map's sigma limits; its
discrepancy is the odometry's heading change between the two minus the head's. A robust
(Tukey) line through the origin, discrepancy = rate * dt, over every closure gives the rate;
views matched wrongly (a divider seen from either room) fall outside the inlier band. The
corrected drive re-integrates the keyframes' odometry increments with the rate taken out.

Only the anchor session (the map frame) is corrected: later sessions join it by place
recognition and follow it by refinement. No ground truth: odometry, stamps and the head only.
"""

import dataclasses

import numpy as np

from world_model import geometry

_EMPTY = (np.zeros(0), np.zeros(0))


@dataclasses.dataclass(frozen=True)
class DriftFit:
    rate: float  # rad/s the odometry's heading gains on the truth
    std: float  # rad/s
    inliers: int
    closures: int


def fit_rate(dt, discrepancy, inlier_rad: float, iterations: int = 20) -> DriftFit | None:
    """Tukey-weighted least squares of discrepancy = rate * dt (dt > 0); None without inliers.

    The discrepancies are angles: rate * dt may exceed pi on a long drive, so each iteration
    unwraps them around the current line. The start is the median slope of the revisits closest
    in time (the least wrapped); the others join as the rate firms up.
    """
    dt, e = np.asarray(dt, np.float64), geometry.wrap_angle(np.asarray(discrepancy, np.float64))
    if len(dt) == 0:
        return None
    short = dt <= np.sort(dt)[min(len(dt) - 1, max(9, len(dt) // 20))]  # the closest 5%
    rate = float(np.median(e[short] / dt[short]))  # robust: wrong matches are not the majority
    w = np.zeros_like(dt)
    for _ in range(iterations):
        r = geometry.wrap_angle(e - rate * dt)
        w = np.where(np.abs(r) < inlier_rad, (1.0 - (r / inlier_rad) ** 2) ** 2, 0.0)
        if not w.any():
            return None
        unwrapped = rate * dt + r
        rate = float((w * unwrapped * dt).sum() / (w * dt * dt).sum())
    inl = w > 0
    resid = geometry.wrap_angle(e[inl] - rate * dt[inl])
    sigma = float(np.sqrt((resid ** 2).sum() / max(1, inl.sum() - 1)))
    return DriftFit(rate, sigma / float(np.sqrt((dt[inl] ** 2).sum())), int(inl.sum()), len(dt))


def corrected(stamps_s, odom, rate: float, first=None) -> np.ndarray:
    """Poses [N, 3] (time order) re-integrated with the heading drift rate taken out.

    first: the first pose's corrected value (default its odometry: the drive's first pose,
    whose heading had no time to drift; after the drive's start was evicted, its last
    corrected pose). Each increment turns by the heading error at its midpoint.
    """
    t, odom = np.asarray(stamps_s, np.float64), np.asarray(odom, np.float64).reshape(-1, 3)
    out = odom.copy()
    if first is not None:
        out[0] = first
    if len(t) < 2:
        return out
    offset = geometry.wrap_angle(out[0, 2] - odom[0, 2])
    turn = offset - rate * (0.5 * (t[1:] + t[:-1]) - t[0])
    c, s = np.cos(turn), np.sin(turn)
    d = np.diff(odom[:, :2], axis=0)
    out[1:, 0] = out[0, 0] + np.cumsum(c * d[:, 0] - s * d[:, 1])
    out[1:, 1] = out[0, 1] + np.cumsum(s * d[:, 0] + c * d[:, 1])
    out[1:, 2] = geometry.wrap_angle(odom[1:, 2] + offset - rate * (t[1:] - t[0]))
    return out


class AnchorDrift:
    """Closures of the anchor session, the fit over them, and the corrected keyframe poses.

    keyframe() after each anchor keyframe (collect; refit every refit_every and re-integrate the
    drive, else place the new keyframe from the one before); rebuild() after loading a map.
    kf: MapKeyframes; ask: LatentMap._ask (sigma filter).
    """

    def __init__(self, config):
        self.config = config  # MapConfig
        self._reset(None)

    def _reset(self, sid):
        self.session = sid
        self.fit: DriftFit | None = None  # the fit in use (None: no correction)
        self.live = None  # map_T_odom of the anchor's own odometry while it is the session
        self._dt, self._disc = [], []
        self._new = 0
        self._applied = False  # the map holds a correction (to undo if the fit loses it)
        self._last = None  # id of the anchor's latest keyframe, placed with the fit in use

    @property
    def enabled(self) -> bool:
        return self.config.drift_correction

    def keyframe(self, kf, slot: int, sid: int, ask):
        """After an anchor keyframe; the anchor's new session pose when its start moved (an
        eviction: the first kept keyframe holds the correction), else None."""
        if not self.enabled:
            return None
        if sid != self.session:
            self._reset(sid)
        dt, disc = self._closures(kf, slot, ask)
        self._dt.append(dt)
        self._disc.append(disc)
        self._new += 1
        previous, self._last = self._last, int(kf.ids[slot])
        refit = self._new >= self.config.drift_refit_every
        if refit:
            self._new = 0
            self._refit()
        if self.fit is None and not self._applied:
            return None
        if refit or previous not in kf.slot:  # a new rate, or the keyframe before was evicted
            return self.apply(kf)
        self._place(kf, kf.slot[previous], slot)
        return None

    def rebuild(self, kf, sid, ask):
        """Every closure of a loaded anchor session, then the fit (the same as when it was
        recorded: the head is deterministic)."""
        self._reset(sid)
        if not self.enabled or sid is None:
            return
        for slot in self._slots(kf):
            dt, disc = self._closures(kf, slot, ask)
            self._dt.append(dt)
            self._disc.append(disc)
        self._refit()
        if self.fit is not None:
            self.apply(kf)

    def _place(self, kf, before: int, slot: int):
        # the new keyframe from the one before, as apply() would put it: O(1) per keyframe
        pair = [before, slot]
        kf.mapp[slot] = corrected(kf.stamp[pair], kf.odom[pair], self.fit.rate,
                                  kf.mapp[before])[1]
        self.live = geometry.compose(kf.mapp[slot], geometry.invert(kf.odom[slot]))

    def _slots(self, kf) -> np.ndarray:
        slots = np.flatnonzero(kf.sess[:kf.n] == self.session)
        return slots[np.argsort(kf.stamp[slots], kind='stable')]

    def _closures(self, kf, j: int, ask):
        cfg, n = self.config, kf.n
        older = (kf.sess[:n] == kf.sess[j]) & (kf.stamp[:n] <= kf.stamp[j] - cfg.drift_min_gap_s)
        k = min(cfg.drift_closures_per_keyframe, int(older.sum()))
        if k == 0:
            return _EMPTY
        d2 = kf.sq[:n] - 2.0 * (kf.lat[:n] @ kf.lat[j])
        d2[~older] = np.inf
        idx = np.argpartition(d2, k - 1)[:k]
        rel, _, ok, _ = ask(kf.lat[idx], np.broadcast_to(kf.lat[j], (k, kf.dim)))
        i = idx[ok]
        odom_turn = geometry.wrap_angle(kf.odom[j, 2] - kf.odom[i, 2])
        return kf.stamp[j] - kf.stamp[i], geometry.wrap_angle(odom_turn - rel[:, 2])

    def _refit(self):
        cfg = self.config
        fit = fit_rate(np.concatenate(self._dt), np.concatenate(self._disc),
                       cfg.drift_inlier_rad) if self._dt else None
        if fit is None or fit.inliers < cfg.drift_min_closures:
            return  # too few revisits yet: keep what there is
        # a rate within twice its std of zero is no evidence of drift: leave the map as driven
        significant = abs(fit.rate) >= 2.0 * fit.std and abs(fit.rate) <= cfg.drift_max_rate
        self.fit = fit if significant else None

    def apply(self, kf):
        """The anchor keyframes' map poses from the corrected drive (its frame is the map's),
        from the first kept keyframe's current map pose; the session pose that puts it there
        (kept by LatentMap so that a reopened map starts from it), or None."""
        slots = self._slots(kf)
        if len(slots) == 0:
            return None
        first = slots[0]
        rate = 0.0 if self.fit is None else self.fit.rate  # None: back to the drive as driven
        self._applied = self.fit is not None
        poses = corrected(kf.stamp[slots], kf.odom[slots], rate, kf.mapp[first])
        kf.mapp[slots] = poses
        self.live = geometry.compose(poses[-1], geometry.invert(kf.odom[slots[-1]]))
        return geometry.compose(poses[0], geometry.invert(kf.odom[first]))

    def stats(self) -> dict:
        fit = self.fit
        return {'heading_drift_rate': None if fit is None else fit.rate,
                'heading_drift_std': None if fit is None else fit.std,
                'heading_drift_inliers': 0 if fit is None else fit.inliers,
                'heading_drift_closures': int(sum(len(d) for d in self._dt))}
