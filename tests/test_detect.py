import numpy as np
import pytest

from fer_classic.detect import DownscaledDetector, HaarCascadeDetector, WholeImageDetector, sort_boxes_by_size
from fer_classic.imageio import ImageError

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
    np.testing.assert_array_equal(WholeImageDetector().detect(np.zeros((30, 40, 3), np.float32)), [[0, 0, 40, 30]])


@pytest.mark.parametrize("detector", [WholeImageDetector(), HaarCascadeDetector(),
                                      DownscaledDetector(HaarCascadeDetector())], ids=type)
def test_every_detector_names_an_image_it_cannot_read(detector):
    with pytest.raises(ImageError, match="empty image"):
        detector.detect(np.zeros((0, 48), np.uint8))
    with pytest.raises(ImageError, match=r"got \(48, 48, 2\)"):
        detector.detect(np.zeros((48, 48, 2), np.uint8))


def test_nested_boxes_are_one_face():
    from fer_classic.detect import drop_duplicates

    # A face found at two scales: the small box lies inside the large one, their IoU only 0.25.
    kept = drop_duplicates([[100, 100, 100, 100], [125, 125, 50, 50], [300, 100, 60, 60]])
    assert kept.tolist() == [[100, 100, 100, 100], [300, 100, 60, 60]]


def test_verified_detector_rejects_what_the_cascade_invents(astronaut_gray):
    import cv2

    from fer_classic.detect import VerifiedDetector, box_iou

    large = cv2.resize(astronaut_gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)   # a 1024 px photo
    face = np.array(ASTRONAUT_BOX) * 2
    candidates = HaarCascadeDetector(min_neighbors=2)
    assert len(candidates.detect(large)) > 1                                  # the suit and flag give false faces
    [box] = VerifiedDetector(candidates).detect(large)
    assert box_iou([box], [face])[0, 0] > 0.5


def test_profile_faces_are_found_looking_either_way(astronaut_gray):
    from skimage import data

    from fer_classic.detect import ProfileDetector, box_iou
    from fer_classic.detect.profile import mirror_boxes

    np.testing.assert_array_equal(mirror_boxes([[10, 5, 30, 30]], 100), [[60, 5, 30, 30]])
    camera = data.camera()                                      # the cameraman, his face turned to the right
    assert len(HaarCascadeDetector("profile").detect(camera)) == 0
    boxes = ProfileDetector().detect(camera)
    assert box_iou(boxes, [[178, 102, 80, 92]]).max() > 0.5
    mirrored = ProfileDetector().detect(np.ascontiguousarray(camera[:, ::-1]))
    assert box_iou(mirrored, mirror_boxes([[178, 102, 80, 92]], camera.shape[1])).max() > 0.5


def test_dlib_detectors_find_the_astronaut(astronaut_gray):
    from fer_classic.detect import DlibCnnDetector, DlibHogDetector, box_iou

    assert box_iou(DlibHogDetector().detect(astronaut_gray), [ASTRONAUT_BOX]).max() > 0.5
    crop = astronaut_gray[16:272, 96:352]                       # 256 px around the face: the CNN is slow on a CPU
    boxes = DlibCnnDetector().detect(crop) + [96, 16, 0, 0]
    assert box_iou(boxes, [ASTRONAUT_BOX]).max() > 0.5
    with pytest.raises(ValueError, match="upsample"):
        DlibHogDetector(upsample=-1)


def test_every_named_detector_builds_and_finds_the_face(astronaut_gray):
    from fer_classic.detect import box_iou
    from fer_classic.detect.registry import DETECTORS, FACE_FINDERS, PHOTO_DETECTOR, VIDEO_DETECTOR, build_detector

    assert PHOTO_DETECTOR in DETECTORS and VIDEO_DETECTOR in DETECTORS
    assert build_detector("verified").candidates.min_neighbors == 2             # the cascade only proposes
    for name in set(FACE_FINDERS) - {"profile", "dlib-cnn"}:                        # a frontal face; the CNN is slow
        options = {"scale_factor": 1.25} if name == "viola-jones" else {}
        assert box_iou(build_detector(name, **options).detect(astronaut_gray), [ASTRONAUT_BOX]).max() > 0.5, name
    with pytest.raises(ValueError, match="unknown detector"):
        build_detector("no-such")


def test_detect_imports_no_front_end_or_model_store():
    import ast
    from pathlib import Path

    import fer_classic.detect

    forbidden = {"store", "cnn", "cli", "gui", "pipeline", "loading"}
    for path in Path(fer_classic.detect.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                # from ..store import x -> module "store"; from .. import store -> the names
                names = [node.module] if node.module else [alias.name for alias in node.names]
                assert not {name.split(".")[0] for name in names} & forbidden, f"{path.name} imports {names}"


def test_scenes_are_rebuilt_exactly_from_their_plan():
    from fer_classic.detect.scenes import build_scene, make_scenes, match, plan_scenes

    faces = np.repeat(np.arange(0, 240, 6, dtype=np.uint8), 48 * 48).reshape(40, 48, 48)    # face i is all 6 i
    plans = plan_scenes(len(faces), backgrounds=("coffee",), scenes_per_background=2, n_faces=3, size=(320, 240))
    assert plans[1]["mirrored"] and len(set(plans[0]["faces"] + plans[1]["faces"])) == 6
    name, scene, boxes = build_scene(plans[0], faces)
    assert scene.shape == (240, 320) and boxes.shape == (3, 4)
    x, y, w, h = boxes[0]
    assert scene[y + h // 2, x + w // 2] == 6 * plans[0]["faces"][0]
    [again, _] = make_scenes(faces, backgrounds=("coffee",), scenes_per_background=2, n_faces=3, size=(320, 240))
    np.testing.assert_array_equal(again[1], scene)
    found, false_positives = match([boxes[0] + [2, 2, 0, 0], [0, 0, 5, 5]], boxes)
    assert found.tolist() == [True, False, False] and false_positives == 1


def test_whole_image_detector_is_named_and_skips_video_tracking(astronaut_gray):
    from fer_classic.detect.registry import DETECTORS, FACE_FINDERS, build_detector

    assert "whole-image" in DETECTORS and "whole-image" not in FACE_FINDERS
    for video in (False, True):
        detector = build_detector("whole-image", video=video)
        assert isinstance(detector, WholeImageDetector)
        np.testing.assert_array_equal(detector.detect(astronaut_gray), [[0, 0, 512, 512]])


def test_a_huge_image_is_scanned_a_band_of_pyramid_levels_at_a_time():
    from fer_classic.detect import haar

    class Recorder:                                  # OpenCV's cascade, as far as the detector sees it
        def __init__(self):
            self.calls = []

        def getOriginalWindowSize(self):
            return (24, 24)

        def detectMultiScale(self, gray, **options):
            self.calls.append(options)
            return ()

    detector = HaarCascadeDetector(scale_factor=1.2, min_neighbors=2)
    detector._loaded = recorder = Recorder()
    huge = np.zeros((10_000, 10_000), np.uint8)      # 100 megapixels, the image cap (zeros: no memory touched)
    assert detector.detect(huge).shape == (0, 4)
    levels = haar.pyramid_levels((24, 24), (10_000, 10_000), 1.2, (30, 30))
    assert levels[0][0] == (35, 35) and levels[0][1] == (6944, 6944)  # OpenCV's first level: 30 px faces fill 24 px
    assert len(recorder.calls) > 1 and all(call["minNeighbors"] == 0 for call in recorder.calls)
    scanned = []
    for call in recorder.calls:
        band = [level for level in levels if call["minSize"] <= level[0] <= call["maxSize"]]
        pixels = sum((w + 1) * (h + 1) for _, (w, h) in band)
        assert len(band) == 1 or pixels <= haar.MAX_BAND_PIXELS          # bounded: one level, or a band's budget
        scanned += band
    assert scanned == levels                                              # every level once, in order


@pytest.mark.parametrize("cascade, scale_factor, min_neighbors", [
    ("frontal-default", 1.2, 2), ("frontal-default", 1.1, 5), ("frontal-alt2", 1.05, 0), ("profile", 1.1, 3)])
def test_a_banded_scan_finds_what_one_opencv_call_finds(monkeypatch, astronaut_gray, cascade, scale_factor,
                                                       min_neighbors):
    from fer_classic.detect import haar

    detector = HaarCascadeDetector(cascade, scale_factor, min_neighbors)
    one_call = detector.detect(astronaut_gray)
    monkeypatch.setattr(haar, "MAX_BAND_PIXELS", 1)                       # every level a band of its own
    calls = []
    classifier = detector._model()
    monkeypatch.setattr(detector, "_loaded", type("Spy", (), {
        "getOriginalWindowSize": lambda self: classifier.getOriginalWindowSize(),
        "detectMultiScale": lambda self, *args, **options: calls.append(options) or classifier.detectMultiScale(
            *args, **options)})())
    banded = detector.detect(astronaut_gray)
    assert len(calls) > 10
    assert sorted(banded.tolist()) == sorted(one_call.tolist())


def test_dlib_scans_a_huge_image_within_its_pixel_budget_and_scales_boxes_back():
    import dlib

    from fer_classic.detect.dlib_base import MAX_SCAN_PIXELS, DlibDetector, scan_plan

    assert scan_plan((480, 640), 1) == (1, 1.0)                       # a photo: as asked
    assert scan_plan((4000, 4000), 1) == (0, 1.0)                     # doubling given up first
    upsample, scale = scan_plan((10_000, 10_000), 1)
    assert upsample == 0 and 10_000 ** 2 * scale ** 2 <= MAX_SCAN_PIXELS * 1.001

    class Recording(DlibDetector):
        def _load(self):
            return None

        def _rectangles(self, gray, upsample):
            self.scanned = (gray.shape, upsample)
            return [dlib.rectangle(100, 100, 199, 199)]               # a 100-px face in the scanned image

    detector = Recording(upsample=1)
    [box] = detector.detect(np.zeros((10_000, 10_000), np.uint8))
    (height, width), upsample = detector.scanned
    assert height * width <= MAX_SCAN_PIXELS and upsample == 0
    assert abs(box[2] - 100 / scale) <= 1 and abs(box[0] - 100 / scale) <= 1   # in the original's pixels
