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

from ..model_files import packaged_dlib_model
from .defaults import MIN_SIZE
from .dlib_base import DlibDetector

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


class DlibCnnDetector(DlibDetector):
    """Detect faces with dlib's CNN (MMOD) detector.

    Parameters
    ----------
    upsample, threshold, min_size, color_order
        As :class:`~fer_classic.detect.dlib_base.DlibDetector`; by default
        the image is not upsampled, since the CNN is slow; ``threshold`` is a
        confidence.
    """

    def __init__(self, upsample=0, threshold=0.0, min_size=(MIN_SIZE, MIN_SIZE), color_order="bgr"):
        super().__init__(upsample, threshold, min_size, color_order)

    def _load(self):
        import dlib

        return dlib.cnn_face_detection_model_v1(str(mmod_model_path()))

    def _rectangles(self, gray, upsample):
        return [d.rect for d in self._model()(gray, upsample) if d.confidence >= self.threshold]
