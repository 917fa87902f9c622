"""Phase 1, detection: several detectors at once, their boxes merged.

Detectors that see different things (frontal and profile cascades, say) add
up: every box of every detector is kept, except that a box overlapping a
larger one by more than ``max_iou`` is the same face found twice and is
dropped.
"""

from __future__ import annotations

import numpy as np

from .base import FaceDetector
from .boxes import drop_duplicates


class MergedDetector(FaceDetector):
    """The union of several detectors' boxes, duplicates merged.

    Parameters
    ----------
    detectors : sequence of objects with ``detect(image) -> (n, 4) boxes``
    max_iou : float
        Overlap above which two boxes are one face (the larger is kept).
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    def __init__(self, detectors, max_iou=0.3, color_order="bgr"):
        if not detectors:
            raise ValueError("MergedDetector needs at least one detector")
        self.detectors = list(detectors)
        self.max_iou = max_iou
        self.color_order = color_order

    def _find(self, gray):
        return drop_duplicates(np.concatenate([detector.detect(gray) for detector in self.detectors]), self.max_iou)
