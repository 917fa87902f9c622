"""The desktop GUI: the three phases on images, folders, videos and the camera, with teaching overlays.

Start it with :func:`run` (``fer-classic gui``). Qt is used through ``qtpy``
only, so PySide6 (the default) and PySide2 both work; install it with
``pip install fer-classic[gui]``.

Modules, from the outside in:

- :mod:`.window`: :class:`MainWindow`, which wires everything together;
- :mod:`.controls`: the settings panel (model, detector, overlays, smoothing);
- :mod:`.widgets`: the frame view, the seven ring bars, the timeline plot, the phase images;
- :mod:`.sources`: background reading of videos, cameras and thumbnails;
- :mod:`.worker`: recognition in a worker thread that always takes the newest frame;
- :mod:`.render`: drawing results (through :mod:`fer_classic.annotate`) and converting to Qt images;
- :mod:`.recorder`: recording the annotated video.
"""

from .app import run
from .window import MainWindow

__all__ = ["MainWindow", "run"]
