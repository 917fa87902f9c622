"""Multi-scale sliding-window detection with a trained cascade, then merging of overlapping hits.

A face is usually found by several neighbouring windows at neighbouring
scales, while a false positive tends to be found alone. So raw detections are
grouped: each group of mutually overlapping boxes becomes one box, their mean,
and groups with too few members are dropped (``min_neighbors``). A group lying
inside the box of a larger group (an eye or a mouth within a face) is dropped
too, as OpenCV's ``groupRectangles`` does.

References
----------
.. [1] P. Viola and M. Jones, "Robust real-time face detection", IJCV 57(2),
       2004, section 5.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..base import FaceDetector
from ..boxes import box_iou, sort_boxes_by_size
from ..defaults import MIN_NEIGHBORS, MIN_SIZE, VIOLA_JONES_SCALE_FACTOR
from .cascade import Cascade, cascade_windows, load_cascade
from .integral import integral_images
from .pyramid import image_pyramid, window_origins


def box_inside(inner, outer, tolerance=0.2):
    """Whether each box of ``inner`` lies within each box of ``outer`` grown by ``tolerance`` of its size.

    Parameters
    ----------
    inner : array_like, shape (n, 4)
    outer : array_like, shape (m, 4)
        ``(x, y, w, h)``.
    tolerance : float

    Returns
    -------
    ndarray of bool, shape (n, m)
    """
    inner = np.asarray(inner, dtype=np.float64).reshape(-1, 1, 4)
    outer = np.asarray(outer, dtype=np.float64).reshape(1, -1, 4)
    margin = tolerance * outer[..., 2:]
    return np.all((inner[..., :2] >= outer[..., :2] - margin)
                  & (inner[..., :2] + inner[..., 2:] <= outer[..., :2] + outer[..., 2:] + margin), axis=-1)


def non_max_suppression(boxes, scores, iou_threshold=0.3, min_neighbors=0):
    """Merge overlapping detections into one box each.

    Greedy: the best-scoring box left takes every box left that overlaps it by
    at least ``iou_threshold``; the group becomes its mean box. Then a group
    whose box lies inside the box of a group with more members is dropped.

    Parameters
    ----------
    boxes : array_like, shape (n, 4)
        ``(x, y, w, h)``.
    scores : array_like, shape (n,)
        Higher is more confident.
    iou_threshold : float
    min_neighbors : int
        Keep only groups of more than ``min_neighbors`` boxes.

    Returns
    -------
    merged : ndarray of int64, shape (m, 4)
        Best-scoring group first.
    counts : ndarray of int64, shape (m,)
        Boxes in each group.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(scores) != len(boxes):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    remaining = np.argsort(-scores, kind="stable")
    merged, counts = [], []
    while len(remaining):
        in_group = box_iou(boxes[remaining[0]], boxes[remaining])[0] >= iou_threshold
        group = remaining[in_group]
        if len(group) > min_neighbors:
            merged.append(np.round(boxes[group].mean(axis=0)))
            counts.append(len(group))
        remaining = remaining[~in_group]
    merged, counts = np.array(merged, dtype=np.int64).reshape(-1, 4), np.array(counts, dtype=np.int64)
    nested = np.any(box_inside(merged, merged) & (counts[None, :] > counts[:, None]), axis=1)
    return merged[~nested], counts[~nested]


def scan_image(cascade, gray, scale_factor=VIOLA_JONES_SCALE_FACTOR, step=2, min_scale=1.0, max_scale=None):
    """Every window of every pyramid level that passes the whole cascade.

    Parameters
    ----------
    cascade : Cascade
    gray : ndarray of uint8, shape (h, w)
    scale_factor, min_scale, max_scale : float
        See :func:`.image_pyramid`.
    step : int
        Window stride in pixels of each pyramid level.

    Returns
    -------
    boxes : ndarray of float64, shape (n, 4)
        ``(x, y, w, h)`` in the image's pixels.
    margins : ndarray of float64, shape (n,)
        Last-stage vote minus threshold.
    """
    height, width = cascade.window_shape
    boxes, margins = [np.zeros((0, 4))], [np.zeros(0)]
    for scale_y, scale_x, level in image_pyramid(gray, cascade.window_shape, scale_factor, min_scale, max_scale):
        ys, xs = window_origins(level.shape, cascade.window_shape, step)
        passed, level_margins = cascade_windows(cascade, *integral_images(level), ys, xs)
        boxes.append(np.column_stack([xs[passed] * scale_x, ys[passed] * scale_y,
                                      np.full(len(passed), width * scale_x), np.full(len(passed), height * scale_y)]))
        margins.append(level_margins)
    return np.concatenate(boxes), np.concatenate(margins)


class ViolaJonesDetector(FaceDetector):
    """Detect faces with a cascade trained by this package (same interface as ``HaarCascadeDetector``).

    Parameters
    ----------
    cascade : Cascade or str or Path
        A cascade, or an ``.npz`` written by :func:`.save_cascade` (the
        shipped one is ``fer_classic.detect.registry.shipped_cascade()``).
    scale_factor : float
        Step between pyramid scales (> 1; smaller is slower and finds more).
    min_neighbors : int
        Raw detections a face needs beyond the first (higher: fewer false
        positives). The default 5 is the smallest that made the shipped
        cascade's false positives per image no more than OpenCV's on scenes
        of PublicTest faces pasted into training backgrounds.
    min_size, max_size : (int, int) or None
        Smallest and largest face ``(w, h)`` in pixels; None: the window size
        and no limit.
    step : int
        Window stride in pixels of each pyramid level.
    iou_threshold : float
        Overlap that makes two raw detections one face.
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    def __init__(self, cascade, scale_factor=VIOLA_JONES_SCALE_FACTOR, min_neighbors=MIN_NEIGHBORS,
                 min_size=(MIN_SIZE, MIN_SIZE), max_size=None, step=2, iou_threshold=0.3, color_order="bgr"):
        self.cascade = cascade
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.max_size = max_size
        self.step = step
        self.iou_threshold = iou_threshold
        self.color_order = color_order

    def _cascade(self):
        if getattr(self, "_loaded", None) is None:
            if isinstance(self.cascade, Cascade):
                self._loaded = self.cascade
            else:
                self._loaded = load_cascade(Path(self.cascade))
        return self._loaded

    def _scale(self, size):
        height, width = self._cascade().window_shape
        return None if size is None else max(size[0] / width, size[1] / height)

    def _find(self, gray):
        # Never below scale 1, as OpenCV's cascades: min_size 1 would enlarge a photo 24 times over (177 MP
        # for 640x480) to look for faces smaller than the window, which no cascade can find anyway.
        min_scale = max(1.0, self._scale(self.min_size) or 1.0)
        boxes, margins = scan_image(self._cascade(), gray, self.scale_factor, self.step, min_scale,
                                    self._scale(self.max_size))
        merged, _ = non_max_suppression(boxes, margins, self.iou_threshold, self.min_neighbors)
        return sort_boxes_by_size(merged)
