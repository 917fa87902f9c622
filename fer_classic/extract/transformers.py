"""Phase 2 as scikit-learn transformers, so feature sets compose in a ``FeatureUnion``.

Each transformer takes faces ``X`` of shape (n, s, s) uint8 (or (n, s*s)) and
returns a float32 feature matrix. They share one landmark fit per batch of
faces (cached), which both drives the geometric features and aligns the faces
for HOG, LBP and dense SIFT. The SIFT encodings learn a vocabulary (k-means)
or a mixture (GMM) in ``fit``; the others learn nothing.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ..faces import check_faces
from .align import align_faces
from .bovw import bag_of_words, squared_distances
from .cache import cached_fit, cached_map, map_chunks
from .dense_sift import dense_grid, dense_sift
from .fisher import fisher_vectors
from .geometry import geometric_features
from .hog import hog_features
from .landmarks import DEFAULT_LANDMARK_MODEL, fit_landmarks, landmark_model_digest
from .lbp import lbp_histograms
from .pooling import pyramid_regions


def face_landmarks(faces, upsample=2, model=DEFAULT_LANDMARK_MODEL, n_jobs=1):
    """Cached :func:`fit_landmarks` over a batch of face crops, shape (n, 68, 2)."""
    return cached_map("landmarks", {"upsample": upsample, "model": landmark_model_digest(model)},
                      partial(fit_landmarks, upsample=upsample, model=model), [faces], n_jobs=n_jobs,
                      desc="landmarks")


def _aligned(function, faces, landmarks, align):
    return function(align_faces(faces, landmarks, faces.shape[1]) if align else faces)


class _FaceFeatures(TransformerMixin, BaseEstimator):
    """Shared plumbing: validate, fit landmarks, extract (cached, in parallel)."""

    # Whether ``fit`` learns from the faces (a vocabulary); if not, features may be extracted once for every fold.
    learns_in_fit = False

    # Extractors pickled before the choice existed were fitted with dlib's model; they read this default.
    landmark_model = "dlib"

    def fit(self, X, y=None):
        self.face_size_ = check_faces(X).shape[1]
        return self

    def _cache_params(self):
        """What the cached features depend on besides the faces: the parameters and the landmark model."""
        params = {k: v for k, v in self.get_params().items() if k != "n_jobs"}
        return {**params, "landmark_model_digest": landmark_model_digest(self.landmark_model)}

    def transform(self, X):
        faces = check_faces(X)
        landmarks = face_landmarks(faces, self.upsample, self.landmark_model, self.n_jobs)
        return cached_map(type(self).__name__, self._cache_params(), self._extract, [faces, landmarks],
                          n_jobs=self.n_jobs, desc=type(self).__name__)


class LandmarkFeatures(_FaceFeatures):
    """Geometric features of dlib's 68 landmarks (local method).

    Parameters
    ----------
    upsample : int
        Crop enlargement before the landmark fit.
    landmark_model : {"distilled", "dlib"}
        Which model places the points (:func:`~fer_classic.extract.landmarks.find_landmark_model`).
    n_jobs : int
        Worker processes for large batches.
    """

    def __init__(self, upsample=2, landmark_model=DEFAULT_LANDMARK_MODEL, n_jobs=1):
        self.upsample = upsample
        self.landmark_model = landmark_model
        self.n_jobs = n_jobs

    @staticmethod
    def _extract(faces, landmarks):
        return geometric_features(landmarks)


class HOGFeatures(_FaceFeatures):
    """HOG of the eye-aligned face (global method).

    Parameters
    ----------
    cell_sizes : tuple of int
        See :func:`fer_classic.extract.hog.hog_features`.
    n_bins : int
    align : bool
        Align by the eyes first.
    upsample, landmark_model, n_jobs
        As in :class:`LandmarkFeatures`.
    """

    def __init__(self, cell_sizes=(4, 8), n_bins=9, align=True, upsample=2, landmark_model=DEFAULT_LANDMARK_MODEL,
                 n_jobs=1):
        self.cell_sizes = cell_sizes
        self.n_bins = n_bins
        self.align = align
        self.upsample = upsample
        self.landmark_model = landmark_model
        self.n_jobs = n_jobs

    @property
    def _extract(self):
        return partial(_aligned, partial(hog_features, cell_sizes=tuple(self.cell_sizes), n_bins=self.n_bins),
                       align=self.align)


class LBPFeatures(_FaceFeatures):
    """Uniform LBP histograms over a grid of the eye-aligned face (global method).

    Parameters
    ----------
    grid : (int, int)
        Cells along y and x.
    align : bool
    upsample, landmark_model, n_jobs
        As in :class:`LandmarkFeatures`.
    """

    def __init__(self, grid=(6, 6), align=True, upsample=2, landmark_model=DEFAULT_LANDMARK_MODEL, n_jobs=1):
        self.grid = grid
        self.align = align
        self.upsample = upsample
        self.landmark_model = landmark_model
        self.n_jobs = n_jobs

    @property
    def _extract(self):
        return partial(_aligned, partial(lbp_histograms, grid=tuple(self.grid)), align=self.align)


def root_sift(descriptors):
    """RootSIFT: L1-normalise, then square root, so Euclidean distance compares like the Hellinger kernel.

    (n, k, 128) uint8 -> float32 of the same shape (Arandjelovic & Zisserman, CVPR 2012).
    """
    descriptors = np.asarray(descriptors, dtype=np.float32)
    return np.sqrt(descriptors / np.maximum(descriptors.sum(axis=-1, keepdims=True), 1e-12))


def _sift_descriptors(faces, landmarks, step, patch_sizes, projection):
    """Aligned faces -> dense SIFT -> RootSIFT -> projected by ``(mean, components)`` when given."""
    descriptors = root_sift(dense_sift(align_faces(faces, landmarks, faces.shape[1]), step, patch_sizes))
    if projection is not None:
        mean, components = projection
        descriptors = (descriptors - mean) @ components.T
    return descriptors


def _encode_bovw(faces, landmarks, step, patch_sizes, projection, regions, centres, assignment, pooling, bandwidth):
    descriptors = _sift_descriptors(faces, landmarks, step, patch_sizes, projection)
    return bag_of_words(descriptors, centres, regions, assignment, pooling, bandwidth)


def _encode_fisher(faces, landmarks, step, patch_sizes, projection, regions, weights, means, variances):
    descriptors = _sift_descriptors(faces, landmarks, step, patch_sizes, projection)
    return fisher_vectors(descriptors, weights, means, variances, regions)


class _SIFTEncoding(_FaceFeatures):
    """Shared plumbing of the dense-SIFT encodings: sample descriptors, fit a model of them, encode.

    ``fit`` learns from Training faces only; the cache key of ``transform``
    includes a digest of what was learned, so a new vocabulary never reuses
    an old encoding.
    """

    learns_in_fit = True

    def fit(self, X, y=None):
        """Learn the descriptors' model from a sample of the faces ``X`` (n, s, s) uint8; cached on disk by them."""
        faces = check_faces(X)
        rng = np.random.default_rng(self.random_state)
        chosen = np.sort(rng.choice(len(faces), min(len(faces), self.max_fit_faces), replace=False))
        # Landmarks of all faces, not only the chosen: transform reuses them.
        landmarks = face_landmarks(faces, self.upsample, self.landmark_model, self.n_jobs)[chosen]
        learned = cached_fit(type(self).__name__, self._cache_params(),
                             lambda sample: self._learn(self._fit_sample(sample, landmarks, rng)), faces, chosen)
        self._set_learned(learned)
        self.digest_ = _digest(*(learned[name] for name in sorted(learned)))
        self.face_size_ = faces.shape[1]
        return self

    def _fit_sample(self, faces, landmarks, rng):
        """Up to ``max_fit_descriptors`` dense RootSIFT descriptors of ``faces``, drawn at random, (m, 128)."""
        descriptors = map_chunks(partial(_sift_descriptors, step=self.step, patch_sizes=tuple(self.patch_sizes),
                                         projection=None), [faces, landmarks], n_jobs=self.n_jobs)
        descriptors = descriptors.reshape(-1, descriptors.shape[-1])
        rows = rng.choice(len(descriptors), min(len(descriptors), self.max_fit_descriptors), replace=False)
        return descriptors[rows]

    def _regions(self, face_size):
        return pyramid_regions(dense_grid(face_size, self.step, self.patch_sizes)[:, :2], face_size,
                               tuple(self.levels))

    def transform(self, X):
        faces = check_faces(X)
        landmarks = face_landmarks(faces, self.upsample, self.landmark_model, self.n_jobs)
        params = {**self._cache_params(), "learned": self.digest_}
        return cached_map(type(self).__name__, params, self._encoder(faces.shape[1]), [faces, landmarks],
                          n_jobs=self.n_jobs, desc=type(self).__name__)


def _digest(*arrays):
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


class SIFTBagOfWords(_SIFTEncoding):
    """Dense RootSIFT on the aligned face, encoded as a bag of visual words with a spatial pyramid.

    Parameters
    ----------
    n_words : int
        Vocabulary size (k-means centres).
    assignment : {"hard", "soft"}
    pooling : {"counts", "presence"}
    levels : tuple of int
        Spatial-pyramid grid sides.
    step, patch_sizes
        The dense grid (:func:`~fer_classic.extract.dense_sift.dense_grid`).
    max_fit_faces, max_fit_descriptors : int
        Training faces sampled, and descriptors among theirs, to fit the vocabulary.
    random_state : int
    upsample, landmark_model, n_jobs
        As in :class:`LandmarkFeatures`.

    Attributes
    ----------
    centres_ : ndarray of float32, shape (n_words, 128)
    bandwidth_ : float
        Median distance of a sampled descriptor to its nearest word.
    """

    def __init__(self, n_words=256, assignment="soft", pooling="counts", levels=(1, 2), step=6,
                 patch_sizes=(12, 18), max_fit_faces=4000, max_fit_descriptors=100_000, random_state=0,
                 upsample=2, landmark_model=DEFAULT_LANDMARK_MODEL, n_jobs=1):
        self.n_words = n_words
        self.assignment = assignment
        self.pooling = pooling
        self.levels = levels
        self.step = step
        self.patch_sizes = patch_sizes
        self.max_fit_faces = max_fit_faces
        self.max_fit_descriptors = max_fit_descriptors
        self.random_state = random_state
        self.upsample = upsample
        self.landmark_model = landmark_model
        self.n_jobs = n_jobs

    def _learn(self, sample):
        from sklearn.cluster import MiniBatchKMeans

        kmeans = MiniBatchKMeans(self.n_words, batch_size=4096, n_init=3, random_state=self.random_state)
        centres = kmeans.fit(sample).cluster_centers_.astype(np.float32)
        nearest = squared_distances(sample[None, :20_000], centres)[0].min(axis=1)
        return {"centres": centres, "bandwidth": np.float32(np.sqrt(np.median(nearest)))}

    def _set_learned(self, learned):
        self.centres_ = learned["centres"]
        self.bandwidth_ = float(learned["bandwidth"])

    def _encoder(self, face_size):
        return partial(_encode_bovw, step=self.step, patch_sizes=tuple(self.patch_sizes), projection=None,
                       regions=self._regions(face_size), centres=self.centres_, assignment=self.assignment,
                       pooling=self.pooling, bandwidth=self.bandwidth_)


class SIFTFisherVectors(_SIFTEncoding):
    """Dense RootSIFT on the aligned face, PCA-reduced, encoded as Fisher vectors with a spatial pyramid.

    Parameters
    ----------
    n_components : int
        Gaussians in the mixture.
    n_dims : int
        PCA dimensions of the descriptors.
    levels, step, patch_sizes, max_fit_faces, max_fit_descriptors, random_state, upsample, landmark_model, n_jobs
        As in :class:`SIFTBagOfWords`.

    Attributes
    ----------
    projection_ : (ndarray, ndarray)
        PCA mean (128,) and components (n_dims, 128).
    weights_, means_, variances_ : ndarray
        The diagonal mixture, shapes (K,), (K, n_dims), (K, n_dims).
    """

    def __init__(self, n_components=32, n_dims=32, levels=(1, 2), step=6, patch_sizes=(12, 18),
                 max_fit_faces=4000, max_fit_descriptors=100_000, random_state=0, upsample=2,
                 landmark_model=DEFAULT_LANDMARK_MODEL, n_jobs=1):
        self.n_components = n_components
        self.n_dims = n_dims
        self.levels = levels
        self.step = step
        self.patch_sizes = patch_sizes
        self.max_fit_faces = max_fit_faces
        self.max_fit_descriptors = max_fit_descriptors
        self.random_state = random_state
        self.upsample = upsample
        self.landmark_model = landmark_model
        self.n_jobs = n_jobs

    def _learn(self, sample):
        from sklearn.decomposition import PCA
        from sklearn.mixture import GaussianMixture

        pca = PCA(self.n_dims, random_state=self.random_state).fit(sample)
        mixture = GaussianMixture(self.n_components, covariance_type="diag", max_iter=100, reg_covar=1e-4,
                                  random_state=self.random_state).fit(pca.transform(sample))
        return {"projection_mean": pca.mean_.astype(np.float32),
                "projection_components": pca.components_.astype(np.float32),
                "weights": mixture.weights_.astype(np.float32), "means": mixture.means_.astype(np.float32),
                "variances": mixture.covariances_.astype(np.float32)}

    def _set_learned(self, learned):
        self.projection_ = (learned["projection_mean"], learned["projection_components"])
        self.weights_, self.means_, self.variances_ = learned["weights"], learned["means"], learned["variances"]

    def _encoder(self, face_size):
        return partial(_encode_fisher, step=self.step, patch_sizes=tuple(self.patch_sizes),
                       projection=self.projection_, regions=self._regions(face_size), weights=self.weights_,
                       means=self.means_, variances=self.variances_)
