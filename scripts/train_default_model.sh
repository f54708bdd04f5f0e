#!/usr/bin/env bash
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
#
# Re-create the shipped default model (`make default-model`):
#   1. collect seeded simulator bags (open + two_rooms, with and without distractors) into data/,
#   2. train into runs/default (ModelConfig / TrainConfig defaults are the default recipe),
#   3. export to models/default/,
#   4. refit the relative-pose head on the training bags plus 4 x 135 more episodes
#      (`jepa-agent refit-relpose`: encoder and predictor unchanged; BENCHMARKS.md 'Relative-pose
#      head: sideways pairs'),
#   5. evaluate on held-out episodes of a NEW seed into models/default/report.json.
# Bags that already exist are reused; an existing run is resumed (RESUME=1) or refused.
# Overrides: EPISODES (per setting), EVAL_EPISODES, SEED, EVAL_SEED, EPOCHS, DATA, RUN, MODEL,
# PAUSE_PROB, REFIT_EPISODES (per setting, 0 = no refit), COLLECT_ONLY=1 (stop after the bags).
# PAUSE_PROB 0.02 makes ~12.6% of the commands standstills (measured over 40 seeds x 200 steps
# of ExplorationPolicy; 0.01 -> 7%, 0.03 -> 19%): a zero command must predict no motion.
set -euo pipefail
cd "$(dirname "$0")/.."

JEPA=${JEPA:-.venv/bin/jepa-agent}
DATA=${DATA:-data/default}
RUN=${RUN:-runs/default}
MODEL=${MODEL:-models/default}
EPISODES=${EPISODES:-45}
EVAL_EPISODES=${EVAL_EPISODES:-6}
STEPS=${STEPS:-200}
SEED=${SEED:-1}
EVAL_SEED=${EVAL_SEED:-9001}
PAUSE_PROB=${PAUSE_PROB:-0.02}
REFIT_EPISODES=${REFIT_EPISODES:-135}

collect() {  # collect NAME SEED ARGS...: one bag, skipped when it exists already
    local name=$1 seed=$2
    shift 2
    if [ -d "$DATA/$name" ]; then
        echo "reusing $DATA/$name"
        return
    fi
    "$JEPA" collect --no-progress --steps "$STEPS" --seed "$seed" --pause-prob "$PAUSE_PROB" \
        --out "$DATA/$name" "$@"
}

mkdir -p "$DATA"
started=$(date +%s)
collect train_open "$SEED" --episodes "$EPISODES" --layout open
collect train_open_distractors "$((SEED + 1))" --episodes "$EPISODES" --layout open --distractors
collect train_two_rooms "$((SEED + 2))" --episodes "$EPISODES" --layout two_rooms
collect train_two_rooms_distractors "$((SEED + 3))" --episodes "$EPISODES" --layout two_rooms \
    --distractors
collect eval_open "$EVAL_SEED" --episodes "$EVAL_EPISODES" --layout open
collect eval_open_distractors "$((EVAL_SEED + 1))" --episodes "$EVAL_EPISODES" --layout open \
    --distractors
collect eval_two_rooms "$((EVAL_SEED + 2))" --episodes "$EVAL_EPISODES" --layout two_rooms
collect eval_two_rooms_distractors "$((EVAL_SEED + 3))" --episodes "$EVAL_EPISODES" \
    --layout two_rooms --distractors
if [ "$REFIT_EPISODES" -gt 0 ]; then
    collect refit_open "$((SEED + 100))" --episodes "$REFIT_EPISODES" --layout open
    collect refit_open_distractors "$((SEED + 101))" --episodes "$REFIT_EPISODES" --layout open \
        --distractors
    collect refit_two_rooms "$((SEED + 102))" --episodes "$REFIT_EPISODES" --layout two_rooms
    collect refit_two_rooms_distractors "$((SEED + 103))" --episodes "$REFIT_EPISODES" \
        --layout two_rooms --distractors
fi
collected=$(date +%s)
echo "collection took $((collected - started)) s"
if [ "${COLLECT_ONLY:-0}" = 1 ]; then
    exit 0
fi

train_args=(--data "$DATA"/train_* --out "$RUN" --seed 0)
if [ -n "${EPOCHS:-}" ]; then
    train_args+=(--epochs "$EPOCHS")
fi
if [ -f "$RUN/checkpoint.safetensors" ]; then
    if [ "${RESUME:-0}" != 1 ]; then
        echo "$RUN already holds a checkpoint: RESUME=1 continues it, or remove it first" >&2
        exit 1
    fi
    train_args+=(--resume)
fi
"$JEPA" train "${train_args[@]}"
trained=$(date +%s)
echo "training took $((trained - collected)) s (see $RUN/metrics.csv)"

"$JEPA" export --int8 --run "$RUN" --out "$MODEL"
if [ "$REFIT_EPISODES" -gt 0 ]; then
    "$JEPA" refit-relpose --model "$MODEL" --data "$DATA"/train_* "$DATA"/refit_* --out "$MODEL"
fi
"$JEPA" evaluate --model "$MODEL" --data "$DATA"/eval_* --report "$MODEL/report.json"
echo "default model in $MODEL (collect $((collected - started)) s, train $((trained - collected)) s," \
    "total $(($(date +%s) - started)) s)"
