"""Turning results into pictures: the annotated frame as saved, the landmarks, the phase images, and Qt images.

A saved image or recorded video gets its boxes, labels and bars from
:func:`fer_classic.annotate.draw_faces`, at image resolution, as the CLI's
output does; this module adds the 68 landmarks mapped back onto the frame and
a mark on the selected face. On screen, :class:`~fer_classic.gui.widgets.FrameView`
draws the same at screen resolution. The 48x48 phase images (aligned face, HOG,
LBP) are made 8-bit here too.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from qtpy.QtGui import QImage

from ..annotate import draw_faces
from ..extract.lbp import N_LABELS
from ..faces import FACE_SIZE

LANDMARK_COLOR = (255, 255, 0)          # BGR cyan: visible on skin and on every emotion colour
LANDMARK_SHARE = 1 / 80                 # dot radius as a share of the face box's width, on screen and saved
SELECTED_COLOR = (255, 255, 255)


@dataclass(frozen=True)
class Overlays:
    """Which teaching overlays are on."""

    boxes: bool = True
    landmarks: bool = False
    hog: bool = False
    lbp: bool = False
    timings: bool = True

    @property
    def needs_phases(self):
        """True when an overlay shows an intermediate result of the phases."""
        return self.landmarks or self.hog or self.lbp


def display_bgr(image):
    """An 8-bit BGR copy of any image :func:`fer_classic.imageio.read_image` returns, for display only.

    Deeper images are stretched to their own maximum; analysis always uses the original.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image.astype(np.float32), alpha=255.0 / max(float(image.max()), 1e-12))
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image)


def landmarks_in_image(face, size=FACE_SIZE):
    """The 68 landmarks of ``face`` in image pixels.

    Parameters
    ----------
    face : dict
        With ``box`` (x, y, w, h) and ``landmarks`` (68, 2) in the pixels of
        its ``size`` x ``size`` crop.

    Returns
    -------
    ndarray of float64, shape (68, 2)
    """
    x, y, w, h = face["box"]
    # The crop is the box resized to size x size; pixel centres map as (p + 0.5) * scale - 0.5.
    scale = np.array([w / size, h / size])
    return (np.asarray(face["landmarks"], dtype=np.float64) + 0.5) * scale - 0.5 + [x, y]


def landmark_radius(box_width):
    """Radius of a landmark dot on a face box ``box_width`` pixels wide: sized to the face, at least 1 px."""
    return max(1.0, box_width * LANDMARK_SHARE)


def render_frame(frame, faces, overlays, selected=None):
    """The frame as the window saves and records it.

    Parameters
    ----------
    frame : ndarray of uint8, shape (h, w, 3)
        BGR.
    faces : list of dict
        From the worker; ``landmarks`` are drawn only for faces that have them.
    overlays : Overlays
    selected : int, optional
        Index of the face shown in the probability panel: outlined in white, its label placed first.

    Returns
    -------
    ndarray of uint8, shape (h, w, 3)
        BGR.
    """
    # No bars: the screen shows the probabilities beside the picture, not in it, and the file matches the screen.
    canvas = draw_faces(frame, faces, bars=False, selected=selected) if overlays.boxes and faces else frame.copy()
    if overlays.boxes and selected is not None and selected < len(faces):
        x, y, w, h = faces[selected]["box"]
        cv2.rectangle(canvas, (x - 3, y - 3), (x + w + 3, y + h + 3), SELECTED_COLOR, 1)
    if overlays.landmarks:
        for face in faces:
            if "landmarks" in face:
                radius = round(landmark_radius(face["box"][2]))
                for px, py in np.round(landmarks_in_image(face)).astype(int):
                    cv2.circle(canvas, (int(px), int(py)), radius, LANDMARK_COLOR, -1, cv2.LINE_AA)
    return canvas


def hog_display(hog_image):
    """scikit-image's HOG rendering as uint8, brightest stroke at 255."""
    peak = float(np.max(hog_image)) or 1.0
    return np.clip(np.asarray(hog_image) / peak * 255, 0, 255).astype(np.uint8)


def lbp_display(labels):
    """LBP label image (0..58) spread over 0..255."""
    return (np.asarray(labels, dtype=np.float64) * (255 / (N_LABELS - 1))).astype(np.uint8)


def to_qimage(image):
    """A ``QImage`` owning a copy of an 8-bit gray (h, w) or BGR (h, w, 3) array."""
    # RGB, not BGR: Qt 5.13 (PySide2 on Python 3.11) has no Format_BGR888.
    image = np.ascontiguousarray(image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    height, width = image.shape[:2]
    image_format = QImage.Format.Format_Grayscale8 if image.ndim == 2 else QImage.Format.Format_RGB888
    # The QImage only borrows the buffer: copy it before the array goes away.
    return QImage(image.data, width, height, image.strides[0], image_format).copy()
