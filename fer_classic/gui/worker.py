"""Recognition off the UI thread: one worker thread that always takes the newest frame.

The window and the video reader hand frames to :class:`AnalysisWorker` through
a one-slot mailbox (:class:`NewestOnly`). A frame that arrives while another is
waiting replaces it, so a slow model makes video skip frames instead of
falling behind. The worker calls the project's pipeline, nothing else: the
GUI holds no recognition logic.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from qtpy.QtCore import QThread, Signal

from ..detect import WholeImageDetector
from ..detect.registry import build_detector
from ..imageio import read_image
from ..model_files import DEFAULT_MODEL
from ..phases import run_phases
from ..pipeline import EmotionRecognizer
from ..store import ModelError, warm_up, warm_up_detector
from ..video import SMOOTHING, FaceTracks
from .render import display_bgr


@dataclass(frozen=True)
class AnalysisSettings:
    """What the worker runs: the model, the detector, and how video is treated.

    Parameters
    ----------
    model : str or None
        A name listed in ``models/manifest.json``.
    detector : str or None
        A name of :data:`fer_classic.detect.registry.DETECTORS`; None: the default
        for photos, or for video on a stream.
    scale_factor, min_neighbors : float or int, or None
        The cascades' settings; None: the detector's defaults. See
        :func:`fer_classic.detect.registry.build_detector`.
    smoothing : float
        Weight of the past in the moving average of video probabilities, in
        [0, 1); 0 switches smoothing off.
    stream_phases : bool
        Keep landmarks, HOG and LBP for video frames too (still images always
        keep them); they cost an extra landmark fit per face.
    runtime : str or None
        What runs a CNN (:data:`fer_classic.cnn.runtimes.RUNTIMES`); None: the
        network's measured choice, and always None for a classical model.
    """

    model: str | None = DEFAULT_MODEL
    detector: str | None = None
    scale_factor: float | None = None
    min_neighbors: int | None = None
    smoothing: float = SMOOTHING
    stream_phases: bool = False
    runtime: str | None = None

    @property
    def model_label(self):
        """The model as loaded and named to the user: ``"fer-cnn"``, or ``"fer-cnn (litert-int8)"``."""
        return self.model if self.runtime is None else f"{self.model} ({self.runtime})"

    @property
    def results_key(self):
        """The settings that change the result of an image (the others only change video or display)."""
        return self.model, self.runtime, self.detector, self.scale_factor, self.min_neighbors


@dataclass(frozen=True)
class FrameJob:
    """One image to analyse: a file to read, or a decoded video frame.

    Parameters
    ----------
    source_id : int
        What the window was showing when it asked; results for an older view are ignored.
    label : str
        The file or camera, for messages.
    path : str, optional
        Image file to read (still images).
    image : ndarray, optional
        BGR frame (video and camera).
    stream : bool
        Part of a video or camera stream: faces are tracked and smoothed.
    frame : int
        Index in the stream.
    time : float
        Seconds since the stream started.
    """

    source_id: int
    label: str
    path: str | None = None
    image: np.ndarray | None = None
    stream: bool = False
    frame: int = 0
    time: float = 0.0


@dataclass
class Analysis:
    """The worker's answer to a :class:`FrameJob`.

    ``frame`` is the image as 8-bit BGR for display; ``faces`` are as
    :func:`fer_classic.phases.run_phases` gives them (or
    :meth:`~fer_classic.EmotionRecognizer.analyze` for video without overlays),
    plus ``face_id`` in streams; ``timings`` holds seconds per phase;
    ``settings`` are those it was made with.
    """

    job: FrameJob
    frame: np.ndarray
    faces: list
    timings: dict
    settings: AnalysisSettings

    @property
    def model(self):
        """The name of the model that gave this result."""
        return self.settings.model


class NewestOnly:
    """A thread-safe mailbox of one item: :meth:`put` replaces whatever is still waiting."""

    def __init__(self):
        self._condition = threading.Condition()
        self._item = None
        self._closed = False

    def put(self, item):
        """Leave ``item``; returns True when it replaced (dropped) an item nobody took."""
        with self._condition:
            dropped = self._item is not None
            self._item = item
            self._condition.notify()
        return dropped

    def take(self):
        """Wait for an item and return it; None once :meth:`close` was called."""
        with self._condition:
            while self._item is None and not self._closed:
                self._condition.wait()
            if self._closed:
                return None
            item, self._item = self._item, None
            return item

    def close(self):
        with self._condition:
            self._closed = True
            self._condition.notify_all()


_LOAD = object()                        # a job that only loads the configured model


class StreamState(FaceTracks):
    """:class:`~fer_classic.video.FaceTracks` of one stream, tagged with what they were measured with.

    Parameters
    ----------
    key : tuple
        The stream's source id and the settings that change results.
    smoothing : float
        See :class:`~fer_classic.video.EmaSmoother`.
    """

    def __init__(self, key, smoothing):
        super().__init__(smoothing)
        self.key = key


class AnalysisWorker(QThread):
    """Run the recognizer on the newest submitted frame, in its own thread.

    Models are loaded (and warmed up) here too, a couple of seconds each,
    and kept, so switching back is instant; :attr:`loading` and :attr:`ready`
    bracket each load, for the window to show it is busy. Every job taken ends
    in exactly one of :attr:`analyzed` or :attr:`failed`.

    Parameters
    ----------
    settings : AnalysisSettings
    """

    analyzed = Signal(object)           # Analysis
    failed = Signal(object, str)        # FrameJob (None for a model load asked alone), message
    loading = Signal(str)               # model label (AnalysisSettings.model_label): its load begins (seconds)
    ready = Signal(str)                 # model label: loaded, the next jobs use it
    load_failed = Signal(str, str)      # model label, message: sent just before the job's failed

    def __init__(self, settings, parent=None):
        super().__init__(parent)
        self._settings = settings
        self._jobs = NewestOnly()
        self._recognizers = {}          # model label -> (model name, EmotionRecognizer)
        self._detector, self._detector_key = None, None
        self._stream = None             # StreamState of the stream being analysed

    def configure(self, settings):
        """Use ``settings`` from the next job on; callable from any thread."""
        self._settings = settings

    def has_model(self, label):
        """Whether the model of ``label`` (:attr:`AnalysisSettings.model_label`) is loaded: a job starts at once."""
        return label in self._recognizers

    def forget(self, name):
        """Drop model ``name`` on every runtime, so the next job loads its file afresh (a model saved again)."""
        for label in [label for label, (loaded, _) in list(self._recognizers.items()) if loaded == name]:
            self._recognizers.pop(label, None)  # one dict operation: atomic beside the worker thread's lookups

    def classes(self, label):
        """The classes of the model of ``label``, once :attr:`ready` said it is loaded."""
        return self._recognizers[label][1].classes

    def preload(self):
        """Load the configured model now, with no image to analyse (nothing is open, or the runtime changed)."""
        self._jobs.put(_LOAD)

    def submit(self, job):
        """Queue ``job`` in place of any job still waiting; returns True when one was dropped."""
        return self._jobs.put(job)

    def stop(self, wait=True):
        """Drop the jobs waiting and end the thread after the job in hand; ``wait`` for it to end.

        Without waiting (the window closing while a model loads, seconds), the
        thread ends on its own once the load is over, its results unheard.
        """
        self._jobs.close()
        if wait:
            self.wait()

    def run(self):
        if self._settings.model is not None:
            self._guarded(None, lambda: self._recognizer(self._settings))      # load before the first image
        while (job := self._jobs.take()) is not None:
            if job is _LOAD:
                self._guarded(None, lambda: self._recognizer(self._settings))
            else:
                self._guarded(job, lambda: self.analyzed.emit(self._analyze(job)))

    def _guarded(self, job, action):
        # Whatever a file or a model does, the thread must survive it: an exception here would end it silently.
        try:
            action()
        except Exception as error:  # noqa: BLE001
            self.failed.emit(job, str(error) or type(error).__name__)

    def _analyze(self, job):
        settings = self._settings
        recognizer = self._recognizer(settings)
        recognizer.detector = self._detector_for(settings, job)
        image = read_image(job.path) if job.image is None else job.image
        if not job.stream or settings.stream_phases:
            phases = run_phases(recognizer, image)
            faces, timings = phases["faces"], phases["timings"]
        else:
            timings = {}
            faces = recognizer.analyze(image, timings=timings)
        if job.stream:
            self._stream_state(job, settings).follow(faces)
        return Analysis(job, display_bgr(image), faces, timings, settings)

    def _recognizer(self, settings):
        if settings.model is None:
            raise ModelError("no model to use: none is listed in the models manifest")
        label = settings.model_label
        if label not in self._recognizers:
            self.loading.emit(label)
            try:
                # Warmed up now: the lazy loads hold the GIL, so on the first image they would freeze the window.
                recognizer = warm_up(EmotionRecognizer.load(settings.model, detector=WholeImageDetector(),
                                                            runtime=settings.runtime))
            except Exception as error:  # noqa: BLE001 - said by failed too; this says which load it was
                self.load_failed.emit(label, str(error) or type(error).__name__)
                raise
            self._recognizers[label] = settings.model, recognizer
            self.ready.emit(label)
        return self._recognizers[label][1]

    def _detector_for(self, settings, job):
        # Video gets the CLI's fast set-up: its default detector on a half-size frame, tracking in between.
        key = (settings.detector, settings.scale_factor, settings.min_neighbors, job.source_id if job.stream else None)
        if key != self._detector_key:
            # Warmed up here, as the model is: its first detection would otherwise count the files' loading.
            self._detector = warm_up_detector(build_detector(settings.detector, settings.scale_factor,
                                                             settings.min_neighbors, video=job.stream))
            self._detector_key = key
        return self._detector

    def _stream_state(self, job, settings):
        # Tracks start again for a new stream, and when the model or detector changes: smoothing the new
        # model's probabilities with the old one's would show neither.
        key = (job.source_id, settings.results_key)
        if self._stream is None or self._stream.key != key:
            self._stream = StreamState(key, settings.smoothing)
        self._stream.set_smoothing(settings.smoothing)
        return self._stream
