"""Phase 1, detection: Viola-Jones Haar cascades through OpenCV.

Viola and Jones find faces with a cascade of boosted classifiers over Haar-like
rectangle features, evaluated in constant time on an integral image. OpenCV
ships trained cascades; this module wraps them behind one small interface.

OpenCV builds every level of the image pyramid, with its integral images,
before it scans any, and keeps that buffer for the next image: for a
100-megapixel photo it is most of the detector's memory. A large image is
therefore scanned a band of pyramid levels at a time (:func:`pyramid_bands`),
each band one OpenCV call whose levels hold at most :data:`MAX_BAND_PIXELS`
pixels (or one level), and the raw detections of all bands are grouped once,
as OpenCV groups them in one call. The boxes are the same, up to the last row
of windows of a level, which OpenCV's split of a level into stripes can scan
in one call and leave out in another; memory is that of the largest level,
not of the whole pyramid. The image is not shrunk first: OpenCV's first level
is already shrunk so that ``min_size`` fills the cascade's window (24 px for
the default frontal cascade), so a copy small enough to save memory would lose the
smallest faces asked for.

References
----------
.. [1] P. Viola and M. Jones, "Rapid object detection using a boosted cascade
       of simple features", CVPR 2001.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .base import FaceDetector
from .boxes import sort_boxes_by_size
from .defaults import MIN_NEIGHBORS, MIN_SIZE, SCALE_FACTOR
from .lazy import LazyModel

CASCADES = {
    "frontal-default": "haarcascade_frontalface_default.xml",
    "frontal-alt2": "haarcascade_frontalface_alt2.xml",
    "profile": "haarcascade_profileface.xml",
}
# Most pixels of pyramid levels one OpenCV call scans; a level larger than this is a band alone. OpenCV holds about
# 9 bytes per level pixel (the level, its integral and squared integral, 12 with tilted features), so a band takes
# about 300-400 MB. A photo of up to about 20 megapixels is one call at the verified detector's settings (its
# pyramid holds about 1.6 pixels per image pixel), 10 at the cascades' own (3.3): scanned exactly as before.
MAX_BAND_PIXELS = 1 << 25
# OpenCV's detectMultiScale groups raw detections with this overlap tolerance.
GROUP_EPS = 0.2


def pyramid_levels(window, image_size, scale_factor, min_size):
    """The pyramid levels OpenCV's ``detectMultiScale`` scans, smallest window (largest level) first.

    The same arithmetic as OpenCV 4's ``CascadeClassifierImpl::detectMultiScaleNoGrouping``: scales
    ``scale_factor ** k`` (as doubles, then floats) while the window fits the image, kept when the window is at
    least ``min_size``.

    Parameters
    ----------
    window : (int, int)
        The cascade's window (w, h), ``getOriginalWindowSize()``.
    image_size : (int, int)
        The image's (width, height).
    scale_factor : float
    min_size : (int, int)

    Returns
    -------
    list of ((int, int), (int, int))
        Each level's window (w, h) in image pixels and the size (w, h) of the level image, OpenCV's resized copy.
    """
    (win_w, win_h), (width, height) = window, image_size
    if width < win_w or height < win_h:
        return []
    levels = []
    factor = 1.0
    while round(win_w * factor) <= width and round(win_h * factor) <= height:
        scale = np.float32(factor)
        size = (round(float(np.float32(win_w) * scale)), round(float(np.float32(win_h) * scale)))
        if size[0] >= min_size[0] and size[1] >= min_size[1]:
            levels.append((size, (round(width / float(scale)), round(height / float(scale)))))
        factor *= scale_factor
    return levels


def pyramid_bands(levels, max_pixels=MAX_BAND_PIXELS):
    """Consecutive levels grouped into bands of at most ``max_pixels`` level pixels (or one level each).

    A band is scanned by one OpenCV call with ``minSize`` its first window and ``maxSize`` its last, so levels that
    share a window stay in one band (else both calls would scan them).

    Parameters
    ----------
    levels : list
        As :func:`pyramid_levels` returns.
    max_pixels : int

    Returns
    -------
    list of ((int, int), (int, int), int)
        Each band's smallest and largest window (w, h), and the pixels of its levels.
    """
    bands = []
    for index, (window, (width, height)) in enumerate(levels):
        pixels = (width + 1) * (height + 1)
        shares_window = index > 0 and levels[index - 1][0] == window
        if bands and (shares_window or bands[-1][2] + pixels <= max_pixels):
            first, _, total = bands[-1]
            bands[-1] = (first, window, total + pixels)
        else:
            bands.append((window, window, pixels))
    return bands


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
        classifier = self._model()
        min_size = tuple(int(side) for side in self.min_size)
        levels = pyramid_levels(classifier.getOriginalWindowSize(), gray.shape[::-1], self.scale_factor, min_size)
        bands = pyramid_bands(levels, MAX_BAND_PIXELS)
        if len(bands) <= 1:
            return sort_boxes_by_size(classifier.detectMultiScale(
                gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=min_size))
        raw = [box for smallest, largest, _ in bands for box in classifier.detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=0, minSize=smallest, maxSize=largest)]
        boxes, _ = cv2.groupRectangles([list(map(int, box)) for box in raw], self.min_neighbors, GROUP_EPS)
        return sort_boxes_by_size(boxes)
