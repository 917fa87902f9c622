"""Late fusion: weights on the simplex that favour the informative member, and greedy member selection."""

import numpy as np
import pytest

from fer_classic.compare import ensemble
from fer_classic.compare.ensemble import fit_weights, select_members, weighted_average


def _probabilities(labels, correct_rate, rng):
    """Confident one-hot-ish guesses, right for about ``correct_rate`` of the faces."""
    guesses = np.where(rng.random(len(labels)) < correct_rate, labels, rng.integers(0, 7, len(labels)))
    probabilities = np.full((len(labels), 7), 0.05)
    probabilities[np.arange(len(labels)), guesses] += 0.65
    return probabilities


@pytest.fixture
def members():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 2000)
    return labels, {"good": _probabilities(labels, 0.7, rng), "fair": _probabilities(labels, 0.5, rng),
                    "noise": np.full((2000, 7), 1 / 7)}


def test_weights_lie_on_the_simplex_and_favour_the_better_member(members):
    labels, candidates = members
    weights = fit_weights([candidates["good"], candidates["fair"]], labels)
    assert weights.shape == (2,) and np.all(weights >= 0) and weights.sum() == pytest.approx(1)
    assert weights[0] > weights[1] > 0


def test_weighted_average_is_a_distribution(members):
    labels, candidates = members
    average = weighted_average([candidates["good"], candidates["noise"]], [0.25, 0.75])
    assert average.shape == (2000, 7)
    np.testing.assert_allclose(average.sum(axis=1), 1)
    np.testing.assert_allclose(average, 0.25 * candidates["good"] + 0.75 / 7)


def test_selection_keeps_members_that_help_and_drops_noise(members):
    labels, candidates = members
    names, weights = select_members(candidates, labels, first="fair")
    assert names == ["fair", "good"]
    assert len(weights) == 2 and weights[1] > weights[0]


def test_selection_refuses_a_member_that_would_get_a_negligible_weight(monkeypatch):
    labels = np.arange(200) % 7
    tied = np.zeros((200, 7))
    tied[np.arange(200), labels] = tied[np.arange(200), (labels + 1) % 7] = 0.5   # ties: wrong where 6 ties with 0
    candidates = {"tied": tied, "hint": np.eye(7)[labels]}
    # Any weight on "hint" breaks every tie the right way, so accuracy rises even at a weight of 1%.
    monkeypatch.setattr(ensemble, "fit_weights", lambda probabilities, labels: np.array([0.99, 0.01]))
    assert select_members(candidates, labels, first="tied")[0] == ["tied"]
    monkeypatch.setattr(ensemble, "fit_weights", lambda probabilities, labels: np.array([0.9, 0.1]))
    assert select_members(candidates, labels, first="tied")[0] == ["tied", "hint"]


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="members, faces, classes"):
        fit_weights(np.zeros((5, 7)), np.zeros(5, int))
    with pytest.raises(ValueError, match="labels must be"):
        fit_weights(np.zeros((2, 5, 7)), np.zeros(4, int))
    with pytest.raises(ValueError, match="first member 'x'"):
        select_members({"a": np.zeros((3, 7))}, [0, 1, 2], first="x")
