"""Haar-like features: differences of rectangle sums, evaluated on integral images.

A feature is a small pattern of equal cells, each weighted +1 or -1 (the
middle cell of a three-rectangle feature weighs -2), stretched over a box of
the detection window. Its value is the weighted sum of the pixels under the
cells. The five kinds of Viola and Jones (2001, figure 1), named as in
:func:`skimage.feature.haar_like_feature`:

==========  ================  ========================================
kind        cells (weights)   responds to
==========  ================  ========================================
type-2-x    ``[+1 -1]``       a vertical edge (left vs right)
type-2-y    ``[+1; -1]``      a horizontal edge (top vs bottom)
type-3-x    ``[+1 -2 +1]``    a vertical line (e.g. the bridge of the nose)
type-3-y    ``[+1; -2; +1]``  a horizontal line (e.g. the eyes)
type-4      ``[+1 -1; -1 +1]``  a diagonal, checkerboard contrast
==========  ================  ========================================

The weights of every kind sum to zero, so a feature ignores the mean brightness
of the window and dividing by the window's standard deviation is all the
lighting normalisation needed.

Since a rectangle sum is four corner lookups in the integral image, a feature is
a short list of corner lookups with integer weights: the 2-D finite difference
of its cell pattern. Neighbouring cells share corners, so a two-rectangle
feature needs 6 lookups, a three-rectangle one 8, a four-rectangle one 9. This
sparse form gives two vectorised evaluations:

- :func:`haar_feature_values`: many features on many small windows, as one
  matrix product of a (features x corners) weight matrix with the windows'
  flattened integral images (training);
- :func:`haar_feature_values_at`: a few features at many positions of one large
  integral image, as gathers (detection).

References
----------
.. [1] P. Viola and M. Jones, "Rapid object detection using a boosted cascade
       of simple features", CVPR 2001.
.. [2] R. Lienhart and J. Maydt, "An extended set of Haar-like features for
       rapid object detection", ICIP 2002 (zero-sum weights).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURE_KINDS = {
    "type-2-x": np.array([[1, -1]]),
    "type-2-y": np.array([[1], [-1]]),
    "type-3-x": np.array([[1, -2, 1]]),
    "type-3-y": np.array([[1], [-2], [1]]),
    "type-4": np.array([[1, -1], [-1, 1]]),
}
MAX_CORNERS = 9
_FLOAT32_EXACT = 2 ** 24  # integers up to this are exact in float32


@dataclass(frozen=True)
class HaarFeatures:
    """A set of Haar-like features, in window coordinates.

    Attributes
    ----------
    kinds : ndarray of str, shape (n,)
        Keys of :data:`FEATURE_KINDS`.
    boxes : ndarray of int64, shape (n, 4)
        ``(x, y, w, h)`` of each whole feature; ``w`` and ``h`` are multiples of
        the pattern's columns and rows.
    """

    kinds: np.ndarray
    boxes: np.ndarray

    def __post_init__(self):
        kinds = np.asarray(self.kinds, dtype=str).reshape(-1)
        boxes = np.asarray(self.boxes, dtype=np.int64).reshape(-1, 4)
        if len(kinds) != len(boxes):
            raise ValueError(f"{len(kinds)} kinds but {len(boxes)} boxes")
        unknown = set(kinds.tolist()) - set(FEATURE_KINDS)
        if unknown:
            raise ValueError(f"unknown feature kinds {sorted(unknown)}; known: {', '.join(FEATURE_KINDS)}")
        object.__setattr__(self, "kinds", kinds)
        object.__setattr__(self, "boxes", boxes)

    def __len__(self):
        return len(self.kinds)

    def __getitem__(self, index):
        """The features at ``index`` (an int array, slice or boolean mask), as :class:`HaarFeatures`."""
        index = np.atleast_1d(np.arange(len(self))[index])
        return HaarFeatures(self.kinds[index], self.boxes[index])


def haar_features(window_shape=(24, 24), step=2, size_step=2, min_size=2):
    """Enumerate the features of the five kinds that fit a detection window.

    Parameters
    ----------
    window_shape : (int, int)
        ``(height, width)`` of the window.
    step : int
        Stride of the features' top-left corners.
    size_step : int
        Increment of the cell sides.
    min_size : int
        Smallest cell side, in pixels.

    Returns
    -------
    HaarFeatures
        With ``step = size_step = min_size = 1`` all 162,336 features of a
        24x24 window; the defaults keep 10,344 of them.
    """
    height, width = (int(v) for v in window_shape)
    if height < 2 or width < 2:
        raise ValueError(f"window_shape must be at least (2, 2), got {window_shape}")
    if min(step, size_step, min_size) < 1:
        raise ValueError(f"step, size_step and min_size must be >= 1, got {step}, {size_step}, {min_size}")
    kinds, boxes = [], []
    for kind, pattern in FEATURE_KINDS.items():
        rows, cols = pattern.shape
        cell_h, cell_w, y, x = (grid.ravel() for grid in np.meshgrid(
            np.arange(min_size, height // rows + 1, size_step), np.arange(min_size, width // cols + 1, size_step),
            np.arange(0, height, step), np.arange(0, width, step), indexing="ij"))
        fits = (y + rows * cell_h <= height) & (x + cols * cell_w <= width)
        boxes.append(np.column_stack([x, y, cols * cell_w, rows * cell_h])[fits])
        kinds.append(np.full(int(fits.sum()), kind))
    return HaarFeatures(np.concatenate(kinds), np.concatenate(boxes))


def _corner_pattern(pattern):
    """Integral-image corner weights of a cell pattern: its 2-D finite difference, shape (rows + 1, cols + 1)."""
    padded = np.pad(pattern, 1)
    return padded[1:, 1:] - padded[:-1, 1:] - padded[1:, :-1] + padded[:-1, :-1]


def feature_corners(features):
    """Each feature as weighted lookups into an integral image.

    Parameters
    ----------
    features : HaarFeatures

    Returns
    -------
    rows, cols : ndarray of int64, shape (n, 9)
        Integral-image coordinates, relative to the window's top-left corner.
    weights : ndarray of int64, shape (n, 9)
        Such that ``value = sum(weights * integral[y0 + rows, x0 + cols])`` for
        a window at ``(y0, x0)``. Unused slots have weight 0 at ``(0, 0)``.
    """
    n = len(features)
    rows, cols, weights = (np.zeros((n, MAX_CORNERS), dtype=np.int64) for _ in range(3))
    for kind, pattern in FEATURE_KINDS.items():
        chosen = np.flatnonzero(features.kinds == kind)
        corner_weights = _corner_pattern(pattern)
        lattice_rows, lattice_cols = np.nonzero(corner_weights)
        used = len(lattice_rows)
        x, y, w, h = features.boxes[chosen].T
        cell_h, cell_w = h // pattern.shape[0], w // pattern.shape[1]
        rows[chosen, :used] = y[:, None] + lattice_rows * cell_h[:, None]
        cols[chosen, :used] = x[:, None] + lattice_cols * cell_w[:, None]
        weights[chosen, :used] = corner_weights[lattice_rows, lattice_cols]
    return rows, cols, weights


def haar_feature_matrix(features, window_shape):
    """Dense (features x integral-image entries) weight matrix of the corner lookups.

    Parameters
    ----------
    features : HaarFeatures
    window_shape : (int, int)
        ``(height, width)`` of the window.

    Returns
    -------
    ndarray of int64, shape (n_features, (height + 1) * (width + 1))
        Row ``f`` dotted with a window's flattened integral image is feature ``f``.
    """
    height, width = window_shape
    rows, cols, weights = feature_corners(features)
    if len(features) and (rows.max() > height or cols.max() > width):
        raise ValueError(f"features reach beyond the {height}x{width} window")
    matrix = np.zeros((len(features), (height + 1) * (width + 1)), dtype=np.int64)
    # add, not assign: unused slots all point at entry 0, which a real corner may share
    np.add.at(matrix, (np.arange(len(features))[:, None], rows * (width + 1) + cols), weights)
    return matrix


def haar_feature_values(integrals, features):
    """Every feature on every window, as one matrix product.

    Parameters
    ----------
    integrals : ndarray, shape (n_windows, height + 1, width + 1)
        Integral images of the windows (:func:`.integral_image` of a stack).
    features : HaarFeatures

    Returns
    -------
    ndarray of float32 or float64, shape (n_features, n_windows)
        Raw (not contrast-normalised) values; float32 when that is exact, which
        holds for 8-bit windows up to 24x24 or so, else float64.
    """
    integrals = np.asarray(integrals)
    if integrals.ndim != 3:
        raise ValueError(f"integrals must be (n_windows, height + 1, width + 1), got shape {integrals.shape}")
    matrix = haar_feature_matrix(features, (integrals.shape[1] - 1, integrals.shape[2] - 1))
    # each value is a sum of at most 9 products whose |weights| add up to 16 at most
    largest = 16 * float(np.abs(integrals).max(initial=0))
    dtype = np.float32 if largest < _FLOAT32_EXACT else np.float64
    flat = integrals.reshape(len(integrals), -1).astype(dtype)
    return matrix.astype(dtype) @ flat.T


def haar_feature_values_at(integral, ys, xs, features):
    """A few features at many window positions of one integral image, by gathering corners.

    Parameters
    ----------
    integral : ndarray, shape (H + 1, W + 1)
        Integral image of the whole image (or of windows stacked vertically).
    ys, xs : ndarray of int, shape (n_windows,)
        Top-left corners of the windows, in pixels.
    features : HaarFeatures

    Returns
    -------
    ndarray of float64, shape (n_features, n_windows)
        Raw (not contrast-normalised) values.
    """
    integral = np.asarray(integral)
    ys, xs = (np.asarray(v, dtype=np.int64).reshape(-1) for v in (ys, xs))
    if integral.ndim != 2:
        raise ValueError(f"integral must be 2-D, got shape {integral.shape}")
    rows, cols, weights = feature_corners(features)
    values = np.empty((len(features), len(ys)))
    if len(features) == 0 or len(ys) == 0:
        return values
    if ys.min() < 0 or xs.min() < 0 or ys.max() + rows.max() >= integral.shape[0] \
            or xs.max() + cols.max() >= integral.shape[1]:
        raise ValueError(f"windows reach beyond the integral image of shape {integral.shape}")
    flat = integral.ravel()
    origins = ys * integral.shape[1] + xs
    offsets = rows * integral.shape[1] + cols
    for f in range(len(features)):
        values[f] = flat[origins[:, None] + offsets[f]] @ weights[f].astype(np.float64)
    return values
