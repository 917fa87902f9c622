"""Phase 2, local method: geometric features from the 68 landmarks.

The landmarks are first put in an eye-centred frame: origin at the midpoint of
the eyes, x along the eye line, unit length the inter-ocular distance. In this
frame every feature is invariant to the face's position, in-plane rotation and
scale, and describes only its shape:

- the 68 normalised points themselves;
- distances between expressive points (brow to eye, mouth width and opening...);
- angles at the mouth corners, lips and brows;
- the eye and mouth aspect ratios of Soukupova & Cech (2016).

References
----------
.. [1] T. Soukupova and J. Cech, "Real-time eye blink detection using facial
       landmarks", CVWW 2016.
.. [2] M. Pantic and L. Rothkrantz, "Automatic analysis of facial
       expressions: the state of the art", IEEE TPAMI 22(12), 2000.
"""

from __future__ import annotations

import numpy as np

from .landmarks import eye_centers

DISTANCES = {
    "right brow-eye": (19, 37), "left brow-eye": (24, 44),
    "right inner brow-eye": (21, 39), "left inner brow-eye": (22, 42),
    "right outer brow-eye": (17, 36), "left outer brow-eye": (26, 45),
    "inner brows": (21, 22),
    "right eye opening": (37, 41), "left eye opening": (44, 46),
    "mouth width": (48, 54), "outer mouth opening": (51, 57), "inner mouth opening": (62, 66),
    "right corner-nose": (48, 33), "left corner-nose": (54, 33),
    "right corner-eye": (48, 36), "left corner-eye": (54, 45),
    "nose-upper lip": (33, 51), "lower lip-chin": (57, 8), "nose-chin": (33, 8),
}
ANGLES = {  # angle at the middle point, in radians
    "right mouth corner": (51, 48, 57), "left mouth corner": (51, 54, 57),
    "upper lip": (48, 51, 54), "lower lip": (48, 57, 54),
    "right brow arch": (17, 19, 21), "left brow arch": (22, 24, 26),
    "right corner-nose-left corner": (48, 33, 54),
}
SLOPES = {  # direction of a segment against the eye line, in radians
    "right brow slope": (17, 21), "left brow slope": (22, 26),
    "right lip corner slope": (33, 48), "left lip corner slope": (33, 54),
}


def normalize_landmarks(landmarks):
    """Express landmarks in the eye-centred frame.

    Parameters
    ----------
    landmarks : ndarray, shape (n, 68, 2)

    Returns
    -------
    ndarray of float32, shape (n, 68, 2)
        Origin at the eye midpoint, x along the eye line, inter-ocular distance 1.
    """
    landmarks = np.asarray(landmarks, dtype=np.float64)
    if landmarks.ndim != 3 or landmarks.shape[1:] != (68, 2):
        raise ValueError(f"landmarks must have shape (n, 68, 2), got {landmarks.shape}")
    right, left = eye_centers(landmarks)
    axis = (left - right).astype(np.float64)
    distance = np.maximum(np.linalg.norm(axis, axis=1, keepdims=True), 1e-6)
    x_axis = axis / distance
    y_axis = np.stack([-x_axis[:, 1], x_axis[:, 0]], axis=1)
    centred = landmarks - (left + right)[:, None, :] / 2
    frame = np.stack([np.einsum("nkj,nj->nk", centred, x_axis), np.einsum("nkj,nj->nk", centred, y_axis)], axis=2)
    return (frame / distance[:, :, None]).astype(np.float32)


def _distance(points, pair):
    return np.linalg.norm(points[:, pair[0]] - points[:, pair[1]], axis=1)


def _angle(points, a, vertex, b):
    u, v = points[:, a] - points[:, vertex], points[:, b] - points[:, vertex]
    cosine = np.sum(u * v, axis=1) / np.maximum(np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1), 1e-9)
    return np.arccos(np.clip(cosine, -1.0, 1.0))


def _eye_aspect_ratio(points, first):
    p = lambda k: points[:, first + k]  # noqa: E731 -- the six eye points in order
    vertical = np.linalg.norm(p(1) - p(5), axis=1) + np.linalg.norm(p(2) - p(4), axis=1)
    return vertical / np.maximum(2 * np.linalg.norm(p(0) - p(3), axis=1), 1e-9)


def _mouth_aspect_ratio(points):
    vertical = sum(_distance(points, pair) for pair in ((61, 67), (62, 66), (63, 65)))
    return vertical / np.maximum(2 * _distance(points, (60, 64)), 1e-9)


RATIOS = {
    "right eye aspect": lambda p: _eye_aspect_ratio(p, 36),
    "left eye aspect": lambda p: _eye_aspect_ratio(p, 42),
    "mouth aspect": _mouth_aspect_ratio,
    "mouth width / jaw width": lambda p: _distance(p, (48, 54)) / np.maximum(_distance(p, (0, 16)), 1e-9),
}


def geometric_feature_names():
    """Names of the columns :func:`geometric_features` returns, in order."""
    points = [f"point {k} {axis}" for k in range(68) for axis in "xy"]
    return points + list(DISTANCES) + list(ANGLES) + list(SLOPES) + list(RATIOS)


def geometric_features(landmarks):
    """Pose- and scale-normalised shape features.

    Parameters
    ----------
    landmarks : ndarray, shape (n, 68, 2)

    Returns
    -------
    ndarray of float32, shape (n, 170)
        Columns named by :func:`geometric_feature_names`: 136 normalised
        coordinates, then distances (in inter-ocular units), angles and slopes
        (radians) and aspect ratios.
    """
    points = normalize_landmarks(landmarks).astype(np.float64)
    columns = [points.reshape(len(points), 68 * 2)]
    columns += [_distance(points, pair)[:, None] for pair in DISTANCES.values()]
    columns += [_angle(points, *triple)[:, None] for triple in ANGLES.values()]
    for a, b in SLOPES.values():
        delta = points[:, b] - points[:, a]
        columns.append(np.arctan2(delta[:, 1], np.abs(delta[:, 0]))[:, None])
    columns += [ratio(points)[:, None] for ratio in RATIOS.values()]
    return np.concatenate(columns, axis=1).astype(np.float32)
