"""Phase 2 as scikit-learn transformers, so feature sets compose in a ``FeatureUnion``.

Each transformer takes faces ``X`` of shape (n, s, s) uint8 (or (n, s*s)) and
returns a float32 feature matrix. They share one landmark fit per batch of
faces (cached), which both drives the geometric features and aligns the faces
for HOG and LBP.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .align import align_faces
from .cache import cached_map
from .geometry import geometric_features
from .hog import hog_features
from .landmarks import fit_landmarks
from .lbp import lbp_histograms


def check_faces(X):
    """Validate faces: uint8 (n, s, s), or (n, s*s) rows reshaped to squares."""
    faces = np.asarray(X)
    if faces.dtype != np.uint8:
        raise ValueError(f"faces must be uint8 grayscale, got dtype {faces.dtype}")
    if faces.ndim == 2:
        side = int(round(np.sqrt(faces.shape[1])))
        if side * side != faces.shape[1]:
            raise ValueError(f"flat faces must have a square number of pixels, got {faces.shape[1]}")
        faces = faces.reshape(len(faces), side, side)
    if faces.ndim != 3 or faces.shape[1] != faces.shape[2]:
        raise ValueError(f"faces must have shape (n, s, s) or (n, s*s), got {faces.shape}")
    return np.ascontiguousarray(faces)


def face_landmarks(faces, upsample=2, n_jobs=1):
    """Cached :func:`fit_landmarks` over a batch of face crops, shape (n, 68, 2)."""
    return cached_map("landmarks", {"upsample": upsample}, partial(fit_landmarks, upsample=upsample),
                      [faces], n_jobs=n_jobs, desc="landmarks")


def _aligned(function, faces, landmarks, align):
    return function(align_faces(faces, landmarks, faces.shape[1]) if align else faces)


class _FaceFeatures(TransformerMixin, BaseEstimator):
    """Shared plumbing: validate, fit landmarks, extract (cached, in parallel)."""

    def fit(self, X, y=None):
        self.face_size_ = check_faces(X).shape[1]
        return self

    def transform(self, X):
        faces = check_faces(X)
        landmarks = face_landmarks(faces, self.upsample, self.n_jobs)
        params = {k: v for k, v in self.get_params().items() if k != "n_jobs"}
        return cached_map(type(self).__name__, params, self._extract, [faces, landmarks],
                          n_jobs=self.n_jobs, desc=type(self).__name__)


class LandmarkFeatures(_FaceFeatures):
    """Geometric features of dlib's 68 landmarks (local method).

    Parameters
    ----------
    upsample : int
        Crop enlargement before the landmark fit.
    n_jobs : int
        Worker processes for large batches.
    """

    def __init__(self, upsample=2, n_jobs=1):
        self.upsample = upsample
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
    upsample, n_jobs : int
        As in :class:`LandmarkFeatures`.
    """

    def __init__(self, cell_sizes=(4, 8), n_bins=9, align=True, upsample=2, n_jobs=1):
        self.cell_sizes = cell_sizes
        self.n_bins = n_bins
        self.align = align
        self.upsample = upsample
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
    upsample, n_jobs : int
        As in :class:`LandmarkFeatures`.
    """

    def __init__(self, grid=(6, 6), align=True, upsample=2, n_jobs=1):
        self.grid = grid
        self.align = align
        self.upsample = upsample
        self.n_jobs = n_jobs

    @property
    def _extract(self):
        return partial(_aligned, partial(lbp_histograms, grid=tuple(self.grid)), align=self.align)
