"""Predict with the time of phase 2 (extraction) and phase 3 (classification) kept apart."""

from __future__ import annotations

import time


def timed_predict_proba(model, faces):
    """``model.predict_proba(faces)``, timing extraction and classification separately.

    Parameters
    ----------
    model : estimator
        A feature ``Pipeline`` (its last step is the classifier), a
        :class:`MirrorAveragedClassifier` around one, a
        :class:`~fer_classic.classify.small_sets.FaceClassifier`, or any other classifier
        (then all the time counts as classification).
    faces : ndarray of uint8, shape (n, s, s)

    Returns
    -------
    probabilities : ndarray, shape (n, n_classes)
    seconds : dict
        ``extract`` and ``classify``.
    """
    if hasattr(model, "model_") and hasattr(model.model_, "predict_proba"):
        return timed_predict_proba(model.model_, faces)    # a FaceClassifier: its fitted face pipeline
    # Recognised by their parts, not their classes: a CNN predicts without scikit-learn ever being imported.
    if hasattr(model, "estimator_") and hasattr(model, "views") and hasattr(model, "combine"):
        probabilities, seconds = timed_predict_proba(model.estimator_, model.views(faces))
        return model.combine(probabilities), seconds
    started = time.perf_counter()
    if len(getattr(model, "steps", ())) > 1:         # a feature Pipeline
        features = model[:-1].transform(faces)
        extracted = time.perf_counter()
        probabilities = model[-1].predict_proba(features)
    else:
        extracted = started
        probabilities = model.predict_proba(faces)
    return probabilities, {"extract": extracted - started, "classify": time.perf_counter() - extracted}
