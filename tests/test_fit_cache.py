"""What is learned from cached features is cached too: vocabularies and PCA bases, keyed by their rows."""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import PCA

from fer_classic.classify.methods import SubsampledPCA, sample_rows
from fer_classic.extract import SIFTFisherVectors, cache


@pytest.fixture
def rows_on_disk(tmp_path):
    """1,200 x 40 float32 rows written as a checked cache entry and mapped back, as extractors return them."""
    X = np.random.default_rng(0).normal(size=(1200, 40)).astype(np.float32) * np.linspace(3, 0.1, 40, dtype=np.float32)
    cache.write_entry(tmp_path / "rows.npy", X)
    return cache.read_entry(tmp_path / "rows.npy")


def counting(fit):
    calls = []

    def counted(sample):
        calls.append(len(sample))
        return fit(sample)
    return counted, calls


def test_a_fit_is_stored_once_and_read_back_for_the_same_rows_and_parameters(rows_on_disk):
    fit, calls = counting(lambda sample: {"mean": sample.mean(axis=0), "n": len(sample)})
    rows = np.arange(0, 1200, 2)
    first = cache.cached_fit("Mean", {"p": 1}, fit, rows_on_disk, rows)
    again = cache.cached_fit("Mean", {"p": 1}, fit, rows_on_disk, rows)
    assert calls == [600]                                          # the second came from the disk
    np.testing.assert_array_equal(again["mean"], rows_on_disk[rows].mean(axis=0))
    assert int(again["n"]) == first["n"] == 600
    cache.cached_fit("Mean", {"p": 2}, fit, rows_on_disk, rows)                  # other parameters,
    cache.cached_fit("Mean", {"p": 1}, fit, rows_on_disk, rows + 1)              # other rows,
    changed = np.array(rows_on_disk)
    changed[0, 0] += 1
    cache.cached_fit("Mean", {"p": 1}, fit, changed, rows)                       # or other values: fitted again
    assert calls == [600] * 4


def test_small_fits_and_fits_with_the_cache_off_touch_no_disk(rows_on_disk):
    fit, calls = counting(lambda sample: {"mean": sample.mean(axis=0)})
    cache.cached_fit("Mean", {}, fit, rows_on_disk, np.arange(cache.MIN_DISK_BATCH - 1))
    with cache.caching(False):
        cache.cached_fit("Mean", {}, fit, rows_on_disk)
        cache.cached_fit("Mean", {}, fit, rows_on_disk)
    assert len(calls) == 3 and not (cache.cache_dir() / "Mean.fit").exists()


def test_a_damaged_fit_is_fitted_again_with_one_warning(rows_on_disk):
    fit, calls = counting(lambda sample: {"mean": sample.mean(axis=0)})
    cache.cached_fit("Mean", {}, fit, rows_on_disk)
    [entry] = (cache.cache_dir() / "Mean.fit").glob("*.npy")
    data = bytearray(entry.read_bytes())
    data[200] ^= 0xFF
    entry.write_bytes(bytes(data))
    with pytest.warns(cache.FeatureCacheWarning, match="fitted again"):
        learned = cache.cached_fit("Mean", {}, fit, rows_on_disk)
    np.testing.assert_allclose(learned["mean"], rows_on_disk.mean(axis=0), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cache.cached_fit("Mean", {}, fit, rows_on_disk)                # replaced: read back quietly
    assert len(calls) == 2


def test_a_cached_pca_projects_as_the_fitted_one_and_chunks_change_nothing(rows_on_disk, monkeypatch):
    pca = PCA(8, whiten=True, svd_solver="randomized", random_state=0)
    fitted = SubsampledPCA(pca, max_samples=900).fit(rows_on_disk)
    reference = PCA(8, whiten=True, svd_solver="randomized", random_state=0).fit(    # plain sklearn, copying
        rows_on_disk[np.sort(sample_rows(1200, 900))])
    np.testing.assert_allclose(fitted.transform(rows_on_disk[:50]), reference.transform(rows_on_disk[:50]),
                               rtol=1e-4, atol=1e-4)
    fits = []
    monkeypatch.setattr(PCA, "fit", lambda self, X, y=None: fits.append(len(X)))   # a second fit would show
    again = SubsampledPCA(pca, max_samples=900).fit(rows_on_disk)
    assert fits == []
    assert isinstance(again.pca_.n_components_, (int, np.integer)) and again.pca_.n_components_ == 8
    whole = fitted.transform(np.array(rows_on_disk))
    monkeypatch.setattr(SubsampledPCA, "chunk_rows", 500)
    chunked = again.transform(rows_on_disk)                      # three chunks of a memory map
    assert chunked.dtype == np.float32 and chunked.shape == (1200, 8)
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(whole[:900].std(axis=0), 1, atol=0.15)   # whitened on the rows it saw


def test_forgetting_a_maps_pages_keeps_its_values(rows_on_disk):
    before = np.array(rows_on_disk[100:200])
    cache.forget_pages(rows_on_disk)
    cache.forget_pages(before)                                   # an ordinary array: nothing to do
    np.testing.assert_array_equal(rows_on_disk[100:200], before)


def test_a_fisher_vocabulary_is_learned_once_for_the_same_faces(face_batch, monkeypatch):
    monkeypatch.setattr(cache, "MIN_DISK_BATCH", 10)
    first = SIFTFisherVectors(n_components=4, n_dims=8, max_fit_faces=40).fit(face_batch)
    monkeypatch.setattr(SIFTFisherVectors, "_learn", lambda self, sample: pytest.fail("fitted again"))
    again = SIFTFisherVectors(n_components=4, n_dims=8, max_fit_faces=40).fit(face_batch)
    assert again.digest_ == first.digest_
    np.testing.assert_array_equal(again.transform(face_batch[:3]), first.transform(face_batch[:3]))
    with pytest.raises(pytest.fail.Exception, match="fitted again"):
        SIFTFisherVectors(n_components=4, n_dims=8, max_fit_faces=40, random_state=1).fit(face_batch)


def test_a_fit_that_would_need_a_pickle_is_refused(rows_on_disk):
    with pytest.raises(TypeError, match="numbers and strings"):
        cache.cached_fit("Objects", {}, lambda sample: {"nothing": None}, rows_on_disk)
    assert not (cache.cache_dir() / "Objects.fit").exists()


def test_an_entrys_projection_is_cached_by_the_entry_and_the_basis(rows_on_disk, monkeypatch):
    pca = PCA(8, whiten=True, svd_solver="randomized", random_state=0)
    reduce = SubsampledPCA(pca, max_samples=900).fit(rows_on_disk)
    assert rows_on_disk.identity and rows_on_disk[:600].identity is None and np.array(rows_on_disk).ndim == 2
    first = reduce.transform(rows_on_disk)
    stored = list((cache.cache_dir() / "PCA.fit" / "transforms").glob("*.npy"))
    assert len(stored) == 1
    with monkeypatch.context() as patch:
        patch.setattr(SubsampledPCA, "_project", lambda self, X: pytest.fail("projected again"))
        again = reduce.transform(rows_on_disk)
    np.testing.assert_array_equal(again, first)
    SubsampledPCA(pca, max_samples=800).fit(rows_on_disk).transform(rows_on_disk)                 # another basis: its own entry
    reduce.transform(rows_on_disk[:600])                              # a slice: not an entry, not stored
    assert len(list((cache.cache_dir() / "PCA.fit" / "transforms").glob("*.npy"))) == 2
