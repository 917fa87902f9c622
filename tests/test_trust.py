"""Model trust and phase independence: what loading a file or importing a phase may do."""

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from fer_classic.cli import main
from fer_classic.detect.registry import build_detector
from fer_classic.store import ModelError, list_models, load_model, user_registry_path


class Payload:
    """A pickle that, when loaded, creates a marker file: stands for any code an attacker would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def forge(folder, marker, name="evil"):
    """A pickle with a self-consistent manifest beside it, as someone could hand it over."""
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.joblib"
    path.write_bytes(pickle.dumps(Payload(marker)))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {"models": {name: {"kind": "classical", "method": "hog/mlp", "file": path.name, "sha256": digest}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return path


def test_a_forged_pickle_is_refused_beside_its_manifest(tmp_path):
    marker = tmp_path / "pwned"
    path = forge(tmp_path / "forged", marker)
    with pytest.raises(ModelError, match="refusing to unpickle"):
        load_model(path)
    assert not marker.exists()


def test_a_models_folder_in_the_working_directory_is_never_used(tmp_path, monkeypatch, capsys):
    marker = tmp_path / "pwned"
    forge(tmp_path / "cwd" / "models", marker, name="classic")
    monkeypatch.chdir(tmp_path / "cwd")
    assert list_models()["classic"].source == "shipped"
    image = tmp_path / "blank.png"
    import cv2

    cv2.imwrite(str(image), np.full((60, 80, 3), 128, np.uint8))
    assert main(["predict", str(image), "--json"]) == 0
    assert not marker.exists()


def test_the_cli_refuses_a_forged_model_and_explains_the_opt_in(tmp_path, capsys):
    marker = tmp_path / "pwned"
    path = forge(tmp_path / "forged", marker)
    image = tmp_path / "blank.png"
    image.write_bytes(b"")
    assert main(["predict", str(image), "--model", str(path)]) == 2
    error = capsys.readouterr().err
    assert "refusing to unpickle" in error and "--trust-model" in error
    assert not marker.exists()


def test_the_opt_in_does_unpickle(tmp_path):
    marker = tmp_path / "pwned"
    path = forge(tmp_path / "forged", marker)
    with pytest.raises(ModelError, match="not a classifier"):
        load_model(path, trust=True)  # the payload is no model, and is refused, but it ran
    assert marker.exists()


class Constant:
    """A model that always answers 'no idea'."""

    classes_ = np.arange(7)

    def predict_proba(self, faces):
        return np.full((len(faces), 7), 1 / 7)


def test_models_you_train_are_trusted_through_your_registry(tmp_path):
    from fer_classic.store import save_model

    path = tmp_path / "mine" / "constant.joblib"
    save_model(Constant(), path, {"kind": "classical", "method": "hog/mlp"})
    registry = json.loads(user_registry_path().read_text())
    assert str(path.resolve()) in registry["models"]
    assert list_models()["constant"].source == "user"
    assert load_model("constant")[0].predict_proba(np.zeros((2, 48, 48))).shape == (2, 7)
    with pytest.raises(ModelError, match="missing kind"):
        save_model(Constant(), tmp_path / "x.joblib", {"method": "hog/mlp"})


@pytest.mark.parametrize("module", ["fer_classic.detect.viola_jones", "fer_classic"])
def test_a_phase_imports_alone(module):
    code = (f"import sys, {module}; heavy = [m for m in ('dlib', 'sklearn', 'tensorflow', 'keras') "
            "if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.stdout.strip() == "[]"


def test_detectors_are_built_and_checked_in_one_place():
    from fer_classic.detect import HaarCascadeDetector, RegionTrackingDetector
    from fer_classic.detect.viola_jones import ViolaJonesDetector

    assert isinstance(build_detector("frontal-default"), HaarCascadeDetector)
    assert isinstance(build_detector("viola-jones"), ViolaJonesDetector)
    assert isinstance(build_detector("profile", video=True), RegionTrackingDetector)
    for options, message in [({"name": "nope"}, "unknown detector"), ({"min_neighbors": -1}, "min neighbors"),
                             ({"min_size": -5}, "min size"), ({"scale_factor": 1.0}, "scale factor"),
                             ({"scale_factor": float("inf")}, "scale factor"),
                             ({"video": True, "detect_scale": 1e-6}, "detect scale")]:
        with pytest.raises(ValueError, match=message):
            build_detector(**options)


def test_batch_uses_the_viola_jones_detector_it_is_asked_for(tmp_path, astronaut_bgr):
    import cv2

    cv2.imwrite(str(tmp_path / "astronaut.png"), astronaut_bgr)
    out = tmp_path / "faces.csv"
    assert main(["batch", str(tmp_path), "--out", str(out), "--cascade", "viola-jones", "--jobs", "1"]) == 0
    assert "astronaut.png" in out.read_text()


def test_a_model_warns_when_it_meets_landmarks_from_another_model(monkeypatch):
    import warnings

    from fer_classic.extract.landmarks import find_landmark_model

    def landmark_warnings():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_model("landmarks")
        return [str(w.message) for w in caught if "landmark model" in str(w.message)]

    monkeypatch.delenv("FER_CLASSIC_LANDMARKS", raising=False)
    assert landmark_warnings() == []                                # trained with dlib's model, which it gets
    distilled = find_landmark_model("distilled")
    monkeypatch.setenv("FER_CLASSIC_LANDMARKS", str(distilled))
    [message] = landmark_warnings()
    assert message.startswith("landmarks.joblib was trained with the landmark model "
                              "shape_predictor_68_face_landmarks.dat but ")
    assert str(distilled) in message


def test_provenance_names_the_commit_of_a_source_checkout():
    from fer_classic.store.provenance import CHECKOUT, _git

    assert (CHECKOUT / "setup.cfg").is_file()
    commit = _git("rev-parse", "HEAD")
    assert len(commit) == 40 and int(commit, 16) >= 0


def test_provenance_line_names_what_a_record_has_and_leaves_out_what_an_older_one_lacks():
    from fer_classic.store.provenance import provenance_line

    origin = {"commit": "0123456789abcdef", "dirty": True, "date": "2026-12-07T00:00:00+00:00",
              "command": "python benchmarks/x.py",
              "machine": {"cpu": "AMD EPYC", "cores": 2, "cpu_features": ["avx2", "fma"],
                          "load_average_1min_at_start": 0.5},
              "data": {"file": "fer2013.npz", "md5": "d176"}}
    assert provenance_line(origin) == (
        "Commit `0123456789` (dirty), 2026-12-07T00:00:00+00:00, AMD EPYC (2 cores; avx2, fma of the listed vector "
        "extensions; load average 0.5 at start), data `fer2013.npz` MD5 `d176`. Command: `python benchmarks/x.py`.")
    origin["machine"]["cpu_features"] = []
    assert "(2 cores; none of the listed vector extensions; load average 0.5 at start)" in provenance_line(origin)
    older = {key: value for key, value in origin.items() if key not in ("dirty", "data")}
    older["machine"] = {"cpu": "AMD EPYC", "cores": 2}
    assert provenance_line(older) == ("Commit `0123456789`, 2026-12-07T00:00:00+00:00, AMD EPYC (2 cores). "
                                      "Command: `python benchmarks/x.py`.")
