import json

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from fer_classic import EMOTIONS, EmotionRecognizer
from fer_classic.classify import build_method, emotion_metrics, linear_svm, method_names, parse_method, train_method
from fer_classic.classify.calibration import fit_temperature, softmax
from fer_classic.classify.kernel_maps import hellinger_map
from fer_classic.classify.linear_svm import LinearSVM, held_out_split
from fer_classic.classify.local import LocalSVM, cosine_neighbours, unit_rows
from fer_classic.classify.methods import SubsampledPCA, limit_components, recipe_digest
from fer_classic.compare.recrop import RECROPS, shift, zoom_in, zoom_out
from fer_classic.extract.landmarks import landmark_model_digest
from fer_classic.store import ModelError, load_model, read_manifest, save_model


def test_method_names_cover_each_feature_and_the_combination():
    names = method_names()
    for expected in ("landmarks/svm-linear", "hog/svm-rbf-12k", "lbp/logreg", "sift-fisher/svm-kernel",
                     "hog+lbp+landmarks+sift-fisher/mlp"):
        assert expected in names
    assert parse_method("hog+landmarks/svm-kernel") == (("hog", "landmarks"), "svm-kernel")
    for bad in ("hog", "sift/svm-kernel", "hog/knn", "hog+hog/mlp", "/mlp", "hog/svm-rbf"):
        with pytest.raises(ValueError, match="unknown method"):
            parse_method(bad)


def test_pipeline_layout():
    pipeline = build_method("hog+lbp+landmarks/svm-kernel")
    assert [name for name, _ in pipeline.steps] == ["features", "classify"]
    blocks = pipeline.named_steps["features"].named_transformers
    assert list(blocks) == ["hog", "lbp", "landmarks"]
    assert [name for name, _ in blocks["lbp"].steps] == ["extract", "map", "reduce"]
    assert blocks["lbp"].named_steps["map"].func is hellinger_map
    assert blocks["hog"].named_steps["map"] == "passthrough"
    assert blocks["landmarks"].named_steps["reduce"] == "passthrough"
    assert blocks["hog"].named_steps["reduce"].pca.power_iteration_normalizer == "LU"  # see feature_pipeline
    limit_components(pipeline, 400)
    assert blocks["hog"].named_steps["reduce"].pca.n_components == 100


def test_subsampled_pca_fits_on_at_most_max_samples_rows_and_projects_all():
    rng = np.random.default_rng(0)
    features, labels = rng.normal(size=(300, 20)).astype(np.float32), np.arange(300) % 7
    reduce = SubsampledPCA(PCA(5, whiten=True), max_samples=70).fit(features, labels)
    assert reduce.pca_.n_samples_ == 70
    projected = reduce.transform(features)
    assert projected.shape == (300, 5) and projected.dtype == np.float32
    full = SubsampledPCA(PCA(5), max_samples=1000).fit(features)  # fewer rows than max_samples: all of them
    assert full.pca_.n_samples_ == 300


def test_hellinger_map_makes_dot_products_the_hellinger_kernel():
    rng = np.random.default_rng(0)
    histograms = rng.integers(0, 20, size=(5, 59)).astype(np.float32)
    histograms[4] = 0
    mapped = hellinger_map(histograms)
    assert mapped.dtype == np.float32 and mapped.shape == (5, 59)
    frequencies = histograms[:4] / histograms[:4].sum(axis=1, keepdims=True)
    kernel = np.sqrt(frequencies[:, None, :] * frequencies[None, :, :]).sum(axis=-1)
    np.testing.assert_allclose(mapped[:4] @ mapped[:4].T, kernel, rtol=1e-5)
    assert not mapped[4].any()
    with pytest.raises(ValueError, match="non-negative"):
        hellinger_map(-histograms)


def test_local_svm_finds_neighbours_by_angle():
    # Class 0 points along the x axis, far out; class 1 along the y axis, near the origin. The query lies on the
    # x axis near the origin: closest to class 1 in distance, to class 0 in angle.
    x_axis = np.column_stack([np.linspace(5, 9, 10), np.linspace(-0.2, 0.2, 10)])
    y_axis = np.column_stack([np.linspace(-0.2, 0.2, 10), np.linspace(0.5, 1.5, 10)])
    X, y = np.vstack([x_axis, y_axis]), np.repeat([0, 1], 10)
    query = np.array([[0.3, 0.0]])
    local = LocalSVM(n_neighbors=5).fit(X, y)
    assert set(y[local.neighbours(query)[0]]) == {0}
    assert local.predict(query)[0] == 0
    with pytest.raises(ValueError, match="storage"):
        LocalSVM(storage="int4").fit(X, y)


def test_compact_local_learning_finds_the_brute_force_neighbours_and_stores_float16():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 12)).astype(np.float32), np.arange(300) % 7
    queries = rng.normal(size=(40, 12)).astype(np.float32)
    local = LocalSVM(n_neighbors=9).fit(X, y)
    assert local.rows_.dtype == np.float16 and local.y_.dtype == np.int8
    brute = NearestNeighbors(n_neighbors=9, metric="cosine", algorithm="brute").fit(local.rows_.astype(np.float32))
    np.testing.assert_array_equal(local.neighbours(queries), brute.kneighbors(queries)[1])
    assert cosine_neighbours(queries, unit_rows(X), 300).shape == (40, 300)  # k = every row
    with pytest.raises(ValueError, match="k must be"):
        cosine_neighbours(queries, unit_rows(X), 301)
    probabilities = local.predict_proba(queries)
    assert probabilities.shape == (40, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert "_unit_rows" not in local.__getstate__()  # rebuilt on load, not stored


def test_linear_svm_calibrates_on_held_out_rows_only():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3, size=(4, 10))
    y = np.arange(400) % 4
    X = (centres[y] + rng.normal(size=(400, 10))).astype(np.float32)
    groups = np.arange(400) % 200                                         # rows i and i + 200 are a pair
    svm = LinearSVM(C=1.0, held_out=0.25).fit(X[:300], y[:300], groups=groups[:300])
    probabilities = svm.predict_proba(X[300:])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (svm.predict(X[300:]) == y[300:]).mean() > 0.9
    assert svm.temperature_ > 0 and svm.coef_.shape == (10, 4)
    # The temperature depends on the training rows only: the same fit, whatever rows are scored afterwards.
    again = LinearSVM(C=1.0, held_out=0.25).fit(X[:300], y[:300], groups=groups[:300])
    assert again.temperature_ == svm.temperature_
    # A face and its mirror are held out together or not at all.
    kept, held = held_out_split(300, 0.25, groups[:300])
    assert not set(groups[kept]) & set(groups[held]) and len(kept) + len(held) == 300
    with pytest.raises(ValueError, match="held_out"):
        LinearSVM(held_out=1.5).fit(X, y)
    with pytest.raises(ValueError, match="C must be"):
        LinearSVM(C=float("inf")).fit(X, y)


def test_squared_hinge_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 4)).astype(np.float32)
    targets = linear_svm.one_vs_rest_targets(np.arange(30) % 3, 3)
    point = rng.normal(scale=0.3, size=5 * 3)
    loss, gradient = linear_svm.squared_hinge_objective(point, X, targets, 0.7)
    step = 1e-3
    numeric = [(linear_svm.squared_hinge_objective(point + step * e, X, targets, 0.7)[0]
                - linear_svm.squared_hinge_objective(point - step * e, X, targets, 0.7)[0]) / (2 * step)
               for e in np.eye(len(point))]
    np.testing.assert_allclose(gradient, numeric, rtol=2e-2, atol=2e-2)


def test_fit_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(1)
    scores = rng.normal(scale=2, size=(4000, 5))
    probabilities = softmax(scores, 0.5)
    labels = np.array([rng.choice(5, p=p) for p in probabilities])
    assert fit_temperature(scores, labels) == pytest.approx(0.5, rel=0.1)


def test_recrops_keep_shape_and_dtype_and_move_the_face():
    faces = np.zeros((3, 48, 48), np.uint8)
    faces[:, 20:28, 20:28] = 255                                          # a bright square in the centre
    for name, recrop in RECROPS.items():
        out = recrop(faces)
        assert out.shape == faces.shape and out.dtype == np.uint8, name
        assert not np.array_equal(out, faces), name
    brightness = lambda rows: rows.astype(int).sum()                     # noqa: E731  the square's area
    # Areas scale by (48/56)^2 = 0.73 and (1/0.9)^2 = 1.23.
    assert brightness(zoom_out(faces)) < 0.8 * brightness(faces)
    assert brightness(zoom_in(faces)) > 1.15 * brightness(faces)
    moved = shift(faces, 3, 0)                                            # the crop moves right: the face left
    assert moved[0, 24, 17] == 255 and moved[0, 24, 26] == 0
    with pytest.raises(ValueError, match="padded"):
        zoom_out(faces, 40)
    with pytest.raises(ValueError, match="uint8"):
        zoom_in(faces.astype(float))


def test_recipe_digest_changes_with_any_parameter_and_nothing_else():
    assert recipe_digest("hog/svm-local") == recipe_digest("hog/svm-local")
    assert recipe_digest("hog/svm-local", "dlib") != recipe_digest("hog/svm-local", "distilled")
    assert recipe_digest("hog/svm-local") != recipe_digest("lbp/svm-local") != recipe_digest("lbp/mlp")


def test_metrics():
    metrics = emotion_metrics([0, 0, 3, 3, 6], [0, 3, 3, 3, 6])
    assert metrics["accuracy"] == pytest.approx(0.8)
    assert metrics["per_class_recall"]["angry"] == pytest.approx(0.5)
    assert metrics["per_class_recall"]["disgust"] is None
    assert np.array(metrics["confusion"]).shape == (7, 7) and metrics["confusion"][0][3] == 1
    assert metrics["n"] == 5 and 0 < metrics["macro_f1"] < 1


@pytest.mark.parametrize("method", ["hog/logreg", "hog+lbp+landmarks/svm-linear", "sift-fisher/svm-kernel",
                                    "sift-bow/svm-local", "hog/mlp", "lbp/mlp+svm-local", "hog/svm-rbf-12k",
                                    "cnn-fer+hog/svm-local-full"])
def test_tiny_training_end_to_end(separable_data, tmp_path, method):
    if method.startswith("cnn-"):
        pytest.importorskip("keras")
        import fer_classic.cnn.embeddings  # noqa: F401  registers cnn-fer
    model, entry = train_method(method, separable_data, flip=True, n_jobs=1, log=lambda line: None)
    assert entry["data"]["n_training_faces"] == 80                       # 40 faces and their mirrors
    assert entry["kind"] == "classical"
    assert entry["metrics"]["PrivateTest"]["accuracy"] >= 0.8           # chance is 0.5; 20 faces, one is 0.05
    assert set(entry["metrics"]) == {"PublicTest", "PrivateTest"}
    assert entry["landmark_model"]["digest"] == landmark_model_digest()
    assert entry["recipe_digest"] == recipe_digest(method)
    saved = save_model(model, tmp_path / "tiny.joblib", entry)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert saved.sha256 and manifest["models"]["tiny"]["method"] == method and manifest["schema"] == 2
    recognizer = EmotionRecognizer.load(tmp_path / "tiny.joblib")
    probabilities = recognizer.predict_proba(separable_data["PrivateTest"].faces)
    assert probabilities.shape == (20, 7)
    # Stored in float16, read back as exactly the weights that were scored.
    np.testing.assert_array_equal(recognizer.model.predict_proba(separable_data["PrivateTest"].faces),
                                  model.predict_proba(separable_data["PrivateTest"].faces))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert set(np.flatnonzero(probabilities.sum(axis=0))) <= {EMOTIONS.index("happy"), EMOTIONS.index("sad")}


def test_tampered_or_unknown_models_are_refused(separable_data, tmp_path):
    model, entry = train_method("hog/logreg", separable_data, n_jobs=1, log=lambda line: None)
    path = tmp_path / "model.joblib"
    save_model(model, path, entry)
    load_model(path)                                                      # yours and intact: loads
    load_model("model")                                                   # also by name
    with open(path, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelError, match="refusing to unpickle"):
        load_model(path)
    with pytest.raises(ModelError, match="does not match the recorded"):
        load_model("model")
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        load_model("nope")
    assert "model" in read_manifest(tmp_path).models


def test_peak_memory_counts_what_is_allocated_inside_the_block_only():
    from fer_classic.classify.memory import PeakMemory, tree_resident_bytes

    if tree_resident_bytes() == 0:
        pytest.skip("no /proc here")
    with PeakMemory() as before:
        pass
    with PeakMemory(interval=0.005) as peak:
        block = np.ones(200 * 2**20 // 8)                                  # 200 MB, touched
        peak.sample()
        del block
    assert peak.mb - before.mb > 150
