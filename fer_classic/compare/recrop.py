"""Faces cropped differently: the same face zoomed out, zoomed in or shifted, to test a model's reliance on the crop.

FER2013's crops were all made by one face detector and one rule of margins.
Faces cropped by another tool (another lab's dataset, another detector) sit
differently in the frame. These transforms redo a crop of a 48x48 face the
way another cropper might, so that a benchmark can measure how much
accuracy depends on where the crop falls (``benchmarks/recrop.py``).

Each function takes faces of shape (n, s, s) uint8 and returns the same shape
and dtype; pixels the new crop needs from outside the original are filled by
replicating the border, as a real wider crop would show more of the same
background.
"""

from __future__ import annotations

import cv2
import numpy as np


def _check(faces):
    faces = np.asarray(faces)
    if faces.dtype != np.uint8 or faces.ndim != 3 or faces.shape[1] != faces.shape[2]:
        raise ValueError(f"faces must be uint8 of shape (n, s, s), got {faces.dtype} {faces.shape}")
    return faces


def _warp(faces, scale, dx=0.0, dy=0.0):
    """Zoom each face by ``scale`` about its centre, then move it by (dx, dy) pixels."""
    faces = _check(faces)
    side = faces.shape[1]
    centre = (side - 1) / 2
    matrix = np.float32([[scale, 0, centre * (1 - scale) + dx], [0, scale, centre * (1 - scale) + dy]])
    out = np.empty_like(faces)
    for i, face in enumerate(faces):
        out[i] = cv2.warpAffine(face, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def zoom_out(faces, padded=56):
    """A wider crop: each face padded to ``padded`` pixels a side, then resized back.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, s, s)
    padded : int
        Side of the wider crop, > s.
    """
    side = _check(faces).shape[1]
    if not side < padded <= 4 * side:
        raise ValueError(f"padded must be between {side + 1} and {4 * side}, got {padded}")
    return _warp(faces, side / padded)


def zoom_in(faces, fraction=0.1):
    """A tighter crop: the central ``1 - fraction`` of each side, resized back.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, s, s)
    fraction : float
        Share of the side cut away, 0 < fraction < 0.5.
    """
    _check(faces)
    if not 0 < fraction < 0.5:
        raise ValueError(f"fraction must be between 0 and 0.5, got {fraction}")
    return _warp(faces, 1 / (1 - fraction))


def shift(faces, dx=3, dy=0):
    """The crop moved by ``(dx, dy)`` pixels: the face moves the other way in the frame."""
    side = _check(faces).shape[1]
    if max(abs(dx), abs(dy)) >= side // 2:
        raise ValueError(f"a shift must stay under half the side ({side // 2} pixels), got ({dx}, {dy})")
    return _warp(faces, 1.0, -dx, -dy)


RECROPS = {
    "zoom-out-56": zoom_out,
    "zoom-in-10%": zoom_in,
    "shift-right-3px": lambda faces: shift(faces, 3, 0),
    "shift-down-3px": lambda faces: shift(faces, 0, 3),
}
