"""Starting the GUI: a quiet terminal, the application object, the window, the event loop."""

from __future__ import annotations

import os
import sys

import cv2
from qtpy.QtWidgets import QApplication

from .window import MainWindow


def quiet_libraries():
    """Keep the libraries' notices out of the terminal; their errors still print.

    Must run before TensorFlow is imported (the worker imports it when it loads
    a CNN). Variables already set are left as they are.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The oneDNN notice (and absl's line about logging before InitializeLog) is logged before TensorFlow applies
    # TF_CPP_MIN_LOG_LEVEL; only switching the oneDNN custom operations off silences them. Measured: a
    # CNN's per-face time does not change (5.7 ms with them, 5.3 ms without, on 2 cores).
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    # OpenCV warns on stderr about every camera index it cannot open and every undecodable video.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def run(argv=None):
    """Show the main window and run the Qt event loop until it is closed.

    Parameters
    ----------
    argv : list of str, optional
        The program name, then Qt's own options (e.g. ``-platform offscreen``)
        and any images, folders or a video to open. Default ``sys.argv``.

    Returns
    -------
    int
        The exit status of the event loop (0 when the window was closed).
    """
    quiet_libraries()
    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv)
        argv = app.arguments()          # Qt's own options removed
    window = MainWindow()
    window.show()
    window.open_paths(argv[1:])
    try:
        return app.exec()
    finally:
        window.close()                  # stops the worker threads, also when the loop was quit without closing
