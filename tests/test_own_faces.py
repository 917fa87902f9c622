"""Training on your own labelled faces: folders and CSVs in, cross-validation by person, the model used everywhere."""

import json

import cv2
import numpy as np
import pytest

from fer_classic.classify.small_sets import FaceClassifier, cross_validate, fold_splitter
from fer_classic.cli import main
from fer_classic.labelled import canonical_class, match_classes
from fer_classic.pipeline import EmotionRecognizer
from fer_classic.store import list_models, user_models_dir

from .conftest import jittered_faces

FAST_METHOD = "hog/svm-linear"
PERSONS = r"^(p[0-9]+)_"


def _eye_covered(face):
    covered = face.copy()
    covered[10:24, 24:44] = 0
    return covered


# Three classes HOG tells apart at once: the face, upside down, and with one eye hidden.
VIEWS = {"smile": lambda f: f, "frown": np.flipud, "wink": _eye_covered}


@pytest.fixture(scope="module")
def class_faces(astronaut_gray):
    return {name: np.stack([view(face) for face in jittered_faces(astronaut_gray, 12, seed=k)])
            for k, (name, view) in enumerate(VIEWS.items())}


def write_folder(root, class_faces, names=None):
    """``root/<class>/p<person>_<i>.png``: 12 faces a class, 6 persons, two faces each."""
    for name, faces in class_faces.items():
        folder = root / (names or {}).get(name, name)
        folder.mkdir(parents=True)
        for i, face in enumerate(faces):
            cv2.imwrite(str(folder / f"p{i // 2}_{name}_{i}.png"), face)
    return root


@pytest.fixture
def folder(tmp_path, class_faces):
    return write_folder(tmp_path / "my_faces", class_faces)


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def train_json(capsys, folder, *extra):
    status, out, err = run(capsys, "train", "--data", folder, "--detector", "whole-image", "--method", FAST_METHOD,
                           "--json", *extra)
    assert status == 0, err
    return json.loads(out)


def test_train_cross_validates_by_person_and_the_model_works_everywhere(capsys, folder, tmp_path):
    report = train_json(capsys, folder, "--cv", "3", "--groups", PERSONS)
    assert set(report) >= {"classes", "n_faces", "skipped", "cv", "seconds", "model"}
    assert report["classes"] == ["frown", "smile", "wink"] and report["n_faces"] == 36 and report["skipped"] == []
    cv = report["cv"]
    assert cv["folds"] == 3 and cv["grouped"] and len(cv["fold_accuracy"]) == 3
    assert set(cv) >= {"accuracy", "accuracy_sd", "macro_f1", "per_class_recall", "confusion"}
    assert np.asarray(cv["confusion"]).sum() == 36 and cv["accuracy"] > 0.9
    model = tmp_path / "my_faces.joblib"
    assert report["model"].endswith("my_faces.joblib") and (user_models_dir() / "my_faces.joblib").is_file()
    assert (user_models_dir() / "my_faces.report.json").is_file()
    assert (user_models_dir() / "my_faces.confusion.png").is_file()
    assert not model.exists()
    assert list_models()["my_faces"].entry.classes == ["frown", "smile", "wink"]

    status, out, err = run(capsys, "predict", folder / "wink" / "p0_wink_0.png", "--model", "my_faces",
                           "--detector", "whole-image", "--json")
    face = json.loads(out)[0]["faces"][0]
    assert status == 0 and face["emotion"] == "wink" and list(face["probabilities"]) == ["frown", "smile", "wink"]


def test_text_output_reports_the_scores_and_names_the_model(capsys, folder):
    status, out, err = run(capsys, "train", "--data", folder, "--detector", "whole-image", "--method", FAST_METHOD,
                           "--cv", "3")
    assert status == 0
    assert "3-fold cross-validation (not grouped by person" in out and "accuracy over the folds:" in out
    assert "per-class recall:" in out and "confusion" in out and "--model my_faces" in out
    assert "36 faces of 3 classes" in err


def test_no_person_is_in_two_folds():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, 200)
    persons = rng.integers(0, 25, 200).astype(str)
    for train, test in fold_splitter(5, codes, persons, 0).split(np.zeros(200), codes, persons):
        assert not set(persons[train]) & set(persons[test])


def test_cross_validation_keeps_persons_apart(class_faces):
    faces = np.concatenate(list(class_faces.values()))
    labels = np.repeat(list(class_faces), 12)
    persons = np.tile(np.repeat(np.arange(6), 2), 3).astype(str)
    report = cross_validate(FaceClassifier(method=FAST_METHOD), faces, labels, persons, folds=3)
    assert report["grouped"] and report["folds"] == 3 and report["n_faces"] == 36


def test_python_api_trains_in_scikit_learn_style(class_faces):
    faces = np.concatenate(list(class_faces.values()))
    labels = np.repeat(list(class_faces), 12)
    classifier = FaceClassifier(method=FAST_METHOD).fit(faces, labels)
    assert list(classifier.classes_) == ["frown", "smile", "wink"]
    assert (classifier.predict(faces[::6]) == labels[::6]).mean() > 0.9
    recognizer = EmotionRecognizer(classifier, detector="whole-image")
    assert recognizer.classes == ("frown", "smile", "wink")
    probabilities = recognizer.predict_proba(faces[:4])
    assert probabilities.shape == (4, 3) and np.allclose(probabilities.sum(axis=1), 1)


def test_evaluate_matches_classes_by_synonym_and_leaves_the_others_out(capsys, tmp_path, class_faces):
    named = {"smile": "happy", "frown": "sad", "wink": "wink"}
    write_folder(tmp_path / "train", class_faces, named)
    train_json(capsys, tmp_path / "train", "--out", tmp_path / "model.joblib")
    # The same faces, named as another data set names them, with a class the model lacks.
    scored = write_folder(tmp_path / "scored", class_faces, {"smile": "Happiness", "frown": "sadness",
                                                             "wink": "contempt"})
    status, out, err = run(capsys, "evaluate", "--model", tmp_path / "model.joblib", "--data", scored,
                           "--detector", "whole-image", "--json")
    metrics = json.loads(out)
    assert status == 0 and metrics["n_faces"] == 24
    assert metrics["matched"] == {"Happiness": "happy", "sadness": "sad"}
    assert metrics["left_out"] == {"contempt": 12} and metrics["accuracy"] > 0.9


def test_synonyms():
    assert canonical_class("Sadness") == "sad" and canonical_class("JOY") == "happy"
    assert canonical_class("Pain") == "pain"
    assert match_classes(["anger", "surprised", "contempt"], ("angry", "disgust", "fear", "happy", "sad", "surprise",
                                                              "neutral")) == {"anger": 0, "surprised": 5}


def test_a_second_training_keeps_the_first(capsys, folder):
    first = train_json(capsys, folder)["model"]
    second = train_json(capsys, folder)["model"]
    assert first != second and second.endswith("my_faces-2.joblib")
    assert {"my_faces", "my_faces-2"} <= set(list_models())


def test_out_never_replaces_an_unrelated_file(capsys, folder, tmp_path):
    notes = tmp_path / "notes.joblib"
    notes.write_text("keep me")
    status, _, err = run(capsys, "train", "--data", folder, "--detector", "whole-image", "--out", notes)
    assert status == 2 and "not one of your models" in err and notes.read_text() == "keep me"


def test_unreadable_files_are_skipped_named_and_counted(capsys, folder):
    (folder / "smile" / "p9_broken.png").write_bytes(b"not an image")
    status, out, err = run(capsys, "train", "--data", folder, "--detector", "whole-image", "--method", FAST_METHOD,
                           "--json")
    report = json.loads(out)
    assert status == 0 and err.count("p9_broken.png") == 1 and "fer-classic: skipped" in err
    assert "1 file(s) skipped" in err
    assert [item["path"].rsplit("/", 1)[-1] for item in report["skipped"]] == ["p9_broken.png"]
    assert report["n_faces"] == 36


def test_photos_without_a_face_are_skipped(folder):
    from fer_classic.labelled import find_labelled_images, read_faces

    class EveryOtherPhoto:
        """A detector that finds the face in every other photo only."""

        calls = 0

        def detect(self, gray):
            self.calls += 1
            return np.array([[0, 0, 48, 48]]) if self.calls % 2 else np.zeros((0, 4), int)

    faces = read_faces(find_labelled_images(folder), EveryOtherPhoto())
    assert len(faces) == 18 and len(faces.skipped) == 18
    assert {item["reason"] for item in faces.skipped} == {"no face found"}


def bad_cases(root, class_faces):
    """Each bad input, built under ``root``: (name, data path, extra options, words of the message)."""
    cases = []
    one = write_folder(root / "one", {"smile": class_faces["smile"]})
    cases.append(("a single class", one, [], "1 class ('smile'); a classifier needs two or more"))
    few = write_folder(root / "few", {"smile": class_faces["smile"], "frown": class_faces["frown"][:3]})
    cases.append(("a class with fewer faces than folds", few, ["--cv", "5"], "class 'frown' has 3 face(s)"))
    (root / "empty").mkdir()
    cases.append(("an empty folder", root / "empty", [], "no class folders"))
    both = write_folder(root / "both", {"smile": class_faces["smile"], "frown": class_faces["frown"]})
    cases.append(("a regex that matches no file", both, ["--groups", "^(q[0-9]+)_"], "matches no file"))
    cases.append(("fewer groups than folds", both, ["--cv", "10", "--groups", PERSONS], "6 person(s), fewer than"))
    cases.append(("a regex without a group", both, ["--groups", "p[0-9]"], "no capture group"))
    png = next((both / "smile").iterdir()).relative_to(root)
    (root / "missing.csv").write_text(f"path,label\n{png},smile\nnope.png,frown\n")
    cases.append(("a CSV with a missing file", root / "missing.csv", [], "row 3: no such file"))
    (root / "columns.csv").write_text(f"path,label,person\n{png},smile,p1\n")
    cases.append(("a CSV with unknown columns", root / "columns.csv", [], "expected the columns path,label[,group]"))
    (root / "empty_label.csv").write_text(f"path,label\n{png},\n")
    cases.append(("a CSV with an empty label", root / "empty_label.csv", [], "row 2: empty label"))
    collide = write_folder(root / "collide", {"smile": class_faces["smile"], "frown": class_faces["frown"]},
                           {"smile": "Smile", "frown": "smile "})
    cases.append(("names that collide once normalised", collide, [], "are the same class"))
    return cases


def test_each_bad_input_is_one_line_and_writes_no_model(capsys, tmp_path, class_faces):
    for name, data, extra, message in bad_cases(tmp_path, class_faces):
        status, out, err = run(capsys, "train", "--data", data, "--detector", "whole-image", "--method",
                               FAST_METHOD, *extra)
        errors = [line for line in err.splitlines() if line.startswith("fer-classic: error:")]
        assert status == 2 and len(errors) == 1 and message in errors[0], (name, err)
        assert "Traceback" not in err
        assert not list(user_models_dir().glob("*.joblib")) if user_models_dir().exists() else True, name


def test_csv_with_groups_trains(capsys, tmp_path, class_faces):
    root = write_folder(tmp_path / "photos", class_faces)
    rows = [f"{p.relative_to(tmp_path)},{p.parent.name},{p.name.split('_')[0]}" for p in sorted(root.rglob("*.png"))]
    (tmp_path / "labels.csv").write_text("path,label,group\n" + "\n".join(rows) + "\n")
    report = train_json(capsys, tmp_path / "labels.csv", "--cv", "3")
    assert report["cv"]["grouped"] and report["n_faces"] == 36


def test_fer2013_only_options_are_refused_on_own_faces_and_vice_versa(capsys, folder, tmp_path, tiny_dataset):
    from .conftest import write_npz

    status, _, err = run(capsys, "train", "--data", folder, "--no-flip")
    assert status == 2 and "--no-flip applies to FER2013 training only" in err
    npz = write_npz(tmp_path / "fer.npz", *tiny_dataset)
    status, _, err = run(capsys, "train", "--data", npz, "--method", "hog/logreg", "--cv", "3")
    assert status == 2 and "--cv applies to your own labelled faces" in err
    status, _, err = run(capsys, "train", "--data", npz)
    assert status == 2 and "--method: required to train on FER2013" in err


def test_default_falls_back_to_handcrafted_features_without_tensorflow(monkeypatch):
    import importlib.util

    from fer_classic import own_faces
    from fer_classic.classify.small_sets import HANDCRAFTED_METHOD

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorflow" else real(name, *a))
    method, note = own_faces.default_method()
    assert method == HANDCRAFTED_METHOD and "CNN extra is not installed" in note


def test_cnn_training_refuses_an_unrelated_out_before_loading_data(capsys, tmp_path):
    notes = tmp_path / "notes.npz"
    notes.write_bytes(b"keep me")
    status, _, err = run(capsys, "train", "--method", "cnn/fer-cnn", "--out", notes, "--data", tmp_path / "nope.npz")
    assert status == 2 and "not one of your models" in err and notes.read_bytes() == b"keep me"
