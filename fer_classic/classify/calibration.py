"""From SVM scores to probabilities: a softmax, and the one temperature that calibrates it.

An SVM gives scores, not probabilities. Platt's method [1]_ fits a sigmoid per
class on held-out scores; ``CalibratedClassifierCV(cv=3)`` does so by fitting
three more SVMs. Temperature scaling [2]_ needs one parameter for all classes:
``softmax(scores / T)``, with ``T`` chosen to minimise the log-loss of rows the
classifier did not train on. It never changes which class wins, so it costs
no accuracy.

References
----------
.. [1] J. Platt, "Probabilistic outputs for support vector machines", 1999.
.. [2] C. Guo et al., "On calibration of modern neural networks", ICML 2017.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar


def softmax(scores, temperature=1.0):
    """Row-wise softmax of (n, c) scores divided by ``temperature``, float64."""
    scores = np.asarray(scores, dtype=np.float64) / temperature
    scores = scores - scores.max(axis=1, keepdims=True)
    exponentials = np.exp(scores)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def fit_temperature(scores, labels):
    """The temperature T that minimises the log-loss of ``softmax(scores / T)``.

    Parameters
    ----------
    scores : array_like, shape (n, c)
        Scores of held-out rows.
    labels : array_like of int, shape (n,)
        Their true classes, as column indices of ``scores``.

    Returns
    -------
    float
        Searched between e^-6 and e^4.
    """
    scores, labels = np.asarray(scores), np.asarray(labels)
    rows = np.arange(len(labels))

    def log_loss(log_temperature):
        probabilities = softmax(scores, np.exp(log_temperature))
        return -np.mean(np.log(np.maximum(probabilities[rows, labels], 1e-12)))

    return float(np.exp(minimize_scalar(log_loss, bounds=(-6, 4), method="bounded").x))
