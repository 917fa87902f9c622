"""Detect on a downscaled image and map the boxes back: the cheapest speed-up for video."""

from __future__ import annotations

import cv2
import numpy as np

from .base import FaceDetector
from .boxes import sort_boxes_by_size
from .defaults import DETECT_SCALE


class DownscaledDetector(FaceDetector):
    """Run ``detector`` on the image shrunk by ``scale``; return boxes in full-size coordinates.

    Haar detection time grows with the number of pixels, so halving the side
    makes it about four times faster. The wrapped detector's ``min_size``
    applies to the small image: 30 px at scale 0.5 means 60 px faces.

    Parameters
    ----------
    detector : object with ``detect(image) -> (n, 4) boxes``
    scale : float
        In (0, 1]; 1 detects at full size.
    color_order : {"bgr", "rgb"}
    """

    def __init__(self, detector, scale=DETECT_SCALE, color_order="bgr"):
        self.detector = detector
        self.scale = scale
        self.color_order = color_order

    def _find(self, gray):
        if not 0 < self.scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {self.scale}")
        if self.scale == 1:
            return self.detector.detect(gray)
        small = cv2.resize(gray, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        return sort_boxes_by_size(np.round(self.detector.detect(small) / self.scale))
