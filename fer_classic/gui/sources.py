"""Where frames come from, read in background threads: video files, cameras, and thumbnails of image files."""

from __future__ import annotations

import os
import threading
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


def videos_in(paths):
    """How many videos lie in the folders among ``paths``, searched as folders of images are (hidden ones left out).

    A folder opens as images; the window says how many videos it left out.
    """
    count = 0
    for folder in (Path(p) for p in paths):
        if folder.is_dir():
            for root, subfolders, files in os.walk(folder):
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
                count += sum(1 for name in files if not name.startswith(".") and is_video(name))
    return count


class FrameReader(QThread):
    """Decode a video file or a camera and hand every frame to ``submit``, as a player would.

    A file is read at its own frame rate, and a camera at the rate it
    delivers. ``submit`` (the worker's one-slot mailbox) keeps only the newest
    frame, so frames the worker has no time for are dropped.

    A file can be paused, held and sought: :meth:`set_paused` is the user's
    pause; :meth:`set_held` holds the file while a model loads, so no frame
    passes unanalysed; :meth:`seek` reads the frame asked for next, also while
    paused. At the end of a file the reader waits, paused, for a seek or
    :meth:`stop`. A camera is only ever live: paused or held, its frames are
    read and dropped.

    Parameters
    ----------
    source : str or int
        Video file, or camera index.
    source_id : int
        Stamped on every :class:`~fer_classic.gui.worker.FrameJob`; a seek brings a new one.
    submit : callable
        Takes a ``FrameJob``; must be thread-safe.
    """

    opened = Signal(int, float, int)    # source id, frames per second, frame count (0: unknown, a camera)
    failed = Signal(int, str)           # source id, message
    at_end = Signal(int, int)           # source id, index of the last frame: a file played to its end, waiting
    ended = Signal(int, int)            # source id, index of the last frame read (-1: none): the thread ends

    def __init__(self, source, source_id, submit, parent=None):
        super().__init__(parent)
        self.source = source
        self.source_id = source_id
        self.camera = isinstance(source, int)
        self.label = f"camera {source}" if self.camera else Path(source).name
        self._submit = submit
        self._condition = threading.Condition()     # guards what the window changes while the thread reads
        self._stopped = self._paused = self._held = False
        self._seek = None                           # (frame, source id) asked for and not yet read
        self._due = None                            # when the last frame was shown (perf_counter), for the pace
        self._show_next = False                     # a frame sought: show it even while paused

    def stop(self):
        """Stop reading and wait for the thread to end."""
        self._change(_stopped=True)
        self.wait()

    def set_paused(self, paused):
        """Pause or resume playing; resuming at the end of a file plays it again from the start."""
        self._change(_paused=paused)

    def set_held(self, held):
        """Hold a file at its current frame (a model is loading), or let it go on."""
        self._change(_held=held)

    def seek(self, frame, source_id):
        """Read ``frame`` next (a file only), stamping it and what follows with ``source_id``."""
        self._change(_seek=(int(frame), source_id))

    def _change(self, **state):
        with self._condition:
            for name, value in state.items():
                setattr(self, name, value)
            self._condition.notify_all()

    def run(self):
        last = -1
        try:
            capture = open_capture(self.source)
        except VideoError as error:
            self.failed.emit(self.source_id, str(error))
        else:
            try:
                last = self._read_camera(capture) if self.camera else self._read_file(capture)
            finally:
                capture.release()
            if last < 0 and not self._stopped:
                self.failed.emit(self.source_id, f"{self.label}: no frame could be decoded")
        self.ended.emit(self.source_id, last)

    def _read_camera(self, capture):
        self.opened.emit(self.source_id, capture.get(cv2.CAP_PROP_FPS) or FALLBACK_FPS, 0)
        started, last = time.perf_counter(), -1
        # read_frames ends when the camera goes away.
        for index, frame in read_frames(capture):
            if self._stopped:
                break
            last = index
            if not (self._paused or self._held):
                self._submit(FrameJob(self.source_id, self.label, image=frame, stream=True, frame=index,
                                      time=time.perf_counter() - started))
        return last

    def _read_file(self, capture):
        fps = capture.get(cv2.CAP_PROP_FPS) or FALLBACK_FPS
        self.opened.emit(self.source_id, fps, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        start, last = 0, -1
        while True:
            # read_frames skips undecodable frames; after a seek it reads on from the frame sought.
            for offset, frame in read_frames(capture):
                index = start + offset
                if not self._wait_until_due(index, last, fps):
                    break
                last = index
                self._submit(FrameJob(self.source_id, self.label, image=frame, stream=True, frame=index,
                                      time=index / fps))
            else:
                if last < 0:
                    return last                         # nothing decodable: run() says so
                self.at_end.emit(self.source_id, last)
                self._change(_paused=True)              # wait for a seek or a stop, as a player does
                self._wait_until_due(-1, last, fps)
            with self._condition:
                if self._stopped:
                    return last
                # Resumed at the end without a seek: from the start again.
                (start, self.source_id), self._seek = self._seek or (0, self.source_id), None
                self._show_next = True
            capture.set(cv2.CAP_PROP_POS_FRAMES, start)

    def _wait_until_due(self, index, last, fps):
        """Wait while paused or held, then until frame ``index`` is due; False when a seek or stop comes first."""
        with self._condition:
            while True:
                if self._seek is not None or self._stopped:
                    return False
                if self._show_next:
                    self._show_next, self._due = False, time.perf_counter()
                    return True
                if self._paused or self._held:
                    self._condition.wait()
                    self._due = None                    # the clock starts again on resuming
                    continue
                now = time.perf_counter()
                if self._due is None or index != last + 1:
                    self._due = now                     # the first frame, or one after a gap: now
                    return True
                # The file's pace, never racing to catch up after a slow moment.
                due = max(self._due + 1 / fps, now - 1 / fps)
                if due <= now:
                    self._due = due
                    return True
                self._condition.wait(due - now)


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
