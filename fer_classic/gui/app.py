"""Starting the GUI: quiet libraries, the application object, the window, the event loop."""

from __future__ import annotations

import os
import sys

from qtpy.QtWidgets import QApplication

from .. import quiet_libraries
from .window import MainWindow


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

    Raises
    ------
    RuntimeError
        When there is no display to open a window on.
    """
    quiet_libraries()
    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance()
    if app is None:
        _check_display()
        app = QApplication(argv)
        argv = app.arguments()          # Qt's own options removed
    window = MainWindow()
    window.show()
    window.open_paths(argv[1:])
    try:
        return app.exec()
    finally:
        window.close()                  # stops the worker threads, also when the loop was quit without closing


def _check_display():
    # Without a display Qt aborts the process (exit 134) with a page of advice; say it in one line instead.
    if sys.platform.startswith("linux") and not any(map(os.environ.get, ("QT_QPA_PLATFORM", "DISPLAY",
                                                                        "WAYLAND_DISPLAY"))):
        raise RuntimeError("no display to open a window on (DISPLAY is not set): run it on a desktop, over "
                           "ssh -X, or under xvfb-run")
