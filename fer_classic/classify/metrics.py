"""Scoring a classifier on labelled faces, in the fixed emotion order."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from ..faces import EMOTIONS

EVALUATION_SPLITS = ("PublicTest", "PrivateTest", "FERPlus-PrivateTest")


def emotion_metrics(true_labels, predicted_labels, class_names=EMOTIONS):
    """Accuracy, macro-F1, per-class recall and the confusion matrix.

    Parameters
    ----------
    true_labels, predicted_labels : array-like of int, shape (n,)
        Indices into ``class_names``.
    class_names : sequence of str
        The classes, in the order of the confusion matrix's rows and columns
        (default: FER2013's seven, :data:`fer_classic.faces.EMOTIONS`).

    Returns
    -------
    dict
        ``accuracy`` and ``macro_f1`` (float), ``per_class_recall``
        ({class: float, or None for a class absent from ``true_labels``}),
        ``confusion`` (k x k list, rows true, columns predicted) and ``n``.
    """
    true_labels = np.asarray(true_labels)
    predicted_labels = np.asarray(predicted_labels)
    if true_labels.shape != predicted_labels.shape or true_labels.ndim != 1:
        raise ValueError(f"label arrays differ: {true_labels.shape} vs {predicted_labels.shape}")
    classes = np.arange(len(class_names))
    confusion = confusion_matrix(true_labels, predicted_labels, labels=classes)
    support = confusion.sum(axis=1)
    recall = {name: (float(confusion[i, i] / support[i]) if support[i] else None)
              for i, name in enumerate(class_names)}
    present = np.union1d(true_labels, predicted_labels)
    return {
        "accuracy": float(accuracy_score(true_labels, predicted_labels)),
        "macro_f1": float(f1_score(true_labels, predicted_labels, labels=present, average="macro", zero_division=0)),
        "per_class_recall": recall,
        "confusion": confusion.tolist(),
        "n": int(len(true_labels)),
    }


def format_metrics(metrics, title=""):
    """A plain-text report of :func:`emotion_metrics`' output, for its classes."""
    class_names = list(metrics["per_class_recall"])
    width = max(len(name) for name in class_names)
    lines = [title] if title else []
    lines.append(f"n = {metrics['n']}   accuracy = {metrics['accuracy']:.4f}   macro-F1 = {metrics['macro_f1']:.4f}")
    lines.append("per-class recall:")
    for name, value in metrics["per_class_recall"].items():
        lines.append(f"  {name:<{width}}  {'n/a' if value is None else f'{value:.3f}'}")
    lines.append("confusion (rows true, columns predicted):")
    lines.append(" " * (width + 2) + " ".join(f"{name[:5]:>5}" for name in class_names))
    for name, row in zip(class_names, metrics["confusion"]):
        lines.append(f"  {name:<{width}}" + " ".join(f"{v:>5d}" for v in row))
    return "\n".join(lines)


def probabilities_by_split(predict_proba, data, splits, n_classes=len(EMOTIONS)):
    """Class probabilities for each split, computing each FER2013 row once.

    FER+ splits hold the same faces as PrivateTest with other labels, so
    their rows are looked up instead of classified again.

    Parameters
    ----------
    predict_proba : callable
        (n, 48, 48) uint8 faces -> (n, 7) probabilities.
    data : fer_classic.data.FER2013
    splits : sequence of str
    n_classes : int
        Columns ``predict_proba`` returns.

    Returns
    -------
    dict
        ``{split: ndarray of float64, shape (len(split), n_classes)}``.
    """
    by_row, result = {}, {}
    for name in splits:
        split = data[name]
        known = np.array([row in by_row for row in split.rows.tolist()], dtype=bool) & (split.rows >= 0)
        probabilities = np.zeros((len(split), n_classes))
        if known.any():
            probabilities[known] = [by_row[row] for row in split.rows[known].tolist()]
        if (~known).any():
            probabilities[~known] = predict_proba(split.faces[~known])
            by_row.update(zip(split.rows[~known].tolist(), probabilities[~known]))
        result[name] = probabilities
    return result
