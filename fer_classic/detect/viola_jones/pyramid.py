"""Image pyramid and sliding windows: every position and scale a face may take.

The detector looks at one window size only, so faces of other sizes are found
by shrinking the image: each level of the pyramid is the image scaled down by
one more ``scale_factor``, and the window slides over every level. (Viola and
Jones scale the features instead; an image pyramid gives the same windows and
keeps the features in one place.)

References
----------
.. [1] P. Viola and M. Jones, "Robust real-time face detection", IJCV 57(2),
       2004, section 5.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..defaults import VIOLA_JONES_SCALE_FACTOR


def image_pyramid(image, window_shape, scale_factor=VIOLA_JONES_SCALE_FACTOR, min_scale=1.0, max_scale=None):
    """Shrunken copies of an image, from ``min_scale`` until the window no longer fits.

    Parameters
    ----------
    image : ndarray of uint8, shape (h, w)
    window_shape : (int, int)
        ``(height, width)`` of the detection window.
    scale_factor : float
        Ratio between consecutive scales (> 1).
    min_scale, max_scale : float
        First and largest scale; scale ``s`` finds faces about ``s`` times the
        window's size. ``max_scale=None`` goes on while the window fits.

    Yields
    ------
    scale_y, scale_x : float
        Original pixels per level pixel, along each axis.
    level : ndarray of uint8, shape (round(h / s), round(w / s))
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {image.shape}")
    if scale_factor <= 1:
        raise ValueError(f"scale_factor must be > 1, got {scale_factor}")
    if min_scale <= 0:
        raise ValueError(f"min_scale must be > 0, got {min_scale}")
    height, width = image.shape
    scale = min_scale
    while max_scale is None or scale <= max_scale:
        size = (round(width / scale), round(height / scale))
        if size[1] < window_shape[0] or size[0] < window_shape[1]:
            break
        # area averaging, as the training faces were shrunk to the window
        level = image if size == (width, height) else cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        yield height / size[1], width / size[0], level
        scale *= scale_factor


def window_origins(image_shape, window_shape, step=2):
    """Top-left corners of every window position on a grid.

    Parameters
    ----------
    image_shape, window_shape : (int, int)
        ``(height, width)``.
    step : int
        Pixels between neighbouring windows.

    Returns
    -------
    ys, xs : ndarray of int64, shape (n,)
        Row-major order; empty when the window does not fit.
    """
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    ys = np.arange(0, image_shape[0] - window_shape[0] + 1, step)
    xs = np.arange(0, image_shape[1] - window_shape[1] + 1, step)
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    return grid_y.ravel(), grid_x.ravel()
