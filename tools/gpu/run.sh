#!/usr/bin/env bash
# The device side of a GPU training run (docs/gpu.md): install the carried wheels, check the GPU, train.
#
#   bash tools/gpu/run.sh BUDGET_SECONDS [tools/gpu/train.py options...]
#
# Run by the device tool in a checkout that tools/gpu/prepare.sh made slim, with carry [".gpu-data", ".whl"].
# Everything goes to $OUT: the weights' parts, weights.json, history.json and train.log (the whole output).
set -uo pipefail
: "${OUT:?OUT is unset: this runs through the device tool, which sets it}"
budget=${1:?the training budget in seconds comes first}
shift
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl ||
  exit
export PYTHONPATH=/tmp/site KERAS_BACKEND=jax PYTHONUNBUFFERED=1
{
  nvidia-smi -L
  python3 -c 'import jax, keras; print("jax", jax.__version__, jax.devices(), "keras", keras.__version__)' &&
    python3 tools/gpu/train.py --data .gpu-data --out "$OUT" --budget "$budget" "$@"
} 2>&1 | tee "$OUT/train.log"
