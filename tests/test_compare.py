"""The comparison harness: a quick run end to end, and a failing method that does not stop the others."""

import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from fer_classic.classify.methods import default_landmark_model, parse_method, recipe_digest
from fer_classic.cli import main
from fer_classic.compare import QUICK, compared_methods, methods, run_comparison
from fer_classic.compare.measure import quick_subsample
from fer_classic.compare.methods import Candidate
from fer_classic.compare.report import readme_summary
from fer_classic.data import load_fer2013
from fer_classic.extract.landmarks import landmark_model_digest
from fer_classic.pipeline import EmotionRecognizer
from fer_classic.store.manifest import ModelEntry

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fer2013" / "fer2013.npz"
pytestmark = pytest.mark.skipif(not SHARED.is_file(), reason="the real FER2013 is not beside the checkout")


class Broken:
    classes_ = np.arange(7)

    def predict_proba(self, faces):
        raise RuntimeError("deliberately broken")


def _shipped_manifest_without_vgg19(real_read):
    """``read_manifest`` as if vgg19 were not shipped; other manifests (a folder given) as they are."""
    def read(*args, **kwargs):
        manifest = real_read(*args, **kwargs)
        if args or kwargs:
            return manifest
        manifest.models.pop("vgg19", None)
        return manifest
    return read


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    loaders = {"broken": lambda name: Candidate(name, "classical", Broken())}
    with pytest.MonkeyPatch.context() as patch:  # a CNN that is not shipped, whichever ship today
        patch.setattr(methods, "read_manifest", _shipped_manifest_without_vgg19(methods.read_manifest))
        record, folder = run_comparison(["landmarks/mlp", "broken", "cnn/vgg19",
                                         "ensemble"], quick=True, out=out, data_path=str(SHARED), loaders=loaders,
                                        log=lambda line: None)
    return record, folder


def test_quick_run_writes_results_and_plots(quick_run):
    record, folder = quick_run
    saved = json.loads((folder / "results.json").read_text())
    assert saved["provenance"]["data"]["md5"] and saved["provenance"]["machine"]["cores"]
    assert "landmarks/mlp" in (folder / "results.md").read_text()
    rows = {row["name"]: row for row in saved["methods"]}
    landmarks = rows["landmarks/mlp"]
    assert landmarks["status"] == "ok" and landmarks["faces_per_second"] > 0 and landmarks["latency_ms"] > 0
    assert set(landmarks["metrics"]) >= {"PublicTest", "PrivateTest"}
    assert set(landmarks["metrics"]["PrivateTest"]["per_class_recall"]) == {
        "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    for plot in ("accuracy_vs_latency.png", "per_class_recall.png", "confusion/landmarks_mlp.png"):
        assert (folder / plot).stat().st_size > 5000


def test_broken_method_is_reported_and_the_others_run(quick_run):
    record, _ = quick_run
    rows = {row["name"]: row for row in record["methods"]}
    assert rows["broken"]["status"] == "failed" and "deliberately broken" in rows["broken"]["error"]
    assert rows["landmarks/mlp"]["status"] == "ok"
    assert rows["ensemble"]["status"] in ("ok", "missing")


def test_a_cnn_that_is_not_shipped_shows_as_not_trained_with_its_command(quick_run):
    record, folder = quick_run
    row = next(r for r in record["methods"] if r["name"] == "cnn/vgg19")
    assert row["status"] == "not trained" and row["train_command"] == "fer-classic train --method cnn/vgg19"
    table_row = "| `cnn/vgg19` | not trained: `fer-classic train --method cnn/vgg19` |"
    assert table_row in (folder / "results.md").read_text()


def test_readme_summary_is_the_runs_table(quick_run):
    record, folder = quick_run
    summary = readme_summary(record, "benchmarks/results/quick")
    table = [line for line in summary.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| rank | method | PublicTest acc | PrivateTest acc")
    assert table == [line for line in (folder / "results.md").read_text().splitlines()
                     if line.startswith("| ") and line in table]
    assert "[`benchmarks/results/quick/`](benchmarks/results/quick/results.md)" in summary
    assert "| `cnn/vgg19` | not trained" in summary


def test_quick_metrics_match_a_direct_evaluate(quick_run):
    record, _ = quick_run
    row = next(r for r in record["methods"] if r["name"] == "landmarks/mlp")
    sample = quick_subsample(load_fer2013(SHARED), **QUICK)["PrivateTest"]
    direct = EmotionRecognizer.load("landmarks").evaluate(sample.faces, sample.labels)
    assert row["metrics"]["PrivateTest"]["accuracy"] == pytest.approx(direct["accuracy"])
    assert row["metrics"]["PrivateTest"]["confusion"] == direct["confusion"]
    assert row["metrics"]["PrivateTest"]["n"] == len(sample) <= QUICK["n_test"] + 7


def test_quick_subsample_is_stratified_and_keeps_ferplus_faces():
    data = load_fer2013(SHARED)
    sample = quick_subsample(data, **QUICK)
    full, small = np.bincount(data["PrivateTest"].labels, minlength=7), np.bincount(sample["PrivateTest"].labels,
                                                                                    minlength=7)
    np.testing.assert_allclose(small / small.sum(), full / full.sum(), atol=0.01)
    if "FERPlus-PrivateTest" in sample.splits:
        assert set(sample["FERPlus-PrivateTest"].rows) <= set(sample["PrivateTest"].rows)


def test_cli_lists_methods_and_refuses_unknown_ones(capsys):
    assert main(["benchmark", "--list"]) == 0
    assert capsys.readouterr().out.split() == compared_methods()
    assert main(["benchmark", "--quick", "--methods", "nonsense/mlp"]) == 2
    assert "unknown method(s) nonsense/mlp" in capsys.readouterr().err


class Oracle:
    """Knows the label of every FER2013 face, and answers right for a fixed share of them (chosen by ``salt``)."""

    classes_ = np.arange(7)

    def __init__(self, data, right_share, salt):
        self.labels = {face.tobytes(): label for split in data.splits.values()
                       for face, label in zip(split.faces, split.labels)}
        self.right_share, self.salt = right_share, salt

    def predict_proba(self, faces):
        probabilities = np.full((len(faces), 7), 0.1)
        for row, face in enumerate(faces):
            label = self.labels.get(face.tobytes())
            if label is None:  # a timing probe's made-up face
                continue
            right = zlib.crc32(face.tobytes(), self.salt) % 1000 / 1000 < self.right_share  # fixed per face
            probabilities[row, label if right else (label + 1 + row % 6) % 7] += 0.6
        return probabilities / probabilities.sum(axis=1, keepdims=True)


def test_ensemble_fuses_a_classical_model_and_a_cnn_with_weights_chosen_on_publictest(tmp_path):
    data = load_fer2013(SHARED)
    loaders = {"weak": lambda name: Candidate(name, "classical", Oracle(data, 0.5, salt=1)),
               "strong": lambda name: Candidate(name, "cnn", Oracle(data, 0.7, salt=2))}
    record, _ = run_comparison(["weak", "strong", "ensemble"], quick=True, out=tmp_path, data_path=str(SHARED),
                               loaders=loaders, plots=False, log=lambda line: None)
    rows = {row["name"]: row for row in record["methods"]}
    ensemble = rows["ensemble"]
    assert ensemble["status"] == "ok", ensemble.get("error")
    assert ensemble["members"] == ["weak", "strong"]
    assert ensemble["weights"]["strong"] > ensemble["weights"]["weak"]
    assert sum(ensemble["weights"].values()) == pytest.approx(1, abs=1e-3)
    accuracy = {name: rows[name]["metrics"]["PublicTest"]["accuracy"] for name in rows}
    assert accuracy["ensemble"] >= accuracy["strong"] > accuracy["weak"]


def _current_entry(name):
    landmark_model = default_landmark_model(parse_method(name)[0])
    return {"kind": "classical", "method": name, "file": name.replace("/", "_") + ".joblib", "sha256": "0" * 64,
            "recipe_digest": recipe_digest(name, landmark_model),
            "landmark_model": {"name": landmark_model, "digest": landmark_model_digest(landmark_model)}}


@pytest.mark.parametrize("stale_field", ["landmark_model", "recipe_digest"])
def test_a_model_trained_on_another_recipe_no_longer_counts(tmp_path, monkeypatch, stale_field):
    monkeypatch.setenv("FER_CLASSIC_CACHE", str(tmp_path))
    folder = methods.trained_models_dir("full")
    folder.mkdir(parents=True)
    current = _current_entry("hog/logreg")
    assert methods._trained_on_current_recipe("hog/logreg", ModelEntry.from_dict(current))
    stale = dict(current, **{stale_field: {"digest": "old"} if stale_field == "landmark_model" else "old"})
    assert not methods._trained_on_current_recipe("hog/logreg", ModelEntry.from_dict(stale))
    (folder / "manifest.json").write_text(json.dumps({"models": {"hog_logreg": stale}}))
    lines = []
    with pytest.raises(methods.MissingModel, match="fer-classic train --method hog/logreg"):
        methods.load_classical("hog/logreg", "full", log=lines.append)
    assert lines == ["hog/logreg: the model trained earlier was built on another landmark model or with other "
                     "parameters; it no longer counts"]
