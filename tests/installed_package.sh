#!/usr/bin/env bash
# The package as a user gets it: build the wheel, install it (no editable link) into a fresh virtual
# environment, and from an empty folder list the models and classify a generated photo.
#
#   bash tests/installed_package.sh [PYTHON]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# setuptools builds in ./build and keeps what an earlier build left there (models no longer shipped): start clean.
rm -rf build
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" .
wheel="$(ls "$work"/dist/*.whl)"
size=$(stat -c %s "$wheel")
echo "wheel: $(basename "$wheel"), $((size / 1000000)) MB"
if (( size >= 100000000 )); then
  echo "the wheel is over 100 MB, a common index limit" >&2
  exit 1
fi

"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$wheel"
mkdir "$work/empty" && cd "$work/empty"
"$work/venv/bin/python" -c "import cv2; from skimage import data; cv2.imwrite('photo.png', data.astronaut()[:, :, ::-1])"
"$work/venv/bin/fer-classic" models | tee models.txt
grep -q "^classic .*shipped" models.txt
"$work/venv/bin/python" -c "from fer_classic.extract.landmarks import find_landmark_model as f; p = f(); \
assert p.parent.name == 'fer_classic_models', p; print('landmark model:', p.name)"
"$work/venv/bin/fer-classic" predict photo.png --json > predictions.json
"$work/venv/bin/python" - <<'PY'
import json

[result] = json.load(open("predictions.json"))
assert len(result["faces"]) == 1, result
print(f"predict from the installed wheel: 1 face, {result['faces'][0]['emotion']}")
PY
# Your own faces, without the CNN extra: two classes of face crops (upright, upside down), trained and used.
export XDG_DATA_HOME="$work/data-home" FER_CLASSIC_CACHE="$work/cache"
"$work/venv/bin/python" - "$work/faces" <<'PY'
import pathlib, sys

import cv2
import numpy as np
from skimage import data

gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
rng = np.random.default_rng(0)
for name, view in (("up", lambda f: f), ("down", np.flipud)):
    folder = pathlib.Path(sys.argv[1]) / name
    folder.mkdir(parents=True)
    for i in range(12):
        x, y = 177 + rng.integers(-5, 6), 66 + rng.integers(-5, 6)
        cv2.imwrite(str(folder / f"p{i // 2}_{i}.png"), view(cv2.resize(gray[y:y + 95, x:x + 95], (48, 48))))
PY
"$work/venv/bin/fer-classic" train --data "$work/faces" --detector whole-image --cv 3 --groups '^(p[0-9]+)_' \
  --json > "$work/train.json" 2> "$work/train.err"
grep -q "the CNN extra is not installed" "$work/train.err"
"$work/venv/bin/python" - "$work/train.json" <<'PY'
import json, sys

report = json.load(open(sys.argv[1]))
assert report["classes"] == ["down", "up"] and report["cv"]["folds"] == 3, report
print(f"own faces from the installed wheel: {report['method']}, CV accuracy {report['cv']['accuracy']:.2f}")
PY
"$work/venv/bin/fer-classic" predict "$work/faces/down/p0_0.png" --model faces --detector whole-image > "$work/own.txt"
grep -q ": down (" "$work/own.txt"
test "$(ls -A | sort | tr '\n' ' ')" = "models.txt photo.png predictions.json "  # nothing else written here
# The CNN extra: LiteRT runs every shipped network, and neither TensorFlow nor Keras is installed.
"$work/venv/bin/python" -m pip install --quiet "$wheel[cnn]"
if "$work/venv/bin/python" -m pip list 2>/dev/null | grep -iE "^(tensorflow|tensorflow-cpu|keras|tf-keras) "; then
  echo "the [cnn] extra installed TensorFlow or Keras" >&2
  exit 1
fi
echo "venv with the [cnn] extra: $(du -sm "$work/venv" | cut -f1) MB"
# Every network, and fused, whose fer-cnn embeddings LiteRT computes too.
for model in $(grep -oE "^(fer-cnn|mobilenetv2|resnet50|vgg19|fused) " models.txt); do
  "$work/venv/bin/fer-classic" predict photo.png --model "$model" --json > "$work/$model.json" 2> "$work/$model.err"
  test ! -s "$work/$model.err"      # quiet: no LiteRT or TensorFlow line
  "$work/venv/bin/python" -c "import json, sys; [r] = json.load(open(sys.argv[1])); assert len(r['faces']) == 1" \
    "$work/$model.json"
  echo "predict with $model from the installed wheel: OK"
done
grep -q "^fused " models.txt
echo "installed package: OK"
