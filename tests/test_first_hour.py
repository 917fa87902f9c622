"""A newcomer's first hour with training: set-up in either order, train, compare, choose a model, read the help."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from fer_classic.classify import method_names
from fer_classic.classify.methods import default_landmark_model, recipe_digest
from fer_classic.cli import main
from fer_classic.cli.main import build_parser
from fer_classic.compare import methods
from fer_classic.extract.landmarks import find_landmark_model, landmark_model_digest
from fer_classic.store import ModelError, load_model, read_manifest, resolve_model, save_model, user_models_dir
from fer_classic.store import results_index, user_registry_path
from fer_classic.store.provenance import save_results

ROOT = Path(__file__).resolve().parents[1]


class Constant:
    """A model that always answers the same: enough to be saved, registered, found and loaded."""

    classes_ = np.arange(7)

    def __init__(self, answer=3):
        self.answer = answer

    def predict_proba(self, faces):
        probabilities = np.full((len(faces), 7), 0.05)
        probabilities[:, self.answer] = 0.7
        return probabilities


def entry_of(method, private=None, **fields):
    """A manifest entry as `fer-classic train` writes it for ``method``, on today's recipe."""
    landmark_model = default_landmark_model(method.split("/")[0].split("+"))
    entry = {"kind": "classical", "method": method, "recipe_digest": recipe_digest(method, landmark_model),
             "landmark_model": {"name": landmark_model, "file": find_landmark_model(landmark_model).name,
                                "digest": landmark_model_digest(landmark_model)}}
    if private is not None:
        entry["metrics"] = {"PrivateTest": {"accuracy": private}, "PublicTest": {"accuracy": private - 0.01}}
    return {**entry, **fields}


def set_saved(path, when):
    """Make the registry say ``path`` was saved at ``when`` (an ISO date), as if trained then."""
    registry = json.loads(user_registry_path().read_text())
    registry["models"][str(Path(path).resolve())]["saved"] = when
    user_registry_path().write_text(json.dumps(registry))


# 1. `make run` then `make test`: a record written where the index lives keeps the index true.

def test_writing_a_record_keeps_the_results_index_true(tmp_path):
    results = tmp_path / "results"
    (results / "2026-12-01-0123456").mkdir(parents=True)
    (results / "2026-12-01-0123456" / "results.md").write_text("# An older record\n")
    (results / "README.md").write_text(results_index.index_markdown(results))

    save_results(results / "2026-12-07-abcdef0", {"provenance": {}}, "# FER2013: every method side by side\n",
                 echo=False)
    index = (results / "README.md").read_text()
    assert index == results_index.index_markdown(results)
    assert "[2026-12-07-abcdef0](2026-12-07-abcdef0/results.md) | FER2013: every method side by side |" in index

    elsewhere = tmp_path / "elsewhere"     # a folder without an index gets none
    save_results(elsewhere / "run", {"provenance": {}}, "# x\n", echo=False)
    assert not (elsewhere / "README.md").exists()


def test_the_tool_and_the_package_write_the_same_index():
    from .test_tools import load_tool

    tool = load_tool("index_results")
    assert tool.index_markdown() == results_index.index_markdown(tool.RESULTS)


# 2. The comparison sees the models you trained, and only registered ones.

def test_the_comparison_measures_the_model_you_trained(tmp_path):
    method = "hog/logreg"
    with pytest.raises(methods.MissingModel, match=f"fer-classic train --method {method}"):
        methods.load_classical(method, log=lambda line: None)
    path = user_models_dir() / "hog_logreg.joblib"      # where `fer-classic train` writes by default
    save_model(Constant(), path, entry_of(method))
    candidate = methods.load_classical(method, log=lambda line: None)
    assert candidate.source.startswith("trained by you") and str(path) in candidate.source
    assert candidate.model.predict_proba(np.zeros((2, 48, 48), np.uint8)).argmax(axis=1).tolist() == [3, 3]


def test_the_comparison_ignores_unregistered_stale_or_foreign_models(tmp_path):
    import hashlib
    import pickle

    from .test_trust import Payload

    method = "hog/logreg"
    # An unregistered file where `train` writes, with a manifest that vouches for it: never unpickled.
    marker = tmp_path / "pwned"
    forged = user_models_dir() / "hog_logreg.joblib"
    forged.parent.mkdir(parents=True)
    forged.write_bytes(pickle.dumps(Payload(marker)))
    vouching = entry_of(method, file=forged.name, sha256=hashlib.sha256(forged.read_bytes()).hexdigest())
    (forged.parent / "manifest.json").write_text(json.dumps({"models": {"hog_logreg": vouching}}))
    # A registered model trained on another recipe.
    save_model(Constant(), tmp_path / "stale" / "hog_logreg.joblib", entry_of(method, recipe_digest="old"))
    lines = []
    with pytest.raises(methods.MissingModel):
        methods.load_classical(method, log=lines.append)
    assert not marker.exists()
    assert any("was built on another landmark model or with other parameters" in line for line in lines)


class FakeCNN:
    """Saves plain-array weights and LiteRT files the way a CNNClassifier does; enough to be registered as a CNN."""

    def save(self, path, dtype="float32"):
        np.savez(path, weights=np.zeros(3, dtype))

    def save_litert(self, stem):
        files = {precision: stem.with_name(f"{stem.name}.{precision}.tflite") for precision in ("float32", "int8")}
        for path in files.values():
            path.write_bytes(b"not a network")
        return files


@pytest.mark.parametrize("learned", [True, False])
def test_the_comparison_finds_your_cnn_only_if_it_learned(tmp_path, learned):
    path = user_models_dir() / "vgg19.npz"
    save_model(FakeCNN(), path, {"kind": "cnn", "method": "cnn/vgg19", "architecture": "vgg19",
                                 "shipping": {"ok": learned, "reason": "test"}})
    found = methods.your_model("cnn/vgg19")
    assert (found is not None and found.path == path) == learned


# 3. A trained model answers to its method; an unknown name says which names work, briefly.

def test_a_model_loads_by_its_method_the_newest_first(tmp_path):
    method = "hog/mlp"
    older, newer = tmp_path / "a" / "older.joblib", tmp_path / "b" / "newer.joblib"
    save_model(Constant(1), newer, entry_of(method))
    save_model(Constant(2), older, entry_of(method))
    set_saved(older, "2026-01-01T00:00:00+00:00")
    set_saved(newer, "2026-06-01T00:00:00+00:00")
    resolved = resolve_model(method)
    assert resolved.path == newer and resolved.source == "user"
    assert load_model(method)[0].answer == 1
    shipped = resolve_model("landmarks/mlp")     # no model of yours: the shipped one
    assert shipped.source == "shipped" and shipped.path.name == "landmarks.joblib"


def test_the_comparisons_quick_models_do_not_answer_to_their_method(tmp_path):
    quick = methods.trained_models_dir("quick-2000") / "hog_mlp.joblib"
    save_model(Constant(), quick, entry_of("hog/mlp"))
    with pytest.raises(ModelError, match="unknown model"):
        resolve_model("hog/mlp")
    assert load_model("hog_mlp")[0].answer == 3      # by its name it still loads


def test_an_unknown_model_says_how_many_names_work_and_where_to_see_them(capsys):
    from fer_classic.store import list_models

    entry = entry_of("hog/mlp")
    for n in range(30):         # many models must not make the line long
        save_model(Constant(), user_models_dir() / f"model-with-a-rather-long-name-{n}.joblib", entry)
    assert main(["predict", "--model", "no-such-model", "photo.jpg"]) == 2
    error = capsys.readouterr().err.strip()
    assert "unknown model 'no-such-model'" in error and "`fer-classic models`" in error
    assert f"({len(list_models())} models)" in error
    assert len(error) < 200 and "\n" not in error


# 4. `fer-classic models` helps to choose: best first, aligned, with size and speed where measured.

def table_of(output):
    lines = output.splitlines()
    return lines[:lines.index("")]


def test_models_are_sorted_by_privatetest_accuracy_and_aligned(capsys):
    long_name = "a-model-with-a-name-much-longer-than-any-column-would-expect-it-to-be"
    save_model(Constant(), user_models_dir() / f"{long_name}.joblib", entry_of("hog/mlp", private=0.99))
    save_model(Constant(), user_models_dir() / "unscored.joblib", entry_of("lbp/mlp"))
    assert main(["models"]) == 0
    table = table_of(capsys.readouterr().out)
    header, rows = table[0], table[1:]
    assert header.split() == ["name", "source", "method", "runtime", "size", "MB", "PublicTest", "acc", "PrivateTest",
                              "acc", "ms", "a", "face"]
    names = [row.split()[0] for row in rows]
    assert names[0] == long_name and names[-1] == "unscored"
    accuracies = [float(row.split()[-2]) for row in rows[:-1]]
    assert accuracies == sorted(accuracies, reverse=True) and rows[-1].split()[-2] == "–"
    # Right-aligned numbers end under their header, whatever the names' lengths.
    for column in ("size MB", "PrivateTest acc", "ms a face"):
        end = header.index(column) + len(column)
        for row in rows:
            assert row[end - 1] != " " and (len(row) == end or row[end] == " "), (column, row)
    assert rows[0].split()[1] == "user" and "classic" in names
    runtimes = {row.split()[0]: row.split()[3] for row in rows}
    assert runtimes["classic"] == "–" and runtimes["fer-cnn"] in ("litert", "litert-int8")


def test_models_show_a_speed_only_where_a_committed_comparison_measured_that_very_file(capsys, monkeypatch):
    manifest = read_manifest()
    classic = manifest.models["classic"]
    row = {"name": classic.method, "status": "ok", "source": f"shipped models/{classic.file}", "latency_ms": 12.345,
           "metrics": {split: {"accuracy": classic.accuracy(split)} for split in ("PublicTest", "PrivateTest")}}
    other = dict(row, source="shipped models/landmarks.joblib", name="landmarks/mlp", latency_ms=99.0,
                 metrics={"PrivateTest": {"accuracy": 0.1}})     # another model than today's landmarks
    records = [(Path("2026-12-09-0000000"), {"methods": [row, other]})]
    monkeypatch.setattr(results_index, "comparison_records", lambda: records)
    assert main(["models"]) == 0
    output = capsys.readouterr().out
    lines = {line.split()[0]: line for line in table_of(output)}
    assert lines["classic"].split()[-1] == "12.3"
    assert lines["landmarks"].split()[-1] == "–"
    assert "2026-12-09-0000000" in output


def test_the_committed_comparison_gives_the_shipped_models_speed():
    records = results_index.comparison_records()
    if not records:
        pytest.skip("no committed comparison record (not a git checkout)")
    classic = read_manifest().models["classic"]
    ms, folder = results_index.recorded_latency_ms(classic, f"shipped models/{classic.file}", records)
    assert ms and ms > 0 and (folder / "results.json").is_file()


def test_models_name_the_classes_of_a_model_trained_on_other_classes(capsys, monkeypatch):
    from types import SimpleNamespace

    from fer_classic import store
    from fer_classic.store.catalogue import ResolvedModel

    entry = SimpleNamespace(method="hog/mlp", classes=["calm", "tense", "happy"], size_bytes=1_000_000, metrics={},
                            file="mine.joblib", accuracy=lambda split: None)
    shipped = store.list_models()
    monkeypatch.setattr(store, "list_models", lambda: {**shipped, "mine": ResolvedModel(Path("mine.joblib"), entry,
                                                                                        "user")})
    assert main(["models"]) == 0
    lines = {line.split()[0]: line for line in table_of(capsys.readouterr().out)}
    assert "classes" in lines["name"] and "3: calm, tense, happy" in lines["mine"]
    assert "FER2013's 7" in lines["classic"]


# 5. The help: names that copy and paste, links that lead somewhere, defaults shown.

def help_of(command, capsys, monkeypatch, columns=70):
    monkeypatch.setenv("COLUMNS", str(columns))
    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_train_help_keeps_every_method_name_whole_on_one_line(capsys, monkeypatch, columns):
    text = help_of("train", capsys, monkeypatch, columns)
    lines = text.splitlines()
    for name in [*method_names(), "cnn/fer-cnn", "cnn/vgg19"]:
        whole = re.compile(rf"(?<![\w+/-]){re.escape(name)}(?![\w+/-])")
        assert any(whole.search(line) for line in lines), name


def github_anchor(heading):
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_predict_help_points_to_sections_that_exist(capsys, monkeypatch):
    text = " ".join(help_of("predict", capsys, monkeypatch).split())
    readme_headings = [line.lstrip("#").strip() for line in (ROOT / "README.md").read_text().splitlines()
                       if line.startswith("#")]
    for section in re.findall(r"README '([^']+)'", text):
        assert section in readme_headings, f"README has no section {section!r}"
    links = re.findall(r"([\w/.-]+\.md)#([\w-]+)", text)
    assert links, "the --detector help should say where the detectors are compared"
    for document, anchor in links:
        headings = [line.lstrip("#") for line in (ROOT / document).read_text().splitlines() if line.startswith("#")]
        assert anchor in map(github_anchor, headings), f"{document} has no section #{anchor}"
    assert "verified:" in text and "dlib's HOG detector confirms" in text


def test_every_option_with_a_default_says_it():
    parser = build_parser()
    subcommands = next(action for action in parser._actions if action.dest == "command").choices
    missing = []
    for command, subparser in subcommands.items():
        for action in subparser._actions:
            if action.option_strings and action.help and action.default not in (None, False, "==SUPPRESS=="):
                if "default" not in action.help:
                    missing.append(f"{command} {action.option_strings[0]}")
    assert not missing, missing
