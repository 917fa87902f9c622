"""Reading and writing images, and normalising them to 8-bit grayscale, in one place.

Every phase works on 8-bit grayscale, as FER2013 does. Images arrive in many
forms (BGR or RGB, with alpha, 16-bit PNGs, float arrays), so this module is
the single gate they all pass through. Files are read as a photo viewer
shows them (EXIF orientation applied), and never decoded past a size limit.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import cv2
import numpy as np

from .atomic import OutputError, write_bytes
from .paths import WRITABLE_IMAGE_SUFFIXES, display_path
from .reading import open_regular

# A 100-megapixel photo still reads (about 300 MB as BGR); a larger image is refused for that file only.
MAX_PIXELS = 100_000_000
_EXIF_ORIENTATION = 0x0112

# EXIF orientation -> how to turn the stored pixels (rows, columns) into what a photo viewer shows.
_ORIENT = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],                        # mirrored left-right
    3: lambda a: a[::-1, ::-1],                     # upside down
    4: lambda a: a[::-1],                           # mirrored top-bottom
    5: lambda a: a.swapaxes(0, 1),                  # transposed
    6: lambda a: np.rot90(a, -1),                   # turned 90 degrees clockwise (a phone held upright)
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),     # transversed
    8: lambda a: np.rot90(a, 1),                    # turned 90 degrees counter-clockwise
}


class ImageError(ValueError):
    """An image that cannot be read or understood; the message names the file."""


def image_header(encoded):
    """Size and EXIF orientation from an image file's header, without decoding its pixels.

    Parameters
    ----------
    encoded : bytes or ndarray of uint8, shape (n,)
        The file's bytes.

    Returns
    -------
    size : (int, int) or None
        ``(width, height)`` as stored; None when Pillow cannot parse the header.
    orientation : int
        EXIF orientation 1 to 8 (1: as stored).

    Raises
    ------
    PIL.Image.DecompressionBombError
        When the header claims more than twice ``PIL.Image.MAX_IMAGE_PIXELS``.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow warns about large images; the caller applies its own limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(memoryview(encoded))) as image:
                orientation = image.getexif().get(_EXIF_ORIENTATION, 1)
                return image.size, orientation if orientation in _ORIENT else 1
    except Image.DecompressionBombError:
        raise
    except Exception:  # noqa: BLE001 - any format or header Pillow does not know: OpenCV may still decode it
        return None, 1


def read_image(path, max_pixels=MAX_PIXELS):
    """Read an image file as a photo viewer shows it: BGR or BGRA or gray, at its own bit depth.

    The EXIF orientation is applied (OpenCV's ``IMREAD_UNCHANGED`` ignores
    it, so a phone photo would lie on its side). The size is checked in the
    header before any pixel is decoded, so a small file that claims a huge
    image (a decompression bomb) never allocates it. For the few formats
    Pillow cannot parse, OpenCV's own limit (``OPENCV_IO_MAX_IMAGE_PIXELS``,
    2**30 pixels by default) guards the decoding and ``max_pixels`` is
    checked after it.

    Parameters
    ----------
    path : str or Path
    max_pixels : int
        Largest width x height accepted.

    Returns
    -------
    ndarray
        Shape (h, w), (h, w, 3) or (h, w, 4), dtype uint8 or uint16 or float32.

    Raises
    ------
    ImageError
        When the file is missing, empty, too large, not a regular file (a FIFO, a device) or not a decodable image.
    """
    name = display_path(path)
    try:
        with open_regular(path) as stream:
            encoded = np.frombuffer(stream.read(), dtype=np.uint8)
    except OSError as error:
        raise ImageError(f"{name}: cannot read file ({error.strerror or error})") from None
    if encoded.size == 0:
        raise ImageError(f"{name}: empty file")
    from PIL import Image

    try:
        size, orientation = image_header(encoded)
    except Image.DecompressionBombError as error:
        raise ImageError(f"{name}: too large to decode ({error})") from None
    if size is not None:
        _check_size(name, size, max_pixels)
    image = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ImageError(f"{name}: not a decodable image")
    _check_size(name, (image.shape[1], image.shape[0]), max_pixels)
    return np.ascontiguousarray(_ORIENT[orientation](image))


def _check_size(name, size, max_pixels):
    width, height = size
    if width * height > max_pixels:
        raise ImageError(f"{name}: {width}x{height} pixels is more than the {max_pixels:,} allowed "
                         "(shrink the image first)")


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


def to_bgr_uint8(image):
    """Any image :func:`to_gray_uint8` accepts (BGR order for colour) as 8-bit BGR, shape (h, w, 3): to draw on."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ImageError(f"expected an image of shape (h, w), (h, w, 3) or (h, w, 4), got {image.shape}")
    image = _to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image


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


def write_image(path, image):
    """Write an image file whole or not at all: encoded in memory, written beside ``path``, then renamed onto it.

    Parameters
    ----------
    path : str or Path
        Its suffix, one of :data:`~fer_classic.paths.WRITABLE_IMAGE_SUFFIXES`, picks the format.
    image : ndarray of uint8, shape (h, w), (h, w, 3) BGR or (h, w, 4) BGRA

    Raises
    ------
    ImageError
        Naming the file, when its suffix is not an image format or it cannot be written.
    """
    path = Path(path)
    name = display_path(path)
    if path.suffix.lower() not in WRITABLE_IMAGE_SUFFIXES:
        raise ImageError(f"{name}: cannot write {path.suffix or 'a file without a suffix'}; "
                         f"use one of {', '.join(WRITABLE_IMAGE_SUFFIXES)}")
    encoded, ok = None, False
    try:
        ok, encoded = cv2.imencode(path.suffix.lower(), image)
    except cv2.error:
        pass
    if not ok:
        raise ImageError(f"{name}: cannot encode a {image.dtype} image of shape {image.shape} as {path.suffix}")
    try:
        write_bytes(path, encoded.tobytes())
    except OutputError as error:
        raise ImageError(str(error)) from None
