"""Where frames come from, read in background threads: video files, cameras, and thumbnails of image files."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
from qtpy.QtCore import QThread, Signal

from ..imageio import ImageError, read_image
from ..video import VideoError, open_capture, read_frames
from .render import display_bgr, to_qimage
from .worker import FrameJob

VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
FALLBACK_FPS = 25.0                     # for files that do not say


def is_video(path):
    """True for a file name with a common video suffix."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


class FrameReader(QThread):
    """Decode a video file or a camera and hand every frame to ``submit``.

    A file is read at its own frame rate, as a player would, and a camera at
    the rate it delivers. ``submit`` (the worker's one-slot mailbox) keeps only
    the newest frame, so frames the worker has no time for are dropped.

    Parameters
    ----------
    source : str or int
        Video file, or camera index.
    source_id : int
        Stamped on every :class:`~fer_classic.gui.worker.FrameJob`.
    submit : callable
        Takes a ``FrameJob``; must be thread-safe.
    """

    opened = Signal(int, float)         # source id, frames per second
    failed = Signal(int, str)           # source id, message
    ended = Signal(int, int)            # source id, index of the last frame read (-1: none)

    def __init__(self, source, source_id, submit, parent=None):
        super().__init__(parent)
        self.source = source
        self.source_id = source_id
        self.label = f"camera {source}" if isinstance(source, int) else Path(source).name
        self._submit = submit
        self._stopped = False

    def stop(self):
        """Stop reading and wait for the thread to end."""
        self._stopped = True
        self.wait()

    def run(self):
        last = -1
        try:
            capture = open_capture(self.source)
        except VideoError as error:
            self.failed.emit(self.source_id, str(error))
        else:
            try:
                last = self._read(capture)
            finally:
                capture.release()
            if last < 0 and not self._stopped:
                self.failed.emit(self.source_id, f"{self.label}: no frame could be decoded")
        self.ended.emit(self.source_id, last)

    def _read(self, capture):
        camera = isinstance(self.source, int)
        fps = capture.get(cv2.CAP_PROP_FPS) or FALLBACK_FPS
        self.opened.emit(self.source_id, fps)
        started, last = time.perf_counter(), -1
        # read_frames skips undecodable frames and ends at the end of the file or when the camera goes away.
        for index, frame in read_frames(capture):
            if self._stopped:
                break
            last = index
            seconds = time.perf_counter() - started if camera else index / fps
            self._submit(FrameJob(self.source_id, self.label, image=frame, stream=True, frame=index, time=seconds))
            if not camera:
                time.sleep(max(0.0, started + (index + 1) / fps - time.perf_counter()))
        return last


class ThumbnailLoader(QThread):
    """Read image files and emit small previews, so a large folder never blocks the window.

    A file that cannot be read is reported by :attr:`unreadable`, for the strip to mark it.

    Parameters
    ----------
    paths : list of Path
    source_id : int
        Stamped on every preview, to ignore those of a folder no longer shown.
    size : int
        Longest side of a preview, in pixels.
    """

    thumbnail = Signal(int, int, object)        # source id, row, QImage
    unreadable = Signal(int, int, str)          # source id, row, why

    def __init__(self, paths, source_id, size=96, parent=None):
        super().__init__(parent)
        self.paths = list(paths)
        self.source_id = source_id
        self.size = size
        self._stopped = False

    def stop(self):
        """Stop after the current file and wait for the thread to end."""
        self._stopped = True
        self.wait()

    def run(self):
        for row, path in enumerate(self.paths):
            if self._stopped:
                return
            try:
                image = display_bgr(read_image(path))
            except ImageError as error:
                self.unreadable.emit(self.source_id, row, str(error))
                continue
            scale = self.size / max(image.shape[:2])
            small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            self.thumbnail.emit(self.source_id, row, to_qimage(small))
