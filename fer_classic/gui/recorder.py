"""Recording what the window shows while a video or camera plays."""

from __future__ import annotations

from pathlib import Path

from ..video import VideoFileWriter, check_video_output


class VideoRecorder:
    """Write annotated stream frames to a video file, keeping the source's timing.

    The worker skips frames it has no time for, so each analysed frame is
    written once for every source frame since the previous one: the recording
    lasts as long as the source, showing each result until the next. The file
    is written whole or not at all (:class:`~fer_classic.video.VideoFileWriter`).

    Parameters
    ----------
    path : str or Path
        ``.avi`` (MJPG) or ``.mp4`` (mp4v).

    Raises
    ------
    fer_classic.video.VideoError
        When ``path`` cannot be written (another suffix, a missing folder, a device...).
    """

    def __init__(self, path):
        self.path = Path(path)
        check_video_output(self.path)
        self.frames_written = 0
        self._file = None               # opened by the first frame, which gives the stream's rate
        self._last_frame = None

    def write(self, canvas, frame, fps):
        """Add ``canvas`` (BGR, the frame as displayed) for source frame index ``frame`` of a ``fps`` stream.

        Raises
        ------
        fer_classic.video.VideoError
            When no encoder can write ``path``.
        """
        if self._file is None:
            self._file = VideoFileWriter(self.path, fps)
        copies = 1 if self._last_frame is None else max(1, frame - self._last_frame)
        for _ in range(copies):
            self._file.write(canvas)
        self.frames_written += copies
        self._last_frame = frame

    def close(self, keep=True):
        """Finish the file and give it its name; with ``keep`` False, or no frame written, nothing is left."""
        if self._file is not None:
            self._file.close(keep)
