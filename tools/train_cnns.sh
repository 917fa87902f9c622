#!/usr/bin/env bash
# Train the deep branch's networks one after another, by their recipes, resuming where an earlier run stopped.
#
#   nohup nice -n 10 bash tools/train_cnns.sh [ARCH ...] &
#
# Checkpoints go to $FER_CLASSIC_CACHE/checkpoints/<arch> (default ~/.cache/fer_classic), one log per network
# to $FER_CLASSIC_CACHE/logs/<arch>.log. A network that learned is saved to models/<arch>.npz; one that did
# not is saved beside its checkpoints instead (`fer-classic train` checks). Run it again after an interruption: finished networks
# are skipped and an unfinished one resumes from its last epoch.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${FER_CLASSIC_CACHE:-$HOME/.cache/fer_classic}"
FER_CLASSIC="${FER_CLASSIC:-.venv/bin/fer-classic}"
mkdir -p "$CACHE/logs"
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(fer-cnn mobilenetv2 resnet50 vgg19)
for name in "${names[@]}"; do
  checkpoints="$CACHE/checkpoints/$name"
  if [[ -f "$checkpoints/finished" ]]; then
    echo "$name: finished earlier ($checkpoints/finished)"
    continue
  fi
  resume=()
  [[ -f "$checkpoints/state.json" ]] && resume=(--resume)
  echo "$name: training ${resume[*]:-from scratch}, log in $CACHE/logs/$name.log"
  "$FER_CLASSIC" train --method "cnn/$name" --out "models/$name.npz" --checkpoint-dir "$checkpoints" "${resume[@]}" \
    >>"$CACHE/logs/$name.log" 2>&1
  date -u +%FT%TZ >"$checkpoints/finished"
done
