"""Recording what the window shows while a video or camera plays."""

from __future__ import annotations

import os
from pathlib import Path

from ..atomic import check_writable
from ..video import open_video_writer


class VideoRecorder:
    """Write annotated stream frames to a video file, keeping the source's timing.

    The worker skips frames it has no time for, so each analysed frame is
    written once for every source frame since the previous one: the recording
    lasts as long as the source, showing each result until the next.

    Frames go to a hidden temporary file beside ``path``, renamed onto it by
    :meth:`close`: as :mod:`fer_classic.atomic` does for every other output,
    a recording cut short never leaves half a video under the name asked for.

    Parameters
    ----------
    path : str or Path
        ``.avi`` (MJPG) or ``.mp4`` (mp4v).

    Raises
    ------
    fer_classic.atomic.OutputError
        When ``path`` cannot be written (missing folder, a device...).
    """

    def __init__(self, path):
        self.path = Path(path)
        check_writable(self.path)
        # The suffix stays last: OpenCV picks the container from it.
        self.partial = self.path.with_name(f".{self.path.stem}.{os.getpid()}.partial{self.path.suffix}")
        self.frames_written = 0
        self._writer = None
        self._last_frame = None

    def write(self, canvas, frame, fps):
        """Add ``canvas`` (BGR, the frame as displayed) for source frame index ``frame`` of a ``fps`` stream.

        Raises
        ------
        fer_classic.video.VideoError
            When no encoder can write ``path``.
        """
        if self._writer is None:
            self._writer = open_video_writer(self.partial, fps, (canvas.shape[1], canvas.shape[0]))
        copies = 1 if self._last_frame is None else max(1, frame - self._last_frame)
        for _ in range(copies):
            self._writer.write(canvas)
        self.frames_written += copies
        self._last_frame = frame

    def close(self, keep=True):
        """Finish the file and give it its name; with ``keep`` False, or no frame written, nothing is left."""
        if self._writer is not None:
            self._writer.release()
            if keep and self.frames_written:
                os.replace(self.partial, self.path)
        if self.partial.exists():
            self.partial.unlink()
