"""The side panel: the model in use at the top, then the result, then the settings (collapsible)."""

from __future__ import annotations

from qtpy.QtCore import QEvent, QObject, Qt, Signal
from qtpy.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                            QHBoxLayout, QLabel, QSlider, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from ..cnn.architectures import ARCHITECTURES
from ..cnn.runtimes import RUNTIMES
from ..detect.registry import DETECTORS, PHOTO_DETECTOR, VIDEO_DETECTOR
from ..method_name import MethodName
from ..model_files import DEFAULT_MODEL
from .render import Overlays
from .worker import AnalysisSettings

OVERLAY_LABELS = {"boxes": "Face boxes (detect)", "landmarks": "68 landmarks (extract)",
                  "hog": "HOG of the aligned face (extract)", "lbp": "LBP image (extract)",
                  "timings": "Time per phase"}
FEATURE_OVERLAYS = ("landmarks", "hog", "lbp")          # the overlays showing what a model extracts
ACCURACY_TIP = ("The share of the 3,589 faces of FER2013's test set (PrivateTest) whose emotion the model names\n"
                "as the data set's labellers did; it never saw these faces in training. Random guessing scores\n"
                "about 14%; people agree with FER2013's labels about 65% of the time.")


def model_features(entry):
    """The overlays of what a model extracts, from its manifest ``method``.

    ``"hog+lbp+landmarks/mlp"`` gives ``{"hog", "lbp", "landmarks"}``,
    ``"landmarks/mlp"`` ``{"landmarks"}``, and a CNN (``"cnn/fer-cnn"``) nothing.
    """
    try:
        features = MethodName.parse(entry.method).features
    except (AttributeError, ValueError):  # no manifest entry (None), or no method in it: no overlay to choose
        return set()
    return {name for name in FEATURE_OVERLAYS if name in features}


def accuracy_text(entry):
    """``"62.7% accuracy on the FER2013 test set"``, from the manifest's PrivateTest metrics."""
    accuracy = entry.accuracy("PrivateTest") if entry is not None else None
    return "not measured on the FER2013 test set" if accuracy is None else \
        f"{accuracy:.1%} accuracy on the FER2013 test set"


class WheelGuard(QObject):
    """No silent changes: the mouse wheel scrolls the panel, and changes a setting only once it has the focus.

    Installed on the panel's combo boxes, spin boxes and sliders; they take the
    focus by a click or Tab (``Qt.StrongFocus``), not by the wheel. An ignored
    wheel event goes on to the scroll area around the panel.
    """

    def watch(self, widget):
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(self)

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            event.ignore()
            return True
        return False


class RangeGuard(QObject):
    """A spin box value typed out of range is refused aloud: Qt alone puts the old value back without a word.

    Emits :attr:`refused` with the message when Enter or leaving the box finds
    text the box cannot accept.
    """

    refused = Signal(str)

    def watch(self, box, name):
        box.setProperty("setting_name", name)
        box.installEventFilter(self)

    def eventFilter(self, watched, event):
        leaving = event.type() == QEvent.Type.FocusOut or (
            event.type() == QEvent.Type.KeyPress and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter))
        if leaving and isinstance(watched, QAbstractSpinBox) and not watched.hasAcceptableInput():
            low = watched.minimum() + watched.singleStep()      # the lowest value is the special "default"
            special = watched.specialValueText()
            kept = special if watched.value() == watched.minimum() else f"{watched.value():g}"
            self.refused.emit(f"{watched.property('setting_name')} {watched.text().strip()!r} refused: it must be "
                              f"from {low:g} to {watched.maximum():g}, or {special!r}; kept {kept}")
        return False


def untrained_architectures(models):
    """The CNN architectures that no listed model was trained as."""
    trained = {entry.method for entry in models.values() if entry is not None}
    return [name for name in ARCHITECTURES if f"cnn/{name}" not in trained]


class SidePanel(QWidget):
    """The model in use, the result of the selected face, and every setting, read back as settings and overlays.

    Parameters
    ----------
    models : dict
        ``{name: manifest entry}``, shipped models and the user's (:func:`fer_classic.store.list_models`).
    result : QWidget
        Shown between the model and the settings.
    """

    analysis_changed = Signal()         # the model or the detector: results of the current image change
    display_changed = Signal()          # overlays or smoothing: the current image is only redrawn
    refused = Signal(str)               # a value typed out of range, refused: what to tell the user

    def __init__(self, models, result, parent=None):
        super().__init__(parent)
        self.models = models
        self.wheel_guard, self.range_guard = WheelGuard(self), RangeGuard(self)
        self.range_guard.refused.connect(self.refused)
        self.previous_runtime = None    # the runtime before the current choice: where a failed load falls back
        self.settings_toggle = QToolButton()
        self.settings_toggle.setText("Settings")
        self.settings_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_toggle.setCheckable(True)
        self.settings_toggle.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
        self.settings_box = QWidget()
        settings = QVBoxLayout(self.settings_box)
        settings.setContentsMargins(0, 0, 0, 0)
        for group in (self._detector_group(), self._overlay_group(), self._smoothing_group()):
            settings.addWidget(group)
        self.settings_toggle.toggled.connect(self._show_settings)
        self.settings_toggle.setChecked(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self._model_group(), result, self.settings_toggle, self.settings_box):
            layout.addWidget(widget)
        layout.addStretch(1)
        for widget in (self.model, self.runtime, self.detector, self.scale_factor, self.min_neighbors, self.strength):
            self.wheel_guard.watch(widget)
        self.range_guard.watch(self.scale_factor, "scaleFactor")
        self.range_guard.watch(self.min_neighbors, "minNeighbors")
        self._on_model_changed()

    def _model_group(self):
        group = QGroupBox("Model")
        self.model = QComboBox()
        # Long "not trained" reasons must not widen the panel: the list pops up as wide as it needs.
        self.model.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model.setMinimumContentsLength(16)
        for name in sorted(self.models):
            self.model.addItem(name, name)
        for name in untrained_architectures(self.models):
            self.model.addItem(f"{name} - not trained: fer-classic train --method cnn/{name}", name)
            self.model.model().item(self.model.count() - 1).setEnabled(False)
        self.model.view().setMinimumWidth(self.model.view().sizeHintForColumn(0))
        if DEFAULT_MODEL in self.models:
            self.model.setCurrentIndex(self.model.findData(DEFAULT_MODEL))
        self.accuracy = QLabel()
        self.model.currentIndexChanged.connect(self._on_model_changed)
        # What runs a CNN: each network's measured choice by default (see fer_classic.cnn.runtimes).
        self.runtime = QComboBox()
        self.runtime.addItem("default (measured)", None)
        for name in RUNTIMES:
            self.runtime.addItem(name, name)
        self.runtime.setToolTip("What runs a CNN: LiteRT (float32 or int8) or TensorFlow; by default, the runtime\n"
                                "measured fastest for that network. Classical models have no runtime to choose.")
        self._runtime_shown = None
        self.runtime.currentIndexChanged.connect(self._on_runtime_changed)
        row = QHBoxLayout()
        row.addWidget(QLabel("runtime"))
        row.addWidget(self.runtime, 1)
        column = QVBoxLayout(group)
        column.addWidget(self.model)
        column.addWidget(self.accuracy)
        column.addLayout(row)
        return group

    def _on_runtime_changed(self):
        self.previous_runtime, self._runtime_shown = self._runtime_shown, self.runtime.currentData()
        self.analysis_changed.emit()

    def set_runtime(self, runtime):
        """Show ``runtime`` as chosen without reloading anything (a failed load falls back to it)."""
        self.runtime.blockSignals(True)
        self.runtime.setCurrentIndex(max(0, self.runtime.findData(runtime)))
        self.runtime.blockSignals(False)
        self._runtime_shown = runtime

    def is_cnn(self):
        """Whether the chosen model is a CNN, the only kind with a runtime to choose."""
        entry = self.models.get(self.model.currentData())
        return getattr(entry, "kind", None) == "cnn"

    def _detector_group(self):
        group = QGroupBox("Detector (phase 1)")
        form = QFormLayout(group)
        self.detector = QComboBox()
        self.detector.addItem(f"default ({PHOTO_DETECTOR} for photos, {VIDEO_DETECTOR} for video)", None)
        for name in DETECTORS:
            self.detector.addItem(name, name)
        # The lowest value of each box stands for "the detector's own default".
        self.scale_factor = QDoubleSpinBox()
        self.scale_factor.setRange(1.0, 2.0)
        self.scale_factor.setSingleStep(0.05)
        self.scale_factor.setSpecialValueText("default")
        self.min_neighbors = QSpinBox()
        self.min_neighbors.setRange(-1, 30)
        self.min_neighbors.setSpecialValueText("default")
        for box in (self.scale_factor, self.min_neighbors):
            box.setValue(box.minimum())
        form.addRow("detector", self.detector)
        form.addRow("scaleFactor", self.scale_factor)
        form.addRow("minNeighbors", self.min_neighbors)
        self.detector.currentIndexChanged.connect(self.analysis_changed)
        self.scale_factor.valueChanged.connect(self.analysis_changed)
        self.min_neighbors.valueChanged.connect(self.analysis_changed)
        return group

    def _overlay_group(self):
        group = QGroupBox("Show each phase")
        column = QVBoxLayout(group)
        defaults = Overlays()
        self.overlay_checks = {}
        for name, label in OVERLAY_LABELS.items():
            check = QCheckBox(label)
            check.setChecked(getattr(defaults, name))
            check.toggled.connect(self.display_changed)
            column.addWidget(check)
            self.overlay_checks[name] = check
        return group

    def _smoothing_group(self):
        group = self.video_group = QGroupBox("Video")
        row = QHBoxLayout(group)
        self.smooth = QCheckBox("Smooth over time")
        self.smooth.setChecked(True)
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(0, 95)           # EmaSmoother needs a weight below 1
        self.strength.setValue(round(AnalysisSettings().smoothing * 100))
        self.strength_label = QLabel()
        self.smooth.toggled.connect(self.strength.setEnabled)
        for signal in (self.smooth.toggled, self.strength.valueChanged):
            signal.connect(self._update_strength_label)
            signal.connect(self.display_changed)
        self._update_strength_label()
        row.addWidget(self.smooth)
        row.addWidget(self.strength)
        row.addWidget(self.strength_label)
        return group

    def _show_settings(self, shown):
        self.settings_box.setVisible(shown)
        self.settings_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _on_model_changed(self):
        name = self.model.currentData()
        entry = self.models.get(name)
        self.accuracy.setText(accuracy_text(entry))
        self.accuracy.setToolTip("\n\n".join(filter(None, [ACCURACY_TIP, entry.note if entry else None])))
        # Overlays of features the model does not extract would show work it never does.
        features = self.features()
        for overlay in FEATURE_OVERLAYS:
            self._offer(self.overlay_checks[overlay], overlay in features, f"{name} does not use these features")
        self.runtime.setEnabled(self.is_cnn())
        self.analysis_changed.emit()

    @staticmethod
    def _offer(check, offered, why):
        # A toggle the model cannot use shows no tick (it would claim an overlay that is not drawn); the user's
        # choice comes back with a model that can.
        if offered == check.isEnabled():
            return
        check.blockSignals(True)
        if offered:
            check.setChecked(check.property("wanted") or False)
        else:
            check.setProperty("wanted", check.isChecked())
            check.setChecked(False)
        check.blockSignals(False)
        check.setEnabled(offered)
        check.setToolTip("" if offered else why)

    def show_video_settings(self, shown):
        """Show the settings that only video has (smoothing over time), or hide them for still images."""
        self.video_group.setVisible(shown)

    def features(self):
        """The overlays of what the chosen model extracts (see :func:`model_features`)."""
        return model_features(self.models.get(self.model.currentData()))

    def _update_strength_label(self):
        self.strength_label.setText(f"{self.strength.value() / 100:.2f}")

    def overlays(self):
        """The overlays that are checked and that the chosen model has, as :class:`Overlays`."""
        return Overlays(**{name: check.isChecked() and check.isEnabled()
                           for name, check in self.overlay_checks.items()})

    def settings(self):
        """Everything the worker needs, as :class:`AnalysisSettings`."""
        return AnalysisSettings(
            model=self.model.currentData(), detector=self.detector.currentData(),
            scale_factor=None if self.scale_factor.value() == self.scale_factor.minimum()
            else round(self.scale_factor.value(), 2),
            min_neighbors=None if self.min_neighbors.value() == self.min_neighbors.minimum()
            else self.min_neighbors.value(),
            smoothing=self.strength.value() / 100 if self.smooth.isChecked() else 0.0,
            stream_phases=self.overlays().needs_phases,
            runtime=self.runtime.currentData() if self.is_cnn() else None)

    def state(self):
        """Every setting, as plain values for remembering them between sessions (see :meth:`restore`)."""
        return {"model": self.model.currentData(), "runtime": self.runtime.currentData(),
                "detector": self.detector.currentData(), "scale_factor": self.scale_factor.value(),
                "min_neighbors": self.min_neighbors.value(), "smooth": self.smooth.isChecked(),
                "strength": self.strength.value(), "settings_shown": self.settings_toggle.isChecked(),
                # A toggle the model cannot use remembers the user's tick, not its forced blank.
                "overlays": {name: check.isChecked() if check.isEnabled() else bool(check.property("wanted"))
                             for name, check in self.overlay_checks.items()}}

    def restore(self, state):
        """Apply a :meth:`state` of an earlier session; what no longer exists (a model deleted) is left as it is."""
        combos = ((self.model, "model"), (self.runtime, "runtime"), (self.detector, "detector"))
        for combo, key in combos:
            index = combo.findData(state.get(key))
            if key in state and index >= 0 and combo.model().item(index).isEnabled():
                combo.setCurrentIndex(index)
        for box, key in ((self.scale_factor, "scale_factor"), (self.min_neighbors, "min_neighbors"),
                         (self.strength, "strength")):
            if isinstance(state.get(key), (int, float)) and box.minimum() <= state[key] <= box.maximum():
                box.setValue(state[key])
        for check, key in ((self.smooth, "smooth"), (self.settings_toggle, "settings_shown")):
            if isinstance(state.get(key), bool):
                check.setChecked(state[key])
        for name, checked in (state.get("overlays") or {}).items():
            check = self.overlay_checks.get(name)
            if check is not None and isinstance(checked, bool):
                if check.isEnabled():
                    check.setChecked(checked)
                else:
                    check.setProperty("wanted", checked)

    def refresh_model(self):
        """Read the chosen model's entry again and re-analyse: the same name, a new file."""
        self._on_model_changed()

    def select_model(self, name):
        """Choose the trained model called ``name``; returns False when none is listed."""
        index = self.model.findData(name)
        if index < 0 or not self.model.model().item(index).isEnabled():
            return False
        self.model.setCurrentIndex(index)
        return True
