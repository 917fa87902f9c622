"""Phase 1, detection: Viola-Jones Haar cascades through OpenCV.

Viola and Jones find faces with a cascade of boosted classifiers over Haar-like
rectangle features, evaluated in constant time on an integral image. OpenCV
ships trained cascades; this module wraps them behind one small interface.

References
----------
.. [1] P. Viola and M. Jones, "Rapid object detection using a boosted cascade
       of simple features", CVPR 2001.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from .base import FaceDetector
from .boxes import sort_boxes_by_size
from .defaults import MIN_NEIGHBORS, MIN_SIZE, SCALE_FACTOR
from .lazy import LazyModel

CASCADES = {
    "frontal-default": "haarcascade_frontalface_default.xml",
    "frontal-alt2": "haarcascade_frontalface_alt2.xml",
    "profile": "haarcascade_profileface.xml",
}


class HaarCascadeDetector(LazyModel, FaceDetector):
    """Detect faces with one of OpenCV's Haar cascades.

    Parameters
    ----------
    cascade : {"frontal-default", "frontal-alt2", "profile"} or path
        A cascade shipped in ``cv2.data.haarcascades``, or an XML file.
    scale_factor : float
        Step between the scales of the image pyramid (> 1; smaller is slower
        and finds more).
    min_neighbors : int
        Overlapping raw detections needed to keep a face (higher: fewer false
        positives).
    min_size : (int, int)
        Smallest face, in pixels.
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    def __init__(self, cascade="frontal-default", scale_factor=SCALE_FACTOR, min_neighbors=MIN_NEIGHBORS,
                 min_size=(MIN_SIZE, MIN_SIZE),
                 color_order="bgr"):
        self.cascade = cascade
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.color_order = color_order

    def _load(self):
        if self.scale_factor <= 1:
            raise ValueError(f"scale_factor must be > 1, got {self.scale_factor}")
        path = Path(cv2.data.haarcascades) / CASCADES[self.cascade] if self.cascade in CASCADES else Path(self.cascade)
        classifier = cv2.CascadeClassifier(str(path))
        if classifier.empty():
            raise FileNotFoundError(
                f"cannot load Haar cascade {self.cascade!r} from {path}; "
                f"known names: {', '.join(CASCADES)} (OpenCV 5 ships no cascades: use opencv<5)")
        return classifier

    def _find(self, gray):
        boxes = self._model().detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=tuple(self.min_size))
        return sort_boxes_by_size(boxes)
