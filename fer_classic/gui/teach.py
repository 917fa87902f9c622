"""Teach mode: name your classes, capture faces for each, train an SVM on them, see its honest score, save it.

A teacher and a class name two or more classes (``smile``, ``frown``,
``surprise``...), capture faces for each from the webcam or from images and
folders, train, read the cross-validated score and confusion matrix, try the
model live on the camera, and save it under a name; the main window then
classifies with it, its overlays included.

The dialog is a thin shell over the library, as the rest of the GUI is:

- phase 1: the app's detector (:func:`fer_classic.detect.registry.build_detector`)
  finds the largest face of a camera frame and :func:`fer_classic.pipeline.crop_faces`
  cuts it to 48x48; opened images and folders go through
  :func:`fer_classic.labelled.read_faces`, as ``fer-classic train --data`` reads them;
- phases 2 and 3: :func:`fer_classic.own_faces.train_own_model`, in a thread,
  its folds driving the progress bar;
- saving: :func:`fer_classic.own_faces.save_own_model` into
  :func:`fer_classic.store.user_models_dir`; the main window then selects the
  model by its name, as it selects any other.

Frames come from a *frame source*: a callable that takes a camera index and
returns an iterable of BGR frames (default :func:`camera_frames`), so that
tests and other front ends can feed it frames of their own. Nothing here is
modal: errors are one line at the bottom of the dialog.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from qtpy import PYSIDE2
from qtpy.QtCore import QSize, Qt, QThread, Signal
from qtpy.QtGui import QBrush, QColor, QIcon, QKeySequence, QPixmap, QShortcut
from qtpy.QtWidgets import (QAbstractItemView, QButtonGroup, QDialog, QFileDialog, QGroupBox,
                            QHBoxLayout, QHeaderView, QLabel, QLineEdit, QProgressBar, QPushButton, QRadioButton,
                            QScrollArea, QSizePolicy, QSpinBox, QTableWidget, QTableWidgetItem, QToolButton,
                            QVBoxLayout, QWidget)

from ..classify.small_sets import DEFAULT_FOLDS   # fewer when the smallest class has fewer faces
from ..detect.registry import PHOTO_DETECTOR, build_detector
from ..imageio import to_gray_uint8
from ..labelled import LabelledFaces, LabelledImages, class_key, read_faces
from ..pipeline import IMAGE_SUFFIXES, crop_faces, expand_image_paths
from ..store import ModelError, list_models, read_manifest, user_models_dir, warm_up_detector
from ..store.catalogue import MODEL_SUFFIXES
from ..video import open_capture, read_frames
from .render import display_bgr, to_qimage
from .worker import NewestOnly

MIN_FACES = 2                   # a class needs two faces for the smallest cross-validation
THUMBNAILS = 8                  # the newest faces of each class shown
THUMBNAIL_SIDE = 40
PREVIEW_SIDE = 480              # the longest side of the camera preview, in pixels
BURST = 10                      # faces a burst captures
CAPTURE_GAP = 0.2               # seconds between the faces of a burst: not ten copies of one frame
BOX_COLOR = (80, 220, 80)       # BGR
ERROR_STYLE = "color: #c62828;"


def camera_frames(index):
    """BGR frames of camera ``index`` until it goes away: the default frame source.

    The camera is opened as the main window opens it
    (:func:`fer_classic.video.open_capture`), and released when the iteration
    ends or is closed.
    """
    capture = open_capture(int(index))
    try:
        for _, frame in read_frames(capture):
            yield frame
    finally:
        capture.release()


def one_line(error):
    """An exception as one line of text."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ------------------------------------------------------------------ checks (no Qt)


def check_class_name(name, existing=()):
    """``name`` without surrounding spaces, or ValueError when it is empty or one of ``existing`` already.

    Names are compared as :func:`fer_classic.labelled.class_key` compares
    them: ``"Smile"``, ``"smile "`` and ``"s_mile"`` are one class.
    """
    name = str(name).strip()
    if not class_key(name):
        raise ValueError("a class needs a name")
    if not name.isprintable():
        raise ValueError(f"class name {name!r} has characters that cannot be shown")
    same = [other for other in existing if class_key(other) == class_key(name)]
    if same:
        raise ValueError(f"class {name!r} is already there" + ("" if same[0] == name else f" as {same[0]!r}"))
    return name


def check_model_name(name):
    """``name`` without surrounding spaces, or ValueError when it cannot name a model of yours.

    Refused: an empty name, one with a path separator or characters that
    cannot be shown, one ending in a model file's suffix (it would be taken
    for a file), and the name of a shipped model (yours would be hidden by it).
    """
    name = str(name).strip()
    if not name:
        raise ValueError("give the model a name")
    separators = {"/", "\\", os.sep, os.altsep} - {None}
    if any(separator in name for separator in separators) or name in (".", "..") or name.startswith("."):
        raise ValueError(f"model name {name!r} must be a plain name, without '/', '\\' or a leading '.'")
    if not name.isprintable():
        raise ValueError(f"model name {name!r} has characters that cannot be shown")
    if name.lower().endswith(MODEL_SUFFIXES):
        raise ValueError(f"model name {name!r} ends like a model file; leave the suffix out")
    if name in read_manifest().models:
        raise ValueError(f"{name!r} is the name of a shipped model; choose another")
    return name


def model_path(name):
    """Where teach mode saves model ``name``: ``user_models_dir() / f"{name}.joblib"``."""
    return user_models_dir() / f"{name}.joblib"


def existing_model(name):
    """What already answers to ``name``: None, ``"yours"`` (the file teach mode would write), or ``"other"``.

    ``"other"`` is a model of that name elsewhere (saved by ``fer-classic
    train`` to another folder): saving beside it would make the name ambiguous.
    """
    path = model_path(name)
    listed = list_models().get(name)
    if listed is not None and Path(listed.path).resolve() != path.resolve():
        return "other"
    return "yours" if listed is not None or path.exists() else None


@dataclass
class Readiness:
    """Whether the faces can be trained on: the folds to use, or why not."""

    folds: int | None
    grouped: bool
    problem: str | None


class FaceCollection:
    """The classes named so far, in their order, and the faces captured for each (with their person, if given)."""

    def __init__(self):
        self._faces = {}            # class -> list of (48, 48) uint8
        self._sources = {}          # class -> list of Path (a file, or "camera N")
        self._persons = {}          # class -> list of str ("" when not given)

    @property
    def classes(self):
        return list(self._faces)

    def add_class(self, name):
        """Add class ``name`` (see :func:`check_class_name`); returns the name as kept."""
        name = check_class_name(name, self._faces)
        self._faces[name], self._sources[name], self._persons[name] = [], [], []
        return name

    def remove_class(self, name):
        for store in (self._faces, self._sources, self._persons):
            store.pop(name, None)

    def add_faces(self, name, faces, sources, person=""):
        """Add 48x48 ``faces`` to class ``name``, each from one of ``sources``."""
        if name not in self._faces:
            raise ValueError(f"no class {name!r}")
        for face, source in zip(faces, sources):
            self._faces[name].append(np.asarray(face, dtype=np.uint8))
            self._sources[name].append(Path(source))
            self._persons[name].append(person.strip())

    def remove_face(self, name, index):
        for store in (self._faces, self._sources, self._persons):
            del store[name][index]

    def faces(self, name):
        return list(self._faces[name])

    def counts(self):
        """``{class: number of faces}``, in the classes' order."""
        return {name: len(faces) for name, faces in self._faces.items()}

    def _groups(self):
        persons = [person for name in self._faces for person in self._persons[name]]
        if not persons or not all(persons) or len(set(persons)) < 2:
            return None
        return np.array(persons, dtype=str)

    def readiness(self, max_folds=DEFAULT_FOLDS):
        """The folds of the cross-validation: ``min(max_folds, smallest class, persons)``, or the problem.

        Persons are used (no person in two folds) when every face has one and
        there are two or more.
        """
        counts = self.counts()
        if len(counts) < 2:
            return Readiness(None, False, f"name two classes or more ({len(counts)} so far)")
        short = [f"{name!r} has {count}" for name, count in counts.items() if count < MIN_FACES]
        if short:
            return Readiness(None, False, f"every class needs {MIN_FACES} faces or more: {', '.join(short)}")
        groups = self._groups()
        folds = min(max_folds, min(counts.values()))
        if groups is not None:
            folds = min(folds, len(set(groups)))
        return Readiness(folds, groups is not None, None)

    def labelled(self):
        """Every face with its class (and person), as :class:`fer_classic.labelled.LabelledFaces`."""
        names = self.classes
        faces = [face for name in names for face in self._faces[name]]
        stack = np.stack(faces) if faces else np.zeros((0, 48, 48), np.uint8)
        labels = np.array([name for name in names for _ in self._faces[name]], dtype=str)
        paths = [source for name in names for source in self._sources[name]]
        return LabelledFaces(stack, labels, self._groups(), paths)


# ------------------------------------------------------------------ threads


class Cancelled(Exception):
    """Raised in a task's thread when the user cancelled it."""


class Task(QThread):
    """Run ``work(task)`` in its own thread: one import, training or save.

    ``work`` reports with :meth:`report`, which raises :class:`Cancelled`
    once :meth:`cancel` was called; every run ends in exactly one of
    :attr:`done`, :attr:`failed` or :attr:`cancelled`.
    """

    progress = Signal(int, int, str)        # done, total, what is being done
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, kind, work, parent=None):
        super().__init__(parent)
        self.kind = kind
        self._work = work
        self._cancelled = False

    def cancel(self):
        self._cancelled = True

    def report(self, done, total, text=""):
        if self._cancelled:
            raise Cancelled
        self.progress.emit(int(done), int(total), text)

    def run(self):
        try:
            result = self._work(self)
        except Cancelled:
            self.cancelled.emit()
        except Exception as error:  # noqa: BLE001  whatever the library raises is said in one line
            self.failed.emit(one_line(error))
        else:
            self.done.emit(result)


class FrameFeed(QThread):
    """Iterate a frame source in its own thread, leaving each frame in a one-slot mailbox (the newest wins)."""

    failed = Signal(str)

    def __init__(self, frames, mailbox, parent=None):
        super().__init__(parent)
        self._frames = frames       # callable () -> iterable of BGR frames
        self._mailbox = mailbox
        self._stopped = False

    def stop(self):
        self._stopped = True
        self.wait()

    def run(self):
        iterator = None
        try:
            iterator = iter(self._frames())
            for frame in iterator:
                if self._stopped:
                    break
                self._mailbox.put(frame)
        except Exception as error:  # noqa: BLE001  a camera that fails must not end the thread silently
            self.failed.emit(one_line(error))
        finally:
            if iterator is not None and hasattr(iterator, "close"):
                iterator.close()    # releases the camera, in the thread that opened it


@dataclass
class Sighting:
    """What :class:`FaceFinder` saw in a frame: the preview, the largest face and, once trained, its class."""

    image: object                   # QImage of the frame, scaled for display, the face boxed
    face: np.ndarray | None         # 48x48 uint8, or None when no face was found
    probabilities: dict | None      # {class: probability} of the trained model, or None
    when: float                     # time.perf_counter() of the frame


class FaceFinder(QThread):
    """Find the largest face of the newest frame with the app's detector, cut it to 48x48, and classify it.

    Built once per dialog; the detector is built in this thread, on the first frame.
    :attr:`classifier` (a fitted :class:`~fer_classic.classify.small_sets.FaceClassifier`)
    may be set from any thread.
    """

    seen = Signal(object)           # Sighting
    failed = Signal(str)

    def __init__(self, detector, mailbox, parent=None):
        super().__init__(parent)
        self.detector_name = detector
        self.classifier = None
        self._mailbox = mailbox
        self._detector = None

    def stop(self):
        self._mailbox.close()
        self.wait()

    def run(self):
        while (frame := self._mailbox.take()) is not None:
            try:
                self.seen.emit(self._look(frame))
            except Exception as error:  # noqa: BLE001
                self.failed.emit(one_line(error))

    def _look(self, frame):
        when = time.perf_counter()
        if self._detector is None:
            self._detector = warm_up_detector(build_detector(self.detector_name))
        gray = to_gray_uint8(frame)
        boxes = np.asarray(self._detector.detect(gray)).reshape(-1, 4)
        shown = display_bgr(frame).copy()
        scale = min(1.0, PREVIEW_SIDE / max(shown.shape[:2]))
        if scale < 1:
            shown = cv2.resize(shown, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        face = probabilities = None
        if len(boxes):
            box = boxes[np.argmax(boxes[:, 2] * boxes[:, 3])]
            face = crop_faces(gray, box[None])[0]
            x, y, w, h = (np.asarray(box, dtype=float) * scale).round().astype(int)
            thickness = max(2, round(max(shown.shape[:2]) / 200))
            cv2.rectangle(shown, (x, y), (x + w - 1, y + h - 1), BOX_COLOR, thickness)
            classifier = self.classifier
            if classifier is not None:
                row = classifier.predict_proba(face[None])[0]
                probabilities = {str(name): float(p) for name, p in zip(classifier.classes_, row)}
        return Sighting(to_qimage(shown), face, probabilities, when)


# ------------------------------------------------------------------ widgets


def face_pixmap(face, side=THUMBNAIL_SIDE):
    """A 48x48 face as a ``side`` x ``side`` pixmap."""
    return QPixmap.fromImage(to_qimage(np.ascontiguousarray(face))).scaled(
        side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class ClassRow(QWidget):
    """One class: a radio button to make it the target of captures, its count, its newest faces, and a remove button.

    Clicking a face removes it (a blink, a face half out of the frame).
    """

    remove_face = Signal(str, int)  # class, index of the face
    remove_class = Signal(str)

    def __init__(self, name, parent=None):
        super().__init__(parent)
        self.name = name
        self.radio = QRadioButton(name)
        self.radio.setToolTip(f"Capture and add faces to {name!r}")
        self.count = QLabel()
        self.remove = QToolButton()
        self.remove.setText("\u2715")
        self.remove.setToolTip(f"Remove the class {name!r} and its faces")
        self.remove.clicked.connect(lambda: self.remove_class.emit(self.name))
        self.strip = QHBoxLayout()
        self.strip.setSpacing(2)
        top = QHBoxLayout()
        top.addWidget(self.radio, 1)
        top.addWidget(self.count)
        top.addWidget(self.remove)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 2, 0, 2)
        column.addLayout(top)
        column.addLayout(self.strip)
        self.thumbnails = []
        self.set_faces([])

    def set_faces(self, faces):
        """Show the count and the newest :data:`THUMBNAILS` of ``faces``."""
        self.count.setText(f"{len(faces)} face{'s' if len(faces) != 1 else ''}")
        while self.strip.count():
            item = self.strip.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.thumbnails = []
        for index in range(max(0, len(faces) - THUMBNAILS), len(faces)):
            button = QToolButton()
            button.setIcon(QIcon(face_pixmap(faces[index])))
            button.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
            button.setAutoRaise(True)
            button.setToolTip("Click to remove this face")
            button.clicked.connect(lambda _=False, i=index: self.remove_face.emit(self.name, i))
            self.strip.addWidget(button)
            self.thumbnails.append(button)
        if not faces:
            placeholder = QLabel("no faces yet")
            placeholder.setEnabled(False)
            placeholder.setFixedHeight(THUMBNAIL_SIDE + 6)
            self.strip.addWidget(placeholder)
        self.strip.addStretch(1)


def recall_color(share):
    """White to blue as a row's share grows, as the saved confusion PNG colours it."""
    share = float(np.clip(share, 0, 1))
    return QColor(round(255 - 205 * share), round(255 - 145 * share), round(255 - 40 * share))


class TeachDialog(QDialog):
    """Teach a model classes of your own: name them, capture faces, train, read the score, try it, save it.

    Parameters
    ----------
    parent : QWidget, optional
    detector : str, optional
        A detector name (:data:`fer_classic.detect.registry.DETECTORS`);
        default :data:`~fer_classic.detect.registry.PHOTO_DETECTOR`.
    method : str, optional
        The method to train; default :func:`fer_classic.own_faces.default_method`.
    frame_source : callable, optional
        ``frame_source(index)`` -> iterable of BGR frames; default :func:`camera_frames`.
    camera_index : int
        The camera to open first.
    """

    model_saved = Signal(str)           # the name of the model just saved
    trained = Signal(object)            # the report of a finished training
    faces_changed = Signal()
    camera_starting = Signal()          # the camera is about to open: whoever holds it should let it go
    task_finished = Signal(str, bool)   # "import", "train" or "save", and whether it succeeded

    def __init__(self, parent=None, detector=None, method=None, frame_source=None, camera_index=0):
        super().__init__(parent)
        from ..own_faces import default_method

        self.setWindowTitle("Teach a model your own classes")
        self.setModal(False)
        self.resize(1180, 760)
        self.detector_name = detector or PHOTO_DETECTOR
        note = None
        if method is None:
            method, note = default_method()
        self.method = method
        self.frame_source = frame_source or camera_frames
        self.capture_gap = CAPTURE_GAP
        self.max_folds = DEFAULT_FOLDS
        self.collection = FaceCollection()
        self.classifier = self.report = self.trained_data = None
        self._changes = self._trained_changes = 0   # edits of the faces: counted, to tell a result out of date
        self.saved_name = None
        self._rows = {}
        self._task = None
        self._feed = None
        self._pending = 0                   # faces still to capture from the camera
        self._last_capture = 0.0
        self._last_sighting = None
        self._overwrite_name = None         # the name the user was told exists; Overwrite saves over it
        self._mailbox = NewestOnly()
        self._finder = FaceFinder(self.detector_name, self._mailbox, self)
        self._finder.seen.connect(self._on_seen)
        self._finder.failed.connect(self._error)
        self._finder.start()

        left, right, columns = QVBoxLayout(), QVBoxLayout(), QHBoxLayout()
        left.addWidget(self._camera_group(camera_index), 3)
        left.addWidget(self._classes_group(), 2)
        right.addWidget(self._train_group(note))
        right.addWidget(self._result_group(), 1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        outer = QVBoxLayout(self)
        outer.addLayout(columns, 1)
        outer.addWidget(self.message)
        for keys, slot in (("C", lambda: self.capture(1)), ("Shift+C", lambda: self.capture(BURST)),
                           ("Ctrl+Return", self.train)):
            QShortcut(QKeySequence(keys), self).activated.connect(slot)
        self._update()

    # ------------------------------------------------------------ layout

    def _camera_group(self, camera_index):
        group = QGroupBox("1. Faces from the camera")
        self.preview = QLabel("Start the camera, or add images and folders to a class below.")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(360, 270)
        # Ignored: the frame is scaled to the label, never the label grown to the frame.
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.preview.setStyleSheet("QLabel { background: #202020; color: #dddddd; }")
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 9)
        self.camera_index.setPrefix("camera ")
        self.camera_index.setValue(int(camera_index))
        self.camera_button = QPushButton("Start camera")
        self.camera_button.setCheckable(True)
        self.camera_button.toggled.connect(self._on_camera_toggled)
        self.capture_button = QPushButton("Capture (C)")
        self.capture_button.setToolTip("Add the next face the camera sees to the chosen class")
        self.capture_button.clicked.connect(lambda: self.capture(1))
        self.burst_button = QPushButton(f"Capture {BURST} (Shift+C)")
        self.burst_button.setToolTip(f"Add {BURST} faces, {CAPTURE_GAP:g} s apart: move a little between them")
        self.burst_button.clicked.connect(lambda: self.capture(BURST))
        self.person = QLineEdit()
        self.person.setPlaceholderText("who is it? (optional)")
        self.person.setToolTip("The person in front of the camera or in the images. When every face has a person,\n"
                               "no person is in two folds of the cross-validation: the score is then the score\n"
                               "on people the model never saw.")
        self.sighting = QLabel(" ")
        row = QHBoxLayout()
        for widget in (self.camera_index, self.camera_button, self.capture_button, self.burst_button):
            row.addWidget(widget)
        person = QHBoxLayout()
        person.addWidget(QLabel("Person:"))
        person.addWidget(self.person, 1)
        column = QVBoxLayout(group)
        column.addWidget(self.preview, 1)
        column.addLayout(row)
        column.addLayout(person)
        column.addWidget(self.sighting)
        return group

    def _classes_group(self):
        group = QGroupBox("2. Classes (the chosen one receives the faces)")
        self.class_name = QLineEdit()
        self.class_name.setPlaceholderText("a class name, e.g. smile")
        self.class_name.returnPressed.connect(lambda: self.add_class(self.class_name.text()))
        add = QPushButton("Add class")
        add.clicked.connect(lambda: self.add_class(self.class_name.text()))
        self.images_button = QPushButton("Add images...")
        self.images_button.clicked.connect(self._ask_images)
        self.folder_button = QPushButton("Add folder...")
        self.folder_button.clicked.connect(self._ask_folder)
        self.class_group = QButtonGroup(self)
        self.class_group.setExclusive(True)
        self.rows_box = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_box)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(self.rows_box)
        scroll.setWidgetResizable(True)
        scroll.setMinimumHeight(160)
        top = QHBoxLayout()
        top.addWidget(self.class_name, 1)
        top.addWidget(add)
        files = QHBoxLayout()
        files.addWidget(self.images_button)
        files.addWidget(self.folder_button)
        files.addStretch(1)
        column = QVBoxLayout(group)
        column.addLayout(top)
        column.addWidget(scroll, 1)
        column.addLayout(files)
        return group

    def _train_group(self, note):
        group = QGroupBox("3. Train")
        self.method_label = QLabel(f"Method: <b>{self.method}</b>" + (f"<br><i>{note}</i>" if note else ""))
        self.method_label.setWordWrap(True)
        self.readiness_label = QLabel()
        self.readiness_label.setWordWrap(True)
        self.train_button = QPushButton("Train (Ctrl+Enter)")
        self.train_button.clicked.connect(self.train)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the training after the fold in hand")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.log_label = QLabel(" ")
        self.log_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.train_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.progress, 1)
        column = QVBoxLayout(group)
        column.addWidget(self.method_label)
        column.addWidget(self.readiness_label)
        column.addLayout(row)
        column.addWidget(self.log_label)
        return group

    def _result_group(self):
        group = QGroupBox("4. How well it does, and save it")
        self.score_label = QLabel("Not trained yet.")
        self.score_label.setWordWrap(True)
        self.score_label.setTextFormat(Qt.TextFormat.RichText)
        self.confusion = QTableWidget(0, 0)
        self.confusion.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for header in (self.confusion.horizontalHeader(), self.confusion.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)      # the matrix fills its place
        self.confusion.setToolTip("Cross-validated confusion matrix: rows are the true classes, columns what the\n"
                                  "model said; each cell counts faces, coloured by its share of the row")
        self.confusion_caption = QLabel("rows: true class; columns: predicted; counts of faces, coloured by share "
                                        "of the row")
        self.confusion_caption.setWordWrap(True)
        self.confusion_caption.setEnabled(False)
        self.model_name = QLineEdit()
        self.model_name.setPlaceholderText("a model name, e.g. smile-or-frown")
        self.model_name.returnPressed.connect(lambda: self.save())
        self.save_button = QPushButton("Save and use")
        self.save_button.setToolTip("Save the model under this name and classify with it in the main window")
        self.save_button.clicked.connect(lambda: self.save())
        self.overwrite_button = QPushButton("Overwrite")
        self.overwrite_button.setStyleSheet(ERROR_STYLE)
        self.overwrite_button.clicked.connect(lambda: self.save(self._overwrite_name, overwrite=True))
        self.overwrite_button.hide()
        row = QHBoxLayout()
        row.addWidget(QLabel("Name:"))
        row.addWidget(self.model_name, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.overwrite_button)
        column = QVBoxLayout(group)
        column.addWidget(self.score_label)
        column.addWidget(self.confusion, 1)
        column.addWidget(self.confusion_caption)
        column.addLayout(row)
        return group

    # ------------------------------------------------------------ classes and faces

    def add_class(self, name):
        """Add a class and choose it; False (the reason shown) for an empty or duplicate name."""
        try:
            name = self.collection.add_class(name)
        except ValueError as error:
            self._error(one_line(error))
            return False
        row = ClassRow(name)
        row.remove_face.connect(self._remove_face)
        row.remove_class.connect(self.remove_class)
        self.class_group.addButton(row.radio)
        self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
        self._rows[name] = row
        row.radio.setChecked(True)
        self.class_name.clear()
        self._info(f"class {name!r} added: capture or add faces for it")
        self._faces_changed()
        return True

    def remove_class(self, name):
        row = self._rows.pop(name, None)
        if row is None:
            return
        self.collection.remove_class(name)
        self.class_group.removeButton(row.radio)
        self.rows_layout.removeWidget(row)
        row.deleteLater()
        if self.selected_class() is None and self._rows:
            next(reversed(self._rows.values())).radio.setChecked(True)
        self._faces_changed()

    def select_class(self, name):
        """Make class ``name`` the one that receives the faces; False when there is none of that name."""
        if name not in self._rows:
            return False
        self._rows[name].radio.setChecked(True)
        return True

    def selected_class(self):
        return next((name for name, row in self._rows.items() if row.radio.isChecked()), None)

    def counts(self):
        """``{class: faces captured}``, in the order the classes were named."""
        return self.collection.counts()

    def _add_faces(self, name, faces, sources):
        if name not in self._rows:          # removed while its faces were being read
            return
        self.collection.add_faces(name, faces, sources, self.person.text())
        self._rows[name].set_faces(self.collection.faces(name))
        self._faces_changed()

    def _remove_face(self, name, index):
        self.collection.remove_face(name, index)
        self._rows[name].set_faces(self.collection.faces(name))
        self._faces_changed()

    def _faces_changed(self):
        self._changes += 1
        self._update()
        self.faces_changed.emit()

    # ------------------------------------------------------------ the camera

    def start_camera(self, index=None):
        """Open camera ``index`` (default: the one chosen) through the frame source, and preview it."""
        if index is not None:
            self.camera_index.setValue(int(index))
        self.camera_button.setChecked(True)

    def stop_camera(self):
        self.camera_button.setChecked(False)

    def camera_running(self):
        return self._feed is not None and self._feed.isRunning()

    def _on_camera_toggled(self, on):
        if self._feed is not None:
            self._feed.stop()
            self._feed.deleteLater()
            self._feed = None
        self._pending = 0
        if on:
            self.camera_starting.emit()
            index = self.camera_index.value()
            feed = self._feed = FrameFeed(lambda: self.frame_source(index), self._mailbox, self)
            feed.failed.connect(self._error)
            feed.finished.connect(lambda: self._on_camera_finished(feed))
            feed.start()
            self._info(f"opening camera {index}...")
        else:
            self.preview.clear()
            self.preview.setText("Camera stopped.")
            self.sighting.setText(" ")
        self.camera_button.setText("Stop camera" if on else "Start camera")
        self._update()

    def _on_camera_finished(self, feed):
        if feed is self._feed:          # the camera went away by itself (a stop has already let go of it)
            self.camera_button.blockSignals(True)
            self.camera_button.setChecked(False)
            self.camera_button.blockSignals(False)
            self.camera_button.setText("Start camera")
            self._feed.deleteLater()
            self._feed = None
            self._pending = 0
            self._update()

    def capture(self, count=1):
        """Add the next ``count`` faces the camera sees to the chosen class; False (the reason shown) if it cannot."""
        name = self.selected_class()
        if name is None:
            self._error("add a class first: faces are captured for the chosen class")
            return False
        if not self.camera_running():
            self._error("start the camera first, or add images with 'Add images...'")
            return False
        self._pending = int(count)
        self._info(f"capturing {count} face{'s' if count != 1 else ''} for {name!r}...")
        return True

    def last_sighting(self):
        """The newest :class:`Sighting` of the camera, or None."""
        return self._last_sighting

    def _on_seen(self, sighting):
        if not self.camera_running():
            return                          # a frame read before the camera stopped
        self._last_sighting = sighting
        self.preview.setPixmap(QPixmap.fromImage(sighting.image).scaled(
            self.preview.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        if sighting.face is None:
            self.sighting.setText("no face in view")
        elif sighting.probabilities:
            best = max(sighting.probabilities, key=sighting.probabilities.get)
            self.sighting.setText(f"the trained model says: <b>{best}</b> {sighting.probabilities[best]:.0%}")
        else:
            self.sighting.setText("face found")
        name = self.selected_class()
        if self._pending and sighting.face is not None and name is not None \
                and sighting.when - self._last_capture >= self.capture_gap:
            self._last_capture = sighting.when
            self._pending -= 1
            self._add_faces(name, [sighting.face], [f"camera {self.camera_index.value()}"])
            if not self._pending:
                self._info(f"{self.collection.counts()[name]} faces for {name!r}")

    # ------------------------------------------------------------ images and folders

    def _ask_images(self):
        pattern = " ".join(f"*{suffix}" for suffix in IMAGE_SUFFIXES)
        paths, _ = QFileDialog.getOpenFileNames(self, "Add images to the class", "",
                                                f"Images ({pattern});;All files (*)")
        if paths:
            self.add_files(paths)

    def _ask_folder(self):
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of images to the class")
        if folder:
            self.add_files([folder])

    def add_files(self, paths, name=None):
        """Read the largest face of each image among ``paths`` (folders searched) into class ``name`` (default:
        the chosen one), in a thread; False (the reason shown) when it cannot start."""
        name = name or self.selected_class()
        if name is None:
            self._error("add a class first: images are added to the chosen class")
            return False
        paths = [Path(p) for p in paths]
        detector = self.detector_name

        def work(task):
            images = list(expand_image_paths(paths))
            if not images:
                raise ValueError(f"no images found in {', '.join(map(str, paths))}")
            listed = LabelledImages(images, [name] * len(images), None, paths[0], (name,))

            def progress(items):
                for done, item in enumerate(items):
                    task.report(done, len(images), f"reading {item[1].name}")
                    yield item

            return read_faces(listed, warm_up_detector(build_detector(detector)), progress)

        return self._start(Task("import", work, self), lambda data: self._on_files_read(name, data))

    def _on_files_read(self, name, data):
        self._add_faces(name, data.faces, data.paths)
        skipped = data.skipped
        text = f"{len(data)} face{'s' if len(data) != 1 else ''} added to {name!r}"
        if skipped:
            reasons = "; ".join(f"{item['path']}: {item['reason']}" for item in skipped[:3])
            text += f"; {len(skipped)} file(s) skipped ({reasons}{'; ...' if len(skipped) > 3 else ''})"
        (self._info if len(data) else self._error)(text)

    # ------------------------------------------------------------ training

    def train(self):
        """Train on every face captured, in a thread; False (the reason shown) when the faces are not enough."""
        from ..own_faces import train_own_model

        if self._task is not None:
            self._error(f"wait for the {self._task.kind} in hand to finish")
            return False
        ready = self.collection.readiness(self.max_folds)
        if ready.problem:
            self._error(f"cannot train yet: {ready.problem}")
            return False
        data = self.collection.labelled()
        method, folds, changes = self.method, ready.folds, self._changes
        total = folds + 2                       # features, each fold, the final fit

        def work(task):
            def progress(splits, desc):
                splits = list(splits)
                for done, split in enumerate(splits):
                    task.report(1 + done, total, f"cross-validation: fold {done + 1} of {len(splits)}")
                    yield split
                task.report(1 + len(splits), total, f"fitting the final model on all {len(data)} faces")

            task.report(0, total, f"features of {len(data)} faces")
            classifier, report = train_own_model(data, method=method, folds=folds, progress=progress,
                                                 log=lambda line: task.progress.emit(-1, total, line))
            return classifier, report, data, changes

        self.progress.setRange(0, total)
        self.progress.setValue(0)
        return self._start(Task("train", work, self), self._on_trained)

    def cancel(self):
        """Stop the training (after the fold in hand) or the reading of images."""
        if self._task is not None:
            self._task.cancel()
            self._info(f"cancelling the {self._task.kind}...")

    def _on_trained(self, result):
        self.classifier, self.report, self.trained_data, self._trained_changes = result
        self._finder.classifier = self.classifier
        self._overwrite_name = None
        self.progress.setValue(self.progress.maximum())
        self.log_label.setText(f"trained on {self.report['n_faces']} faces in {self.report['seconds']:.1f} s")
        self._show_report(self.report)
        if not self.model_name.text().strip():
            self.model_name.setText("-".join(self.report["classes"]).replace("/", "-").replace("\\", "-"))
        self._info("name the model and save it to classify with it in the main window; try it on the camera meanwhile")
        self.trained.emit(self.report)

    def _show_report(self, report):
        cv = report["cv"]
        if cv is None:
            self.score_label.setText(f"Not cross-validated: {report['n_faces']} faces, {report['method']}")
            self.confusion.setRowCount(0)
            return
        classes = cv["classes"]
        grouped = "no person in two folds" if cv["grouped"] else \
            "faces of one person may be in several folds, so it is optimistic for new people"
        self.score_label.setText(
            f"<b>{cv['accuracy']:.1%}</b> &plusmn; {cv['accuracy_sd']:.1%} cross-validated accuracy, "
            f"macro-F1 {cv['macro_f1']:.2f}<br>{report['n_faces']} faces of {len(classes)} classes, "
            f"{cv['folds']}-fold ({grouped}); chance is {1 / len(classes):.0%}; {report['method']}")
        counts = np.asarray(cv["confusion"], dtype=int)
        rows = counts.sum(axis=1, keepdims=True).clip(min=1)
        self.confusion.clear()
        self.confusion.setRowCount(len(classes))
        self.confusion.setColumnCount(len(classes))
        self.confusion.setHorizontalHeaderLabels([f"said {name}" for name in classes])
        self.confusion.setVerticalHeaderLabels(
            [f"{name} ({cv['per_class_recall'][name]:.0%})" for name in classes])
        for (i, j), count in np.ndenumerate(counts):
            share = count / rows[i, 0]
            item = QTableWidgetItem(str(count))
            # PySide2 takes the flag as an int only; PySide6 has deprecated the int.
            item.setTextAlignment(int(Qt.AlignmentFlag.AlignCenter) if PYSIDE2 else Qt.AlignmentFlag.AlignCenter)
            item.setBackground(QBrush(recall_color(share)))
            item.setForeground(QBrush(QColor(255, 255, 255) if share > 0.6 else QColor(0, 0, 0)))
            item.setToolTip(f"{count} {classes[i]} face(s) classified as {classes[j]}: {share:.0%} of the row")
            font = item.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.3)
            item.setFont(font)
            self.confusion.setItem(i, j, item)

    def confusion_counts(self):
        """The confusion matrix as shown: a list of rows of ints (None before a training)."""
        if self.confusion.rowCount() == 0:
            return None
        return [[int(self.confusion.item(i, j).text()) for j in range(self.confusion.columnCount())]
                for i in range(self.confusion.rowCount())]

    # ------------------------------------------------------------ saving

    def save(self, name=None, overwrite=False):
        """Save the trained model as ``name`` (default: the name typed) and announce it (:attr:`model_saved`).

        An existing model of yours of that name is replaced only with
        ``overwrite`` (the Overwrite button); False (the reason shown) when
        nothing was saved or the save could not start.
        """
        from ..own_faces import save_own_model

        if self.classifier is None:
            self._error("train a model first")
            return False
        if self._task is not None:
            self._error(f"wait for the {self._task.kind} in hand to finish")
            return False
        try:
            name = check_model_name(self.model_name.text() if name is None else name)
            exists = existing_model(name)
        except (ValueError, ModelError) as error:       # a bad name, or a damaged registry of your models
            self._error(one_line(error))
            return False
        if exists == "other":
            self._error(f"a model of yours elsewhere is called {name!r} ({list_models()[name].path}); "
                        "choose another name")
            return False
        if exists and not (overwrite and name == self._overwrite_name):
            self._overwrite_name = name
            self.overwrite_button.setText(f"Overwrite {name!r}")
            self.overwrite_button.show()
            self._error(f"a model called {name!r} exists: choose another name, or press Overwrite to replace it")
            return False
        self.model_name.setText(name)
        classifier, report, data, path = self.classifier, self.report, self.trained_data, model_path(name)
        return self._start(Task("save", lambda task: save_own_model(classifier, path, report, data), self),
                           lambda result: self._on_saved(name, result))

    def _on_saved(self, name, result):
        _, outputs = result
        self.saved_name = name
        self._overwrite_name = None
        self.overwrite_button.hide()
        self._info(f"saved {name!r} to {model_path(name)} (report: {outputs['report'].name}); "
                   "the main window now classifies with it")
        self.model_saved.emit(name)

    # ------------------------------------------------------------ tasks

    def _start(self, task, on_done):
        if self._task is not None:
            self._error(f"wait for the {self._task.kind} in hand to finish")
            task.deleteLater()
            return False
        self._task = task
        task.progress.connect(self._on_progress)
        task.done.connect(on_done)
        task.failed.connect(lambda message: self._error(f"{task.kind} failed: {message}"))
        task.cancelled.connect(lambda: self._info(f"{task.kind} cancelled"))
        task.done.connect(lambda _: self._end_task(task, True))
        task.failed.connect(lambda _: self._end_task(task, False))
        task.cancelled.connect(lambda: self._end_task(task, False))
        if task.kind != "train":
            self.progress.setRange(0, 0)       # moving: how long reading and saving take is not known ahead
        self.message.clear()
        task.start()
        self._update()
        return True

    def _on_progress(self, done, total, text):
        if done >= 0 and self.progress.maximum() == total:
            self.progress.setValue(done)
        elif done >= 0 and self._task is not None and self._task.kind == "import":
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.log_label.setText(text)

    def _end_task(self, task, succeeded):
        task.wait()
        task.deleteLater()
        if self._task is task:
            self._task = None
        if self.progress.maximum() == 0 or not succeeded:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if succeeded else 0)
        self._update()
        self.task_finished.emit(task.kind, succeeded)

    def busy(self):
        """The kind of task in hand (``"import"``, ``"train"``, ``"save"``), or None."""
        return None if self._task is None else self._task.kind

    # ------------------------------------------------------------ state and messages

    def _update(self):
        busy = self._task is not None
        camera = self.camera_running()
        has_class = bool(self._rows)
        self.capture_button.setEnabled(camera and has_class)
        self.burst_button.setEnabled(camera and has_class)
        self.camera_index.setEnabled(not camera)
        self.images_button.setEnabled(has_class and not busy)
        self.folder_button.setEnabled(has_class and not busy)
        self.train_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy and self._task.kind in ("train", "import"))
        self.save_button.setEnabled(self.classifier is not None and not busy)
        self.overwrite_button.setEnabled(not busy)
        ready = self.collection.readiness(self.max_folds)
        counts = self.collection.counts()
        if ready.problem:
            self.readiness_label.setText(f"Not ready: {ready.problem}.")
        else:
            persons = "grouped by person" if ready.grouped else "persons not given"
            self.readiness_label.setText(f"Ready: {sum(counts.values())} faces of {len(counts)} classes, "
                                         f"{ready.folds}-fold cross-validation ({persons}).")
        if self.trained_data is not None and self._changes != self._trained_changes:
            self.readiness_label.setText(self.readiness_label.text() + " The faces changed since the last "
                                         "training: train again to include them.")

    def _info(self, text):
        self.message.setStyleSheet("")
        self.message.setText(text)

    def _error(self, text):
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(f"Error: {text}")

    def message_text(self):
        """The line at the bottom: what happened last, ``"Error: ..."`` for a problem."""
        return self.message.text()

    # ------------------------------------------------------------ closing

    def done(self, result):
        # Closed (Esc, the close button): hidden, the camera let go. The faces, a training in hand and its
        # result are still there when teach mode opens again.
        self.stop_camera()
        super().done(result)

    def shutdown(self):
        """Stop every thread (the window is closing): the camera, the face finder, and a task after its step."""
        self.stop_camera()
        if self._task is not None:
            self._task.cancel()
            self._task.wait()
        self._finder.stop()
