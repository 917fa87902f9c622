"""What the window writes besides images and video: CSV files, and where outputs go by default.

A video's or the camera's results are written as ``fer-classic video --csv``
writes them (one row per frame and face); images and folders as
``fer-classic batch`` does (one row per face, :func:`~fer_classic.batch.batch_columns`),
every image of the set analysed in a background thread with the window's
model and detector; both have a probability column per class of the model.
Both go through :mod:`fer_classic.atomic`: a CSV is written whole or not at all,
and is locked while it is made (:class:`~fer_classic.atomic.OutputLock`, as
``batch`` locks its ``--out``): a second writer to it, this window or another
process, is refused in one line naming the pid of the one at work.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from qtpy.QtCore import QThread, Signal

from ..atomic import OutputError, OutputLock, replacing
from ..batch import classify_chunk, model_columns
from ..paths import csv_cell, display_path
from ..video import TimelineWriter


def default_output(source, suffix, frame=None):
    """Where an output of ``source`` goes unless the user says otherwise: beside it, named after it.

    Parameters
    ----------
    source : str, Path or None
        The image, video or folder shown; None for a camera (the working folder then).
    suffix : str
        ``".annotated.png"``, ``".annotated.avi"``, ``".csv"``...
    frame : int, optional
        The video frame an image is saved from.

    Returns
    -------
    Path
        E.g. ``photos/party.annotated.png`` for ``photos/party.jpg``, ``clips/talk.frame120.annotated.png``
        for frame 120 of ``clips/talk.mp4``, ``photos.csv`` beside the folder ``photos``.
    """
    if source is None:
        return Path.cwd() / f"camera{suffix}"
    source = Path(source)
    stem = source.name if source.is_dir() else source.stem
    return source.parent / f"{stem}{'' if frame is None else f'.frame{frame}'}{suffix}"


def write_timeline(path, records):
    """Write a stream's per-frame records as ``fer-classic video --csv`` does, whole or not at all.

    Parameters
    ----------
    path : str or Path
    records : list of dict
        With ``frame``, ``time`` and ``faces``, as :func:`fer_classic.video.analyze_video` yields them.
        The columns are their faces' classes (FER2013's seven when no frame has a face).

    Raises
    ------
    fer_classic.atomic.OutputError
        When ``path`` cannot be written or another process is writing it, or the frames were analysed by
        models of different classes (one table cannot hold both).
    """
    classes = {tuple(face["probabilities"]) for record in records for face in record["faces"]}
    if len(classes) > 1:
        raise OutputError(f"{display_path(path)}: cannot write: the frames were analysed by models of different "
                          f"classes ({' / '.join(','.join(names) for names in sorted(classes))}); play the video "
                          "again with one model")
    writer = TimelineWriter(path, *classes)          # no face in any frame: the writer's default columns; locks path
    finished = False
    try:
        for record in records:
            writer.write(record)
        finished = True
    finally:
        writer.close(keep=finished)


def relative_to(path, folder):
    """``path`` as seen from ``folder`` (the CSV's), so the two can move together; absolute when it cannot be."""
    try:
        return os.path.relpath(os.path.abspath(path), os.path.abspath(folder))
    except ValueError:              # another drive (Windows)
        return os.path.abspath(path)


class BatchExporter(QThread):
    """Analyse image files and write their results as ``fer-classic batch`` does, in a background thread.

    The ``file`` column is relative to the CSV's folder (:func:`relative_to`).

    Parameters
    ----------
    paths : list of Path
        The images, in order.
    out : str or Path
        The CSV to write.
    settings : AnalysisSettings
        The window's model and detector.
    """

    progress = Signal(int, int)         # files done, files in all
    done = Signal(str, int)             # the CSV written, rows in it
    failed = Signal(str)                # why nothing was written

    def __init__(self, paths, out, settings, parent=None):
        super().__init__(parent)
        self.paths, self.out, self.settings = list(paths), Path(out), settings
        self._stopped = False

    def stop(self):
        """Stop after the current file, writing nothing, and wait for the thread to end."""
        self._stopped = True
        self.wait()

    def run(self):
        options = {"name": self.settings.detector, "scale_factor": self.settings.scale_factor,
                   "min_neighbors": self.settings.min_neighbors}
        rows = []
        try:
            # Locked before the first image is analysed: a second writer is refused at once, not after the work.
            with OutputLock(self.out):
                columns = model_columns(self.settings.model, options, trust=False)
                for done, path in enumerate(self.paths, start=1):
                    if self._stopped:
                        return
                    rows += [dict(row, file=relative_to(row["file"], self.out.parent))
                             for row in classify_chunk([path], self.settings.model, options)]
                    self.progress.emit(done, len(self.paths))
                with replacing(self.out, "w", newline="", encoding="utf-8") as stream:
                    # As batch writes them: a cell a spreadsheet would run as a formula starts with a '.
                    writer = csv.writer(stream)
                    writer.writerow([csv_cell(column) for column in columns])
                    writer.writerows([csv_cell(row.get(column, "")) for column in columns] for row in rows)
        except Exception as error:  # noqa: BLE001 - a model or a disk may fail; the window must hear why
            self.failed.emit(str(error) or type(error).__name__)
            return
        self.done.emit(str(self.out), len(rows))
