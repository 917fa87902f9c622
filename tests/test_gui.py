"""The desktop GUI, driven through its real window: images, folders, models, overlays, video and errors."""

import csv
import json

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")         # the GUI and its tests need the [gui]/[dev] extras

from qtpy.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl  # noqa: E402
from qtpy.QtGui import QDropEvent  # noqa: E402
from qtpy.QtWidgets import QApplication  # noqa: E402

from fer_classic import EMOTIONS  # noqa: E402
from fer_classic.classify import build_method  # noqa: E402
from fer_classic.detect import box_iou  # noqa: E402
from fer_classic.gui import MainWindow, run  # noqa: E402
from fer_classic.store import models_dir, save_model  # noqa: E402

from .conftest import ASTRONAUT_BOX, jittered_faces  # noqa: E402
from .conftest import write_face_video  # noqa: E402

WAIT_MS = 30000                         # generous: the CPU is shared


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory, astronaut_bgr):
    path = tmp_path_factory.mktemp("images") / "astronaut.png"
    cv2.imwrite(str(path), astronaut_bgr)
    return path


@pytest.fixture
def window(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)             # closed (threads stopped) after the test
    window.show()
    return window


def open_and_wait(qtbot, window, paths):
    """Open image files in ``window`` and return the first analysis shown."""
    with qtbot.waitSignal(window.analysis_shown, timeout=WAIT_MS) as shown:
        window.open_files(paths)
    return shown.args[0]


def status(window):
    return window.statusBar().currentMessage()


def test_photo_shows_one_face_and_probabilities_summing_to_one(qtbot, window, astronaut_png, tmp_path):
    analysis = open_and_wait(qtbot, window, [astronaut_png])
    assert len(analysis.faces) == 1
    assert box_iou([analysis.faces[0]["box"]], [ASTRONAUT_BOX])[0, 0] > 0.8
    shown = window.probabilities.values()
    assert list(shown) == list(EMOTIONS)
    assert sum(shown.values()) == pytest.approx(1.0)
    assert max(shown, key=shown.get) == analysis.faces[0]["emotion"]
    assert window.save_image(tmp_path / "annotated.png")
    saved = cv2.imread(str(tmp_path / "annotated.png"))
    assert saved.shape == window.canvas.shape and np.any(saved != cv2.imread(str(astronaut_png)))


@pytest.fixture
def two_models(tmp_path, monkeypatch, astronaut_gray):
    """A models folder with the shipped ``classic``, a tiny HOG model, and a ``broken`` file failing its hash."""
    folder = tmp_path / "models"
    folder.mkdir()
    manifest = json.loads((models_dir() / "manifest.json").read_text())
    (folder / "classic.joblib").symlink_to(models_dir() / "classic.joblib")
    manifest["models"] = {"classic": manifest["models"]["classic"],
                          "broken": {"file": "broken.joblib", "sha256": "0" * 64}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "broken.joblib").write_bytes(b"not a model")
    faces = jittered_faces(astronaut_gray, 28, seed=5)
    tiny = build_method("hog/logreg").set_params(reduce="passthrough").fit(faces, np.arange(28) % 7)
    save_model(tiny, folder / "tiny.joblib", {"method": "hog/logreg", "metrics": {"PrivateTest": {"accuracy": 0.25}}})
    monkeypatch.setenv("FER_CLASSIC_MODELS", str(folder))


def test_switching_model_updates_the_panel(qtbot, two_models, astronaut_png):
    window = MainWindow()
    qtbot.addWidget(window)
    labels = [window.panel.model.itemText(i) for i in range(window.panel.model.count())]
    assert "classic - 62.7% PrivateTest" in labels and "tiny - 25.0% PrivateTest" in labels
    open_and_wait(qtbot, window, [astronaut_png])
    classic = window.probabilities.values()

    with qtbot.waitSignal(window.analysis_shown, timeout=WAIT_MS, check_params_cb=lambda a: a.model == "tiny"):
        assert window.panel.select_model("tiny")
    tiny = window.probabilities.values()
    assert sum(tiny.values()) == pytest.approx(1.0)
    assert max(abs(tiny[e] - classic[e]) for e in EMOTIONS) > 0.05

    window.panel.select_model("broken")
    qtbot.waitUntil(lambda: "does not match the manifest" in status(window), timeout=WAIT_MS)
    assert window.probabilities.values() == tiny            # the last good result stays on screen


def test_landmark_overlay_draws_on_the_face(qtbot, window, astronaut_png):
    analysis = open_and_wait(qtbot, window, [astronaut_png])
    canvas, image = window.canvas.copy(), window.view.pixmap().toImage()
    window.panel.overlay_checks["landmarks"].setChecked(True)
    assert window.view.pixmap().toImage() != image
    changed = np.argwhere(np.any(window.canvas != canvas, axis=2))
    assert len(changed) >= 68
    x, y, w, h = analysis.faces[0]["box"]
    margin = w // 10                    # dlib may place the chin a little below the box
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    assert x - margin <= left and right <= x + w + margin and y - margin <= top and bottom <= y + h + margin


def test_video_fills_timeline_records_and_csv(qtbot, window, astronaut_bgr, tmp_path):
    video = tmp_path / "face.avi"
    n_frames = write_face_video(video, astronaut_bgr, n_frames=10)
    shown = []
    window.analysis_shown.connect(shown.append)
    with qtbot.waitSignal(window.stream_finished, timeout=60000):
        window.open_video(video)
        window.start_recording(tmp_path / "annotated.avi")
    frames = [analysis.job.frame for analysis in shown]
    assert 1 <= len(frames) <= n_frames and frames == sorted(set(frames)) and frames[-1] == n_frames - 1
    assert len(window.timeline.points) == len(window.records) == len(frames)
    assert all(len(analysis.faces) == 1 for analysis in shown)

    assert window.export_csv(tmp_path / "timeline.csv")
    with open(tmp_path / "timeline.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["frame"]) for row in rows] == frames
    assert all(sum(float(row[e]) for e in EMOTIONS) == pytest.approx(1.0, abs=1e-3) for row in rows)

    recorded = cv2.VideoCapture(str(tmp_path / "annotated.avi"))
    assert int(recorded.get(cv2.CAP_PROP_FRAME_COUNT)) == frames[-1] - frames[0] + 1    # skipped frames filled
    recorded.release()


def test_errors_are_reported_and_the_window_keeps_working(qtbot, window, tmp_path, astronaut_png):
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"this is not a png")
    window.open_files([corrupt])
    qtbot.waitUntil(lambda: "corrupt.png: not a decodable image" in status(window), timeout=WAIT_MS)

    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((120, 160), 128, np.uint8))
    window.open_files([blank])
    qtbot.waitUntil(lambda: "no face found in blank.png" in status(window), timeout=WAIT_MS)

    with qtbot.waitSignal(window.stream_finished, timeout=WAIT_MS):
        window.open_camera(99)
    assert "no camera at index 99" in status(window)

    analysis = open_and_wait(qtbot, window, [astronaut_png])
    assert len(analysis.faces) == 1 and sum(window.probabilities.values().values()) == pytest.approx(1.0)


def test_dropped_folder_fills_the_thumbnail_strip(qtbot, window, tmp_path, astronaut_bgr):
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), astronaut_bgr)
    cv2.imwrite(str(folder / "b.png"), astronaut_bgr[:, ::-1])          # mirrored: the face moves
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.analysis_shown, timeout=WAIT_MS) as first:
        window.dropEvent(drop)
    assert window.thumbnails.isVisible() and window.thumbnails.count() == 2
    with qtbot.waitSignal(window.analysis_shown, timeout=WAIT_MS) as second:
        window.thumbnails.setCurrentRow(1)
    assert (first.args[0].job.label, second.args[0].job.label) == ("a.png", "b.png")
    centre_x = [box[0] + box[2] / 2 for box in (first.args[0].faces[0]["box"], second.args[0].faces[0]["box"])]
    assert abs(centre_x[1] - (astronaut_bgr.shape[1] - centre_x[0])) < 10


def test_run_shows_the_given_files_and_cleans_up(qtbot, astronaut_png):
    opened = []

    def close_window():
        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible())
        opened.append(window)
        opened.append(window.thumbnails.item(0).text())
        window.close()
        QApplication.quit()

    QTimer.singleShot(300, close_window)
    assert run(["fer-classic", str(astronaut_png)]) == 0
    window, name = opened
    assert name == "astronaut.png" and window.worker.isFinished()
