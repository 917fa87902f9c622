"""The fused model's compact local learning: int8 bank, one row per face, folded projection, neighbours shown."""

import copy

import numpy as np
import pytest

from fer_classic import EMOTIONS, EmotionRecognizer
from fer_classic.classify import build_method, train_method
from fer_classic.classify.fused import CompactLocalSVM, LinearProjection, LocalLearningClassifier, fold_projection
from fer_classic.classify.local import LocalSVM, cosine_neighbours, quantize_columns, unit_rows
from fer_classic.classify.methods import limit_components
from fer_classic.extract import with_horizontal_flips
from fer_classic.store import read_manifest


def test_int8_bank_finds_the_exact_neighbours_within_the_stated_recall():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 32)).astype(np.float32) * rng.uniform(0.2, 3, size=32).astype(np.float32)
    y = np.arange(2000) % 7
    queries = rng.normal(size=(100, 32)).astype(np.float32)
    codes, scale = quantize_columns(X)
    assert codes.dtype == np.int8 and np.abs(codes * scale - X).max() <= scale.max() / 2 + 1e-6
    exact = cosine_neighbours(queries, unit_rows(X), 20)
    local = LocalSVM(n_neighbors=20, storage="int8").fit(X, y)
    assert local.rows_.dtype == np.int8
    found = local.neighbours(queries)
    recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(found, exact)])
    assert recall >= 0.95                                 # stated: 95% of the exact 20 nearest, on this fixture
    np.testing.assert_array_equal(LocalSVM(n_neighbors=20, storage="float32").fit(X, y).neighbours(queries), exact)


def test_two_step_search_finds_the_exact_neighbours_within_the_stated_recall():
    rng = np.random.default_rng(4)
    # Columns in decreasing variance, as the principal directions of LinearProjection come.
    X = (rng.normal(size=(3000, 48)) * np.linspace(3, 0.3, 48)).astype(np.float32)
    y, queries = np.arange(3000) % 7, (rng.normal(size=(50, 48)) * np.linspace(3, 0.3, 48)).astype(np.float32)
    exact = CompactLocalSVM(n_neighbors=20, storage="float32", shortlist=None).fit(X, y).neighbours(queries)
    np.testing.assert_array_equal(exact, cosine_neighbours(queries, unit_rows(X), 20))
    two_step = CompactLocalSVM(n_neighbors=20, storage="float32", search_dims=16, shortlist=300).fit(X, y)
    found = two_step.neighbours(queries, batch_size=7)
    recall = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(found, exact)])
    assert recall >= 0.95                                 # stated: 95% of the exact 20 nearest, on this fixture
    assert "_coarse_rows" in vars(two_step) and "_coarse_rows" not in two_step.__getstate__()
    np.testing.assert_array_equal(CompactLocalSVM(n_neighbors=20, storage="float32", search_dims=16,
                                                  shortlist=3000).fit(X, y).neighbours(queries), exact)


def test_compact_bank_keeps_every_row_or_one_per_group_and_remembers_its_training_row():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(60, 5)).astype(np.float32), np.arange(60) % 3
    groups = np.tile(np.arange(30), 2)                      # rows i and i + 30: a face and its mirror
    local = CompactLocalSVM(n_neighbors=4, storage="float32", mirrors=False).fit(X, y, groups=groups)
    np.testing.assert_array_equal(local.training_rows_, np.arange(30))
    np.testing.assert_array_equal(local.rows_, X[:30])
    assert local.neighbours(X[:5])[:, 0].tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(local.predict_proba(X[:5]).sum(axis=1), 1.0)
    every = CompactLocalSVM(n_neighbors=4).fit(X, y, groups=groups)
    np.testing.assert_array_equal(every.training_rows_, groups)          # a mirror row names its face's row
    assert every.rows_.shape == (60, 5) and every.rows_.dtype == np.int8


def test_linear_projection_is_pca_without_whitening():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 10)).astype(np.float32) @ rng.normal(size=(10, 10)).astype(np.float32)
    projection = LinearProjection(n_components=10, max_samples=500).fit(X)
    Z = projection.transform(X)
    assert Z.dtype == np.float32 and Z.shape == (500, 10)
    centred = X - X.mean(axis=0)
    np.testing.assert_allclose(Z @ Z.T, centred @ centred.T, rtol=1e-3, atol=1e-2)  # a rotation: dot products kept


def test_folding_each_features_pca_and_weight_into_the_projection_keeps_the_function(separable_data):
    faces, labels = with_horizontal_flips(separable_data["Training"].faces, separable_data["Training"].labels)
    model = limit_components(build_method("hog+landmarks/svm-local-compact", n_jobs=1), len(faces))
    model.set_params(classify__project__n_components=12, classify__local__storage="float32",
                     features__transformer_weights={"hog": 2.0})           # a weighed block and one that is not
    model.fit(faces, labels, classify__local__groups=np.tile(np.arange(40), 2))
    before = model[:-1].transform(faces[:10])
    before = model[-1].named_steps["project"].transform(before)
    folded = fold_projection(copy.deepcopy(model), storage="float32")
    assert [name for name, _ in folded.steps] == ["features", "project", "classify"]
    blocks = folded.named_steps["features"].named_transformers
    assert all(block.steps[-1][1] == "passthrough" for block in blocks.values())
    np.testing.assert_allclose(folded[:-1].transform(faces[:10]), before, rtol=1e-3, atol=1e-3)
    compact = fold_projection(copy.deepcopy(model))                      # int8, a scale an input dimension
    assert compact.named_steps["project"].components_.dtype == np.int8
    np.testing.assert_allclose(compact[:-1].transform(faces[:10]), before, atol=0.02 * np.abs(before).max())
    assert "_matrix" not in compact.named_steps["project"].__getstate__()  # decoded on load, not stored


def test_nearest_training_faces_name_training_rows_labels_and_the_decision(separable_data, tmp_path):
    model, entry = train_method("hog/svm-local-compact", separable_data, n_jobs=1, log=lambda line: None)
    assert isinstance(model, LocalLearningClassifier)
    assert entry["metrics"]["PrivateTest"]["accuracy"] >= 0.8
    train = separable_data["Training"]
    found = model.nearest_training_faces(train.faces[:6], k=8)
    assert len(found) == 6
    for face, result in enumerate(found):
        assert set(result) == {"rows", "labels", "distances", "mirrored", "decision"}
        assert result["rows"].shape == result["labels"].shape == result["distances"].shape == (8,)
        assert result["mirrored"].dtype == bool and not result["mirrored"][0]     # itself, as it is
        assert result["rows"].dtype.kind == "i" and result["labels"].dtype.kind == "i"
        assert result["rows"][0] == face and result["distances"][0] == pytest.approx(0, abs=1e-2)  # itself
        assert np.all((result["rows"] >= 0) & (result["rows"] < len(train.labels)))
        assert np.all(np.diff(result["distances"]) >= -1e-6)                                      # nearest first
        np.testing.assert_array_equal(result["labels"], train.labels[result["rows"]])
        assert result["decision"].startswith(("local SVM on its 80 nearest training faces",
                                              "no SVM needed: its 80 nearest training faces"))
        assert "FER2013 Training labels" in result["decision"] and "\n" not in result["decision"]
        assert EMOTIONS[train.labels[face]] in result["decision"]
    mirror = model.nearest_training_faces(train.faces[3:4, :, ::-1], k=8)[0]   # a mirror image names its face
    assert mirror["rows"][0] == 3 and mirror["mirrored"][0] and mirror["distances"][0] == pytest.approx(0, abs=1e-2)


def test_fused_is_listed_and_loads_when_shipped():
    entry = read_manifest().models.get("fused")
    if entry is None:
        pytest.skip("no fused model is shipped in models/")
    recognizer = EmotionRecognizer.load("fused")
    assert isinstance(recognizer.model, LocalLearningClassifier)
    faces = np.full((2, 48, 48), 128, np.uint8)
    assert recognizer.model.predict_proba(faces).shape == (2, 7)
    assert len(recognizer.model.nearest_training_faces(faces, k=8)[0]["rows"]) == 8
    assert entry.metrics["PrivateTest"]["accuracy"] >= 0.725


def test_training_forgets_the_search_cache_before_rounding_and_scoring():
    from sklearn.pipeline import Pipeline

    from fer_classic.classify.training import _drop_training_state

    rng = np.random.default_rng(3)
    local = CompactLocalSVM(n_neighbors=3).fit(rng.normal(size=(20, 4)).astype(np.float32), np.arange(20) % 2)
    local.neighbours(rng.normal(size=(2, 4)))
    assert "_unit_rows" in vars(local)
    _drop_training_state(Pipeline([("project", LinearProjection(2)), ("local", local)]))
    assert "_unit_rows" not in vars(local)           # scored as stored: rebuilt from the int8 rows, not rounded
