"""Reading and writing images, and normalising them to 8-bit grayscale, in one place.

Every phase works on 8-bit grayscale, as FER2013 does. Images arrive in many
forms (BGR or RGB, with alpha, 16-bit PNGs, float arrays), so this module is
the single gate they all pass through. Files are read as a photo viewer
shows them (EXIF orientation applied), and never decoded past a size limit.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import cv2
import numpy as np

from .atomic import OutputError, write_bytes
from .paths import WRITABLE_IMAGE_SUFFIXES, display_path
from .reading import open_regular

# A 100-megapixel photo still reads (about 300 MB as BGR); a larger image is refused for that file only.
MAX_PIXELS = 100_000_000
# And what decoding it costs: width x height x channels x bytes per sample, read from the header before any
# pixel is decoded. 400 MB holds a 100-megapixel photo with alpha, or a 7000 x 7000 16-bit RGBA PNG. Reading one
# image then peaks at twice this (an EXIF turn copies it), its grey version at a quarter: with the model, a
# command stays under 2 GB for any file it accepts.
MAX_IMAGE_BYTES = 400_000_000
# OpenCV's own pixel limit guards the formats whose header Pillow cannot read (read once, at the first decoding).
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> channels OpenCV decodes it to (grey, -, RGB, palette (alpha possible), grey+alpha, RGBA).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 4, 6: 4}
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
    size, orientation, _ = _header(encoded)
    return size, orientation


def decoded_bytes(size, pixel_bytes):
    """What decoding an image costs: width x height x channels x bytes per sample.

    Parameters
    ----------
    size : (int, int)
        ``(width, height)``.
    pixel_bytes : int
        Channels x bytes per sample, as :func:`read_image` decodes the file
        (a 16-bit RGBA PNG: 4 x 2 = 8).

    Returns
    -------
    int
    """
    width, height = size
    return int(width) * int(height) * int(pixel_bytes)


def _header(encoded):
    # (size, orientation, bytes per decoded pixel); PNG's own header gives its bit depth, which Pillow hides.
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # Pillow warns about large images; the caller applies its own limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(memoryview(encoded))) as image:
                # A PNG's getexif() decodes every pixel when no eXIf chunk precedes the data: read none then.
                exif = image.format != "PNG" or "exif" in image.info
                orientation = image.getexif().get(_EXIF_ORIENTATION, 1) if exif else 1
                try:
                    pixel_bytes = _pixel_bytes(encoded, image)
                except Exception:  # noqa: BLE001 - an odd mode: the decoded image is measured instead
                    pixel_bytes = None
                return image.size, orientation if orientation in _ORIENT else 1, pixel_bytes
    except Image.DecompressionBombError:
        raise
    except Exception:  # noqa: BLE001 - any format or header Pillow does not know: OpenCV may still decode it
        return None, 1, None


def _pixel_bytes(encoded, image):
    """Bytes per pixel OpenCV's ``IMREAD_UNCHANGED`` decodes ``image`` to, from its header; counted high."""
    from PIL import Image

    head = bytes(memoryview(encoded)[:26])
    if head.startswith(_PNG_SIGNATURE) and head[12:16] == b"IHDR":
        depth, colour = head[24], head[25]
        return _PNG_CHANNELS.get(colour, 4) * (2 if depth == 16 else 1)
    mode = image.mode
    channels = 4 if mode in ("P", "PA", "LA", "La") else Image.getmodebands(mode)
    sample = 2 if mode.startswith("I;16") else 4 if mode in ("I", "F") else 1
    tags = getattr(image, "tag_v2", None)          # TIFF: 16-, 32- or 64-bit samples, any number of them
    if tags is not None:
        bits = tags.get(258, (8,))
        sample = max(sample, -(-max(bits if isinstance(bits, tuple) else (bits,)) // 8))
        channels = max(channels, int(tags.get(277, channels)))
    return channels * sample


def read_image(path, max_pixels=MAX_PIXELS, max_bytes=MAX_IMAGE_BYTES):
    """Read an image file as a photo viewer shows it: BGR or BGRA or gray, at its own bit depth.

    The EXIF orientation is applied (OpenCV's ``IMREAD_UNCHANGED`` ignores
    it, so a phone photo would lie on its side). The size and the bytes
    decoding costs (:func:`decoded_bytes`: channels and bit depth too) are
    checked in the header before any pixel is decoded, so a small file that
    claims a huge or deep image (a decompression bomb) never allocates it.
    For the few formats Pillow cannot parse, OpenCV's own limit
    (``OPENCV_IO_MAX_IMAGE_PIXELS``, set to :data:`MAX_PIXELS` unless already
    set) guards the decoding, and both limits are checked after it.

    Parameters
    ----------
    path : str or Path
    max_pixels : int
        Largest width x height accepted.
    max_bytes : int
        Largest decoded image accepted, in bytes (default :data:`MAX_IMAGE_BYTES`).

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
        size, orientation, pixel_bytes = _header(encoded)
    except Image.DecompressionBombError as error:
        raise ImageError(f"{name}: too large to decode ({error})") from None
    if size is not None:
        _check_size(name, size, max_pixels, pixel_bytes, max_bytes)
    from .quiet import captured_stderr

    with captured_stderr() as decoder_said:            # libpng writes its complaints to stderr itself
        image = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    del encoded
    if image is None or image.size == 0:
        # libpng's reason, in its words; OpenCV's own log lines (stamped with a time) are left out.
        reason = next((line for line in reversed("".join(decoder_said).splitlines())
                       if line.startswith("libpng error")), "")
        raise ImageError(f"{name}: not a decodable image" + (f" ({reason})" if reason else ""))
    _check_size(name, (image.shape[1], image.shape[0]), max_pixels, image.nbytes // (image.shape[0] * image.shape[1]),
                max_bytes)
    return np.ascontiguousarray(_ORIENT[orientation](image))


def _check_size(name, size, max_pixels, pixel_bytes=None, max_bytes=MAX_IMAGE_BYTES):
    width, height = size
    if width * height > max_pixels:
        raise ImageError(f"{name}: {width}x{height} pixels is more than the {max_pixels:,} allowed "
                         "(shrink the image first)")
    if pixel_bytes and decoded_bytes(size, pixel_bytes) > max_bytes:
        raise ImageError(f"{name}: {width}x{height} pixels of {pixel_bytes} bytes each would take "
                         f"{decoded_bytes(size, pixel_bytes) / 1e6:,.0f} MB decoded, more than the "
                         f"{max_bytes / 1e6:,.0f} MB allowed (save it in 8 bits, or shrink it first)")


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
    if image.ndim == 3 and image.dtype == np.uint16:
        # Grey first, at 16 bits (what a 16-bit PNG decodes to), then 8 bits: no copy of the colour image.
        full_scale = _full_scale(image)
        code = {("bgr", 3): cv2.COLOR_BGR2GRAY, ("bgr", 4): cv2.COLOR_BGRA2GRAY,
                ("rgb", 3): cv2.COLOR_RGB2GRAY, ("rgb", 4): cv2.COLOR_RGBA2GRAY}[color_order, image.shape[2]]
        return _to_uint8(cv2.cvtColor(np.ascontiguousarray(image), code), full_scale)
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


def _full_scale(image):
    # The range an integer image's values need: 8, 16, 32 or 64 bits (negative values count as 0).
    peak = int(image.max(initial=0))
    return next(top for top in (255, 65535, 2**32 - 1, 2**64 - 1) if peak <= top)


def _to_uint8(image, full_scale=None):
    # Integer shifts and OpenCV's saturating conversion, never a float64 copy: a 16-bit image costs one 8-bit one.
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.view(np.uint8) * np.uint8(255)
    if np.issubdtype(image.dtype, np.floating):
        values = np.array(image, dtype=np.float32)          # the one copy, worked on in place
        np.nan_to_num(values, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
        if values.max(initial=0.0) <= 1.0:
            values *= 255.0
        values += 0.5
        np.clip(values, 0, 255, out=values)
        return values.astype(np.uint8)
    if np.issubdtype(image.dtype, np.integer):
        if image.dtype.kind == "i" and image.min(initial=0) < 0:
            image = np.clip(image, 0, None)
        full_scale = full_scale or _full_scale(image)
        if full_scale == 255:
            return image.astype(np.uint8)
        if image.dtype in (np.uint16, np.int16, np.int32):
            return cv2.convertScaleAbs(np.ascontiguousarray(image), alpha=255.0 / full_scale)  # rounded, saturated
        values = image.astype(np.float32)
        values *= np.float32(255.0 / full_scale)
        values += 0.5
        return np.clip(values, 0, 255, out=values).astype(np.uint8)
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
