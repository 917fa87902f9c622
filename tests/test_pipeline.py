import numpy as np
import pytest

from fer_classic import EMOTIONS, EmotionRecognizer
from fer_classic.detect import WholeImageDetector
from fer_classic.pipeline import crop_faces, expand_image_paths


@pytest.fixture(scope="module")
def recognizer():
    return EmotionRecognizer.load("classic")


def test_analyze_rgb_photo(recognizer, astronaut_bgr):
    [face] = recognizer.analyze(astronaut_bgr[:, :, ::-1], color_order="rgb")
    assert face["emotion"] == "happy"
    assert list(face["probabilities"]) == list(EMOTIONS)


def test_predict_proba_shapes(recognizer, face_batch):
    probabilities = recognizer.predict_proba(face_batch[:5])
    assert probabilities.shape == (5, 7) and probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert recognizer.predict_proba(face_batch[:0]).shape == (0, 7)
    assert recognizer.analyze(np.zeros((100, 100), np.uint8)) == []


def test_whole_image_mode_on_a_crop(recognizer, face_batch):
    whole = EmotionRecognizer(recognizer.model, detector=WholeImageDetector())
    [face] = whole.analyze(face_batch[0])
    assert face["box"] == (0, 0, 48, 48)
    np.testing.assert_allclose(list(face["probabilities"].values()), recognizer.predict_proba(face_batch[:1])[0])


def test_crop_faces_pads_boxes_that_leave_the_image():
    gray = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    faces = crop_faces(gray, np.array([[-10, -10, 40, 40], [80, 80, 30, 30], [0, 0, 48, 48]]))
    assert faces.shape == (3, 48, 48) and faces.dtype == np.uint8
    np.testing.assert_array_equal(faces[2], gray[:48, :48])


def test_expand_image_paths(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/one.png", "a/b/two.JPG", "a/notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in expand_image_paths([tmp_path / "a"])]
    assert found == ["a/b/two.JPG", "a/one.png"]
    assert list(expand_image_paths([tmp_path / "a/notes.txt"])) == [tmp_path / "a/notes.txt"]


def test_run_phases_keeps_every_intermediate(recognizer, astronaut_bgr):
    from fer_classic.phases import run_phases

    result = run_phases(recognizer, astronaut_bgr)
    assert set(result["timings"]) == {"detect", "extract", "classify"}
    assert all(seconds > 0 for seconds in result["timings"].values())
    [face] = result["faces"]
    assert face["emotion"] == "happy" and face["crop"].shape == (48, 48)
    assert face["landmarks"].shape == (68, 2) and face["aligned"].shape == (48, 48)
    assert face["hog_image"].shape == (48, 48) and face["hog_image"].max() > 0
    assert face["lbp_image"].shape == (46, 46) and face["lbp_image"].max() <= 58
    assert face["geometric"].shape == (170,)
