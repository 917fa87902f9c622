"""The detector for images that are already face crops: the whole image is one face.

A dataset of face crops (FER2013 itself, or crops cut by another lab) needs no
detection, and a detector run on a tight crop often finds nothing: the face
fills the frame, with no margin for a cascade's window.
"""

import numpy as np

from .base import FaceDetector


class WholeImageDetector(FaceDetector):
    """Treat the whole image as one face, box (0, 0, w, h): how FER2013's 48x48 crops are processed."""

    def _find(self, gray):
        return np.array([[0, 0, gray.shape[1], gray.shape[0]]], dtype=np.int64)
