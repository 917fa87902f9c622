"""Test-time augmentation by mirroring: average the prediction of a face and of its mirror image.

Facial expressions are nearly left-right symmetric while the noise in a single
crop (lighting, pose, landmark errors) is not, so averaging the two views is a
cheap ensemble. On FER2013 it adds about two points of accuracy to the
classical pipeline, at twice the extraction cost.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from ..extract import with_horizontal_flips
from ..faces import average_views, check_faces, mirror_views


class MirrorAveragedClassifier(ClassifierMixin, BaseEstimator):
    """Wrap a face classifier: train on faces and mirrors, predict on both views.

    Parameters
    ----------
    estimator : classifier
        Takes faces (n, s, s) uint8 and has ``predict_proba``; usually a
        pipeline from :func:`fer_classic.classify.build_method`.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    @classmethod
    def from_fitted(cls, estimator):
        """Wrap an already fitted ``estimator`` without refitting it."""
        wrapper = cls(estimator)
        wrapper.estimator_ = estimator
        wrapper.classes_ = estimator.classes_
        return wrapper

    def fit(self, X, y):
        faces, labels = with_horizontal_flips(check_faces(X), np.asarray(y))
        self.estimator_ = clone(self.estimator).fit(faces, labels)
        self.classes_ = self.estimator_.classes_
        return self

    views = staticmethod(mirror_views)  # the faces, then their mirror images
    combine = staticmethod(average_views)  # predictions made on views -> one row per face

    def predict_proba(self, X):
        """Mean of the probabilities of each face and of its mirror, shape (n, n_classes)."""
        return self.combine(self.estimator_.predict_proba(self.views(check_faces(X))))

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
