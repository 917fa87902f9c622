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
