import cv2
import numpy as np
import pytest

from fer_classic.detect import box_iou
from fer_classic.detect.viola_jones import (BENCHMARK_BACKGROUNDS, FEATURE_KINDS, TRAINING_BACKGROUNDS, HaarFeatures,
                                            ViolaJonesDetector, adaboost, background_image, best_stumps, box_inside,
                                            eight_views, face_windows, haar_feature_values,
                                            haar_feature_values_at, haar_features, image_pyramid, integral_image,
                                            integral_images, load_cascade, mirror_symmetry, non_max_suppression,
                                            rectangle_sum, save_cascade, sort_feature_values, stump_predict,
                                            train_cascade, window_origins, window_std)
from fer_classic.store import shipped_models_dir

from .conftest import ASTRONAUT_BOX, jittered_faces

SHIPPED_CASCADE = shipped_models_dir() / "viola_jones_cascade.npz"

# Each kind written out as (row, column, weight) cells of its pattern, independently of FEATURE_KINDS.
CELLS = {
    "type-2-x": [(0, 0, 1), (0, 1, -1)],
    "type-2-y": [(0, 0, 1), (1, 0, -1)],
    "type-3-x": [(0, 0, 1), (0, 1, -2), (0, 2, 1)],
    "type-3-y": [(0, 0, 1), (1, 0, -2), (2, 0, 1)],
    "type-4": [(0, 0, 1), (0, 1, -1), (1, 0, -1), (1, 1, 1)],
}


def brute_force_feature(window, kind, box):
    """A feature's value as explicit pixel sums over its cells."""
    x, y, w, h = box
    rows = 1 + max(r for r, _, _ in CELLS[kind])
    cols = 1 + max(c for _, c, _ in CELLS[kind])
    cell_h, cell_w = h // rows, w // cols
    return sum(weight * int(window[y + r * cell_h:y + (r + 1) * cell_h, x + c * cell_w:x + (c + 1) * cell_w].sum())
               for r, c, weight in CELLS[kind])


# --- integral images ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (24, 24), (37, 53)])
def test_integral_image_equals_opencv(shape):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    np.testing.assert_array_equal(integral_image(image), cv2.integral(image))
    floats = image.astype(np.float64) / 7
    np.testing.assert_allclose(integral_image(floats), cv2.integral(floats, sdepth=cv2.CV_64F), rtol=1e-12)


def test_integral_image_of_a_stack_is_each_integral_image():
    stack = np.random.default_rng(1).integers(0, 256, (5, 9, 11), dtype=np.uint8)
    integrals = integral_image(stack)
    assert integrals.shape == (5, 10, 12) and integrals.dtype == np.int64
    for image, integral in zip(stack, integrals):
        np.testing.assert_array_equal(integral, cv2.integral(image))


def test_rectangle_sums_from_four_lookups():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    y, x = rng.integers(0, 20, 50), rng.integers(0, 30, 50)
    h, w = rng.integers(0, 11, 50), rng.integers(0, 11, 50)
    expected = [int(image[a:a + c, b:b + d].sum()) for a, b, c, d in zip(y, x, h, w)]
    np.testing.assert_array_equal(rectangle_sum(integral_image(image), y, x, h, w), expected)
    with pytest.raises(ValueError, match="inside"):
        rectangle_sum(integral_image(image), 25, 0, 10, 5)


def test_window_std_matches_numpy():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    ys, xs = rng.integers(0, 17, 20), rng.integers(0, 27, 20)
    stds = window_std(*integral_images(image), ys, xs, 24, 24)
    np.testing.assert_allclose(stds, [image[y:y + 24, x:x + 24].std() for y, x in zip(ys, xs)], rtol=1e-9)


# --- Haar features -----------------------------------------------------------------------------------------------

def test_feature_enumeration():
    every = haar_features((24, 24), step=1, size_step=1, min_size=1)
    assert len(every) == 162_336  # the count Viola and Jones's five kinds give for a 24x24 window
    default = haar_features()
    assert 1_000 < len(default) < 50_000
    x, y, w, h = default.boxes.T
    assert x.min() >= 0 and y.min() >= 0 and (x + w).max() <= 24 and (y + h).max() <= 24
    assert set(default.kinds) == set(FEATURE_KINDS)
    assert len(haar_features((24, 32))) > len(default)


@pytest.mark.parametrize("kind", list(FEATURE_KINDS))
def test_each_feature_kind_equals_brute_force_pixel_sums(kind):
    rng = np.random.default_rng(4)
    windows = rng.integers(0, 256, (6, 24, 24), dtype=np.uint8)
    every = haar_features((24, 24), step=1, size_step=1, min_size=1)
    features = every[np.flatnonzero(every.kinds == kind)[rng.choice(int((every.kinds == kind).sum()), 200, False)]]
    expected = np.array([[brute_force_feature(window, kind, box) for window in windows] for box in features.boxes])
    integrals = integral_image(windows)
    np.testing.assert_array_equal(haar_feature_values(integrals, features), expected)
    # the gather on one tall table of stacked integrals gives the same numbers
    stacked = integrals.reshape(-1, 25)
    np.testing.assert_array_equal(haar_feature_values_at(stacked, np.arange(6) * 25, np.zeros(6, int), features),
                                  expected)


def test_features_at_positions_of_a_large_image():
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (60, 80), dtype=np.uint8)
    features = haar_features()[rng.choice(len(haar_features()), 50, replace=False)]
    ys, xs = window_origins(image.shape, (24, 24), step=7)
    values = haar_feature_values_at(integral_image(image), ys, xs, features)
    windows = np.stack([image[y:y + 24, x:x + 24] for y, x in zip(ys, xs)])
    np.testing.assert_array_equal(values, haar_feature_values(integral_image(windows), features))
    with pytest.raises(ValueError, match="beyond"):
        haar_feature_values_at(integral_image(image), [50], [0], features)


def test_features_reject_unknown_kinds():
    with pytest.raises(ValueError, match="unknown feature kinds"):
        HaarFeatures(["type-5"], [[0, 0, 2, 2]])


# --- AdaBoost ----------------------------------------------------------------------------------------------------

def brute_force_stump_errors(values, labels, weights):
    """Lowest weighted error of each feature over every threshold between distinct values and both polarities."""
    errors = []
    for row in values:
        distinct = np.unique(row)
        thresholds = np.concatenate([[-np.inf, np.inf], (distinct[1:] + distinct[:-1]) / 2])
        errors.append(min(weights[stump_predict(row, t, p) != labels].sum() for t in thresholds for p in (1, -1)))
    return np.array(errors)


@pytest.mark.parametrize("seed", range(4))
def test_sorted_threshold_stump_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 8, (12, 30)).astype(np.float32)  # few distinct values: many ties
    labels = rng.random(30) < 0.4
    weights = rng.random(30)
    errors, thresholds, polarities = best_stumps(sort_feature_values(values), labels, weights)
    np.testing.assert_allclose(errors, brute_force_stump_errors(values, labels, weights), atol=1e-12)
    achieved = [weights[stump_predict(row, t, p) != labels].sum() for row, t, p in zip(values, thresholds, polarities)]
    np.testing.assert_allclose(achieved, errors, atol=1e-12)


def test_adaboost_reaches_zero_training_error_on_separable_data():
    rng = np.random.default_rng(6)
    points = rng.random((2, 300))
    labels = (np.abs(points[0] - 0.5) < 0.2) & (np.abs(points[1] - 0.4) < 0.25)  # a box: no single stump fits
    classifier, errors = adaboost(points, labels, n_rounds=60)
    assert errors[0] > 0.05
    assert errors[-1] == 0.0
    np.testing.assert_array_equal(classifier.predict(points), labels)


def test_adaboost_needs_both_classes():
    with pytest.raises(ValueError, match="both"):
        adaboost(np.zeros((2, 5)), np.ones(5, bool), n_rounds=3)


# --- cascade and detector ----------------------------------------------------------------------------------------

def plant(background, face, box):
    x, y, w, h = box
    scene = background.copy()
    scene[y:y + h, x:x + w] = cv2.resize(face, (w, h), interpolation=cv2.INTER_AREA)
    return scene


@pytest.fixture(scope="module")
def tiny_cascade(astronaut_gray):
    """A few stages trained in seconds on jittered crops of the astronaut's face against textures."""
    faces = face_windows(jittered_faces(astronaut_gray, 150, seed=7))
    names = ("brick", "text", "coins", "page", "moon", "grass", "hubble_deep_field", "retina", "clock", "cell",
             "china.jpg", "flower.jpg")
    negatives = [background_image(name)[:256, :256] for name in names]
    return train_cascade(faces, negatives, n_negatives=400, features=haar_features(step=3, size_step=3, min_size=3),
                         max_stages=8, max_stage_features=15, seed=0)


@pytest.fixture(scope="module")
def planted_scene(astronaut_gray):
    x, y, w, h = ASTRONAUT_BOX
    background = background_image("gravel")[:200, :240]
    box = (120, 60, 72, 72)
    return plant(background, astronaut_gray[y:y + h, x:x + w], box), box


def test_cascade_training_meets_its_targets(tiny_cascade):
    assert 2 <= len(tiny_cascade.stages) <= 8
    assert tiny_cascade.min_std > 0
    history = tiny_cascade.history
    assert history["contrast_test"]["detection_rate"] >= 0.99
    assert history["contrast_test"]["negatives_left"] < history["negative_windows"]
    for record in history["stages"]:
        assert record["detection_rate"] >= 0.99
        assert record["false_positive_rate"] <= 0.5 or record["n_features"] == 15
        assert len(record["training_errors"]) == record["n_features"]
    negatives_left = [record["negatives_left"] for record in history["stages"]]
    assert negatives_left == sorted(negatives_left, reverse=True) and negatives_left[-1] < negatives_left[0]


def test_cascade_finds_a_planted_face(tiny_cascade, planted_scene):
    scene, box = planted_scene
    boxes = ViolaJonesDetector(tiny_cascade, min_neighbors=2, min_size=(40, 40)).detect(scene)
    assert len(boxes) >= 1
    assert box_iou(box, boxes).max() >= 0.3
    assert len(boxes) <= 3  # and not much else on the gravel


def test_blank_image_has_no_faces(tiny_cascade):
    boxes = ViolaJonesDetector(tiny_cascade).detect(np.full((120, 160), 128, np.uint8))
    assert boxes.shape == (0, 4) and boxes.dtype == np.int64


def test_save_and_load_round_trip(tiny_cascade, planted_scene, tmp_path):
    path = save_cascade(tiny_cascade, tmp_path / "cascade.npz")
    loaded = load_cascade(path)
    assert loaded.window_shape == tiny_cascade.window_shape and loaded.min_std == tiny_cascade.min_std
    assert loaded.history == tiny_cascade.history
    for original, copy in zip(tiny_cascade.stages, loaded.stages, strict=True):
        np.testing.assert_array_equal(copy.features.boxes, original.features.boxes)
        np.testing.assert_array_equal(copy.features.kinds, original.features.kinds)
        np.testing.assert_array_equal(copy.classifier.alphas, original.classifier.alphas)
        assert copy.classifier.threshold == original.classifier.threshold
    scene, _ = planted_scene
    np.testing.assert_array_equal(ViolaJonesDetector(path, min_neighbors=1).detect(scene),
                                  ViolaJonesDetector(tiny_cascade, min_neighbors=1).detect(scene))
    with np.load(path, allow_pickle=False) as archive:  # plain arrays only
        assert all(archive[key].dtype != object for key in archive.files)


@pytest.mark.skipif(not SHIPPED_CASCADE.is_file(), reason="no shipped cascade in this checkout")
def test_shipped_cascade_finds_the_astronaut(astronaut_bgr):
    assert SHIPPED_CASCADE.stat().st_size < 2_000_000
    boxes = ViolaJonesDetector(SHIPPED_CASCADE).detect(astronaut_bgr)
    assert box_iou(ASTRONAUT_BOX, boxes[:1])[0, 0] >= 0.5  # the largest box is the face


def test_load_refuses_other_files(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a"):
        load_cascade(tmp_path / "other.npz")


@pytest.mark.parametrize("convert", [
    lambda gray: gray,
    lambda gray: cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR),
    lambda gray: gray.astype(np.uint16) * 257,
    lambda gray: cv2.cvtColor(gray, cv2.COLOR_GRAY2BGRA),
    lambda gray: gray.astype(np.float32) / 255,
])
def test_detector_accepts_every_image_format(tiny_cascade, planted_scene, convert):
    scene, _ = planted_scene
    detector = ViolaJonesDetector(tiny_cascade, min_neighbors=1)
    boxes = detector.detect(convert(scene))
    assert boxes.dtype == np.int64 and boxes.ndim == 2 and boxes.shape[1] == 4
    np.testing.assert_array_equal(boxes, detector.detect(scene))


def test_detector_boxes_are_sorted_largest_first(tiny_cascade, planted_scene):
    scene, _ = planted_scene
    boxes = ViolaJonesDetector(tiny_cascade, min_neighbors=0).detect(scene)
    areas = boxes[:, 2] * boxes[:, 3]
    assert len(boxes) >= 2 and np.all(np.diff(areas) <= 0)


def test_non_max_suppression_merges_overlapping_boxes():
    boxes = [[10, 10, 40, 40], [12, 11, 40, 40], [9, 12, 42, 42], [100, 100, 30, 30]]
    scores = [1.0, 3.0, 2.0, 0.5]
    merged, counts = non_max_suppression(boxes, scores, iou_threshold=0.3)
    assert counts.tolist() == [3, 1]
    np.testing.assert_array_equal(merged, [[10, 11, 41, 41], [100, 100, 30, 30]])
    lonely_dropped, _ = non_max_suppression(boxes, scores, iou_threshold=0.3, min_neighbors=1)
    np.testing.assert_array_equal(lonely_dropped, [[10, 11, 41, 41]])
    assert non_max_suppression(np.zeros((0, 4)), np.zeros(0))[0].shape == (0, 4)


def test_groups_inside_a_stronger_group_are_dropped():
    face = [[50, 50, 60, 60], [52, 50, 60, 60], [50, 52, 60, 60], [51, 51, 58, 58]]
    eye = [[60, 60, 20, 20], [61, 60, 20, 20]]
    merged, counts = non_max_suppression(face + eye, [1.0] * 6, iou_threshold=0.3)
    assert counts.tolist() == [4]
    assert box_iou([51, 51, 60, 60], merged)[0, 0] > 0.9
    assert box_inside([[60, 60, 20, 20]], [[50, 50, 60, 60], [70, 70, 5, 5]]).tolist() == [[True, False]]


def test_pyramid_levels_shrink_by_the_scale_factor():
    levels = list(image_pyramid(np.zeros((100, 200), np.uint8), (24, 24), scale_factor=2))
    assert [level.shape for _, _, level in levels] == [(100, 200), (50, 100), (25, 50)]
    assert levels[1][:2] == (2.0, 2.0)
    with pytest.raises(ValueError, match="scale_factor"):
        next(image_pyramid(np.zeros((50, 50), np.uint8), (24, 24), scale_factor=1))


def test_training_and_benchmark_backgrounds_are_face_free_and_disjoint():
    assert not set(TRAINING_BACKGROUNDS) & set(BENCHMARK_BACKGROUNDS)
    assert not {"astronaut", "camera"} & (set(TRAINING_BACKGROUNDS) | set(BENCHMARK_BACKGROUNDS))
    with pytest.raises(ValueError, match="faces"):
        background_image("astronaut")
    assert background_image("china.jpg").dtype == np.uint8
    np.testing.assert_array_equal(background_image("binary_blobs"), background_image("binary_blobs"))


def test_eight_views_are_the_eight_orientations():
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    views = eight_views(image)
    assert len({view.tobytes() + bytes(view.shape) for view in views}) == 8
    assert all(sorted(view.ravel()) == sorted(image.ravel()) for view in views)


def test_mirror_symmetry_ranks_frontal_faces_first(astronaut_gray):
    face = jittered_faces(astronaut_gray, 1, seed=0)[0].astype(np.float64)
    symmetric = (face + face[:, ::-1]) / 2
    tilted = np.rot90(face)
    scores = mirror_symmetry(np.stack([symmetric, face, tilted, np.zeros_like(face)]))
    assert scores[0] == pytest.approx(1.0)
    assert scores[0] > scores[1] > scores[2]
    assert scores[3] == 0.0


def test_train_cascade_validates_its_input():
    with pytest.raises(ValueError, match="positives"):
        train_cascade(np.zeros((10, 24, 24), np.float32), [np.zeros((50, 50), np.uint8)])
