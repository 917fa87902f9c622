"""Teach mode, driven through its real dialog: classes, faces from a fake camera and from files, training, saving.

The camera is a frame source of the test's own (:class:`FakeCamera`): synthetic frames of two scenes an SVM
tells apart, each frame a "face" for the whole-image detector.
"""

import threading

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")         # the GUI and its tests need the [gui]/[dev] extras

from qtpy.QtCore import Qt  # noqa: E402

from fer_classic.gui import MainWindow  # noqa: E402
from fer_classic.classify.small_sets import DEFAULT_FOLDS  # noqa: E402
from fer_classic.gui.teach import FaceCollection, TeachDialog  # noqa: E402
from fer_classic.store import list_models, read_manifest, user_models_dir  # noqa: E402
from fer_classic.video import VideoError  # noqa: E402

FAST_METHOD = "lbp/svm-linear"          # seconds on a few dozen faces; the default needs TensorFlow
WAIT_MS = 60000                         # generous: the CPU is shared
N_FACES = 8


def scene_frame(scene, rng, size=96):
    """A BGR frame of ``scene``: ``"bright"`` has light horizontal stripes, ``"dark"`` dark vertical ones; noisy.

    Brightness tells them apart for the test, texture for LBP (which ignores brightness).
    """
    y, x = np.mgrid[0:size, 0:size]
    shift = rng.integers(0, 8)
    if scene == "bright":
        gray = 165 + 70 * (((y + shift) // 6) % 2)
    else:
        gray = 25 + 70 * (((x + shift) // 6) % 2)
    gray = np.clip(gray + rng.normal(0, 6, gray.shape), 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


class FakeCamera:
    """A frame source: films whatever ``scene`` the test sets, until the dialog stops reading.

    Paced by its viewer, not by a clock: after each frame it waits until the dialog has looked at one
    (:func:`watched_by`), as a real camera's next frame waits for its sensor.
    """

    def __init__(self, scene="bright"):
        self.scene = scene
        self.opened = []
        self.looked = threading.Event()

    def __call__(self, index):
        self.opened.append(index)
        return self._frames(len(self.opened))

    def _frames(self, seed):
        rng = np.random.default_rng(seed)
        self.looked.clear()
        while True:
            yield scene_frame(self.scene, rng)
            self.looked.wait()
            self.looked.clear()


def watched_by(camera, dialog):
    """Let ``camera`` film its next frame whenever ``dialog``'s face finder has looked at one.

    Connected directly, in the finder's thread: stopping the camera blocks the window's thread until the
    camera's last frame is looked at.
    """
    for signal in (dialog._finder.seen, dialog._finder.failed):
        signal.connect(lambda *_: camera.looked.set(), Qt.ConnectionType.DirectConnection)
    return camera


def broken_camera(index):
    raise VideoError(f"no camera at index {index} (is one connected and free?)")


def looks_like(face, scene):
    return face is not None and (face.mean() > 140 if scene == "bright" else face.mean() < 100)


@pytest.fixture
def window(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)             # closed (threads stopped, teach mode's too) after the test
    window.show()
    return window


@pytest.fixture
def dialog(qtbot):
    camera = FakeCamera()
    dialog = TeachDialog(detector="whole-image", method=FAST_METHOD, frame_source=camera)
    watched_by(camera, dialog)
    qtbot.addWidget(dialog)
    yield dialog
    dialog.shutdown()


def capture(qtbot, dialog, camera, name, scene, n=N_FACES):
    """Film ``scene`` and capture ``n`` faces of it for class ``name``."""
    assert dialog.select_class(name)
    camera.scene = scene
    # Frames read before the scene changed may still be on their way: start once the new scene is in view.
    qtbot.waitUntil(lambda: dialog.last_sighting() is not None and looks_like(dialog.last_sighting().face, scene),
                    timeout=WAIT_MS)
    before = dialog.counts()[name]
    assert dialog.capture(n)
    qtbot.waitUntil(lambda: dialog.counts()[name] == before + n, timeout=WAIT_MS)


def add_images(qtbot, dialog, folder, name, scene, n, seed=0):
    """Write ``n`` images of ``scene`` to ``folder`` and add them to class ``name``; returns the task's success."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        cv2.imwrite(str(folder / f"{scene}_{i}.png"), scene_frame(scene, rng))
    with qtbot.waitSignal(dialog.task_finished, timeout=WAIT_MS) as finished:
        assert dialog.add_files([folder], name)
    return finished.args


def train(qtbot, dialog):
    with qtbot.waitSignal(dialog.task_finished, timeout=WAIT_MS) as finished:
        assert dialog.train()
        assert dialog.busy() == "train" and not dialog.train_button.isEnabled()
    assert finished.args == ["train", True], dialog.message_text()
    return dialog.report


def save(qtbot, dialog, name, overwrite=False):
    with qtbot.waitSignal(dialog.task_finished, timeout=WAIT_MS) as finished:
        assert dialog.save(name, overwrite=overwrite), dialog.message_text()
    assert finished.args == ["save", True], dialog.message_text()


def test_capture_train_score_save_and_classify_in_the_main_window(qtbot, window, tmp_path):
    window.panel.detector.setCurrentIndex(window.panel.detector.findData("whole-image"))
    camera = FakeCamera()
    teach = window.open_teach(frame_source=camera, method=FAST_METHOD)
    watched_by(camera, teach)
    assert window.open_teach() is teach and teach.isVisible()           # one teach mode, brought back
    assert window.teach_action.shortcut().toString() == "Ctrl+T"
    assert teach.detector_name == "whole-image" and FAST_METHOD in teach.method_label.text()
    teach.capture_gap = 0               # the fake camera's frames differ already
    teach.max_folds = 3

    window.camera_index.setValue(2)
    teach.start_camera(2)
    for name, scene in (("Bright", "bright"), ("dark", "dark")):
        assert teach.add_class(name)
        capture(qtbot, teach, camera, name, scene)
    assert camera.opened == [2]
    assert teach.counts() == {"Bright": N_FACES, "dark": N_FACES}
    assert all(looks_like(face, "bright") for face in teach.collection.faces("Bright"))
    assert all(looks_like(face, "dark") for face in teach.collection.faces("dark"))
    assert teach._rows["dark"].count.text() == f"{N_FACES} faces"
    assert len(teach._rows["dark"].thumbnails) == N_FACES
    assert "3-fold" in teach.readiness_label.text()

    report = train(qtbot, teach)
    cv = report["cv"]
    assert report["method"] == FAST_METHOD and cv["folds"] == 3 and cv["classes"] == ["Bright", "dark"]
    assert cv["accuracy"] > 0.9
    assert teach.confusion_counts() == cv["confusion"]
    assert sum(map(sum, teach.confusion_counts())) == 2 * N_FACES
    assert [teach.confusion.horizontalHeaderItem(j).text() for j in range(2)] == ["said Bright", "said dark"]
    assert f"{cv['accuracy']:.1%}" in teach.score_label.text() and "3-fold" in teach.score_label.text()
    assert teach.progress.value() == teach.progress.maximum() == 3 + 2

    # Live on the camera, before it is even saved.
    qtbot.waitUntil(lambda: (teach.last_sighting().probabilities or {}).get("dark", 0) > 0.5, timeout=WAIT_MS)
    assert "dark" in teach.sighting.text()

    save(qtbot, teach, "bright-dark")
    path = user_models_dir() / "bright-dark.joblib"
    assert list_models()["bright-dark"].path == path and path.is_file()
    assert path.with_suffix(".report.json").is_file()
    assert window.panel.model.currentData() == "bright-dark"
    teach.close()
    assert not teach.isVisible() and not teach.camera_running()

    rng = np.random.default_rng(7)
    photo = tmp_path / "dark.png"
    cv2.imwrite(str(photo), scene_frame("dark", rng))
    with qtbot.waitSignal(window.analysis_shown, timeout=WAIT_MS,
                          check_params_cb=lambda analysis: analysis.model == "bright-dark"):
        window.open_files([photo])
    analysis = window.analysis
    assert analysis.faces[0]["emotion"] == "dark"
    assert list(window.result.rings.values()) == ["Bright", "dark"]     # the rings are the new classes
    assert window.result.rings.values()["dark"] > 0.5
    # The phase overlays keep working: LBP is what the model extracts.
    window.panel.overlay_checks["lbp"].setChecked(True)
    assert window.panel.overlays().lbp and window.result.phase_images.views["LBP"].has_image()


def test_bad_classes_are_refused_with_the_reason(qtbot, dialog, tmp_path):
    assert not dialog.add_class("   ") and "needs a name" in dialog.message_text()
    assert dialog.add_class("Smile")
    for same in ("smile", " SMILE ", "s_mile", "S-mile"):
        assert not dialog.add_class(same)
        assert "already there as 'Smile'" in dialog.message_text()
    assert dialog.counts() == {"Smile": 0}

    assert not dialog.train()
    assert "two classes or more" in dialog.message_text()
    assert not dialog.capture()                                         # no camera running
    assert "start the camera" in dialog.message_text()

    assert add_images(qtbot, dialog, tmp_path / "smile", "Smile", "bright", 3) == ["import", True]
    assert dialog.add_class("frown")
    assert add_images(qtbot, dialog, tmp_path / "frown", "frown", "dark", 1) == ["import", True]
    assert dialog.counts() == {"Smile": 3, "frown": 1}
    assert not dialog.train() and dialog.report is None
    assert "'frown' has 1" in dialog.message_text() and "Smile" not in dialog.message_text()
    assert "Not ready" in dialog.readiness_label.text()

    empty = tmp_path / "empty"
    empty.mkdir()
    with qtbot.waitSignal(dialog.task_finished, timeout=WAIT_MS) as finished:
        assert dialog.add_files([empty])
    assert finished.args == ["import", False] and "no images found" in dialog.message_text()

    dialog.remove_class("frown")
    assert dialog.counts() == {"Smile": 3} and dialog.selected_class() == "Smile"


def test_model_names_are_checked_and_never_silently_overwritten(qtbot, dialog, tmp_path):
    assert not dialog.save("anything") and "train a model first" in dialog.message_text()
    for name, scene in (("up", "bright"), ("down", "dark")):
        assert dialog.add_class(name)
        add_images(qtbot, dialog, tmp_path / name, name, scene, 3)
    report = train(qtbot, dialog)
    assert report["cv"]["folds"] == 3 == min(DEFAULT_FOLDS, 3)

    for bad, reason in (("", "give the model a name"), ("a/b", "plain name"), ("..", "plain name"),
                        ("x.joblib", "ends like a model file"), ("classic", "shipped model")):
        assert not dialog.save(bad), bad
        assert reason in dialog.message_text()
    assert "classic" in read_manifest().models and not (user_models_dir() / "classic.joblib").exists()

    save(qtbot, dialog, "mine")
    path = user_models_dir() / "mine.joblib"
    saved = path.stat().st_mtime_ns
    assert not dialog.save("mine")                                      # exists: asks first
    assert "exists" in dialog.message_text() and dialog.overwrite_button.isVisibleTo(dialog)
    save(qtbot, dialog, "mine", overwrite=True)
    assert path.stat().st_mtime_ns != saved                             # confirmed: replaced
    assert not dialog.overwrite_button.isVisibleTo(dialog)

    # Overwrite confirms the name it was shown for, not another that exists.
    assert not dialog.save("mine") and dialog.overwrite_button.isVisibleTo(dialog)
    saved = path.stat().st_mtime_ns
    dialog.model_name.setText("mine")
    with qtbot.waitSignal(dialog.task_finished, timeout=WAIT_MS):
        dialog.overwrite_button.click()
    assert path.stat().st_mtime_ns != saved

    # A model of that name elsewhere (fer-classic train --out ...) is never replaced by teach mode.
    from fer_classic.own_faces import save_own_model
    save_own_model(dialog.classifier, tmp_path / "elsewhere" / "theirs.joblib", dialog.report)
    assert not dialog.save("theirs") and "elsewhere" in dialog.message_text()
    assert not dialog.save("theirs", overwrite=True)
    assert not (user_models_dir() / "theirs.joblib").exists()


def test_a_training_can_be_cancelled_and_a_broken_camera_says_why(qtbot, tmp_path):
    dialog = TeachDialog(detector="whole-image", method=FAST_METHOD, frame_source=broken_camera)
    qtbot.addWidget(dialog)
    try:
        dialog.start_camera(4)
        qtbot.waitUntil(lambda: "no camera at index 4" in dialog.message_text(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not dialog.camera_button.isChecked(), timeout=WAIT_MS)
        assert dialog.camera_button.text() == "Start camera"

        for name, scene in (("a", "bright"), ("b", "dark")):
            dialog.add_class(name)
            add_images(qtbot, dialog, tmp_path / name, name, scene, 4)
        with qtbot.waitSignal(dialog.task_finished, timeout=WAIT_MS) as finished:
            assert dialog.train()
            assert not dialog.train()                                   # one task at a time
            dialog.cancel()
        assert finished.args == ["train", False] and dialog.report is None
        assert "cancelled" in dialog.message_text()
        assert dialog.busy() is None and dialog.train_button.isEnabled()
    finally:
        dialog.shutdown()


def test_folds_follow_the_smallest_class_and_the_persons():
    faces = FaceCollection()
    for name in ("smile", "frown"):
        faces.add_class(name)
    blank = np.zeros((48, 48), np.uint8)
    faces.add_faces("smile", [blank] * 12, ["camera 0"] * 12, person="ann")
    faces.add_faces("frown", [blank] * 6, ["camera 0"] * 6, person="ann")
    ready = faces.readiness()
    assert (ready.folds, ready.grouped, ready.problem) == (6, False, None)     # one person: not grouped
    faces.add_faces("frown", [blank] * 6, ["camera 0"] * 6, person="bob")
    assert faces.readiness().folds == 2 and faces.readiness().grouped          # two persons: two folds
    data = faces.labelled()
    assert data.faces.shape == (24, 48, 48) and list(np.unique(data.groups)) == ["ann", "bob"]
    faces.add_faces("smile", [blank], ["x.png"])                              # a face of no one: not grouped
    assert faces.readiness().folds == DEFAULT_FOLDS and faces.labelled().groups is None
