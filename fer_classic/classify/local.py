"""Local learning: a linear SVM trained, for each test face, on its nearest training faces.

A global classifier must draw one boundary for every pose, identity and
lighting. Local learning (Bottou & Vapnik, 1992) postpones training to test
time: it finds the test face's ``k`` nearest training faces and fits a small
SVM on them alone, where the classes are simpler to separate. Ionescu et
al. (2013) used it on FER2013 to reach 67.48% with handcrafted features.

Neighbours are found by cosine similarity, the angle between feature vectors,
rather than by Euclidean distance, which also weighs their lengths (the
2026-12-06 neighbour-space study in ``experiments/``). The search is
exact: one matrix product of the queries with every stored row, which BLAS
runs faster than a tree can prune in hundreds of dimensions.

The model is its training rows, so their storage decides its size: they are
kept in float16, half of float32, or int8 with a scale a column, a quarter,
and converted back one neighbourhood at a time. Each local SVM is fitted on the ``k`` x ``k`` Gram matrix of its
neighbours (a precomputed linear kernel), which is far cheaper than a primal
solver when ``k`` is below the number of dimensions.

References
----------
.. [1] L. Bottou and V. Vapnik, "Local learning algorithms", Neural
       Computation 4(6), 1992.
.. [2] R. Ionescu, M. Popescu and C. Grozea, "Local learning to improve bag
       of visual words model for facial expression recognition", ICML 2013
       workshop on representation learning.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import SVC

from .calibration import softmax

STORAGE_DTYPES = ("float16", "float32", "int8")


def quantize_columns(X):
    """Rows in int8, each column scaled by its own step so that its largest magnitude becomes 127.

    Parameters
    ----------
    X : array_like, shape (n, d)

    Returns
    -------
    codes : ndarray of int8, shape (n, d)
    scale : ndarray of float32, shape (d,)
        ``codes * scale`` approximates ``X``, within half a step a column.
    """
    X = np.asarray(X, dtype=np.float32)
    scale = np.maximum(np.abs(X).max(axis=0, initial=0.0), np.float32(1e-12)) / np.float32(127)
    return np.clip(np.rint(X / scale), -127, 127).astype(np.int8), scale.astype(np.float32)


def unit_rows(X):
    """Rows scaled to unit L2 norm, float32; all-zero rows stay zero."""
    X = np.asarray(X, dtype=np.float32)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), np.float32(1e-12))


def cosine_neighbours(queries, unit_reference, k, batch_size=256):
    """Indices of the ``k`` rows of ``unit_reference`` most similar to each query by cosine, most similar first.

    Parameters
    ----------
    queries : array_like, shape (n, d)
    unit_reference : ndarray of float32, shape (m, d)
        Rows already scaled to unit norm (:func:`unit_rows`).
    k : int
        1 <= k <= m.
    batch_size : int
        Queries per matrix product, which bounds memory at ``batch_size * m`` similarities.

    Returns
    -------
    ndarray of int, shape (n, k)
    """
    m = len(unit_reference)
    if not 1 <= k <= m:
        raise ValueError(f"k must be between 1 and the {m} reference rows, got {k}")
    queries = unit_rows(queries)
    found = np.empty((len(queries), k), dtype=np.intp)
    for start in range(0, len(queries), batch_size):
        similarity = queries[start:start + batch_size] @ unit_reference.T
        if k < m:
            nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        else:
            nearest = np.tile(np.arange(m), (len(similarity), 1))
        order = np.argsort(-np.take_along_axis(similarity, nearest, axis=1), axis=1, kind="stable")
        found[start:start + batch_size] = np.take_along_axis(nearest, order, axis=1)
    return found


class LocalSVM(ClassifierMixin, BaseEstimator):
    """Per test sample, a linear SVM on its ``n_neighbors`` nearest training samples by cosine similarity.

    Parameters
    ----------
    n_neighbors : int
    C : float
        Regularisation of each local SVM.
    temperature : float
        Softmax temperature turning the local SVM's decision values into
        probabilities.
    storage : {"float16", "float32", "int8"}
        Precision the training rows are kept in; int8 scales each column by its own step
        (:func:`quantize_columns`).

    Attributes
    ----------
    classes_ : ndarray
    rows_ : ndarray of ``storage`` dtype, shape (n_samples, n_features)
    scale_ : ndarray of float32, shape (n_features,)
        With int8 storage: each column's step; absent otherwise.
    y_ : ndarray of int8, shape (n_samples,)
        Each row's index into ``classes_``.
    """

    def __init__(self, n_neighbors=100, C=0.01, temperature=0.5, storage="float16"):
        self.n_neighbors = n_neighbors
        self.C = C
        self.temperature = temperature
        self.storage = storage

    def fit(self, X, y):
        if self.storage not in STORAGE_DTYPES:
            raise ValueError(f"storage must be one of {', '.join(STORAGE_DTYPES)}, not {self.storage!r}")
        if not (isinstance(self.n_neighbors, (int, np.integer)) and self.n_neighbors >= 1):
            raise ValueError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}")
        vars(self).pop("scale_", None)
        if self.storage == "int8":
            self.rows_, self.scale_ = quantize_columns(X)
        else:
            self.rows_ = np.asarray(X, dtype=self.storage)
        self.classes_, labels = np.unique(np.asarray(y), return_inverse=True)
        self.y_ = labels.astype(np.int8)
        return self

    # Built from rows_ on first use: not worth their room on disk. Training forgets them before the chosen model is
    # rounded to float16 and scored, so that it is scored with the caches its stored rows rebuild.
    caches = ("_unit_rows",)

    def __getstate__(self):
        state = dict(self.__dict__)
        for name in self.caches:
            state.pop(name, None)
        return state

    def stored_rows(self, index=slice(None)):
        """Training rows ``index`` as float32, decoded from their storage, shape (len(index), n_features)."""
        rows = self.rows_[index].astype(np.float32)
        scale = getattr(self, "scale_", None)
        return rows if scale is None else rows * scale

    def neighbours(self, X, k=None):
        """Indices into the training rows of each sample's ``k`` (default ``n_neighbors``) nearest, nearest first.

        Returns
        -------
        ndarray of int, shape (n, min(k, n_samples))
        """
        return cosine_neighbours(X, self._unit_bank(), min(k or self.n_neighbors, len(self.rows_)))

    def similarities(self, X, neighbours):
        """Cosine similarity of each sample (n, d) to its ``neighbours`` (n, k) among the training rows, (n, k)."""
        return np.einsum("nkd,nd->nk", self._unit_bank()[neighbours], unit_rows(X))

    def _unit_bank(self):
        if getattr(self, "_unit_rows", None) is None:
            self._unit_rows = unit_rows(self.stored_rows())
        return self._unit_rows

    def _local_probabilities(self, x, neighbours):
        labels = self.y_[neighbours]
        present = np.unique(labels)
        probabilities = np.zeros(len(self.classes_))
        if len(present) == 1:
            probabilities[present[0]] = 1.0
            return probabilities
        local = self.stored_rows(neighbours)
        svm = SVC(kernel="precomputed", C=self.C, decision_function_shape="ovr").fit(local @ local.T, labels)
        scores = svm.decision_function((local @ x)[None]).reshape(1, -1)
        if len(present) == 2:  # one decision value: positive for the second class
            scores = np.column_stack([-scores[:, 0], scores[:, 0]])
        probabilities[present] = softmax(scores, self.temperature)[0]
        return probabilities

    def predict_proba(self, X):
        """Probabilities of each class, shape (n, n_classes); classes absent near a sample get 0."""
        X = np.asarray(X, dtype=np.float32)
        neighbours = self.neighbours(X)
        return np.array([self._local_probabilities(x, rows) for x, rows in zip(X, neighbours)]).reshape(
            len(X), len(self.classes_))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
