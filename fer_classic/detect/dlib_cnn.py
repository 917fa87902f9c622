"""Phase 1, detection: dlib's CNN face detector (max-margin object detection).

A small convolutional network scores every position of an image pyramid; it
was trained by dlib's max-margin object detection loss on faces in many
poses, so it finds turned and partly hidden faces the HOG and Haar detectors
miss. On a CPU it is slow: seconds for a 640x480 image on one core. Its
weights, ``mmod_human_face_detector.dat``, ship in the
``face-recognition-models`` package.

References
----------
.. [1] D. E. King, "Max-margin object detection", arXiv:1502.00046, 2015.
"""

from __future__ import annotations

from ..dlib_models import packaged_dlib_model
from .base import FaceDetector
from .boxes import sort_boxes_by_size
from .dlib_hog import dlib_boxes
from .lazy import LazyModel

MODEL_FILE = "mmod_human_face_detector.dat"


def mmod_model_path():
    """The CNN's weights in the installed ``face_recognition_models`` package.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        When the package or the file is missing.
    """
    path = packaged_dlib_model(MODEL_FILE)
    if path is not None:
        return path
    raise FileNotFoundError(f"dlib's CNN face detector needs {MODEL_FILE}: pip install face-recognition-models")


class DlibCnnDetector(LazyModel, FaceDetector):
    """Detect faces with dlib's CNN (MMOD) detector; its boxes may reach past the image's edges.

    Parameters
    ----------
    upsample : int
        Times the image is doubled before scanning (>= 0): 0 finds faces of
        about 80 px and more; each doubling costs about four times the time.
    threshold : float
        Confidence a detection needs; 0 is dlib's own cut.
    min_size : (int, int)
        Boxes smaller than this ``(w, h)`` are dropped.
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    def __init__(self, upsample=0, threshold=0.0, min_size=(30, 30), color_order="bgr"):
        if upsample < 0:
            raise ValueError(f"upsample must be >= 0, got {upsample}")
        self.upsample = upsample
        self.threshold = threshold
        self.min_size = min_size
        self.color_order = color_order

    def _load(self):
        import dlib

        return dlib.cnn_face_detection_model_v1(str(mmod_model_path()))

    def _find(self, gray):
        detections = [d for d in self._model()(gray, self.upsample) if d.confidence >= self.threshold]
        boxes = dlib_boxes([d.rect for d in detections])
        keep = (boxes[:, 2] >= self.min_size[0]) & (boxes[:, 3] >= self.min_size[1])
        return sort_boxes_by_size(boxes[keep])
