"""fer_classic: facial-expression recognition in three phases.

1. detection (:mod:`fer_classic.detect`): Viola-Jones Haar cascades find faces;
2. extraction (:mod:`fer_classic.extract`): landmarks geometry, HOG and LBP describe them;
3. classification (:mod:`fer_classic.classify`): SVMs, linear models and an MLP name the emotion.

:class:`EmotionRecognizer` composes the three; :class:`FaceClassifier` trains phases 2 and 3 on your own
labelled faces. Importing this package loads
nothing else: each phase can be imported and studied on its own, and the
names below are imported on first use.
"""

__version__ = "0.1.0"

_LAZY = {"EMOTIONS": "faces", "load_fer2013": "data", "EmotionRecognizer": "pipeline", "FaceClassifier": "own_faces"}

__all__ = [*_LAZY, "__version__", "quiet_libraries"]


_IGNORE_WARNINGS = "ignore"


def quiet_libraries(training=False, verbose=False):
    """Keep the libraries' notices out of the terminal; their errors still print.

    TensorFlow's start-up lines, absl's and oneDNN's notices, OpenCV's
    warnings about cameras and undecodable videos, FFmpeg's reasons (``moov
    atom not found``), libpng's complaints, LiteRT's delegate line, Python
    warnings (Pillow's "Corrupt EXIF data", scikit-learn's), in this process
    and in the workers it starts (the ``leaked semaphore`` line of
    multiprocessing's resource tracker after Ctrl+C too), would otherwise
    reach stderr; the commands and the window say what failed themselves.
    Must run before TensorFlow is imported (a CNN imports it when it loads),
    before the first video is opened (OpenCV reads FFmpeg's level then), and
    before any worker process starts. Variables already set are left as they
    are.

    Parameters
    ----------
    training : bool
        Keep TensorFlow's oneDNN operations, as networks are trained with
        them; TensorFlow is then imported at once, its start-up notice kept
        off stderr.
    verbose : bool
        Keep nothing off stderr: every notice and warning reaches it (``fer-classic --verbose``; the
        environment variable ``FER_CLASSIC_QUIET=0`` does it for the desktop app started alone).
    """
    import os

    from .quiet import QUIET_ENV

    if not training:
        # The oneDNN notice (and absl's line about logging before InitializeLog) is logged before TensorFlow
        # applies TF_CPP_MIN_LOG_LEVEL; only switching the oneDNN custom operations off silences them. Measured:
        # a CNN's per-face time does not change (5.7 ms with them, 5.3 ms without, on 2 cores). Set with
        # --verbose too, so that a network computes the same with it and without.
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    if verbose:
        os.environ[QUIET_ENV] = "0"              # the app, started by the command, keeps to it
        if os.environ.get("PYTHONWARNINGS") == _IGNORE_WARNINGS:     # set by an earlier call in this process
            del os.environ["PYTHONWARNINGS"]
        return
    import logging
    import warnings

    os.environ[QUIET_ENV] = "1"
    os.environ.setdefault("PYTHONWARNINGS", _IGNORE_WARNINGS)   # the workers and the resource tracker inherit it
    warnings.simplefilter("ignore")
    # fer_classic's own warnings stay: a model meeting another landmark model than its own (store.loading).
    warnings.filterwarnings("default", message=r".* was trained with the landmark model ")
    logging.getLogger("absl").setLevel(logging.ERROR)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")     # AV_LOG_QUIET
    if training:
        import importlib.util

        from .quiet import captured_stderr

        if importlib.util.find_spec("tensorflow") is not None:
            with captured_stderr(active=True):               # the notices print as TensorFlow is imported
                try:
                    import tensorflow  # noqa: F401
                except ImportError:
                    pass                                       # said again, whole, where a network needs it
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'fer_classic' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
