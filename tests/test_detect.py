import numpy as np
import pytest

from fer_classic.detect import HaarCascadeDetector, WholeImageDetector, sort_boxes_by_size

from .conftest import ASTRONAUT_BOX


def test_astronaut_has_one_face_where_opencv_puts_it(astronaut_bgr):
    boxes = HaarCascadeDetector().detect(astronaut_bgr)
    assert boxes.shape == (1, 4) and boxes.dtype == np.int64
    np.testing.assert_allclose(boxes[0], ASTRONAUT_BOX, atol=8)


@pytest.mark.parametrize("convert", [
    lambda im: im[:, :, ::-1].copy(),                                     # RGB read as BGR: still a face
    lambda im: im.astype(np.uint16) * 257,                                # 16-bit
    lambda im: im.astype(np.float32) / 255,                               # 32-bit float
    lambda im: np.dstack([im, np.full(im.shape[:2], 255, np.uint8)]),     # with alpha
    lambda im: im.mean(axis=2).astype(np.uint8),                          # gray
])
def test_every_image_format_is_accepted(astronaut_bgr, convert):
    assert len(HaarCascadeDetector().detect(convert(astronaut_bgr))) == 1


def test_blank_image_has_no_faces():
    boxes = HaarCascadeDetector().detect(np.full((240, 320), 128, np.uint8))
    assert boxes.shape == (0, 4)


def test_cascades_and_parameters(astronaut_bgr):
    assert len(HaarCascadeDetector("frontal-alt2").detect(astronaut_bgr)) == 1
    assert len(HaarCascadeDetector(min_size=(200, 200)).detect(astronaut_bgr)) == 0
    with pytest.raises(FileNotFoundError, match="known names"):
        HaarCascadeDetector("no-such-cascade").detect(astronaut_bgr)
    with pytest.raises(ValueError, match="scale_factor"):
        HaarCascadeDetector(scale_factor=1.0).detect(astronaut_bgr)


def test_detector_survives_pickling(astronaut_bgr):
    import pickle
    detector = HaarCascadeDetector()
    detector.detect(astronaut_bgr)
    assert len(pickle.loads(pickle.dumps(detector)).detect(astronaut_bgr)) == 1


def test_boxes_sorted_largest_first():
    boxes = sort_boxes_by_size([[0, 0, 10, 10], [5, 5, 30, 30], [1, 1, 20, 20]])
    assert boxes[:, 2].tolist() == [30, 20, 10]


def test_whole_image_mode_is_one_box():
    np.testing.assert_array_equal(WholeImageDetector().detect(np.zeros((48, 48), np.uint8)), [[0, 0, 48, 48]])
