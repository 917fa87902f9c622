"""Save the screenshot in the docs: the window classifying the astronaut photo with every overlay on.

Run from the repository root in a real window, e.g. under Xvfb, for the fonts
and sizes a desktop has (the offscreen platform draws smaller text)::

    xvfb-run -a python -m fer_classic.gui.screenshot docs/gui.png [WIDTHxHEIGHT]

The window is 1280x820 unless a size is given.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
from qtpy.QtCore import QEventLoop, QTimer
from qtpy.QtWidgets import QApplication
from skimage import data

from .window import MainWindow

TIMEOUT_MS = 60000


def show_and_wait(window, path):
    """Open ``path`` in ``window`` and return once its result is drawn (or after a minute)."""
    loop = QEventLoop()
    window.analysis_shown.connect(loop.quit)
    QTimer.singleShot(TIMEOUT_MS, loop.quit)
    window.open_files([path])
    loop.exec()
    window.analysis_shown.disconnect(loop.quit)


def main(argv=None):
    """Write the screenshot to the path given (default ``docs/gui.png``) at the size given; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "docs/gui.png")
    width, height = map(int, (argv[1] if len(argv) > 1 else "1280x820").split("x"))
    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(width, height)
    window.show()
    for check in window.panel.overlay_checks.values():
        check.setChecked(True)
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "astronaut.png"
        cv2.imwrite(str(photo), data.astronaut()[:, :, ::-1])
        # Once: the worker has already paid the one-off loading costs, and a repeated face would hit the
        # extraction memo, showing an unrepresentative extraction time.
        show_and_wait(window, photo)
    app.processEvents()
    saved = window.grab().save(str(out))
    window.close()
    print(f"saved {out}" if saved else f"could not save {out}")
    return 0 if saved else 1


if __name__ == "__main__":
    sys.exit(main())
