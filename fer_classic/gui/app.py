"""Starting the GUI: quiet libraries, the application object, the window, the event loop."""

from __future__ import annotations

import ctypes.util
import os
import signal
import sys
import threading

from qtpy.QtCore import QSettings, QTimer
from qtpy.QtWidgets import QApplication

from .. import quiet_libraries
from ..quiet import asked_verbose
from .window import MainWindow, wait_for_detached

INTERRUPTED = 130           # the exit status after Ctrl+C in the terminal that started the app (128 + SIGINT)
# Qt's event loop runs in C++: Python handles a signal only when the interpreter runs, so a timer wakes it.
_SIGNAL_POLL_MS = 200
# The libraries Qt's xcb platform plugin loads that a desktop may lack, by Debian package; Qt's own start-up error
# names only the first one missing, and aborts the process.
XCB_LIBRARIES = {"xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4", "xcb-keysyms": "libxcb-keysyms1",
                 "xcb-image": "libxcb-image0", "xcb-render-util": "libxcb-render-util0", "xcb-xkb": "libxcb-xkb1",
                 "xkbcommon-x11": "libxkbcommon-x11-0"}


def run(argv=None):
    """Show the main window and run the Qt event loop until it is closed.

    Parameters
    ----------
    argv : list of str, optional
        The program name, then Qt's own options (e.g. ``-platform offscreen``),
        ``--present`` for projection mode, and any images, folders or a video
        to open. Default ``sys.argv``.

    Returns
    -------
    int
        The exit status of the event loop (0 when the window was closed; 130 when Ctrl+C in the terminal quit it).

    Raises
    ------
    RuntimeError
        When there is no display to open a window on.
    """
    quiet_libraries(verbose=asked_verbose())
    argv = list(sys.argv if argv is None else argv)
    present = "--present" in argv
    argv = [arg for arg in argv if arg != "--present"]
    app = QApplication.instance()
    if app is None:
        _check_display()
        _check_xcb_libraries()
        # The app draws no OpenGL. Qt 5's GLX integration loads Mesa's LLVM, and TensorFlow's own LLVM then
        # crashes at import (PySide2, choosing a CNN): no GL integration, unless the user asked for one.
        os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
        app = QApplication(argv)
        argv = app.arguments()          # Qt's own options removed
    window = MainWindow(present=present, settings=user_settings())
    if present:
        window.showMaximized()          # for a projector: the whole screen
    else:
        window.show()
    window.open_paths(argv[1:])
    interrupted = []
    with _quit_on_sigint(app, interrupted):
        try:
            status = app.exec()
        finally:
            window.close()              # stops the worker threads, also when the loop was quit without closing
            wait_for_detached()         # a model load the window did not wait for: the window is gone already
    return INTERRUPTED if interrupted else status


def user_settings():
    """Where the window remembers its settings between sessions (``~/.config/fer_classic/gui.ini`` on Linux)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "fer_classic", "gui")


class _quit_on_sigint:
    """Ctrl+C in the terminal quits the app (Qt alone ignores it); the previous handler is restored after."""

    def __init__(self, app, interrupted):
        self.app, self.interrupted, self.previous, self.timer = app, interrupted, None, None

    def _quit(self, *_):
        self.interrupted.append(True)
        self.app.quit()

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():     # signal handlers live on the main thread
            self.previous = signal.signal(signal.SIGINT, self._quit)
            self.timer = QTimer()
            self.timer.timeout.connect(lambda: None)                   # back in Python: the handler runs
            self.timer.start(_SIGNAL_POLL_MS)
        return self

    def __exit__(self, *_):
        if self.timer is not None:
            self.timer.stop()
            signal.signal(signal.SIGINT, signal.SIG_DFL if self.previous is None else self.previous)


def _check_display():
    # Without a display Qt aborts the process (exit 134) with a page of advice; say it in one line instead.
    if sys.platform.startswith("linux") and not any(map(os.environ.get, ("QT_QPA_PLATFORM", "DISPLAY",
                                                                        "WAYLAND_DISPLAY"))):
        raise RuntimeError("no display to open a window on (DISPLAY is not set): run it on a desktop, over "
                           "ssh -X, or under xvfb-run (Debian: apt-get install xvfb)")


def _check_xcb_libraries():
    # Qt's xcb plugin aborts the process naming one missing library at a time; name them all, in one line.
    platform = os.environ.get("QT_QPA_PLATFORM", "xcb")
    if not sys.platform.startswith("linux") or not platform.startswith("xcb") or not os.environ.get("DISPLAY"):
        return
    missing = [package for library, package in XCB_LIBRARIES.items() if ctypes.util.find_library(library) is None]
    if missing:
        raise RuntimeError(f"Qt cannot open a window: its xcb platform plugin needs {', '.join(missing)}; install "
                           f"them (Debian/Ubuntu: apt-get install {' '.join(XCB_LIBRARIES.values())})")
