"""Reading images and normalising them to 8-bit grayscale, in one place.

Every phase works on 8-bit grayscale, as FER2013 does. Images arrive in many
forms (BGR or RGB, with alpha, 16-bit PNGs, float arrays), so this module is
the single gate they all pass through.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


class ImageError(ValueError):
    """An image that cannot be read or understood; the message names the file."""


def read_image(path):
    """Read an image file as stored: BGR or BGRA or gray, at its own bit depth.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray
        Shape (h, w), (h, w, 3) or (h, w, 4), dtype uint8 or uint16 or float32.

    Raises
    ------
    ImageError
        When the file is missing, empty or not a decodable image.
    """
    path = Path(path)
    try:
        encoded = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise ImageError(f"{path}: cannot read file ({error.strerror or error})") from None
    if encoded.size == 0:
        raise ImageError(f"{path}: empty file")
    image = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ImageError(f"{path}: not a decodable image")
    return image


def to_gray_uint8(image, color_order="bgr"):
    """Convert any image array to 8-bit grayscale.

    Parameters
    ----------
    image : ndarray, shape (h, w), (h, w, 1), (h, w, 3) or (h, w, 4)
        Integer images are scaled by the range their values need: 8, 16 or 32
        bits (so a 16-bit PNG held in int32 is still read as 16-bit). Float
        images are taken as [0, 1] when their maximum is at most 1, else as
        [0, 255]. Alpha is dropped.
    color_order : {"bgr", "rgb"}
        Channel order of a color image: OpenCV gives BGR, skimage and PIL RGB.

    Returns
    -------
    ndarray of uint8, shape (h, w)
    """
    image = np.asarray(image)
    if color_order not in ("bgr", "rgb"):
        raise ValueError(f"color_order must be 'bgr' or 'rgb', got {color_order!r}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ImageError(f"expected an image of shape (h, w), (h, w, 3) or (h, w, 4), got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageError(f"empty image of shape {image.shape}")
    image = _to_uint8(image)
    if image.ndim == 3:
        code = {("bgr", 3): cv2.COLOR_BGR2GRAY, ("bgr", 4): cv2.COLOR_BGRA2GRAY,
                ("rgb", 3): cv2.COLOR_RGB2GRAY, ("rgb", 4): cv2.COLOR_RGBA2GRAY}[color_order, image.shape[2]]
        image = cv2.cvtColor(np.ascontiguousarray(image), code)
    return image


def _to_uint8(image):
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        finite = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        scale = 255.0 if finite.max(initial=0.0) <= 1.0 else 1.0
        return np.clip(finite * scale + 0.5, 0, 255).astype(np.uint8)
    if np.issubdtype(image.dtype, np.integer):
        peak = int(image.max(initial=0))
        full_scale = next(top for top in (255, 65535, 2**32 - 1, 2**64 - 1) if peak <= top)
        scaled = np.clip(image, 0, None).astype(np.float64) * (255.0 / full_scale)
        return (scaled + 0.5).astype(np.uint8)
    raise ImageError(f"unsupported image dtype {image.dtype}")
