"""Late fusion: a weighted average of several methods' probabilities.

Members and weights are both chosen on one labelled split (PublicTest in the
comparison), so the split they are scored on afterwards (PrivateTest) stays
unseen. The weights minimise the log loss of the averaged probabilities over
the probability simplex [1]_; members are added greedily, each kept only if
the re-weighted average's accuracy rises [2]_ and every member keeps at least
:data:`MIN_WEIGHT` of the vote.

References
----------
.. [1] D. H. Wolpert, "Stacked generalization", Neural Networks 5(2), 1992.
.. [2] R. Caruana et al., "Ensemble Selection from Libraries of Models",
   ICML 2004.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

# A member with a smaller share of the vote changes almost no prediction but still costs its full latency: the
# 2026-12-02-8464e20 comparison kept MobileNetV2 at a weight of 0.00 for a rise of a hair on PublicTest.
MIN_WEIGHT = 0.05


def _check(member_probabilities, labels):
    probabilities = np.asarray(member_probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    if probabilities.ndim != 3:
        raise ValueError(f"member_probabilities must be (members, faces, classes), got shape {probabilities.shape}")
    if labels.shape != probabilities.shape[1:2]:
        raise ValueError(f"labels must be ({probabilities.shape[1]},), got shape {labels.shape}")
    return probabilities, labels


def fit_weights(member_probabilities, labels):
    """Simplex weights that minimise the log loss of the weighted average.

    Parameters
    ----------
    member_probabilities : array_like, shape (m, n, k)
        Each member's class probabilities for the same ``n`` faces.
    labels : array_like of int, shape (n,)

    Returns
    -------
    weights : ndarray of float64, shape (m,)
        Non-negative, summing to 1.
    """
    probabilities, labels = _check(member_probabilities, labels)
    # Each member's probability of the true class is all the log loss needs.
    truth = probabilities[:, np.arange(len(labels)), labels]

    def loss_and_gradient(logits):
        weights = np.exp(logits - logits.max())
        weights /= weights.sum()
        mixed = np.maximum(weights @ truth, 1e-12)
        loss = -np.mean(np.log(mixed))
        by_weight = -np.mean(truth / mixed, axis=1)
        # Chain rule through the softmax that keeps the weights on the simplex.
        return loss, weights * (by_weight - weights @ by_weight)

    result = minimize(loss_and_gradient, np.zeros(len(truth)), jac=True, method="L-BFGS-B")
    weights = np.exp(result.x - result.x.max())
    return weights / weights.sum()


def weighted_average(member_probabilities, weights):
    """``sum_m weights[m] * member_probabilities[m]``, shape (n, k)."""
    return np.tensordot(np.asarray(weights), np.asarray(member_probabilities, dtype=np.float64), axes=1)


def select_members(candidates, labels, first):
    """Greedy forward selection of members, with weights re-fitted at each step.

    Parameters
    ----------
    candidates : dict of str to array_like, shape (n, k)
        Each candidate's probabilities on the selection split.
    labels : array_like of int, shape (n,)
    first : str
        The member the ensemble starts from.

    Returns
    -------
    members : list of str
        ``first``, then each candidate, most accurate first, whose addition
        raised the weighted average's accuracy with no member's weight under
        :data:`MIN_WEIGHT`.
    weights : ndarray of float64, shape (len(members),)
    """
    labels = np.asarray(labels)
    if first not in candidates:
        raise ValueError(f"first member {first!r} is not among the candidates {sorted(candidates)}")

    def accuracy(names, weights):
        average = weighted_average([candidates[n] for n in names], weights)
        return float((average.argmax(axis=1) == labels).mean())

    def single_accuracy(name):
        return accuracy([name], [1.0])

    members, weights = [first], np.ones(1)
    for name in sorted((n for n in candidates if n != first), key=single_accuracy, reverse=True):
        trial = [*members, name]
        trial_weights = fit_weights([candidates[n] for n in trial], labels)
        if trial_weights.min() >= MIN_WEIGHT and accuracy(trial, trial_weights) > accuracy(members, weights):
            members, weights = trial, trial_weights
    return members, weights
