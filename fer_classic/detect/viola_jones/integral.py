"""Integral images: any rectangle sum in four lookups.

The integral image (summed-area table) holds at ``(y, x)`` the sum of every
pixel above and to the left of ``(y, x)``. With a zero row and column in front,
as :func:`cv2.integral` returns it, the sum over rows ``y:y + h`` and columns
``x:x + w`` is::

    ii[y + h, x + w] - ii[y, x + w] - ii[y + h, x] + ii[y, x]

whatever the rectangle's size (Viola and Jones 2004, section 2.1). Sums of
squared pixels give each window's variance just as cheaply, which the detector
uses to normalise the contrast of every window.

References
----------
.. [1] F. C. Crow, "Summed-area tables for texture mapping", SIGGRAPH 1984.
.. [2] P. Viola and M. Jones, "Robust real-time face detection", IJCV 57(2),
       2004.
"""

from __future__ import annotations

import numpy as np


def integral_image(image):
    """Summed-area table with a leading zero row and column, like :func:`cv2.integral`.

    Parameters
    ----------
    image : ndarray, shape (..., h, w)
        One image or a stack of them; integer, bool or float.

    Returns
    -------
    ndarray, shape (..., h + 1, w + 1)
        int64 for integer and bool input (exact), float64 for float input.
        ``out[..., y, x]`` is the sum of ``image[..., :y, :x]``.
    """
    image = np.asarray(image)
    if image.ndim < 2:
        raise ValueError(f"image must have at least 2 dimensions (h, w), got shape {image.shape}")
    if image.dtype.kind not in "biuf":
        raise ValueError(f"image must be numeric, got {image.dtype}")
    dtype = np.float64 if image.dtype.kind == "f" else np.int64
    padded = np.zeros(image.shape[:-2] + (image.shape[-2] + 1, image.shape[-1] + 1), dtype=dtype)
    padded[..., 1:, 1:] = image
    return padded.cumsum(axis=-2).cumsum(axis=-1)


def integral_images(image):
    """Integral images of the pixels and of their squares, as :func:`window_std` needs them.

    Parameters
    ----------
    image : ndarray, shape (..., h, w)

    Returns
    -------
    integral, integral_sq : ndarray, shape (..., h + 1, w + 1)
    """
    image = np.asarray(image)
    wide = image.astype(np.float64 if image.dtype.kind == "f" else np.int64)
    return integral_image(image), integral_image(wide * wide)


def rectangle_sum(integral, y, x, h, w):
    """Sums over rectangles ``image[..., y:y + h, x:x + w]`` from four lookups each.

    Parameters
    ----------
    integral : ndarray, shape (..., H + 1, W + 1)
        From :func:`integral_image`.
    y, x, h, w : int or array_like of int
        Top-left corners and sizes; arrays broadcast together, so many
        rectangles are summed in one call.

    Returns
    -------
    ndarray, shape (...,) + broadcast shape of ``y, x, h, w``
    """
    y, x, h, w = np.broadcast_arrays(*(np.asarray(v, dtype=np.int64) for v in (y, x, h, w)))
    rows, cols = integral.shape[-2] - 1, integral.shape[-1] - 1
    if np.any(h < 0) or np.any(w < 0) or np.any(y < 0) or np.any(x < 0) \
            or np.any(y + h > rows) or np.any(x + w > cols):
        raise ValueError(f"rectangles must lie inside the {rows}x{cols} image")
    return (integral[..., y + h, x + w] - integral[..., y, x + w]
            - integral[..., y + h, x] + integral[..., y, x])


def window_std(integral, integral_sq, y, x, h, w):
    """Standard deviation of the pixels of each window, from two integral images.

    Uses ``var = E[p**2] - E[p]**2``, so each window costs eight lookups. Viola
    and Jones divide every feature by this value so that a face looks the same
    under any lighting contrast.

    Parameters
    ----------
    integral, integral_sq : ndarray, shape (H + 1, W + 1)
        Integral images of the pixels and of their squares.
    y, x : array_like of int, shape (n,)
        Top-left corners of the windows.
    h, w : int
        Window size.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    area = float(h * w)
    mean = rectangle_sum(integral, y, x, h, w) / area
    mean_sq = rectangle_sum(integral_sq, y, x, h, w) / area
    return np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))
