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
test "$(ls -A | sort | tr '\n' ' ')" = "models.txt photo.png predictions.json "  # nothing else written here
echo "installed package: OK"
