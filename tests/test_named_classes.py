"""Models trained on one's own named classes: every front end shows their classes, FER2013's models stay as they were.

The model here is a real fitted pipeline as the project builds them (a ``features`` union of ``extract`` + ``map``
pipelines, then ``classify``), fitted in milliseconds on random faces labelled with three names of our own.
"""

import csv

import cv2
import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from fer_classic import EMOTIONS, EmotionRecognizer, explain
from fer_classic.annotate import EMOTION_COLORS, class_color, class_colors, draw_faces
from fer_classic.atomic import OutputError
from fer_classic.batch import BATCH_COLUMNS, batch_columns, run_batch
from fer_classic.extract.transformers import HOGFeatures
from fer_classic.phases import run_phases
from fer_classic.video import TIMELINE_COLUMNS, process_video, timeline_columns

from .conftest import ASTRONAUT_BOX, write_face_video

CLASSES = ("frown", "smile", "wink")


def pixels(faces):
    """Faces as rows of pixels: the stand-in model's features (module level, so that the model pickles)."""
    return np.asarray(faces, dtype=np.float64).reshape(len(faces), -1)


def fit_named_model(extractor):
    """A ``features`` -> ``classify`` pipeline fitted on 30 random faces labelled with :data:`CLASSES` in turn."""
    faces = np.random.default_rng(0).integers(0, 256, (30, 48, 48), dtype=np.uint8)
    labels = np.asarray(CLASSES)[np.arange(len(faces)) % len(CLASSES)]
    features = FeatureUnion([("mine", Pipeline([("extract", extractor), ("map", StandardScaler())]))])
    return Pipeline([("features", features), ("classify", LogisticRegression(max_iter=300))]).fit(faces, labels)


class OwnDataModel:
    """Stands in for small_sets.FaceClassifier: it keeps its fitted face pipeline in ``model_``."""

    def __init__(self, model):
        self.model_ = model
        self.classes_ = model.classes_

    def predict_proba(self, faces):
        return self.model_.predict_proba(faces)


@pytest.fixture(scope="module")
def named():
    return EmotionRecognizer(fit_named_model(FunctionTransformer(pixels)), detector="whole-image")


@pytest.fixture(scope="module")
def face_photo(astronaut_bgr):
    x, y, w, h = ASTRONAUT_BOX
    return np.ascontiguousarray(astronaut_bgr[y - 20:y + h + 20, x - 20:x + w + 20])


@pytest.fixture
def qt(request):
    """pytest-qt's ``qtbot``, or a skip where the GUI's extra is not installed."""
    pytest.importorskip("pytestqt")
    return request.getfixturevalue("qtbot")


def test_analyze_reports_the_models_classes_in_its_order(named, face_photo):
    assert named.classes == CLASSES
    [face] = named.analyze(face_photo)
    assert tuple(face["probabilities"]) == CLASSES and face["emotion"] in CLASSES
    assert sum(face["probabilities"].values()) == pytest.approx(1.0)
    assert face["emotion"] == max(face["probabilities"], key=face["probabilities"].get)


def test_a_fer2013_model_keeps_its_columns():
    assert BATCH_COLUMNS == ["file", "face", "x", "y", "w", "h", "emotion", *EMOTIONS, "error"]
    assert TIMELINE_COLUMNS == ["frame", "time_s", "face_id", "x", "y", "w", "h", *EMOTIONS]
    integer_labelled = EmotionRecognizer(LogisticRegression().fit(np.eye(7), np.arange(7)), detector="whole-image")
    assert batch_columns(integer_labelled.classes) == BATCH_COLUMNS
    assert timeline_columns(integer_labelled.classes) == TIMELINE_COLUMNS
    assert class_colors(EMOTIONS) == list(EMOTION_COLORS)


def read_table(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_batch_writes_the_models_classes_and_resume_refuses_another_models_csv(tmp_path, named, face_photo):
    folder = tmp_path / "crops"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(folder / name), face_photo)
    model = tmp_path / "own.joblib"
    joblib.dump(named.model, model)
    options = {"model": str(model), "detector_options": {"name": "whole-image"}, "n_jobs": 1, "trust": True,
               "progress": False}
    out = tmp_path / "results.csv"
    assert run_batch(folder, out, **options)["faces"] == 2
    header, *rows = read_table(out)
    assert header == batch_columns(CLASSES)
    for row in map(dict, (zip(header, row) for row in rows)):
        assert row["emotion"] in CLASSES and sum(float(row[name]) for name in CLASSES) == pytest.approx(1.0, abs=1e-4)
    assert run_batch(folder, out, resume=True, **options)["skipped"] == 1      # its own CSV goes on

    fer_csv = tmp_path / "fer.csv"
    fer_csv.write_text(",".join(BATCH_COLUMNS) + "\n")
    with pytest.raises(ValueError, match=r"fer\.csv holds the classes angry,.*not the model's frown,smile,wink"):
        run_batch(folder, fer_csv, resume=True, **options)
    assert fer_csv.read_text() == ",".join(BATCH_COLUMNS) + "\n"               # untouched


def test_video_timeline_and_summary_follow_the_models_classes(tmp_path, astronaut_bgr, named):
    from fer_classic.gui.export import write_timeline

    write_face_video(tmp_path / "clip.avi", astronaut_bgr, n_frames=4)
    report = process_video(tmp_path / "clip.avi", named, csv_path=tmp_path / "timeline.csv",
                           plot=tmp_path / "timeline.png", progress=False)
    header, *rows = read_table(tmp_path / "timeline.csv")
    assert header == timeline_columns(CLASSES) and len(rows) == 4
    assert all(sum(map(float, row[-len(CLASSES):])) == pytest.approx(1.0, abs=1e-4) for row in rows)
    [face] = report["faces"].values()
    assert tuple(face["share"]) == CLASSES and face["dominant"] in CLASSES
    assert (tmp_path / "timeline.png").stat().st_size > 5000

    # The GUI's export: the records' classes, and one table never mixes two models' classes.
    record = {"frame": 0, "time": 0.0, "faces": [{"face_id": 1, "box": (0, 0, 48, 48), "emotion": "smile",
                                                  "probabilities": dict(zip(CLASSES, (0.2, 0.7, 0.1)))}]}
    write_timeline(tmp_path / "gui.csv", [record])
    assert read_table(tmp_path / "gui.csv")[0] == timeline_columns(CLASSES)
    fer_record = {**record, "faces": [{**record["faces"][0], "emotion": "happy",
                                       "probabilities": dict.fromkeys(EMOTIONS, 1 / 7)}]}
    with pytest.raises(OutputError, match="models of different classes"):
        write_timeline(tmp_path / "mixed.csv", [fer_record, record])
    assert not (tmp_path / "mixed.csv").exists()


def test_colours_keep_the_emotions_and_tell_other_classes_apart():
    mine = class_colors(CLASSES)
    assert len(set(mine)) == len(CLASSES) and not set(mine) & set(EMOTION_COLORS)
    assert class_colors(["happiness", "contempt", "neutral"])[::2] == [EMOTION_COLORS[3], EMOTION_COLORS[6]]
    many = class_colors([f"class {i}" for i in range(40)])
    assert len(set(many)) == 40


def test_annotate_draws_a_bar_per_class_in_its_colour(face_photo):
    probabilities = dict(zip(CLASSES, (0.3, 0.6, 0.1)))
    frame = np.zeros((200, 400, 3), np.uint8)
    canvas = draw_faces(frame, [{"box": (20, 40, 100, 100), "emotion": "smile", "probabilities": probabilities}])
    for name in CLASSES:
        bgr = class_color(name, CLASSES)[::-1]
        assert np.all(canvas == bgr, axis=-1).sum() > 20, name              # its bar, and the box for "smile"


def test_explain_shows_the_classes_and_the_features_of_a_wrapped_pipeline(face_photo):
    recognizer = EmotionRecognizer(OwnDataModel(fit_named_model(HOGFeatures())), detector="whole-image")
    assert set(explain.feature_pipelines(recognizer.model)) == {"mine"}
    figure = explain.build_figure(recognizer, run_phases(recognizer, face_photo))
    figure.draw_without_rendering()
    axes = {axis.get_label(): axis for axis in figure.get_axes()}
    assert {"hog", "landmarks", "probabilities"} <= set(axes)
    probabilities = axes["probabilities"]
    assert [label.get_text() for label in probabilities.get_yticklabels()] == list(CLASSES)
    assert "a probability per class" in probabilities.get_xlabel().replace("\n", " ")


def test_the_result_panel_shows_the_models_classes(qt, named, face_photo):
    from fer_classic.gui.widgets import ResultPanel, TimelinePlot, emotion_qcolor

    panel = ResultPanel()
    qt.addWidget(panel)
    assert list(panel.rings.bars) == list(EMOTIONS)
    panel.set_classes(CLASSES)                                  # a model of other classes is ready
    assert list(panel.rings.values()) == list(CLASSES) and all(v is None for v in panel.rings.values().values())
    [face] = named.analyze(face_photo)
    panel.show_face(face, 0, 1)
    assert panel.rings.values() == face["probabilities"]
    assert face["emotion"] in panel.headline.text()
    assert len({bar.color.name() for bar in panel.rings.bars.values()}) == len(CLASSES)
    panel.show_face({**face, "emotion": "happy", "probabilities": dict.fromkeys(EMOTIONS, 1 / 7)}, 0, 1)
    assert list(panel.rings.bars) == list(EMOTIONS)             # back to FER2013's rings with its model

    timeline = TimelinePlot()
    qt.addWidget(timeline)
    timeline.add(0.0, face["probabilities"])
    assert all(name in timeline.legend.text() and emotion_qcolor(name, CLASSES).name() in timeline.legend.text()
               for name in CLASSES)
    assert "angry" not in timeline.legend.text()


def test_the_window_rebuilds_the_rings_when_a_model_of_other_classes_is_ready(qt, named):
    from fer_classic.gui import MainWindow

    window = MainWindow()
    qt.addWidget(window)
    window.worker._recognizers["own"] = "own", named            # as if the worker had loaded it
    window.worker.ready.emit("own")
    assert list(window.result.rings.bars) == list(CLASSES)
