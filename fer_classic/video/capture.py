"""Reading video: open a file or camera, decode frames past damage, write annotated video.

Frames that fail to decode are counted and skipped, and reading goes on to
the length the file declares: damage in the middle costs only the damaged
frames, not the rest of the file.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from ..atomic import OutputError, check_writable
from ..paths import display_path
from ..reading import check_regular


class VideoError(RuntimeError):
    """A video source that cannot be opened or written; the message names it."""


def is_camera(source):
    """Whether a video source is a camera index (``0`` or ``"0"``) rather than a file."""
    return isinstance(source, int) or str(source).isdigit()


def open_capture(source):
    """Open a video file, or a camera given as an index (``0`` or ``"0"``).

    Returns
    -------
    cv2.VideoCapture

    Raises
    ------
    VideoError
        When the file is missing, unreadable or needs a codec OpenCV lacks, or
        no camera answers at that index.
    """
    if is_camera(source):
        capture = cv2.VideoCapture(int(source))
        if not capture.isOpened():
            raise VideoError(f"no camera at index {int(source)} (is one connected and free?)")
        return capture
    path = Path(source)
    try:
        check_regular(path)         # a FIFO would block OpenCV for ever
    except OSError as error:
        raise VideoError(f"{display_path(path)}: cannot read video ({error.strerror or error})") from None
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise VideoError(f"{path}: cannot open as a video (unreadable file, or no codec for it in OpenCV)")
    return capture


@dataclass
class VideoStats:
    """What a run did: frames read, processed and broken (skipped), and time per phase."""

    frames_read: int = 0
    frames_processed: int = 0
    broken_frames: int = 0
    seconds: dict = field(default_factory=lambda: {"decode": 0.0, "detect": 0.0, "extract": 0.0, "classify": 0.0})

    @property
    def processing_fps(self):
        """Processed frames per second of decoding and the three phases."""
        busy = sum(self.seconds.values())
        return self.frames_processed / busy if busy else 0.0


def read_frames(capture, every=1, stats=None):
    """Decode frames, skipping the undecodable ones.

    A frame that cannot be read or decoded is counted as broken and skipped.
    Reading goes on up to the frame count the file declares, however many
    broken frames come in a row, because frames after a damaged stretch often
    decode again. Without a declared count (a camera, some streams) the
    first frame that cannot be read is the end.

    Parameters
    ----------
    capture : cv2.VideoCapture
        From :func:`open_capture`.
    every : int
        Decode one frame in ``every`` (the others are only grabbed).
    stats : VideoStats, optional
        Counts frames read and broken, and decoding time.

    Yields
    ------
    index : int
        Frame number in the file, from 0.
    frame : ndarray of uint8, shape (h, w, 3)
        BGR.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    stats = stats if stats is not None else VideoStats()
    expected = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    index = -1
    while True:
        tick = time.perf_counter()
        grabbed = capture.grab()
        index += 1
        frame = None
        if grabbed:
            stats.frames_read += 1
            if index % every:
                continue
            ok, frame = capture.retrieve()
            stats.seconds["decode"] += time.perf_counter() - tick
            frame = frame if ok and frame is not None and frame.size else None
        elif expected <= 0 or index >= expected:
            return                                      # past the known length (or none is known): the end
        if frame is None:
            stats.broken_frames += 1
            continue
        yield index, frame


WRITABLE_VIDEO_SUFFIXES = (".mp4", ".avi")      # what OpenCV encodes here (mp4v, MJPG); it reads many more


def check_video_output(path):
    """Refuse, before any work, a video output OpenCV cannot write or that is not a writable file.

    Raises
    ------
    VideoError
        Naming the file: a suffix other than :data:`WRITABLE_VIDEO_SUFFIXES`, a missing folder, a device...
    """
    suffix = Path(path).suffix
    if suffix.lower() not in WRITABLE_VIDEO_SUFFIXES:
        raise VideoError(f"{display_path(path)}: cannot write a video as {suffix or 'a file without a suffix'}; "
                         f"use {' or '.join(WRITABLE_VIDEO_SUFFIXES)}")
    try:
        check_writable(path)
    except OutputError as error:
        raise VideoError(str(error)) from None


def open_video_writer(path, fps, size):
    """A ``cv2.VideoWriter`` (mp4v for .mp4, MJPG for .avi), checked to be open."""
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if str(path).lower().endswith(".avi") else "mp4v"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    if not writer.isOpened():
        raise VideoError(f"{display_path(path)}: cannot write video (no encoder for this container in OpenCV)")
    return writer


class VideoFileWriter:
    """A video file written whole or not at all, as :mod:`fer_classic.atomic` writes every other output.

    Frames go to a hidden partial file beside ``path``, which :meth:`close`
    renames onto it; a run that fails never leaves half a video under the
    name asked for, nor replaces an older one.

    Parameters
    ----------
    path : str or Path
        ``.mp4`` (mp4v) or ``.avi`` (MJPG).
    fps : float

    Raises
    ------
    VideoError
        When ``path`` cannot be written (see :func:`check_video_output`).
    """

    def __init__(self, path, fps):
        check_video_output(path)
        self.path, self.fps = Path(path), fps
        # The suffix stays last: OpenCV picks the container from it.
        self.partial = self.path.with_name(f".{self.path.stem}.{os.getpid()}.partial{self.path.suffix}")
        self.frames_written = 0
        self._writer = None

    def write(self, frame):
        """Add one BGR frame; the first one sets the video's size."""
        if self._writer is None:
            self._writer = open_video_writer(self.partial, self.fps, (frame.shape[1], frame.shape[0]))
        self._writer.write(frame)
        self.frames_written += 1

    def close(self, keep=True):
        """Finish the file and give it its name; with ``keep`` False, or no frame written, nothing is left."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            if keep and self.frames_written:
                os.replace(self.partial, self.path)
        if self.partial.exists():
            self.partial.unlink()
