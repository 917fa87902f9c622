"""Starting the GUI: a quiet terminal, the application object, the window, the event loop."""

from __future__ import annotations

import os
import sys

from qtpy.QtWidgets import QApplication

from .. import quiet_libraries
from .window import MainWindow


def quiet_terminal():
    """Keep the libraries' notices out of the terminal (:func:`fer_classic.quiet_libraries`), FFmpeg's too.

    FFmpeg prints why a broken video cannot be opened (``moov atom not
    found``); the window says so itself. OpenCV reads the level when it first
    opens a video file, so this runs before any is opened.
    """
    quiet_libraries()
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")     # AV_LOG_QUIET


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
    quiet_terminal()
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
