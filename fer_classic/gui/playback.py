"""Where a video or camera stream stands, and the results of its current pass: no Qt, so it is tested alone.

The window drives a :class:`Playback` as things happen (a file opens, a
model becomes ready, a frame's result is shown, the user pauses, seeks or
stops) and reads back its state, its texts and the rows to export.

States::

    idle --open--> loading --model ready--> playing <--pause/resume--> paused
    playing/paused --Esc--> stopped      the reader stays open: Play replays, the seek bar jumps
    playing --last frame shown--> finished   Play replays from the start

A *pass* is one play-through with one model: a seek (a jump back, or a
replay from the start) or a result from another model starts a new one. A
CSV export holds the current pass only, so no frame appears twice and every
row has the model the status bar names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FALLBACK_FPS = 25.0                     # for files that do not say

IDLE, LOADING, PLAYING, PAUSED, STOPPED, FINISHED = "idle", "loading", "playing", "paused", "stopped", "finished"
RUNNING = (LOADING, PLAYING, PAUSED)    # between the start (or a replay) and the end


@dataclass
class Pass:
    """One play-through of a stream with one model.

    Parameters
    ----------
    number : int
        1 for the first pass of a stream.
    model : str or None
        The model of every result in it.
    first_frame : int
        The frame it started at (0, or where the user jumped to).
    """

    number: int
    model: str | None
    first_frame: int
    records: dict = field(default_factory=dict)     # frame index -> record, the latest result of each frame

    @property
    def rows(self):
        """The records in frame order, as :func:`fer_classic.video.analyze_video` yields them."""
        return [self.records[frame] for frame in sorted(self.records)]


class Playback:
    """The state of the stream on display (see the module's docstring); ``label`` names it in messages."""

    def __init__(self):
        self.camera, self.label = False, ""
        self.state = IDLE
        self.fps, self.count = FALLBACK_FPS, 0      # frames per second, frames in the file (0: unknown, a camera)
        self.current = None             # the Pass being filled
        self.last_shown = -1            # the frame of the latest result shown
        self.end_frame = None           # the last frame the reader read, once it reached the end

    @property
    def running(self):
        return self.state in RUNNING

    @property
    def playing(self):
        return self.state == PLAYING

    @property
    def rows(self):
        """The records of the current pass, in frame order ([] before the first result)."""
        return self.current.rows if self.current else []

    def open(self, label, camera, model_ready):
        """A stream starts; it plays once its model is ready."""
        self.__init__()
        self.camera, self.label = camera, label
        self.state = PLAYING if model_ready else LOADING

    def opened(self, fps, count):
        self.fps, self.count = fps or FALLBACK_FPS, count

    def close(self):
        """Nothing is streamed any more (images were opened, or the window closes)."""
        self.__init__()

    def model_ready(self):
        if self.state == LOADING:
            self.state = PLAYING

    def model_loading(self):
        if self.state == PLAYING:
            self.state = LOADING

    def set_paused(self, paused):
        """The user's pause or resume, while running; True when resuming must replay from the start."""
        if not paused and self.state in (STOPPED, FINISHED):
            return True
        if self.running:
            self.state = PAUSED if paused else PLAYING
        return False

    def stop(self):
        """Esc: the stream stops where it is (a file's reader waits, for a replay); returns what to say."""
        if not self.running:
            return None
        self.state = STOPPED
        where = self.last_shown + 1
        return f"{self.label} stopped at frame {where}" + (f" of {self.count}" if self.count else "")

    def seek(self, frame):
        """A jump (a replay is a jump to 0): a new pass from ``frame``, playing on unless paused."""
        self.end_frame = None
        self.state = PAUSED if self.state in (PAUSED, STOPPED, FINISHED) else self.state
        self.current = Pass(self._next_number(), self.current.model if self.current else None, frame)

    def replay(self):
        """Play again from the start, after the end or a stop."""
        self.seek(0)
        self.state = PLAYING

    def _next_number(self):
        return self.current.number + 1 if self.current else 1

    def record(self, frame, time, faces, model):
        """Keep a frame's result in the current pass, or in a new one when ``model`` is not the pass's."""
        if self.current is None or (self.current.model != model and self.current.records):
            self.current = Pass(self._next_number(), model, frame)
        self.current.model = model      # a pass started by a seek takes the model of its first result
        self.current.records[frame] = {"frame": frame, "time": time, "faces": faces}

    def shown(self, frame):
        """Frame ``frame`` was answered (with a result or an error); True when that ends the stream."""
        self.last_shown = frame
        return self._finish_if_done()

    def at_end(self, last_frame):
        """The reader reached the end of the file (or the camera went away) after frame ``last_frame``."""
        self.end_frame = last_frame
        return self._finish_if_done()

    def _finish_if_done(self):
        if self.state not in RUNNING or self.end_frame is None or self.last_shown < self.end_frame:
            return False
        self.state = FINISHED
        return True

    def summary(self):
        """What the status bar says at the end: how many frames of this pass were analysed, with which model."""
        if self.end_frame is None or self.end_frame < 0:
            return ""
        first = self.current.first_frame if self.current else 0
        analysed = len(self.current.records) if self.current else 0
        text = f"{self.label} finished: {analysed} of {self.end_frame - first + 1} frames analysed"
        if self.current and (self.current.number > 1 or first > 0):
            text += f" from frame {first + 1} (pass {self.current.number}, {self.current.model})"
        return text + " (the others were skipped to keep up)" if analysed <= self.end_frame - first else text
