import numpy as np
from sklearn.decomposition import PCA
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from fer_classic.store.half_precision import MIN_SIZE, pack_float16, round_to_float16, unpack_float16


def _fitted_pipeline():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 400)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    model = Pipeline([("scale", StandardScaler()), ("reduce", PCA(200, random_state=0)),
                      ("classify", MLPClassifier((400,), max_iter=20, random_state=0))]).fit(X, y)
    return model, X


def test_packed_model_restores_exactly_what_was_rounded():
    model, X = _fitted_pipeline()
    round_to_float16(model)
    expected = model.predict_proba(X)

    packed = pack_float16(model)
    assert packed["reduce"].components_.dtype == np.float16  # 80,000 elements: large
    assert packed["classify"].coefs_[0].dtype == np.float16
    assert model["reduce"].components_.dtype != np.float16  # the original is left as it was

    restored = unpack_float16(packed)
    assert restored["reduce"].components_.dtype == np.float32
    np.testing.assert_array_equal(restored["reduce"].components_, model["reduce"].components_)
    np.testing.assert_array_equal(restored.predict_proba(X), expected)


def test_small_arrays_keep_their_precision():
    model, _ = _fitted_pipeline()
    scale_before = model["scale"].scale_.copy()
    packed = pack_float16(round_to_float16(model))
    assert packed["scale"].scale_.size < MIN_SIZE
    assert packed["scale"].scale_.dtype == scale_before.dtype
    np.testing.assert_array_equal(packed["scale"].scale_, scale_before)
    assert packed["classify"].intercepts_[0].dtype == np.float32


def test_rounding_changes_large_weights_by_float16_precision_only():
    model, _ = _fitted_pipeline()
    before = model["reduce"].components_.copy()
    round_to_float16(model)
    after = model["reduce"].components_
    assert not np.array_equal(before, after)
    np.testing.assert_allclose(after, before, rtol=2 ** -10, atol=1e-7)


def test_float64_arrays_are_left_alone():
    # libsvm needs its support vectors in float64: rounding them to float32 broke prediction.
    from sklearn.svm import SVC

    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 200)).astype(np.float32)
    y = rng.integers(0, 2, 600)
    svm = SVC(kernel="rbf").fit(X, y)
    assert svm.support_vectors_.dtype == np.float64 and svm.support_vectors_.size >= MIN_SIZE
    expected = svm.decision_function(X)
    restored = unpack_float16(pack_float16(round_to_float16(svm)))
    assert restored.support_vectors_.dtype == np.float64
    np.testing.assert_array_equal(restored.decision_function(X), expected)


def test_arrays_beyond_float16_range_are_left_alone():
    # A Nystroem map of a near-singular kernel held values past 65,504: in float16 they became inf, then NaN.
    from sklearn.decomposition import PCA

    pca = PCA(2).fit(np.random.default_rng(2).normal(size=(50, 3)))
    pca.components_ = np.full((300, 300), 1e5, dtype=np.float32)
    pca.mean_ = np.full(300, 0.1, dtype=np.float32)
    pca.n_features_in_ = 300
    restored = unpack_float16(pack_float16(round_to_float16(pca)))
    assert restored.components_.dtype == np.float32
    np.testing.assert_array_equal(restored.components_, 1e5)


def test_an_array_shared_by_two_estimators_stays_shared():
    from sklearn.neighbors import NearestNeighbors

    X = np.random.default_rng(2).normal(size=(400, 200)).astype(np.float32)
    index = NearestNeighbors(algorithm="brute").fit(X)
    owner = {"X": X, "index": index}
    assert index._fit_X is X
    for restored in (round_to_float16(owner), unpack_float16(pack_float16(owner))):
        assert restored["index"]._fit_X is restored["X"]
