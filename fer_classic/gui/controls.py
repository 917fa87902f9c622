"""The settings side panel: model, detector, teaching overlays and smoothing."""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                            QSlider, QSpinBox, QVBoxLayout, QWidget)

from ..detect import CASCADES
from .render import Overlays
from .worker import AnalysisSettings

OVERLAY_LABELS = {"boxes": "Face boxes (detect)", "landmarks": "68 landmarks (extract)",
                  "hog": "HOG of the aligned face (extract)", "lbp": "LBP image (extract)",
                  "timings": "Time per phase"}


def model_label(name, entry):
    """``"classic - 62.7% PrivateTest"``: a model's name and its PrivateTest accuracy from the manifest."""
    accuracy = entry.get("metrics", {}).get("PrivateTest", {}).get("accuracy")
    return f"{name} - {accuracy:.1%} PrivateTest" if accuracy is not None else f"{name} - not scored"


class ControlPanel(QWidget):
    """Every setting the user can change, read back as :class:`AnalysisSettings` and :class:`Overlays`.

    Parameters
    ----------
    models : dict
        ``{name: manifest entry}``, as ``read_manifest()["models"]``.
    """

    analysis_changed = Signal()         # the model or the detector: results of the current image change
    display_changed = Signal()          # overlays or smoothing: the current image is only redrawn

    def __init__(self, models, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._model_group(models))
        layout.addWidget(self._detector_group())
        layout.addWidget(self._overlay_group())
        layout.addWidget(self._smoothing_group())

    def _model_group(self, models):
        group = QGroupBox("Model (phases 2 and 3)")
        self.model = QComboBox()
        for name, entry in sorted(models.items()):
            self.model.addItem(model_label(name, entry), name)
        if "classic" in models:
            self.model.setCurrentIndex(self.model.findData("classic"))
        self.model.currentIndexChanged.connect(self.analysis_changed)
        QVBoxLayout(group).addWidget(self.model)
        return group

    def _detector_group(self):
        group = QGroupBox("Detector (phase 1)")
        form = QFormLayout(group)
        self.cascade = QComboBox()
        self.cascade.addItems(list(CASCADES))      # frontal-default first, the default
        defaults = AnalysisSettings()
        self.scale_factor = QDoubleSpinBox()
        self.scale_factor.setRange(1.01, 2.0)
        self.scale_factor.setSingleStep(0.05)
        self.scale_factor.setValue(defaults.scale_factor)
        self.min_neighbors = QSpinBox()
        self.min_neighbors.setRange(0, 30)
        self.min_neighbors.setValue(defaults.min_neighbors)
        form.addRow("Haar cascade", self.cascade)
        form.addRow("scaleFactor", self.scale_factor)
        form.addRow("minNeighbors", self.min_neighbors)
        self.cascade.currentIndexChanged.connect(self.analysis_changed)
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
        group = QGroupBox("Video")
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

    def _update_strength_label(self):
        self.strength_label.setText(f"{self.strength.value() / 100:.2f}")

    def overlays(self):
        """The overlay check boxes as :class:`Overlays`."""
        return Overlays(**{name: check.isChecked() for name, check in self.overlay_checks.items()})

    def settings(self):
        """Everything the worker needs, as :class:`AnalysisSettings`."""
        return AnalysisSettings(
            model=self.model.currentData(), cascade=self.cascade.currentText(),
            scale_factor=round(self.scale_factor.value(), 2), min_neighbors=self.min_neighbors.value(),
            smoothing=self.strength.value() / 100 if self.smooth.isChecked() else 0.0,
            stream_phases=self.overlays().needs_phases)

    def select_model(self, name):
        """Choose the model called ``name``; returns False when it is not listed."""
        index = self.model.findData(name)
        if index >= 0:
            self.model.setCurrentIndex(index)
        return index >= 0
