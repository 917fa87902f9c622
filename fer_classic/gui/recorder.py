"""Recording what the window shows while a video or camera plays."""

from __future__ import annotations

from ..video import open_video_writer


class VideoRecorder:
    """Write annotated stream frames to a video file, keeping the source's timing.

    The worker skips frames it has no time for, so each analysed frame is
    written once for every source frame since the previous one: the recording
    lasts as long as the source, showing each result until the next.

    Parameters
    ----------
    path : str or Path
        ``.avi`` (MJPG) or ``.mp4`` (mp4v).
    """

    def __init__(self, path):
        self.path = path
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
            self._writer = open_video_writer(self.path, fps, (canvas.shape[1], canvas.shape[0]))
        copies = 1 if self._last_frame is None else max(1, frame - self._last_frame)
        for _ in range(copies):
            self._writer.write(canvas)
        self.frames_written += copies
        self._last_frame = frame

    def close(self):
        """Finish the file; nothing is written when no frame came."""
        if self._writer is not None:
            self._writer.release()
