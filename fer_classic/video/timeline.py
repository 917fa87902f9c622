"""Timelines of a video: a per-frame CSV, and per-face summaries and plots.

Both follow the recognizer's classes (:attr:`fer_classic.EmotionRecognizer.classes`):
a probability column and a line per class, in the model's order; FER2013's
seven emotions for the shipped models.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..atomic import PartialFile, save_figure
from ..faces import EMOTIONS
from ..paths import csv_cell


def timeline_columns(classes):
    """The per-frame CSV's columns for a model of ``classes``: where and when the face is, then its probabilities."""
    return ["frame", "time_s", "face_id", "x", "y", "w", "h", *classes]


TIMELINE_COLUMNS = timeline_columns(EMOTIONS)   # a FER2013 model's


class TimelineWriter:
    """Per-frame CSV, one row per face, written whole or not at all.

    Rows go to a hidden partial file beside ``path``, flushed after every
    frame, which :meth:`close` renames onto ``path``; Ctrl+C ends a run
    through :meth:`close`, so the frames done are kept. Until then ``path`` is
    locked (:class:`fer_classic.atomic.OutputLock`), as ``batch`` locks its
    ``--out``: a second writer to it is refused, naming this one's pid.

    Parameters
    ----------
    path : str or Path
    classes : sequence of str
        The recognizer's classes: the probability columns, in this order.

    Raises
    ------
    fer_classic.atomic.OutputError
        When ``path`` cannot be written (a missing folder, a device...), or
        another process is writing it.
    """

    def __init__(self, path, classes=EMOTIONS):
        self.path, self.classes = Path(path), tuple(classes)
        self._file = PartialFile(self.path, "w", lock=True, newline="", encoding="utf-8")
        self.handle = self._file.stream
        self.writer = csv.writer(self.handle)
        # A class named like a formula (=..., +..., -..., @...) gets a leading ' (fer_classic.paths.csv_cell).
        self.writer.writerow([csv_cell(column) for column in timeline_columns(self.classes)])

    def write(self, record):
        for face in record["faces"]:
            self.writer.writerow([csv_cell(cell) for cell in (
                record["frame"], record["time"], face["face_id"], *face["box"],
                *(f"{face['probabilities'][name]:.5f}" for name in self.classes))])
        self.handle.flush()

    def close(self, keep=True):
        """Give the file its name; with ``keep`` False, nothing is left."""
        self._file.close(keep)


class TimelineSummary:
    """Per face: frames seen, share of frames in each class, dominant class; and the series to plot.

    Parameters
    ----------
    classes : sequence of str
        The recognizer's classes, in its order.
    """

    def __init__(self, classes=EMOTIONS):
        self.classes = tuple(classes)
        self.series = {}            # face id -> list of (time, probabilities in class order)

    def add(self, record):
        for face in record["faces"]:
            self.series.setdefault(face["face_id"], []).append(
                (record["time"], [face["probabilities"][name] for name in self.classes]))

    def summary(self):
        faces = {}
        for face_id, points in self.series.items():
            decisions = np.bincount(np.argmax([p for _, p in points], axis=1), minlength=len(self.classes))
            share = decisions / decisions.sum()
            faces[face_id] = {"frames": len(points), "dominant": self.classes[int(share.argmax())],
                              "share": {name: round(float(s), 4) for name, s in zip(self.classes, share)}}
        return faces

    def plot(self, path):
        """A PNG with one panel per face: each class's probability over time."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..annotate import emotion_colors_float

        ids = sorted(self.series) or [None]
        figure, axes = plt.subplots(len(ids), 1, figsize=(10, 2.6 * len(ids)), squeeze=False, sharex=True)
        for axis, face_id in zip(axes[:, 0], ids):
            points = self.series.get(face_id, [])
            if points:
                times = [t for t, _ in points]
                values = np.array([p for _, p in points])
                for k, (name, color) in enumerate(zip(self.classes, emotion_colors_float(self.classes))):
                    axis.plot(times, values[:, k], color=color, label=name, linewidth=1.4)
            axis.set_ylim(0, 1)
            axis.set_ylabel(f"face #{face_id}" if face_id else "no faces")
        axes[0, 0].legend(ncol=min(len(self.classes), 7), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1.3))
        axes[-1, 0].set_xlabel("time (s)")
        figure.tight_layout()
        try:
            save_figure(figure, path, dpi=100)
        finally:
            plt.close(figure)
