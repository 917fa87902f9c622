"""Phase 2, step 2: align faces by their eyes.

A similarity transform (rotation, scale, shift) puts the eye centres at fixed
positions, so appearance features compare like with like across faces.
"""

from __future__ import annotations

import cv2
import numpy as np

from .landmarks import eye_centers

# Mean eye positions of FER2013 crops (fractions of the side), so alignment moves faces little.
EYE_LINE_Y = 0.36
EYE_DISTANCE = 0.37


def alignment_matrices(landmarks, size=48, eye_line_y=EYE_LINE_Y, eye_distance=EYE_DISTANCE):
    """Affine matrices that map each face onto the aligned frame.

    Parameters
    ----------
    landmarks : ndarray, shape (n, 68, 2)
    size : int
        Side of the aligned square face.
    eye_line_y, eye_distance : float
        Eye line height and inter-ocular distance, as fractions of ``size``.

    Returns
    -------
    ndarray of float64, shape (n, 2, 3)
    """
    right, left = eye_centers(landmarks)
    delta = (left - right).astype(np.float64)
    distance = np.maximum(np.hypot(delta[:, 0], delta[:, 1]), 1e-6)
    scale = eye_distance * size / distance
    cos = delta[:, 0] / distance * scale
    sin = -delta[:, 1] / distance * scale
    middle = (left + right).astype(np.float64) / 2
    target = np.array([size / 2, eye_line_y * size])
    # Rotate by -angle and scale around the eye midpoint, then move it to the target.
    matrices = np.empty((len(landmarks), 2, 3))
    matrices[:, 0, 0], matrices[:, 0, 1] = cos, -sin
    matrices[:, 1, 0], matrices[:, 1, 1] = sin, cos
    matrices[:, :, 2] = target - np.einsum("nij,nj->ni", matrices[:, :, :2], middle)
    return matrices


def align_faces(faces, landmarks, size=48):
    """Warp faces so the eyes are level and at fixed positions.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, h, w)
    landmarks : ndarray, shape (n, 68, 2)
        From :func:`fer_classic.extract.landmarks.fit_landmarks`.
    size : int

    Returns
    -------
    ndarray of uint8, shape (n, size, size)
    """
    faces = np.asarray(faces)
    matrices = alignment_matrices(landmarks, size)
    aligned = np.empty((len(faces), size, size), dtype=np.uint8)
    for i, (face, matrix) in enumerate(zip(faces, matrices)):
        aligned[i] = cv2.warpAffine(face, matrix, (size, size), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
    return aligned


def transform_points(points, matrices):
    """Apply affine ``matrices`` (n, 2, 3) to ``points`` (n, k, 2)."""
    return np.einsum("nij,nkj->nki", matrices[:, :, :2], points) + matrices[:, None, :, 2]
