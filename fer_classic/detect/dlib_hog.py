"""Phase 1, detection: dlib's HOG face detector.

A window of histograms of oriented gradients (HOG, Dalal and Triggs) slides
over an image pyramid and a linear SVM scores it. dlib's
``get_frontal_face_detector`` holds five such filters (frontal, turned left,
turned right, and frontal tilted either way), trained by max-margin object
detection on labelled photos. Its window is 80x80 pixels: smaller faces are
found only when the image is upsampled first, which costs about four times
the time per doubling.

References
----------
.. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
       detection", CVPR 2005.
.. [2] D. E. King, "Max-margin object detection", arXiv:1502.00046, 2015.
"""

from __future__ import annotations

from .defaults import MIN_SIZE
from .dlib_base import DlibDetector


class DlibHogDetector(DlibDetector):
    """Detect faces with dlib's HOG + linear SVM detector.

    Parameters
    ----------
    upsample, threshold, min_size, color_order
        As :class:`~fer_classic.detect.dlib_base.DlibDetector`; by default
        the image is doubled once, to find faces of about 40 px and more.
    """

    def __init__(self, upsample=1, threshold=0.0, min_size=(MIN_SIZE, MIN_SIZE), color_order="bgr"):
        super().__init__(upsample, threshold, min_size, color_order)

    def _load(self):
        import dlib

        return dlib.get_frontal_face_detector()

    def _rectangles(self, gray, upsample):
        rectangles, _, _ = self._model().run(gray, upsample, self.threshold)
        return rectangles
