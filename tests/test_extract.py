import numpy as np
import pytest

from fer_classic.extract import (HOGFeatures, LandmarkFeatures, LBPFeatures, SIFTBagOfWords, SIFTFisherVectors,
                                 align_faces, cache, fit_landmarks, geometric_feature_names, geometric_features,
                                 hog_features, lbp_histograms, normalize_landmarks, with_horizontal_flips)
from fer_classic.extract.align import EYE_DISTANCE, EYE_LINE_Y, alignment_matrices, transform_points
from fer_classic.extract.landmarks import eye_centers
from fer_classic.extract.lbp import UNIFORM_LOOKUP, lbp_codes
from fer_classic.faces import check_faces


@pytest.fixture(scope="module")
def landmarks(face_batch):
    return fit_landmarks(face_batch[:8])


def test_landmarks_fall_on_the_face(landmarks):
    assert landmarks.shape == (8, 68, 2) and landmarks.dtype == np.float32
    assert (landmarks > -4).all() and (landmarks < 52).all()
    right, left = eye_centers(landmarks)
    assert (right[:, 0] < left[:, 0]).all()                      # right eye on the image's left
    mouth_y = landmarks[:, 48:68, 1].mean(axis=1)
    assert (mouth_y > right[:, 1] + 10).all()                     # mouth well below the eyes


def _similarity(points, scale, angle, shift):
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return points @ rotation.T * scale + shift


def test_geometric_features_ignore_position_rotation_and_scale(landmarks):
    features = geometric_features(landmarks)
    assert features.shape == (8, len(geometric_feature_names())) and features.dtype == np.float32
    moved = _similarity(landmarks.astype(np.float64), scale=3.7, angle=0.4, shift=np.array([120.0, -35.0]))
    np.testing.assert_allclose(geometric_features(moved), features, atol=2e-4)


def test_geometric_features_see_expression_changes(landmarks):
    smiling = landmarks.copy()
    smiling[:, [48, 54], 1] -= 3                                  # lift the mouth corners
    changed = np.abs(geometric_features(smiling) - geometric_features(landmarks)).max(axis=0) > 1e-3
    names = np.array(geometric_feature_names())
    assert "right mouth corner" in names[changed] and "mouth width" not in names[changed][136:]


def test_normalized_landmarks_put_the_eyes_on_the_x_axis(landmarks):
    right, left = eye_centers(normalize_landmarks(landmarks))
    np.testing.assert_allclose(right, np.tile([-0.5, 0.0], (8, 1)), atol=1e-5)
    np.testing.assert_allclose(left, np.tile([0.5, 0.0], (8, 1)), atol=1e-5)


def test_alignment_puts_the_eyes_at_their_targets(face_batch, landmarks):
    aligned = align_faces(face_batch[:8], landmarks, size=64)
    assert aligned.shape == (8, 64, 64) and aligned.dtype == np.uint8
    right, left = eye_centers(transform_points(landmarks.astype(np.float64), alignment_matrices(landmarks, 64)))
    np.testing.assert_allclose(right, np.tile([32 - EYE_DISTANCE * 32, EYE_LINE_Y * 64], (8, 1)), atol=1e-4)
    np.testing.assert_allclose(left, np.tile([32 + EYE_DISTANCE * 32, EYE_LINE_Y * 64], (8, 1)), atol=1e-4)


def test_hog_shapes_and_cell_sizes(face_batch):
    assert hog_features(face_batch[:3]).shape == (3, 4356 + 900)
    assert hog_features(face_batch[:3], cell_sizes=(6,)).shape == (3, 1764)
    assert hog_features(face_batch[:0]).shape == (0, 5256)
    with pytest.raises(ValueError, match="does not tile"):
        hog_features(face_batch[:1], cell_sizes=(5,))


def test_lbp_codes_match_a_plain_loop(face_batch):
    face = face_batch[0].astype(int)
    ring = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]
    expected = np.zeros((46, 46), int)
    for y in range(1, 47):
        for x in range(1, 47):
            expected[y - 1, x - 1] = sum(int(face[y + dy, x + dx] >= face[y, x]) << b
                                         for b, (dy, dx) in enumerate(ring))
    np.testing.assert_array_equal(lbp_codes(face_batch[:1])[0], expected)


def test_lbp_uniform_labels_and_histograms(face_batch):
    assert len(np.unique(UNIFORM_LOOKUP)) == 59 and UNIFORM_LOOKUP[0] != UNIFORM_LOOKUP[0b01010101]
    histograms = lbp_histograms(face_batch[:4], grid=(6, 6))
    assert histograms.shape == (4, 36 * 59) and histograms.dtype == np.float32
    np.testing.assert_allclose(histograms.reshape(4, 36, 59).sum(axis=2), 1.0, atol=1e-5)
    # LBP compares neighbours, so a brightness change that keeps pixel order leaves it unchanged.
    base = np.minimum(face_batch[:4], 200)
    np.testing.assert_array_equal(lbp_codes(base + 55), lbp_codes(base))
    assert not np.array_equal(lbp_codes(base[:, :, ::-1]), lbp_codes(base))


@pytest.mark.parametrize("extractor, width", [(LandmarkFeatures(), 170), (HOGFeatures(), 5256),
                                              (HOGFeatures(cell_sizes=(8,)), 900), (LBPFeatures(), 2124),
                                              (LBPFeatures(grid=(4, 4), align=False), 944)])
def test_transformers_shape_and_dtype(face_batch, extractor, width):
    features = extractor.fit(face_batch).transform(face_batch[:5])
    assert features.shape == (5, width) and features.dtype == np.float32
    assert np.isfinite(features).all()


def test_transformers_accept_flat_rows_and_refuse_bad_faces(face_batch):
    flat = face_batch[:3].reshape(3, -1)
    np.testing.assert_array_equal(check_faces(flat), face_batch[:3])
    with pytest.raises(ValueError, match="uint8"):
        check_faces(face_batch.astype(np.float32))
    with pytest.raises(ValueError, match="square"):
        check_faces(np.zeros((2, 50), np.uint8))


def test_flip_augmentation(face_batch):
    faces, labels = with_horizontal_flips(face_batch[:4], np.arange(4))
    assert faces.shape == (8, 48, 48) and labels.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    np.testing.assert_array_equal(faces[5], face_batch[1][:, ::-1])


def test_large_batches_are_cached_on_disk_and_reused(face_batch, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_CLASSIC_CACHE", str(tmp_path))
    monkeypatch.setattr(cache, "MIN_DISK_BATCH", 40)
    extractor = LBPFeatures(n_jobs=2)
    first = extractor.transform(face_batch)
    files = sorted(p.parent.name for p in tmp_path.rglob("*.npy"))
    assert files == ["LBPFeatures", "landmarks"]
    calls = []

    def counting_map(function, arrays, **kwargs):
        calls.append(function)
        return np.zeros((len(arrays[0]), 1), np.float32)

    monkeypatch.setattr(cache, "map_chunks", counting_map)
    again = extractor.transform(face_batch)
    np.testing.assert_array_equal(again, first)
    assert calls == []                                            # served from disk,
    assert isinstance(again, np.memmap) and not again.flags.writeable  # mapped, read-only
    LBPFeatures(grid=(3, 3)).transform(face_batch)                # other parameters: a new key
    assert len(calls) == 1


def test_with_the_cache_off_extractors_share_one_landmark_fit_per_block(face_batch, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_CLASSIC_CACHE", str(tmp_path))
    monkeypatch.setattr(cache, "MIN_DISK_BATCH", 40)
    fits = []
    real_map = cache.map_chunks

    def counting_map(function, arrays, **kwargs):
        fits.append(getattr(function, "func", function).__name__ == "fit_landmarks")
        return real_map(function, arrays, **kwargs)

    monkeypatch.setattr(cache, "map_chunks", counting_map)
    features = [HOGFeatures(), LBPFeatures(), LandmarkFeatures()]
    for _ in range(2):
        with cache.caching(False):                    # as a timing does, one block per timed call
            for extractor in features:
                extractor.transform(face_batch)
    assert fits == [True, False, False, False] * 2    # one landmark fit per block, nothing reused across blocks
    assert list(tmp_path.rglob("*.npy")) == []        # and nothing written to disk


def test_dense_sift_gives_one_uint8_descriptor_per_grid_point(face_batch):
    from fer_classic.extract.dense_sift import dense_grid, dense_sift

    grid = dense_grid(48, step=6, patch_sizes=(12, 18))
    descriptors = dense_sift(face_batch[:3])
    assert grid.shape == (128, 3) and descriptors.shape == (3, 128, 128) and descriptors.dtype == np.uint8
    assert descriptors.max() > 0 and not np.array_equal(descriptors[0], descriptors[1])
    with pytest.raises(ValueError, match="uint8"):
        dense_sift(face_batch[:3].astype(np.float32))


def test_pyramid_regions_and_normalisation():
    from fer_classic.extract.pooling import power_l2_normalise, pyramid_regions

    regions = pyramid_regions([[5, 5], [40, 5], [5, 40], [40, 40]], 48, levels=(1, 2))
    assert regions.shape == (5, 4) and regions[0].all() and (regions[1:].sum(axis=0) == 1).all()
    normalised = power_l2_normalise(np.array([[4.0, -9.0], [0.0, 0.0]]))
    np.testing.assert_allclose(normalised[0], [2 / np.sqrt(13), -3 / np.sqrt(13)], rtol=1e-6)
    assert (normalised[1] == 0).all()


@pytest.mark.parametrize("encoding", [SIFTBagOfWords(n_words=8, max_fit_faces=40, assignment="hard"),
                                      SIFTBagOfWords(n_words=8, max_fit_faces=40, pooling="presence"),
                                      SIFTFisherVectors(n_components=4, n_dims=8, max_fit_faces=40)])
def test_sift_encodings_are_normalised_and_batch_independent(encoding, face_batch):
    fitted = encoding.fit(face_batch)
    batch = fitted.transform(face_batch[:5])
    single = fitted.transform(face_batch[2:3])
    assert batch.dtype == np.float32 and batch.shape[1] == 5 * (8 if isinstance(encoding, SIFTBagOfWords) else 64)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(single[0], batch[2], rtol=1e-5, atol=1e-6)


def test_a_new_vocabulary_changes_the_cache_key(face_batch, monkeypatch):
    monkeypatch.setattr(cache, "MIN_DISK_BATCH", 1)  # every batch goes to the disk cache
    first = SIFTBagOfWords(n_words=8, max_fit_faces=40, random_state=0).fit(face_batch)
    second = SIFTBagOfWords(n_words=8, max_fit_faces=40, random_state=1).fit(face_batch)
    assert first.digest_ != second.digest_
    written = lambda: sorted((cache.cache_dir() / "SIFTBagOfWords").glob("*.npy"))  # noqa: E731
    first.transform(face_batch[:4])
    second.transform(face_batch[:4])
    assert len(written()) == 2


def test_another_landmark_model_gets_its_own_cache_entries(face_batch, tmp_path, monkeypatch):
    from fer_classic.extract import landmarks, transformers

    real = landmarks.landmark_model_digest()
    other = tmp_path / "other.dat"
    other.write_bytes(b"another model")
    monkeypatch.setenv("FER_CLASSIC_LANDMARKS", str(other))
    assert landmarks.landmark_model_digest() not in ("", real)          # keyed by content, not by name
    monkeypatch.delenv("FER_CLASSIC_LANDMARKS")

    monkeypatch.setenv("FER_CLASSIC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "MIN_DISK_BATCH", 1)
    HOGFeatures().transform(face_batch[:4])
    HOGFeatures(landmark_model="dlib").transform(face_batch[:4])
    monkeypatch.setattr(transformers, "landmark_model_digest", lambda model: "another-model")
    HOGFeatures().transform(face_batch[:4])
    for folder in ("landmarks", "HOGFeatures"):
        assert len(list((tmp_path / "cache" / folder).glob("*.npy"))) == 3


def test_fisher_vectors_match_the_published_formulas_written_as_loops():
    from fer_classic.extract.fisher import fisher_vectors
    from fer_classic.extract.pooling import power_l2_normalise

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 6, 3))
    weights, means, variances = np.array([0.2, 0.3, 0.5]), rng.normal(size=(3, 3)), rng.uniform(0.5, 2, (3, 3))
    regions = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], bool)
    expected = []
    for face in x:
        density = np.array([[w * np.prod(np.exp(-(t - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v))
                             for w, m, v in zip(weights, means, variances)] for t in face])
        gamma = density / density.sum(axis=1, keepdims=True)
        parts = []
        for region in regions:  # Sanchez et al. 2013, eqs. 16-17
            t = np.flatnonzero(region)
            parts.append([sum(gamma[i, k] * (face[i] - means[k]) / np.sqrt(variances[k]) for i in t)
                          / (len(t) * np.sqrt(weights[k])) for k in range(3)])
            parts.append([sum(gamma[i, k] * ((face[i] - means[k]) ** 2 / variances[k] - 1) for i in t)
                          / (len(t) * np.sqrt(2 * weights[k])) for k in range(3)])
        expected.append(np.concatenate([np.ravel(part) for part in parts]))
    np.testing.assert_allclose(fisher_vectors(x, weights, means, variances, regions),
                               power_l2_normalise(np.array(expected)), rtol=1e-4, atol=1e-6)


def test_soft_bag_of_words_counts_match_a_loop():
    from fer_classic.extract.bovw import bag_of_words
    from fer_classic.extract.pooling import power_l2_normalise

    rng = np.random.default_rng(1)
    x, centres = rng.normal(size=(2, 4, 3)), rng.normal(size=(5, 3))
    regions = np.array([[1, 1, 1, 1], [1, 0, 1, 0]], bool)
    expected = []
    for face in x:
        votes = np.array([np.exp(-((t - centres) ** 2).sum(axis=1) / 2) for t in face])
        votes /= votes.sum(axis=1, keepdims=True)
        expected.append(np.concatenate([votes[region].sum(axis=0) for region in regions]))
    np.testing.assert_allclose(bag_of_words(x, centres, regions, "soft", "counts", bandwidth=1.0),
                               power_l2_normalise(np.array(expected)), rtol=1e-4, atol=1e-6)


def test_landmark_models_are_found_by_name_and_the_variable_overrides_them(tmp_path, monkeypatch):
    from fer_classic.extract import landmarks
    from fer_classic.model_files import packaged_models_dir
    from fer_classic.store import read_manifest, sha256

    monkeypatch.delenv("FER_CLASSIC_LANDMARKS", raising=False)
    shipped = packaged_models_dir() / landmarks.SHIPPED_MODEL_FILE
    assert landmarks.find_landmark_model() == landmarks.find_landmark_model("distilled") == shipped
    assert read_manifest().landmark_predictor["sha256"] == sha256(shipped)   # the file its record describes
    dlib_model = landmarks.find_landmark_model("dlib")
    assert dlib_model.name == landmarks.DLIB_MODEL_FILE
    with pytest.raises(ValueError, match="unknown landmark model 'tiny'"):
        landmarks.find_landmark_model("tiny")
    monkeypatch.setenv("FER_CLASSIC_LANDMARKS", str(dlib_model))
    assert landmarks.find_landmark_model("distilled") == dlib_model
    monkeypatch.setenv("FER_CLASSIC_LANDMARKS", str(tmp_path / "missing.dat"))
    with pytest.raises(FileNotFoundError, match="missing.dat"):
        landmarks.find_landmark_model()


def test_the_distilled_model_places_points_near_dlibs(face_batch):
    student, teacher = fit_landmarks(face_batch[:20]), fit_landmarks(face_batch[:20], model="dlib")
    right, left = eye_centers(teacher)
    eye_distance = np.linalg.norm(left - right, axis=1)
    assert (np.linalg.norm(student - teacher, axis=2).mean(axis=1) < 0.15 * eye_distance).all()


def test_each_method_builds_its_features_on_its_landmark_model():
    from fer_classic.classify import build_method

    def models(method, **kwargs):
        union = build_method(method, **kwargs).named_steps["features"]
        return {pipeline.named_steps["extract"].landmark_model for _, pipeline in union.transformer_list}

    assert models("landmarks/mlp") == {"dlib"}                         # geometry alone needs the precise points
    assert models("hog+lbp+landmarks+sift-fisher/mlp") == {"distilled"}
    assert models("hog/mlp", landmark_model="dlib") == {"dlib"}
