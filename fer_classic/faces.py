"""What every phase agrees on: the seven emotions, the face size, and how faces are checked and mirrored.

FER2013's faces are 48x48 grayscale crops labelled with one of seven
emotions, always in :data:`EMOTIONS` order: a classifier's probability
columns, a CSV's columns and a bar chart's bars all follow it.
"""

from __future__ import annotations

import numpy as np

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FACE_SIZE = 48


def class_names(model):
    """The class names of a fitted classifier, in the order of its ``predict_proba`` columns as a recognizer gives them.

    A model trained on FER2013 holds integer labels, indices into
    :data:`EMOTIONS`: its recognizer reports all seven emotions (a class it
    never saw gets probability 0). A model trained on your own labelled faces
    holds the class names themselves (strings), in its own order.

    Returns
    -------
    tuple of str
    """
    classes = getattr(model, "classes_", None)
    if classes is not None and np.asarray(classes).dtype.kind in "USO":
        return tuple(str(name) for name in classes)
    return EMOTIONS


def check_faces(X):
    """Validate faces: uint8 (n, s, s), or (n, s*s) rows reshaped to squares."""
    faces = np.asarray(X)
    if faces.dtype != np.uint8:
        raise ValueError(f"faces must be uint8 grayscale, got dtype {faces.dtype}")
    if faces.ndim == 2:
        side = int(round(np.sqrt(faces.shape[1])))
        if side * side != faces.shape[1]:
            raise ValueError(f"flat faces must have a square number of pixels, got {faces.shape[1]}")
        faces = faces.reshape(len(faces), side, side)
    if faces.ndim != 3 or faces.shape[1] != faces.shape[2]:
        raise ValueError(f"faces must have shape (n, s, s) or (n, s*s), got {faces.shape}")
    return np.ascontiguousarray(faces)


def mirror_faces(faces):
    """Left-right mirror images of faces.

    Expressions are nearly left-right symmetric, so a mirrored face keeps its
    label: the one mirror used for training augmentation and for averaging
    a prediction over both views, in every branch.

    Parameters
    ----------
    faces : ndarray, shape (n, h, w)

    Returns
    -------
    ndarray, shape (n, h, w)
        A view, not a copy.
    """
    faces = np.asarray(faces)
    if faces.ndim != 3:
        raise ValueError(f"faces must be (n, h, w), got shape {faces.shape}")
    return faces[:, :, ::-1]


def mirror_views(faces):
    """The faces followed by their mirror images, shape (2n, h, w): both views in one batch.

    Predictions made on it are averaged back to one row per face by
    :func:`average_views`: the one way every branch averages a face with its
    mirror.
    """
    faces = np.asarray(faces)
    return np.concatenate([faces, mirror_faces(faces)])


def average_views(probabilities, n_views=2):
    """Mean over views of predictions made on views stacked view after view (as :func:`mirror_views` stacks them).

    Parameters
    ----------
    probabilities : ndarray, shape (n_views * n, n_classes)
    n_views : int

    Returns
    -------
    ndarray, shape (n, n_classes)
    """
    probabilities = np.asarray(probabilities)
    if n_views < 1 or len(probabilities) % n_views:
        raise ValueError(f"{len(probabilities)} rows cannot be {n_views} views of the same faces")
    return probabilities.reshape(n_views, len(probabilities) // n_views, *probabilities.shape[1:]).mean(axis=0)
