"""Timelines of a video: a per-frame CSV, and per-face summaries and plots."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..atomic import PartialFile, save_figure
from ..faces import EMOTIONS

TIMELINE_COLUMNS = ["frame", "time_s", "face_id", "x", "y", "w", "h", *EMOTIONS]


class TimelineWriter:
    """Per-frame CSV, one row per face, written whole or not at all.

    Rows go to a hidden partial file beside ``path``, flushed after every
    frame, which :meth:`close` renames onto ``path``; Ctrl+C ends a run
    through :meth:`close`, so the frames done are kept.

    Raises
    ------
    fer_classic.atomic.OutputError
        When ``path`` cannot be written (a missing folder, a device...).
    """

    def __init__(self, path):
        self.path = Path(path)
        self._file = PartialFile(self.path, "w", newline="", encoding="utf-8")
        self.handle = self._file.stream
        self.writer = csv.writer(self.handle)
        self.writer.writerow(TIMELINE_COLUMNS)

    def write(self, record):
        for face in record["faces"]:
            self.writer.writerow([record["frame"], record["time"], face["face_id"], *face["box"],
                                  *(f"{face['probabilities'][e]:.5f}" for e in EMOTIONS)])
        self.handle.flush()

    def close(self, keep=True):
        """Give the file its name; with ``keep`` False, nothing is left."""
        self._file.close(keep)


class TimelineSummary:
    """Per face: frames seen, share of frames in each emotion, dominant emotion; and the series to plot."""

    def __init__(self):
        self.series = {}            # face id -> list of (time, probabilities)

    def add(self, record):
        for face in record["faces"]:
            self.series.setdefault(face["face_id"], []).append(
                (record["time"], [face["probabilities"][e] for e in EMOTIONS]))

    def summary(self):
        faces = {}
        for face_id, points in self.series.items():
            decisions = np.bincount(np.argmax([p for _, p in points], axis=1), minlength=len(EMOTIONS))
            share = decisions / decisions.sum()
            faces[face_id] = {"frames": len(points), "dominant": EMOTIONS[int(share.argmax())],
                              "share": {e: round(float(s), 4) for e, s in zip(EMOTIONS, share)}}
        return faces

    def plot(self, path):
        """A PNG with one panel per face: the seven probabilities over time."""
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
                for k, (emotion, color) in enumerate(zip(EMOTIONS, emotion_colors_float())):
                    axis.plot(times, values[:, k], color=color, label=emotion, linewidth=1.4)
            axis.set_ylim(0, 1)
            axis.set_ylabel(f"face #{face_id}" if face_id else "no faces")
        axes[0, 0].legend(ncol=7, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1.3))
        axes[-1, 0].set_xlabel("time (s)")
        figure.tight_layout()
        try:
            save_figure(figure, path, dpi=100)
        finally:
            plt.close(figure)
