"""Phase 1, detection: fast candidates, each confirmed by a second, independent detector.

A Haar cascade finds nearly every face, but on a large or busy photo it also
reports jackets, hands and folds of cloth: its features are a few
rectangles, and textures at small scales match them. dlib's HOG detector
looks at the whole layout of gradients, and rarely takes cloth for a face,
but it misses small faces and is slow on a whole photo with upsampling.

Together they cover each other: the cascade, run permissively (few
neighbours), proposes candidates; each candidate is cut out with a margin,
scaled so that the face fills the HOG detector's window, and kept only if
the HOG detector finds a face at the same place. Each check is a scan of
one small crop, so the cost is the cascade's plus a few milliseconds per
candidate.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import FaceDetector
from .boxes import box_iou, drop_duplicates
from .dlib_hog import DlibHogDetector


class VerifiedDetector(FaceDetector):
    """Candidates from one detector, each confirmed by another on a zoomed crop.

    Parameters
    ----------
    candidates : object with ``detect(image) -> (n, 4) boxes``
        Proposes faces; permissive, e.g. a Haar cascade with ``min_neighbors`` 2.
    verifier : object with ``detect(image) -> (n, 4) boxes``, optional
        Confirms them; default dlib's HOG detector without upsampling and at
        a slightly lower threshold than its own (-0.5), since it only looks
        where a face is likely.
    margin : float
        Context cut around a candidate, as a fraction of its side on each
        side: the HOG detector needs to see the face's outline.
    side : int
        Side, in pixels, the candidate is scaled to: a little more than the
        HOG window's 80, so a face that fills the box fits the window.
    min_iou : float
        Overlap between the candidate and a verifier box that confirms it.
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    def __init__(self, candidates, verifier=None, margin=0.5, side=100, min_iou=0.3, color_order="bgr"):
        if margin < 0 or side < 1 or not 0 < min_iou <= 1:
            raise ValueError(f"need margin >= 0, side >= 1 and min_iou in (0, 1], got {margin}, {side}, {min_iou}")
        self.candidates = candidates
        self.verifier = verifier if verifier is not None else DlibHogDetector(upsample=0, threshold=-0.5,
                                                                              min_size=(1, 1))
        self.margin = margin
        self.side = side
        self.min_iou = min_iou
        self.color_order = color_order

    def confirms(self, gray, box):
        """Whether the verifier finds a face where ``box`` (x, y, w, h) is, in a grayscale image."""
        x, y, w, h = (int(v) for v in box)
        pad = int(round(self.margin * max(w, h)))
        # The box and its margin, the part past the image's edges replicated from them (so a face at the border
        # keeps its margin): only the crop is padded, not a copy of the whole image per candidate.
        rows, cols = gray.shape
        top, left, bottom, right = y - pad, x - pad, min(y + h + pad, rows + pad), min(x + w + pad, cols + pad)
        crop = cv2.copyMakeBorder(gray[max(top, 0):min(bottom, rows), max(left, 0):min(right, cols)],
                                  max(-top, 0), max(bottom - rows, 0), max(-left, 0), max(right - cols, 0),
                                  cv2.BORDER_REPLICATE)
        zoom = self.side / max(w, h)
        crop = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR)
        found = self.verifier.detect(crop)
        return bool(len(found)) and box_iou(found, [[pad * zoom, pad * zoom, w * zoom, h * zoom]]).max() >= self.min_iou

    def _find(self, gray):
        boxes = np.asarray(self.candidates.detect(gray), dtype=np.int64).reshape(-1, 4)
        confirmed = np.array([self.confirms(gray, box) for box in boxes], dtype=bool)
        return drop_duplicates(boxes[confirmed])
