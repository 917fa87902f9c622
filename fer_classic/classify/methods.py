"""Phase 3, classification: named methods, each a scikit-learn pipeline.

A method's name says what it extracts and how it classifies,
``<features>/<classifier>``, e.g. ``landmarks/svm-linear`` or
``hog+lbp+landmarks/svm-rbf``. Its pipeline is::

    FeatureUnion(features)  ->  StandardScaler  ->  PCA (whitened)  ->  classifier

PCA keeps the kernel and neural classifiers fast on thousands of HOG/LBP
dimensions. Each classifier comes with a small grid of hyper-parameters that
:func:`fer_classic.classify.training.train_method` searches on PublicTest.

The RBF SVM approximates the kernel with Nystroem features (Williams & Seeger,
2001) under a linear SVM: an exact ``SVC`` on 57k training faces takes tens of
minutes, the approximation about a minute. SVMs get probabilities by Platt
scaling with cross-validation.

References
----------
.. [1] C. Williams and M. Seeger, "Using the Nystroem method to speed up kernel
       machines", NIPS 2001.
.. [2] J. Platt, "Probabilistic outputs for support vector machines", 1999.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from ..extract import HOGFeatures, LandmarkFeatures, LBPFeatures

FEATURES = {"hog": HOGFeatures, "lbp": LBPFeatures, "landmarks": LandmarkFeatures}


@dataclass(frozen=True)
class ClassifierSpec:
    """How to build one classifier, and the grid searched on PublicTest."""

    build: callable
    grid: dict = field(default_factory=dict)
    pca_components: int | None = 400
    description: str = ""

    def grid_points(self):
        """Every combination of the grid, as dicts of ``classify__`` parameters."""
        keys = list(self.grid)
        return [dict(zip(keys, values)) for values in product(*(self.grid[k] for k in keys))] or [{}]


def _svm_linear():
    return CalibratedClassifierCV(LinearSVC(C=0.01, dual=False), method="sigmoid", cv=3)


def _svm_rbf():
    kernel = Nystroem(kernel="rbf", gamma=1 / 800, n_components=3000, random_state=0)
    return CalibratedClassifierCV(make_pipeline(kernel, LinearSVC(C=0.1, dual=False)), method="sigmoid", cv=3)


def _logreg():
    return LogisticRegression(C=0.01, max_iter=300)


def _mlp():
    return MLPClassifier(hidden_layer_sizes=(1024,), alpha=3e-2, early_stopping=True, max_iter=60, random_state=0)


CLASSIFIERS = {
    "svm-linear": ClassifierSpec(_svm_linear, {"estimator__C": [0.003, 0.01]},
                                 description="linear SVM, Platt-calibrated"),
    "svm-rbf": ClassifierSpec(_svm_rbf, {"estimator__linearsvc__C": [0.1]},
                              description="RBF SVM via Nystroem features, Platt-calibrated"),
    "logreg": ClassifierSpec(_logreg, {"C": [0.003, 0.01, 0.03]}, description="multinomial logistic regression"),
    "mlp": ClassifierSpec(_mlp, {"alpha": [3e-2, 1e-1]}, description="one hidden layer of 1024 ReLU units"),
}


def method_names():
    """Every registered method: each feature alone and all combined, with each classifier."""
    feature_sets = [(f,) for f in FEATURES] + [tuple(FEATURES)]
    return [f"{'+'.join(fs)}/{c}" for fs in feature_sets for c in CLASSIFIERS]


def parse_method(name):
    """Split ``"hog+lbp/svm-rbf"`` into ``(("hog", "lbp"), "svm-rbf")``, validating both parts."""
    features, _, classifier = str(name).partition("/")
    feature_names = tuple(features.split("+")) if features else ()
    unknown = [f for f in feature_names if f not in FEATURES]
    if not feature_names or unknown or classifier not in CLASSIFIERS or len(set(feature_names)) < len(feature_names):
        raise ValueError(
            f"unknown method {name!r}: expected <features>/<classifier> with features from "
            f"{'+'.join(FEATURES)} and a classifier from {', '.join(CLASSIFIERS)}, e.g. 'hog+lbp+landmarks/svm-rbf'")
    return feature_names, classifier


def build_method(name, n_jobs=1):
    """An unfitted pipeline for method ``name``.

    Parameters
    ----------
    name : str
        See :func:`method_names`.
    n_jobs : int
        Worker processes for feature extraction.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``features``, ``scale``, ``reduce`` and ``classify``.
    """
    feature_names, classifier = parse_method(name)
    spec = CLASSIFIERS[classifier]
    union = FeatureUnion([(f, FEATURES[f](n_jobs=n_jobs)) for f in feature_names])
    # Landmark features alone are only 170 columns: no reduction needed.
    reduce = PCA(spec.pca_components, whiten=True, svd_solver="randomized", random_state=0) \
        if spec.pca_components and feature_names != ("landmarks",) else "passthrough"
    return Pipeline([("features", union), ("scale", StandardScaler()), ("reduce", reduce),
                     ("classify", spec.build())])
