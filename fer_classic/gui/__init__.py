"""The desktop GUI: the three phases on images, folders, videos and the camera, with teaching overlays.

Start it with :func:`run` (``fer-classic gui``). Qt is used through ``qtpy``
only, so PySide6 (the default; not 6.12.0) and PySide2 (5.13.2 and later)
both work; install it with ``pip install fer-classic[gui]``.

Modules, from the outside in:

- :mod:`.window`: :class:`MainWindow`, which builds the widgets and wires everything together;
- :mod:`.playback`: where a video or camera stands (playing, paused, stopped, finished) and its current pass's
  results, without Qt;
- :mod:`.outputs`: the window's save, copy, record and export actions;
- :mod:`.present`: projection mode, for a class watching a projector;
- :mod:`.controls`: the side panel: the model in use, the result, then the settings (detector, overlays, smoothing);
- :mod:`.widgets`: the frame view, the result (a ring bar per class of the model, phase images), the timeline plot;
- :mod:`.teach`: teach mode, a dialog that captures faces of your own classes, trains an SVM on them and saves it;
- :mod:`.sources`: background reading of videos, cameras and thumbnails;
- :mod:`.worker`: recognition in a worker thread that always takes the newest frame;
- :mod:`.render`: drawing results (through :mod:`fer_classic.annotate`) and converting to Qt images;
- :mod:`.recorder`: recording the annotated video;
- :mod:`.export`: CSV files (per video frame, or per face of images), and where outputs go by default.
"""

from .app import run
from .window import MainWindow

__all__ = ["MainWindow", "run"]
