"""Exact SVMs (libsvm) with probabilities: the SVMs for sets of a few hundred to a few thousand faces.

The linear kernel, and the RBF kernel

.. math:: k(x, x') = \\exp(-\\gamma \\lVert x - x' \\rVert^2),

are both solved by libsvm [1]_, whose time hardly depends on C (liblinear's
grows steeply with C on whitened features). Its cost grows with the square
of the number of faces, so it is for small sets (your own labelled faces); on FER2013's 57,000 mirrored training faces
:mod:`fer_classic.classify.methods` approximates it instead. ``gamma`` is
given relative to scikit-learn's ``"scale"``, ``1 / (d * Var(X))``, so that
one grid suits features of any width.

Probabilities come as for :class:`~fer_classic.classify.linear_svm.LinearSVM`:
a softmax temperature fitted on a held-out slice of the training rows, then
the SVM refitted on every row.

References
----------
.. [1] C.-C. Chang and C.-J. Lin, "LIBSVM: a library for support vector
       machines", ACM TIST 2(3), 2011.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import SVC

from .calibration import fit_temperature, softmax
from .linear_svm import held_out_split


class KernelSVM(ClassifierMixin, BaseEstimator):
    """One-vs-rest scores of a linear or RBF-kernel SVM, calibrated to probabilities.

    Parameters
    ----------
    kernel : {"linear", "rbf"}
    C : float
        Penalty of the margin violations, > 0.
    gamma : float
        RBF kernel width as a multiple of ``1 / (d * Var(X))``, > 0.
    held_out : float
        Fraction of the rows that calibrates the probabilities, in [0, 1);
        0 fits once, uncalibrated (temperature 1), where only decisions count.
    random_state : int
    """

    def __init__(self, kernel="rbf", C=1.0, gamma=1.0, held_out=0.2, random_state=0):
        self.kernel = kernel
        self.C = C
        self.gamma = gamma
        self.held_out = held_out
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        """Fit on ``X`` (n, d) and labels ``y`` (n,); ``groups`` (n,) keeps related rows on one side of the split."""
        if self.kernel not in ("linear", "rbf"):
            raise ValueError(f"kernel must be 'linear' or 'rbf', got {self.kernel!r}")
        for name in ("C", "gamma"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if not 0 <= self.held_out < 1:
            raise ValueError(f"held_out must be in [0, 1), got {self.held_out!r}")
        X = np.ascontiguousarray(X, dtype=np.float64)
        self.classes_, labels = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("a classifier needs at least two classes in y")
        variance = X.var()
        self.gamma_ = self.gamma / (X.shape[1] * variance) if variance > 0 else self.gamma
        self.temperature_ = 1.0
        if self.held_out:
            kept, held = held_out_split(len(X), self.held_out, groups, self.random_state)
            if len(np.unique(labels[kept])) == len(self.classes_):  # else too few rows to calibrate: left at 1
                self.svm_ = self._svm().fit(X[kept], labels[kept])
                self.temperature_ = fit_temperature(self.decision_function(X[held]), labels[held])
        self.svm_ = self._svm().fit(X, labels)
        return self

    def _svm(self):
        return SVC(kernel=self.kernel, C=self.C, gamma=self.gamma_, decision_function_shape="ovr", cache_size=500)

    def decision_function(self, X):
        """One-vs-rest scores, shape (n, n_classes), also for two classes."""
        scores = self.svm_.decision_function(np.asarray(X, dtype=np.float64))
        return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores

    def predict_proba(self, X):
        return softmax(self.decision_function(X), self.temperature_)

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]
