"""Local learning: a linear SVM trained, for each test face, on its nearest training faces.

A global classifier must draw one boundary for every pose, identity and
lighting. Local learning (Bottou & Vapnik, 1992) postpones training to test
time: it finds the test face's ``k`` nearest training faces and fits a small
SVM on them alone, where the classes are simpler to separate. Ionescu et
al. (2013) used it on FER2013 to reach 67.48% with handcrafted features.
Neighbours are found by cosine similarity, the angle between feature vectors,
rather than by Euclidean distance, which also weighs their lengths. On
PublicTest, local learning scored 0.6386 with cosine neighbours against
0.6305 with Euclidean ones, and its vote with the MLP 0.6590 against 0.6500
(2026-12-06, 3,589 faces).
It costs one small SVM fit per face: on ``k`` neighbours in ``d`` dimensions,
with ``k`` < ``d``, the SVM is fitted on their ``k`` x ``k`` Gram matrix (a
precomputed linear kernel), which is far cheaper than a primal solver. See
``benchmarks/classical.py`` for the measured time per face.

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
from sklearn.neighbors import NearestNeighbors
from sklearn.svm import SVC


def softmax(scores, temperature=1.0):
    """Row-wise softmax of (n, c) scores."""
    scores = np.asarray(scores, dtype=np.float64) / temperature
    scores = scores - scores.max(axis=1, keepdims=True)
    exponentials = np.exp(scores)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


class LocalSVM(ClassifierMixin, BaseEstimator):
    """Per test sample, a linear SVM on its ``n_neighbors`` nearest training samples (by angle, by default).

    Parameters
    ----------
    n_neighbors : int
    C : float
        Regularisation of each local SVM.
    temperature : float
        Softmax temperature turning the local SVM's decision values into
        probabilities.
    metric : {"cosine", "euclidean"}
        How neighbours are found.

    Attributes
    ----------
    classes_ : ndarray of int
    """

    # Models pickled before the parameter existed found their neighbours by Euclidean distance.
    metric = "euclidean"

    def __init__(self, n_neighbors=200, C=0.01, temperature=0.5, metric="cosine"):
        self.n_neighbors = n_neighbors
        self.C = C
        self.temperature = temperature
        self.metric = metric

    def fit(self, X, y):
        if self.metric not in ("cosine", "euclidean"):
            raise ValueError(f"metric must be 'cosine' or 'euclidean', not {self.metric!r}")
        self.X_ = np.asarray(X, dtype=np.float32)
        self.classes_, self.y_ = np.unique(np.asarray(y), return_inverse=True)
        # Brute force: trees are slower than a matrix product in a thousand dimensions.
        self.index_ = NearestNeighbors(n_neighbors=min(self.n_neighbors, len(self.X_)), algorithm="brute",
                                       metric=self.metric)
        self.index_.fit(self.X_)
        return self

    def _local_probabilities(self, x, neighbours):
        labels = self.y_[neighbours]
        present = np.unique(labels)
        probabilities = np.zeros(len(self.classes_))
        if len(present) == 1:
            probabilities[present[0]] = 1.0
            return probabilities
        local = self.X_[neighbours]
        svm = SVC(kernel="precomputed", C=self.C, decision_function_shape="ovr").fit(local @ local.T, labels)
        scores = svm.decision_function((local @ x)[None]).reshape(1, -1)
        if len(present) == 2:  # one decision value: positive for the second class
            scores = np.column_stack([-scores[:, 0], scores[:, 0]])
        probabilities[present] = softmax(scores, self.temperature)[0]
        return probabilities

    def predict_proba(self, X):
        """Probabilities of each class, shape (n, n_classes); classes absent near a sample get 0."""
        X = np.asarray(X, dtype=np.float32)
        _, neighbours = self.index_.kneighbors(X)
        return np.array([self._local_probabilities(x, rows) for x, rows in zip(X, neighbours)])

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
