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
"""TrainConfig: every knob of a training run (mirrored by `jepa-agent train --config YAML`)."""

import dataclasses

from world_model.config import param
from world_model.data.relpose_pairs import SIDEWAYS_BOOST

ANTI_COLLAPSE = ('sigreg', 'vicreg_idm', 'ema')


@dataclasses.dataclass
class TrainConfig:
    """Optimisation, objective, data split and collapse-monitor settings."""

    epochs: int = param(16, lo=1, hi=10000, help='passes over the training windows')
    batch_size: int = param(32, lo=1, hi=4096,
                            help='windows per optimiser step (per process under DDP)')
    lr: float = param(1e-3, lo=1e-6, hi=1.0, help='peak AdamW learning rate')
    min_lr_ratio: float = param(0.05, lo=0.0, hi=1.0,
                                help='final learning rate as a fraction of lr (cosine decay)')
    warmup_steps: int = param(100, lo=0, hi=100000,
                              help='linear learning-rate warm-up steps (at most a tenth of the '
                                   'run)')
    weight_decay: float = param(0.01, lo=0.0, hi=1.0, help='AdamW weight decay')
    grad_clip: float = param(1.0, lo=0.0, hi=1000.0, help='gradient norm clip, 0 = off')
    rollout_steps: int = param(8, lo=2, hi=32,
                               help='autoregressive steps of the rollout loss (window length '
                                    '= history_length + rollout_steps)')
    window_stride: int = param(0, lo=0, hi=1000,
                               help='frames between window starts within an epoch; 0 = window '
                                    'length (each frame encoded about once per epoch)')
    teacher_forcing_weight: float = param(1.0, lo=0.0, hi=100.0,
                                          help='weight of the one-step (teacher-forced) loss')
    rollout_weight: float = param(1.0, lo=0.0, hi=100.0,
                                  help='weight of the multi-step rollout loss')
    anti_collapse: str = param('sigreg', choices=ANTI_COLLAPSE,
                               help='sigreg (LeJEPA), vicreg_idm (VICReg + inverse dynamics, '
                                    'PLDM) or ema (EMA target encoder + stop-gradient, V-JEPA)')
    sigreg_weight: float = param(0.02, lo=0.0, hi=100.0, help='weight of SIGReg')
    sigreg_projections: int = param(256, lo=1, hi=4096,
                                    help='random 1-D projections per SIGReg evaluation')
    sigreg_knots: int = param(17, lo=3, hi=257, help='integration knots of the Epps-Pulley test')
    vicreg_std_weight: float = param(1.0, lo=0.0, hi=100.0, help='VICReg variance hinge weight')
    vicreg_cov_weight: float = param(0.04, lo=0.0, hi=100.0, help='VICReg covariance weight')
    idm_weight: float = param(1.0, lo=0.0, hi=100.0, help='inverse-dynamics loss weight')
    ema_momentum: float = param(0.99, lo=0.0, hi=1.0,
                                help='EMA target encoder momentum (ema only)')
    probe_weight: float = param(1.0, lo=0.0, hi=100.0,
                                help='weight of the probe losses (probes see detached latents)')
    encoder_relpose_pairs: int = param(0, lo=0, hi=4096,
                                       help='frame pairs of one episode per step (drawn as the '
                                            'probe refit draws them: mostly near, sideways '
                                            'oversampled) whose relative-pose loss also trains '
                                            'the encoder; 0: the head alone, on detached '
                                            'latents. Measured at 64: no better (BENCHMARKS)')
    encoder_relpose_weight: float = param(1.0, lo=0.0, hi=100.0,
                                          help='weight of that loss (encoder_relpose_pairs)')
    probe_refit_epochs: int = param(30, lo=0, hi=1000,
                                    help='after the last epoch, refit the probes this many '
                                         'epochs on the frozen latents (0 = off)')
    relpose_sideways_boost: float = param(SIDEWAYS_BOOST, lo=1.0, hi=1000.0,
                                          help='the probe refit keeps pairs of views side by '
                                               'side at a similar heading this many times more '
                                               'often (data.relpose_pairs; 1 = the plain draw)')
    val_fraction: float = param(0.1, lo=0.0, hi=0.9,
                                help='fraction of whole episodes held out for validation')
    val_horizon: int = param(8, lo=1, hi=64, help='rollout steps of the validation metrics')
    val_max_windows: int = param(2000, lo=10, hi=1000000,
                                 help='validation rollout windows (evenly spaced)')
    max_val_frames: int = param(20000, lo=100, hi=10000000,
                                help='cap on validation frames encoded per evaluation')
    min_embedding_std: float = param(1e-3, lo=0.0, hi=10.0,
                                     help='collapse if the mean per-dimension std of validation '
                                          'latents falls below this')
    min_effective_rank: float = param(2.0, lo=0.0, hi=4096.0,
                                      help='collapse if the effective rank of validation '
                                           'latents falls below this')
    collapse_check: bool = param(True, help='raise CollapseError when the thresholds are crossed')
    threads: int = param(0, lo=0, hi=256, help='torch CPU threads per process, 0 = default')
    seed: int = param(0, lo=0, hi=2**31 - 1, help='seed of the split, init and sampling')
