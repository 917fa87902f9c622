"""Detect near the faces of the previous frame: the usual speed-up for video.

A Haar cascade spends most of its time scanning empty parts of the frame at
every scale. In a video, faces move little between frames, so
:class:`RegionTrackingDetector` scans the whole frame only every ``refresh``
frames (to find new faces) and, in between, only a margin around each face it
saw last. A face lost in its region triggers a full scan on the next frame.

A region can also be zoomed so that the face it holds has about a chosen side:
a detector that upsamples the whole frame to find small faces (dlib's HOG
detector doubles it) then scans a region a few times smaller, since the face's
size is known. The zoom is a whole power of the detector's pyramid step, so the
region is scanned at scales the full scan also uses: a zoom that followed the
previous box exactly would move those scales every frame, and the box size
would wander with them (134 to 162 px, frame to frame, for a 152 px face).
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import FaceDetector
from .boxes import drop_duplicates
from .defaults import REFRESH


class RegionTrackingDetector(FaceDetector):
    """Wrap a detector for consecutive video frames.

    Parameters
    ----------
    detector : object with ``detect(image) -> (n, 4) boxes``
    refresh : int
        Scan the whole frame at least once every ``refresh`` frames.
    margin : float
        Region searched around a previous box, as a fraction of its side on each side.
    face_side : int, optional
        Zoom each region so that the previous face is about this many pixels
        wide; None searches regions at the frame's scale.
    pyramid_step : float
        The wrapped detector's scale step (> 1): zooms are whole powers of it.
    color_order : {"bgr", "rgb"}

    Notes
    -----
    It keeps state between calls: use one instance per video stream.
    """

    def __init__(self, detector, refresh=REFRESH, margin=0.5, face_side=None, pyramid_step=1.2, color_order="bgr"):
        self.detector = detector
        self.refresh = refresh
        self.margin = margin
        self.face_side = face_side
        self.pyramid_step = pyramid_step
        self.color_order = color_order

    def reset(self):
        """Forget the previous frame, e.g. when a new video starts."""
        self._previous, self._since_full_scan = np.zeros((0, 4), np.int64), 0

    def _find(self, gray):
        if self.refresh < 1:
            raise ValueError(f"refresh must be >= 1, got {self.refresh}")
        if self.face_side is not None and self.face_side <= 0:
            raise ValueError(f"face side must be positive, got {self.face_side}")
        if not self.pyramid_step > 1:
            raise ValueError(f"pyramid step must be greater than 1, got {self.pyramid_step}")
        if not hasattr(self, "_previous"):
            self.reset()
        self._since_full_scan += 1
        if not len(self._previous) or self._since_full_scan >= self.refresh:
            boxes = self.detector.detect(gray)
            self._since_full_scan = 0
        else:
            boxes = self._search_regions(gray)
            if len(boxes) < len(self._previous):
                self._since_full_scan = self.refresh          # a face was lost: scan everything next frame
        self._previous = drop_duplicates(boxes)
        return self._previous

    def _search_regions(self, gray):
        found = []
        height, width = gray.shape
        for x, y, w, h in self._previous:
            pad_x, pad_y = int(w * self.margin), int(h * self.margin)
            left, top = max(x - pad_x, 0), max(y - pad_y, 0)
            right, bottom = min(x + w + pad_x, width), min(y + h + pad_y, height)
            region, zoom = gray[top:bottom, left:right], 1.0
            if self.face_side:
                steps = np.round(np.log(self.face_side / max(w, h)) / np.log(self.pyramid_step))
                zoom = float(self.pyramid_step ** steps)
                if zoom != 1:
                    region = cv2.resize(region, None, fx=zoom, fy=zoom,
                                        interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
            boxes = self.detector.detect(region)
            if len(boxes):
                found.append(np.round(boxes[0] / zoom).astype(np.int64) + [left, top, 0, 0])
        return np.array(found, dtype=np.int64).reshape(-1, 4)
