"""A linear SVM solved with matrix products, and its probabilities calibrated once on held-out rows.

The SVM is the classic one-versus-rest L2-SVM, the same problem as
liblinear's default ``LinearSVC`` [1]_: for each class ``c``, with targets
``t = +1`` for the class and ``-1`` for the rest,

.. math:: \\min_{w, b} \\tfrac12 \\lVert w \\rVert^2 + C \\sum_i \\max(0, 1 - t_i (w \\cdot x_i + b))^2 .

The squared hinge makes the objective smooth, so all seven problems are
solved together by L-BFGS, whose every step is two dense matrix products
``X @ W`` and ``X.T @ G``: on tens of thousands of rows of a few thousand
dense features that is work for BLAS, on every core, rather than for a
coordinate solver that visits one row at a time.

Probabilities come from one softmax temperature
(:mod:`fer_classic.classify.calibration`): the SVM is fitted once with a slice
of Training held out, the temperature is fitted on that slice, and the SVM is
refitted on every row, starting from the first solution.

References
----------
.. [1] R.-E. Fan et al., "LIBLINEAR: A library for large linear
       classification", JMLR 9, 2008.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit, ShuffleSplit

from .calibration import fit_temperature, softmax


def one_vs_rest_targets(labels, n_classes):
    """Targets +1 for a row's class and -1 for the others, shape (n, n_classes), float32."""
    targets = -np.ones((len(labels), n_classes), dtype=np.float32)
    targets[np.arange(len(labels)), labels] = 1
    return targets


def squared_hinge_objective(parameters, X, targets, C):
    """Objective and gradient of the one-vs-rest L2-SVM; ``parameters`` is ``[W; b]`` flattened, (d + 1, c).

    The bias is not regularised, as in the textbook SVM (liblinear
    regularises it).
    """
    d, c = X.shape[1], targets.shape[1]
    weights = parameters.reshape(d + 1, c).astype(np.float32)
    scores = X @ weights[:-1] + weights[-1]
    slack = np.maximum(0, 1 - targets * scores)
    loss = 0.5 * float(np.sum(weights[:-1].astype(np.float64) ** 2)) + C * float(np.sum(slack.astype(np.float64) ** 2))
    residual = (-2 * C) * targets * slack  # d loss / d scores
    gradient = np.vstack([weights[:-1] + X.T @ residual, residual.sum(axis=0, keepdims=True)])
    return loss, gradient.astype(np.float64).ravel()


def fit_squared_hinge(X, labels, n_classes, C, start=None, max_iter=300, tol=1e-5):
    """Weights (d, c) and biases (c,) of the one-vs-rest L2-SVM, by L-BFGS from ``start`` (or zeros)."""
    targets = one_vs_rest_targets(labels, n_classes)
    x0 = np.zeros((X.shape[1] + 1) * n_classes) if start is None else start
    result = minimize(squared_hinge_objective, x0, args=(X, targets, C), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-9})
    return result.x


def held_out_split(n_rows, fraction, groups=None, random_state=0):
    """Indices ``(kept, held)`` of a random split of ``n_rows`` rows; rows sharing a ``groups`` value stay together."""
    splitter = (GroupShuffleSplit if groups is not None else ShuffleSplit)(
        n_splits=1, test_size=fraction, random_state=random_state)
    return next(splitter.split(np.zeros((n_rows, 1)), groups=groups))


class LinearSVM(ClassifierMixin, BaseEstimator):
    """One-vs-rest linear L2-SVM by L-BFGS, with probabilities from one held-out temperature.

    Parameters
    ----------
    C : float
        Weight of the squared hinge losses against the margin.
    held_out : float
        Fraction of the training rows held out to fit the temperature,
        0 < held_out < 1. Rows that share a group (a face and its mirror
        image) are held out together; see :meth:`fit`.
    max_iter : int
        L-BFGS iterations per fit.
    random_state : int

    Attributes
    ----------
    classes_ : ndarray, shape (n_classes,)
    coef_ : ndarray of float32, shape (n_features, n_classes)
    intercept_ : ndarray of float32, shape (n_classes,)
    temperature_ : float
    """

    def __init__(self, C=1.0, held_out=0.1, max_iter=300, random_state=0):
        self.C = C
        self.held_out = held_out
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        """Fit on ``X`` (n, d) and labels ``y`` (n,); ``groups`` (n,) keeps related rows on one side of the split.

        The held-out slice only calibrates: after the temperature is fitted
        the SVM is refitted on every row.
        """
        if not (np.isfinite(self.C) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if not 0 < self.held_out < 1:
            raise ValueError(f"held_out must be between 0 and 1, got {self.held_out!r}")
        X = np.ascontiguousarray(X, dtype=np.float32)
        self.classes_, labels = np.unique(np.asarray(y), return_inverse=True)
        n_classes = len(self.classes_)
        if n_classes < 2:
            raise ValueError("a classifier needs at least two classes in y")
        kept, held = held_out_split(len(X), self.held_out, groups, self.random_state)
        first = fit_squared_hinge(X[kept], labels[kept], n_classes, self.C, max_iter=self.max_iter)
        self._set_parameters(first, X.shape[1], n_classes)
        self.temperature_ = fit_temperature(self.decision_function(X[held]), labels[held])
        self._set_parameters(fit_squared_hinge(X, labels, n_classes, self.C, start=first, max_iter=self.max_iter),
                             X.shape[1], n_classes)
        return self

    def _set_parameters(self, parameters, n_features, n_classes):
        weights = parameters.reshape(n_features + 1, n_classes).astype(np.float32)
        self.coef_, self.intercept_ = weights[:-1], weights[-1]

    def decision_function(self, X):
        """Scores, shape (n, n_classes): positive on the class's side of its margin."""
        return np.asarray(X, dtype=np.float32) @ self.coef_ + self.intercept_

    def predict_proba(self, X):
        """``softmax(scores / temperature_)``, shape (n, n_classes)."""
        return softmax(self.decision_function(X), self.temperature_)

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]
