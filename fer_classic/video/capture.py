"""Reading video: open a file or camera, decode frames past damage, write annotated video.

Frames that fail to decode are counted and skipped, and reading goes on to
the length the file declares: damage in the middle costs only the damaged
frames, not the rest of the file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2


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
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
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


def open_video_writer(path, fps, size):
    """A ``cv2.VideoWriter`` (mp4v for .mp4, MJPG for .avi), checked to be open."""
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if str(path).lower().endswith(".avi") else "mp4v"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    if not writer.isOpened():
        raise VideoError(f"{path}: cannot write video (no encoder for this container in OpenCV; try .avi or .mp4)")
    return writer
