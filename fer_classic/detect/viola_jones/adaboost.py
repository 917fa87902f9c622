"""AdaBoost with decision stumps, each stump's threshold found by one sort and one scan.

Every round, AdaBoost (Freund and Schapire 1997) picks the weak classifier with
the smallest weighted error, then shrinks the weights of the samples it got
right, so the next round attends to the mistakes. Viola and Jones use one
decision stump per feature as the weak classifiers::

    h(x) = 1 if polarity * f(x) < polarity * threshold else 0

and keep the stump with the lowest error over all features.

The best threshold of one feature does not need a scan over candidate
thresholds. Sort the samples by feature value once; a threshold between sorted
positions ``k - 1`` and ``k`` puts the first ``k`` samples on one side. With
``T+`` and ``T-`` the total weights of positives and negatives and ``D_k`` the
cumulative sum, in sorted order, of ``+w`` for positives and ``-w`` for
negatives, the errors are::

    polarity +1 (face below the threshold):  T+ - D_k
    polarity -1 (face above the threshold):  T- + D_k

so the best stump is at the largest or smallest ``D_k``: one cumulative sum
per feature and round (Viola and Jones 2004, section 3.1). Only the weights
change between rounds, so the sort is done once, up front.

References
----------
.. [1] Y. Freund and R. E. Schapire, "A decision-theoretic generalization of
       on-line learning and an application to boosting", Journal of Computer
       and System Sciences 55(1), 1997.
.. [2] P. Viola and M. Jones, "Robust real-time face detection", IJCV 57(2),
       2004.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

_MIN_ERROR = 1e-10  # a perfect stump would get an infinite vote and zero every weight


@dataclass(frozen=True)
class SortedFeatureValues:
    """Feature values with each feature's samples sorted once, for every boosting round.

    Attributes
    ----------
    values : ndarray of float, shape (n_features, n_samples)
    order : ndarray of intp, shape (n_features, n_samples)
        ``values[f, order[f]]`` is ascending.
    splittable : ndarray of bool, shape (n_features, n_samples)
        Whether a threshold can fall just after sorted position ``k``, i.e.
        ``sorted[k] < sorted[k + 1]`` (always True at the last position).
    """

    values: np.ndarray
    order: np.ndarray
    splittable: np.ndarray


def _in_threads(function, blocks, n_jobs):
    """Call ``function`` on every block, in ``n_jobs`` threads (NumPy releases the GIL in sorts and sums)."""
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be 1 or more, got {n_jobs}")
    with ThreadPoolExecutor(n_jobs) as pool:
        list(pool.map(function, blocks))


def sort_feature_values(values, n_jobs=1):
    """Sort every feature's values once, for :func:`boost`.

    Parameters
    ----------
    values : ndarray of float, shape (n_features, n_samples)
    n_jobs : int
        Threads sorting blocks of features.

    Returns
    -------
    SortedFeatureValues
    """
    values = np.asarray(values)
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError(f"values must be (n_features, n_samples) with samples, got shape {values.shape}")
    order = np.empty(values.shape, dtype=np.intp)
    splittable = np.empty(values.shape, dtype=bool)

    def sort_block(block):
        order[block] = np.argsort(values[block], axis=1)
        ascending = np.take_along_axis(values[block], order[block], axis=1)
        splittable[block, :-1] = ascending[:, 1:] > ascending[:, :-1]
        splittable[block, -1] = True

    _in_threads(sort_block, _blocks(len(values)), n_jobs)
    return SortedFeatureValues(values, order, splittable)


def _blocks(n, size=512):
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def best_stumps(sorted_values, labels, weights, n_jobs=1):
    """The lowest-error decision stump of every feature.

    Parameters
    ----------
    sorted_values : SortedFeatureValues
    labels : ndarray of bool, shape (n_samples,)
        True for positives (faces).
    weights : ndarray of float, shape (n_samples,)
        Non-negative sample weights.
    n_jobs : int
        Threads working on blocks of features.

    Returns
    -------
    errors : ndarray of float64, shape (n_features,)
        Weighted error of each feature's best stump.
    thresholds : ndarray of float64, shape (n_features,)
        Midway between two consecutive distinct values, or -inf / +inf for
        the stumps that call every sample the same.
    polarities : ndarray of int8, shape (n_features,)
        +1: a face when the value is below the threshold; -1: above.
    """
    labels = np.asarray(labels, dtype=bool)
    weights = np.asarray(weights, dtype=np.float64)
    n_features, n_samples = sorted_values.values.shape
    if labels.shape != (n_samples,) or weights.shape != (n_samples,):
        raise ValueError(f"labels {labels.shape} and weights {weights.shape} must be ({n_samples},)")
    signed = np.where(labels, weights, -weights)
    total_positive, total_negative = weights[labels].sum(), weights[~labels].sum()
    errors, thresholds = np.empty(n_features), np.empty(n_features)
    polarities = np.empty(n_features, dtype=np.int8)

    def scan_block(block):
        # cumulative[:, k] = D_(k+1); positions where no threshold can fall get D_0 = 0
        cumulative = signed.take(sorted_values.order[block])
        np.cumsum(cumulative, axis=1, out=cumulative)
        cumulative *= sorted_values.splittable[block]
        rows = np.arange(cumulative.shape[0])
        k_high, k_low = cumulative.argmax(axis=1), cumulative.argmin(axis=1)
        d_high = np.maximum(cumulative[rows, k_high], 0.0)
        d_low = np.minimum(cumulative[rows, k_low], 0.0)
        below_is_face = total_positive - d_high <= total_negative + d_low
        errors[block] = np.where(below_is_face, total_positive - d_high, total_negative + d_low)
        polarities[block] = np.where(below_is_face, 1, -1)
        # number of samples below the threshold: 0 when D_0 won
        n_below = np.where(below_is_face, np.where(d_high > 0, k_high + 1, 0), np.where(d_low < 0, k_low + 1, 0))
        thresholds[block] = _split_thresholds(sorted_values, block, n_below)

    _in_threads(scan_block, _blocks(n_features), n_jobs)
    return errors, thresholds, polarities


def _split_thresholds(sorted_values, block, n_below):
    """Thresholds between sorted positions ``n_below - 1`` and ``n_below`` of each feature in ``block``."""
    values, order = sorted_values.values[block], sorted_values.order[block]
    n_samples = values.shape[1]
    rows = np.arange(len(values))
    below = values[rows, order[rows, np.maximum(n_below - 1, 0)]].astype(np.float64)
    above = values[rows, order[rows, np.minimum(n_below, n_samples - 1)]].astype(np.float64)
    return np.where(n_below == 0, -np.inf, np.where(n_below == n_samples, np.inf, (below + above) / 2))


def stump_predict(values, threshold, polarity):
    """Decision stump votes: True (face) where ``polarity * values < polarity * threshold``."""
    return polarity * np.asarray(values) < polarity * threshold


@dataclass(frozen=True)
class StrongClassifier:
    """A weighted vote of decision stumps: a face when ``sum(alpha * h) >= threshold``.

    Attributes
    ----------
    features : ndarray of int64, shape (n_stumps,)
        Row of the feature-value matrix each stump reads.
    thresholds : ndarray of float64, shape (n_stumps,)
    polarities : ndarray of int8, shape (n_stumps,)
    alphas : ndarray of float64, shape (n_stumps,)
        Each stump's vote, ``log((1 - error) / error)``.
    threshold : float
        AdaBoost's own choice is half the total vote, ``alphas.sum() / 2``.
    """

    features: np.ndarray
    thresholds: np.ndarray
    polarities: np.ndarray
    alphas: np.ndarray
    threshold: float

    def decision_function(self, values):
        """Total vote per sample; ``values`` is (n_features, n_samples), returns (n_samples,)."""
        votes = stump_predict(np.asarray(values)[self.features], self.thresholds[:, None], self.polarities[:, None])
        return self.alphas @ votes

    def predict(self, values):
        """True where the total vote reaches :attr:`threshold`."""
        return self.decision_function(values) >= self.threshold


def boost(sorted_values, labels, n_jobs=1):
    """AdaBoost rounds, one decision stump each, for as long as the caller asks.

    Weights start at ``1 / (2 n_positives)`` for positives and ``1 /
    (2 n_negatives)`` for negatives, so both classes count equally however
    unbalanced (Viola and Jones 2004, table 1).

    Parameters
    ----------
    sorted_values : SortedFeatureValues
        From :func:`sort_feature_values`.
    labels : ndarray of bool, shape (n_samples,)
        True for positives; both classes must be present.
    n_jobs : int
        Threads for :func:`best_stumps`.

    Yields
    ------
    classifier : StrongClassifier
        The stumps so far, at AdaBoost's own threshold.
    training_error : float
        The share of samples it gets wrong.
    """
    labels = np.asarray(labels, dtype=bool)
    n_positive = int(labels.sum())
    if n_positive == 0 or n_positive == len(labels):
        raise ValueError("AdaBoost needs both positive and negative samples")
    weights = np.where(labels, 0.5 / n_positive, 0.5 / (len(labels) - n_positive))
    features, thresholds, polarities, alphas = [], [], [], []
    scores = np.zeros(len(labels))
    while True:
        errors, stump_thresholds, stump_polarities = best_stumps(sorted_values, labels, weights, n_jobs)
        best = int(np.argmin(errors))
        error = float(np.clip(errors[best], _MIN_ERROR, 1 - _MIN_ERROR))
        beta = error / (1 - error)
        votes = stump_predict(sorted_values.values[best], stump_thresholds[best], stump_polarities[best])
        weights = np.where(votes == labels, weights * beta, weights)
        weights /= weights.sum()
        features.append(best)
        thresholds.append(stump_thresholds[best])
        polarities.append(stump_polarities[best])
        alphas.append(np.log(1 / beta))
        scores += alphas[-1] * votes
        classifier = StrongClassifier(np.array(features, dtype=np.int64), np.array(thresholds, dtype=np.float64),
                                      np.array(polarities, dtype=np.int8), np.array(alphas), sum(alphas) / 2)
        yield classifier, float(np.mean((scores >= classifier.threshold) != labels))


def adaboost(values, labels, n_rounds, n_jobs=1):
    """Train a strong classifier of ``n_rounds`` decision stumps.

    Parameters
    ----------
    values : ndarray of float, shape (n_features, n_samples)
    labels : ndarray of bool, shape (n_samples,)
    n_rounds : int
    n_jobs : int

    Returns
    -------
    classifier : StrongClassifier
    training_errors : list of float
        After each round, the share of samples the strong classifier so far
        (at its own threshold) gets wrong.
    """
    if n_rounds < 1:
        raise ValueError(f"n_rounds must be >= 1, got {n_rounds}")
    training_errors = []
    for classifier, training_error in boost(sort_feature_values(values, n_jobs), labels, n_jobs):
        training_errors.append(training_error)
        if len(training_errors) == n_rounds:
            return classifier, training_errors
