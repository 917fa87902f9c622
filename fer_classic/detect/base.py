"""What every face detector shares: any image in, boxes out.

A detector subclasses :class:`FaceDetector` and implements ``_find(gray)`` on
a 2-D uint8 image. :meth:`FaceDetector.detect` first turns whatever image it
is given into that grey image (:func:`~fer_classic.imageio.to_gray_uint8`,
which names what it cannot read), so each algorithm sees one kind of input.
"""

from __future__ import annotations

from ..imageio import to_gray_uint8


class FaceDetector:
    """Base of the detectors: :meth:`detect` converts, ``_find`` detects.

    Attributes
    ----------
    color_order : {"bgr", "rgb"}
        Channel order of color images passed to :meth:`detect`.
    """

    color_order = "bgr"

    def detect(self, image):
        """Find faces.

        Parameters
        ----------
        image : ndarray
            Any image :func:`fer_classic.imageio.to_gray_uint8` accepts:
            grey, or color in ``color_order``.

        Returns
        -------
        ndarray of int64, shape (n, 4)
            Boxes (x, y, w, h) in ``image`` coordinates, largest first.
        """
        return self._find(to_gray_uint8(image, self.color_order))

    def _find(self, gray):
        """Boxes in a 2-D uint8 image: each detector's own algorithm."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _find")
