import os

import cv2
import numpy as np
import pytest

from fer_classic.imageio import ImageError, read_image, to_gray_uint8


def test_every_format_gives_the_same_gray(astronaut_bgr):
    reference = to_gray_uint8(astronaut_bgr)
    rgb = astronaut_bgr[:, :, ::-1]
    variants = {
        "rgb": to_gray_uint8(rgb, color_order="rgb"),
        "bgra": to_gray_uint8(np.dstack([astronaut_bgr, np.full(reference.shape, 255, np.uint8)])),
        "rgba": to_gray_uint8(np.dstack([rgb, np.zeros(reference.shape, np.uint8)]), color_order="rgb"),
        "uint16": to_gray_uint8(astronaut_bgr.astype(np.uint16) * 257),
        "float32 [0,1]": to_gray_uint8(astronaut_bgr.astype(np.float32) / 255),
        "float64 [0,255]": to_gray_uint8(astronaut_bgr.astype(np.float64)),
        "int32 16-bit": to_gray_uint8(astronaut_bgr.astype(np.int32) * 257),
        "uint32": to_gray_uint8(astronaut_bgr.astype(np.uint32) * 16843009),
    }
    for name, gray in variants.items():
        assert gray.dtype == np.uint8 and gray.shape == reference.shape, name
        assert np.abs(gray.astype(int) - reference).max() <= 1, name
    assert to_gray_uint8(reference) is reference
    np.testing.assert_array_equal(to_gray_uint8(reference[:, :, None]), reference)


def test_color_order_matters(astronaut_bgr):
    assert not np.array_equal(to_gray_uint8(astronaut_bgr, "bgr"), to_gray_uint8(astronaut_bgr, "rgb"))


@pytest.mark.parametrize("shape", [(5,), (4, 4, 2), (0, 7), (2, 2, 2, 2)])
def test_bad_shapes_are_refused(shape):
    with pytest.raises(ImageError):
        to_gray_uint8(np.zeros(shape, np.uint8))


def test_unreadable_files_name_the_file(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    truncated = tmp_path / "cut.png"
    import cv2
    ok, encoded = cv2.imencode(".png", np.zeros((20, 20), np.uint8))
    truncated.write_bytes(encoded.tobytes()[:30])
    for path, message in ((empty, "empty file"), (text, "not a decodable image"),
                          (truncated, "not a decodable image"), (tmp_path / "missing.png", "cannot read")):
        with pytest.raises(ImageError, match=message) as raised:
            read_image(path)
        assert str(path) in str(raised.value)


def test_read_keeps_bit_depth(tmp_path):
    import cv2
    image = (np.arange(64 * 64, dtype=np.uint16) * 16).reshape(64, 64)
    cv2.imwrite(str(tmp_path / "deep.png"), image)
    loaded = read_image(tmp_path / "deep.png")
    assert loaded.dtype == np.uint16
    np.testing.assert_array_equal(loaded, image)


def write_rotated_jpeg(path, upright_bgr, orientation=6):
    """A JPEG that stores ``upright_bgr`` turned as a phone does, with the EXIF tag that turns it back."""
    from PIL import Image

    stored = np.rot90(upright_bgr, 1) if orientation == 6 else upright_bgr    # 6: the viewer turns it clockwise
    image = Image.fromarray(np.ascontiguousarray(stored[:, :, ::-1]))
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(path, "JPEG", quality=95, exif=exif)
    return path


def test_exif_orientation_is_applied(tmp_path, astronaut_bgr):
    path = write_rotated_jpeg(tmp_path / "phone.jpg", astronaut_bgr[:, :400])       # not square: turns show
    image = read_image(path)
    assert image.shape == (512, 400, 3)
    assert np.abs(image.astype(int) - astronaut_bgr[:, :400]).mean() < 3              # upright, as a viewer shows it


def png_bomb(path, side):
    """A valid PNG of ``side`` x ``side`` black pixels: a few hundred kB that decode to side**2 bytes."""
    import struct
    import zlib

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    compressor = zlib.compressobj(9)
    row = bytes(side + 1)                                      # filter byte 0, then one row of gray pixels
    pixels = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit gray
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return path


def test_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    import cv2

    bomb = png_bomb(tmp_path / "bomb.png", 12_000)              # 144 megapixels in about 140 kB
    assert bomb.stat().st_size < 200_000

    def no_decoding(*args):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(cv2, "imdecode", no_decoding)
    with pytest.raises(ImageError, match="12000x12000 pixels is more than") as raised:
        read_image(bomb)
    assert str(bomb) in str(raised.value)


def test_write_image_is_atomic_and_reports_write_errors(tmp_path):
    from fer_classic.imageio import ImageError, write_image

    image = np.full((8, 8, 3), 7, np.uint8)
    target = tmp_path / "out.png"
    target.write_bytes(b"the old file")
    write_image(target, image)
    np.testing.assert_array_equal(cv2.imread(str(target)), image)
    with pytest.raises(ImageError, match="cannot write .gif"):
        write_image(tmp_path / "out.gif", image)
    with pytest.raises(ImageError, match="missing"):
        write_image(tmp_path / "missing" / "out.png", image)
    if os.path.exists("/dev/full"):
        with pytest.raises(ImageError, match="cannot write"):
            write_image("/dev/full/x.png", image)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]          # no partial file left behind


def _forged_png(width, height, depth=16, colour=6):
    """A tiny PNG whose header claims ``width`` x ``height`` of the given bit depth and colour type."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def test_decoding_cost_counts_channels_and_bit_depth(tmp_path):
    from fer_classic.imageio import MAX_IMAGE_BYTES, MAX_PIXELS, _header, decoded_bytes

    # Under the pixel cap, a 16-bit RGBA image costs 8 bytes a pixel: 7100 x 7100 is refused before decoding.
    assert 7100 * 7100 < MAX_PIXELS
    size, _, pixel_bytes = _header(np.frombuffer(_forged_png(7100, 7100), np.uint8))
    assert (size, pixel_bytes) == ((7100, 7100), 8)
    assert decoded_bytes(size, pixel_bytes) == 7100 * 7100 * 4 * 2 > MAX_IMAGE_BYTES
    bomb = tmp_path / "deep.png"
    bomb.write_bytes(_forged_png(7100, 7100))
    with pytest.raises(ImageError, match=r"deep\.png: 7100x7100 pixels of 8 bytes each .* MB allowed"):
        read_image(bomb)
    # The same size in 8-bit grey is cheap enough to reach the decoder (which finds the data cut short).
    assert _header(np.frombuffer(_forged_png(7100, 7100, 8, 0), np.uint8))[2] == 1
    grey = tmp_path / "grey.png"
    grey.write_bytes(_forged_png(7100, 7100, 8, 0))
    with pytest.raises(ImageError, match="not a decodable image"):
        read_image(grey)


def test_a_real_16_bit_rgba_png_is_decoded_within_its_cost(tmp_path, astronaut_bgr):
    rgba16 = np.dstack([astronaut_bgr, np.full(astronaut_bgr.shape[:2], 255, np.uint8)]).astype(np.uint16) * 257
    path = tmp_path / "rgba16.png"
    cv2.imwrite(str(path), rgba16)
    cost = rgba16.nbytes
    with pytest.raises(ImageError, match="MB allowed"):
        read_image(path, max_bytes=cost - 1)
    image = read_image(path, max_bytes=cost)
    assert image.dtype == np.uint16 and image.nbytes == cost
    gray = to_gray_uint8(image)
    assert gray.dtype == np.uint8
    assert np.abs(gray.astype(int) - to_gray_uint8(astronaut_bgr)).max() <= 1
