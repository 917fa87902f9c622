"""Phase 3, classification: named methods, each a scikit-learn pipeline.

A method's name says what it extracts and how it classifies,
``<features>/<classifier>``, e.g. ``landmarks/svm-linear`` or
``hog+lbp+landmarks+sift-fisher/svm-kernel``. Its pipeline is::

    FeatureUnion(per feature: extract -> map -> PCA (whitened))  ->  classifier

Each feature keeps its own map and its own reduction (:data:`FEATURES`):
histograms (LBP, visual words) go through the Hellinger map, so that a linear
classifier compares them with the Hellinger kernel; landmark geometry is
standardised; HOG and Fisher vectors, already normalised, pass as they are.
A whitened PCA per feature then keeps the classifiers fast on thousands of
dimensions without letting the widest feature drown the others, as one PCA
over the concatenation would; it is fitted on 20,000 random training rows
(:class:`SubsampledPCA`). Each classifier comes with a small grid of
hyper-parameters that :func:`fer_classic.classify.training.train_method`
searches on PublicTest.

The SVMs. ``svm-linear`` is the one-vs-rest linear SVM, solved by L-BFGS
with matrix products (:class:`~fer_classic.classify.linear_svm.LinearSVM`).
Kernels without the kernel cost: an exact RBF ``SVC`` costs time quadratic in
the number of samples, tens of minutes on all 57k (mirrored) training faces.
``svm-kernel`` instead maps the features explicitly with a Nystroem
approximation of the RBF kernel (Williams & Seeger, 2001), so that a linear
SVM on every face behaves like the kernel SVM. ``svm-rbf-12k`` is the exact
RBF ``SVC`` on a stratified subsample of 12,000 faces, as its name says.
``svm-local`` is local learning (Ionescu et al., 2013): for each test face, a
linear SVM trained on its nearest training faces; it keeps 120 components a
feature so that its stored training rows fit in 60 MB, and ``svm-local-full``
keeps all 500; ``svm-local-compact`` projects the joined features onto their
principal directions and keeps the rows in int8, small enough to ship
(:mod:`fer_classic.classify.fused`). ``mlp+svm-local`` averages the probabilities of the MLP, one
boundary for every face, and of local learning, one boundary per face: they
make different mistakes. Global SVMs get probabilities from one softmax
temperature fitted on a held-out slice of Training
(:mod:`fer_classic.classify.calibration`).

Other branches may add features: :func:`register_feature` is how the deep
branch adds ``cnn-fer``, a network's embeddings, without phase 3 importing
Keras.

References
----------
.. [1] C. Williams and M. Seeger, "Using the Nystroem method to speed up kernel
       machines", NIPS 2001.
.. [2] J. Platt, "Probabilistic outputs for support vector machines", 1999.
.. [3] R. Ionescu, M. Popescu and C. Grozea, "Local learning to improve bag
       of visual words model for facial expression recognition", ICML 2013
       workshop on representation learning.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import product

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.ensemble import VotingClassifier
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, Normalizer, StandardScaler
from sklearn.svm import SVC

from ..extract import HOGFeatures, LandmarkFeatures, LBPFeatures, SIFTBagOfWords, SIFTFisherVectors
from ..extract.cache import cached_fit, cached_transform, forget_pages
from ..extract.landmarks import DEFAULT_LANDMARK_MODEL
from ..method_name import MethodName
from .kernel_maps import hellinger_map
from .calibration import fit_temperature, softmax
from .fused import CompactLocalSVM, LinearProjection, LocalLearningClassifier, fold_projection
from .linear_svm import LinearSVM
from .local import LocalSVM
from .mirror import MirrorAveragedClassifier


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of phase 2 and how it is prepared for a classifier.

    ``extractor`` builds the transformer, called as ``extractor(landmark_model=..., n_jobs=...)`` (an extractor
    class is such a callable); ``kernel_map`` is ``"hellinger"``
    (:func:`~fer_classic.classify.kernel_maps.hellinger_map`), ``"standardize"`` or ``None``; ``components`` is
    the size of its whitened PCA, or None for none.
    """

    extractor: callable
    kernel_map: str | None
    components: int | None


FEATURES = {
    "hog": FeatureSpec(HOGFeatures, None, 500),
    "lbp": FeatureSpec(LBPFeatures, "hellinger", 500),
    "landmarks": FeatureSpec(LandmarkFeatures, "standardize", None),
    "sift-bow": FeatureSpec(SIFTBagOfWords, "hellinger", 500),
    "sift-fisher": FeatureSpec(SIFTFisherVectors, None, 500),
}


def register_feature(name, spec):
    """Add feature ``name`` to :data:`FEATURES`, so that method names may use it; re-registering replaces it."""
    if not name or "+" in name or "/" in name:
        raise ValueError(f"a feature name must be non-empty, without '+' or '/': {name!r}")
    FEATURES[name] = spec


def sample_rows(n_rows, max_samples, labels=None, random_state=0):
    """Indices of at most ``max_samples`` of ``n_rows`` rows, drawn at random, stratified by ``labels`` if given."""
    rows = np.arange(n_rows)
    if n_rows <= max_samples:
        return rows
    chosen, _ = train_test_split(rows, train_size=max_samples, stratify=labels, random_state=random_state)
    return chosen


class SubsampledFit(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` on a stratified random subset of about ``max_samples`` rows; calibrate on others.

    For classifiers whose cost grows faster than linearly with the data
    (kernel SVMs). ``estimator`` gives one-vs-rest scores by
    ``decision_function``; a softmax temperature fitted on up to
    ``calibration_rows`` rows left out of the subset turns them into
    probabilities.
    """

    def __init__(self, estimator, max_samples=12000, calibration_rows=5000, random_state=0):
        self.estimator = estimator
        self.max_samples = max_samples
        self.calibration_rows = calibration_rows
        self.random_state = random_state

    def fit(self, X, y, groups=None):
        """Fit on rows of ``X`` (n, d); rows sharing a ``groups`` value (a face and its mirror) stay together."""
        y = np.asarray(y)
        units = np.arange(len(y)) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
        first_rows = np.full(units.max() + 1, len(y))
        np.minimum.at(first_rows, units, np.arange(len(y)))
        rows_per_unit = len(y) / len(first_rows)
        chosen = sample_rows(len(first_rows), max(2, int(self.max_samples / rows_per_unit)), y[first_rows],
                             self.random_state)
        fitted = np.isin(units, chosen)
        self.estimator_ = clone(self.estimator).fit(X[fitted], y[fitted])
        self.classes_ = self.estimator_.classes_
        held = np.flatnonzero(~fitted)
        held = np.random.default_rng(self.random_state).permutation(held)[:self.calibration_rows]
        self.temperature_ = (fit_temperature(self.decision_function(X[held]), np.searchsorted(self.classes_, y[held]))
                             if len(held) else 1.0)
        return self

    def decision_function(self, X):
        """One-vs-rest scores, shape (n, n_classes), also for two classes."""
        scores = self.estimator_.decision_function(X)
        return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores

    def predict_proba(self, X):
        return softmax(self.decision_function(X), self.temperature_)

    def predict(self, X):
        return self.classes_[self.decision_function(X).argmax(axis=1)]


class SubsampledPCA(MetaEstimatorMixin, TransformerMixin, BaseEstimator):
    """Fit ``pca`` on a stratified random subset of at most ``max_samples`` rows; project every row.

    A few hundred components are estimated nearly as well from 20,000 rows as from all 57,418
    mirrored training faces: the fit of the Fisher vectors' PCA took 12 s instead of 30 (26 s
    instead of 31 with the projection of every row), and the MLP on top scored 0.6425 on
    PublicTest instead of 0.6447.

    The fit is cached on disk, keyed by the sampled rows and the PCA's parameters
    (:func:`~fer_classic.extract.cache.cached_fit`): re-training on cached features
    fits each basis once. ``transform`` reads its rows chunk by chunk, so that a
    memory-mapped cache entry of gigabytes takes a chunk's memory.
    """

    chunk_rows = 4096

    def __init__(self, pca, max_samples=20000, random_state=0):
        self.pca = pca
        self.max_samples = max_samples
        self.random_state = random_state

    def fit(self, X, y=None):
        rows = sample_rows(len(X), self.max_samples, None if y is None else np.asarray(y), self.random_state)
        self.pca_ = clone(self.pca)
        params = self.pca_.get_params()
        # The sample is a copy of its own: centring it in place (copy=False) computes the same basis without a
        # second copy, 0.8 GB for the Fisher vectors.
        fitted = cached_fit(type(self.pca_).__name__, params, lambda sample: {
            name: value for name, value in vars(clone(self.pca).set_params(copy=False).fit(sample)).items()
            if name not in params}, X, np.sort(rows))
        for name, value in fitted.items():      # numbers, stored as 0-d arrays, come back as numpy scalars
            setattr(self.pca_, name, np.asarray(value)[()] if np.ndim(value) == 0 else value)
        return self

    def transform(self, X):
        """Every row of ``X`` (n, d) projected, (n, n_components) in ``X``'s float dtype.

        A whole cache entry's projection is cached too, keyed by the entry and a digest of the basis.
        """
        if getattr(X, "identity", None) is None:
            return self._project(X)
        return cached_transform(type(self.pca_).__name__, {"basis": self._basis_digest()}, self._project, X)

    def _project(self, X):
        if len(X) <= self.chunk_rows:
            return self.pca_.transform(X)
        chunks = []
        for start in range(0, len(X), self.chunk_rows):
            chunks.append(self.pca_.transform(X[start:start + self.chunk_rows]))
            forget_pages(X)
        return np.concatenate(chunks)

    def _basis_digest(self):
        """A digest of what ``transform`` computes with: the basis, the mean, the scales and the parameters."""
        digest = hashlib.blake2b(repr(sorted(self.pca_.get_params().items())).encode(), digest_size=16)
        for array in (self.pca_.components_, self.pca_.mean_, self.pca_.explained_variance_):
            digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()


@dataclass(frozen=True)
class ClassifierSpec:
    """How to build one classifier, and the grid searched on PublicTest.

    ``components`` caps every feature's PCA for this classifier (None: each feature's own size).
    ``feature_weights`` multiplies named features' blocks in the joined features (the ``FeatureUnion``'s
    ``transformer_weights``; unnamed ones weigh 1). ``finish``, if set, rewrites the fitted pipeline once chosen
    (in place, before it is scored); ``wrapper`` is the mirror-averaging class the model ships in.
    """

    build: callable
    grid: dict = field(default_factory=dict)
    description: str = ""
    components: int | None = None
    feature_weights: dict = field(default_factory=dict)
    finish: callable = None
    wrapper: type = MirrorAveragedClassifier

    def grid_points(self):
        """Every combination of the grid, as dicts of ``classify__`` parameters."""
        keys = list(self.grid)
        return [dict(zip(keys, values)) for values in product(*(self.grid[k] for k in keys))] or [{}]


def _svm_linear():
    return LinearSVM(C=1e-4)


def _svm_rbf_subsample():
    return SubsampledFit(SVC(kernel="rbf", C=3, gamma="scale", cache_size=1000), max_samples=12000)


def _svm_kernel():
    # On unit-norm rows, squared distances are about 2: gamma = 1 makes the kernel neither flat nor spiky,
    # whatever the number of dimensions.
    kernel_map = Nystroem(kernel="rbf", gamma=1.0, n_components=3000, random_state=0)
    return Pipeline([("normalize", Normalizer()), ("map", kernel_map), ("svm", LinearSVM(C=1.0))])


def _logreg():
    return LogisticRegression(C=0.01, max_iter=300)


def _mlp():
    # Early stopping keeps the best epoch's weights; 5 epochs of patience instead of 10 found the same best epoch
    # (PublicTest 0.6434 either way) in fewer epochs. Batches of 400 rather than sklearn's 200: half of the fit went
    # to Adam's per-batch update of the 1.7 million first-layer weights. On the same features the fit takes 51 s
    # instead of 170, for PublicTest 0.6358 instead of 0.6425 (2026-12-02-f0a6666-classical-breakdown).
    return MLPClassifier(hidden_layer_sizes=(1024,), alpha=0.1, batch_size=400, early_stopping=True,
                         n_iter_no_change=5, max_iter=60, random_state=0)


def _mlp_and_local():
    return VotingClassifier([("mlp", _mlp()), ("local", LocalSVM())], voting="soft")


def _svm_local_compact():
    return Pipeline([("project", LinearProjection()), ("local", CompactLocalSVM())])


LOCAL_COMPONENTS = 120
# The weight of a network's embeddings beside the handcrafted blocks in compact local learning: 2 scored 0.7172 on
# PublicTest against 0.7147 for 1 (experiments/2026-12-07-fused).
LEARNED_WEIGHT = 2.0


CLASSIFIERS = {
    "svm-linear": ClassifierSpec(_svm_linear, {"C": [1e-4, 1e-3]},
                                 description="one-vs-rest linear SVM (squared hinge) by L-BFGS"),
    "svm-kernel": ClassifierSpec(_svm_kernel, {"svm__C": [0.3, 1.0]},
                                 description="linear SVM on a 3000-component Nystroem map of the RBF kernel, "
                                             "all faces"),
    "svm-rbf-12k": ClassifierSpec(_svm_rbf_subsample, {"estimator__C": [3]},
                                  description="exact RBF SVM fitted on a stratified subsample of 12,000 faces "
                                              "only"),
    "svm-local": ClassifierSpec(LocalSVM, {"C": [0.01]}, components=LOCAL_COMPONENTS,
                                description=f"local learning: per test face, a linear-kernel SVM on its 100 "
                                            f"nearest training faces by cosine similarity, {LOCAL_COMPONENTS} "
                                            f"components a feature"),
    "svm-local-full": ClassifierSpec(LocalSVM, {"C": [0.01]},
                                     description="local learning as svm-local, on all of each feature's "
                                                 "components"),
    "svm-local-compact": ClassifierSpec(
        _svm_local_compact, {"local__C": [0.01]}, feature_weights={"cnn-fer": LEARNED_WEIGHT},
        finish=fold_projection, wrapper=LocalLearningClassifier,
        description=f"local learning as svm-local-full, compact: the joined features (fer-cnn's weighted "
                    f"{LEARNED_WEIGHT:g}) projected onto their {LinearProjection().n_components} principal "
                    "directions, each feature's PCA folded into the projection, every training row in int8"),
    "logreg": ClassifierSpec(_logreg, {"C": [0.003, 0.01, 0.03]}, description="multinomial logistic regression"),
    # One fit keeps retraining short. alpha 0.1 won the 0.03/0.1 grid for HOG and LBP alone in
    # benchmarks/results/2026-11-23-0b77721-classical (0.03 for the old concatenated pipeline), and is what the
    # per-feature pipeline was piloted with (experiments/2026-11-24-classical-blocks-pilot).
    "mlp": ClassifierSpec(_mlp, {"alpha": [0.1]}, description="one hidden layer of 1024 ReLU units"),
    "mlp+svm-local": ClassifierSpec(_mlp_and_local, {"weights": [(0.5, 0.5), (0.6, 0.4)]},
                                    description="soft vote of the MLP and local learning"),
}


ALL_FEATURES = ("hog", "lbp", "landmarks", "sift-fisher")


def method_names():
    """Every registered method: each feature alone, and the best combination, with each classifier.

    The combination is :data:`ALL_FEATURES`: ``sift-bow`` is left out of it,
    since Fisher vectors encode the same descriptors better.
    """
    feature_sets = [(f,) for f in FEATURES] + [ALL_FEATURES]
    return [f"{'+'.join(fs)}/{c}" for fs in feature_sets for c in CLASSIFIERS]


def parse_method(name):
    """Split ``"hog+lbp/svm-kernel"`` into ``(("hog", "lbp"), "svm-kernel")``, validating both parts."""
    try:
        parsed = MethodName.parse(name)
    except ValueError:
        parsed = None
    if parsed is None or parsed.family != "classical" or any(f not in FEATURES for f in parsed.features) \
            or parsed.classifier not in CLASSIFIERS:
        raise ValueError(
            f"unknown method {name!r}: expected <features>/<classifier> with features from "
            f"{'+'.join(FEATURES)} and a classifier from {', '.join(CLASSIFIERS)}, e.g. 'hog+lbp+landmarks/svm-kernel'")
    return parsed.features, parsed.classifier


def default_landmark_model(feature_names):
    """The landmark model a method's features are built on: ``"dlib"`` for the geometry alone, else the default.

    The distilled model is about six times faster and aligns faces nearly as
    well: on it the other methods moved by -1.6 to +0.06 points on
    PrivateTest, median -1.0, and -1.2 to +0.7 on PublicTest, median -0.3
    (``classic`` -0.5 and -0.2; comparisons of 2026-12-02 and 2026-12-06).
    Geometry measured on its points alone loses five: on PublicTest,
    ``landmarks/mlp`` scored 0.4823 with it against 0.5333 with dlib's own
    (2026-12-05).
    """
    return "dlib" if tuple(feature_names) == ("landmarks",) else DEFAULT_LANDMARK_MODEL


def feature_pipeline(spec, n_jobs, landmark_model, max_components=None):
    """One feature's ``extract`` -> ``map`` -> ``reduce`` pipeline; ``max_components`` caps its PCA."""
    components = spec.components
    if max_components is not None:
        components = max_components if components is None else min(components, max_components)
    maps = {"hellinger": FunctionTransformer(hellinger_map), "standardize": StandardScaler(), None: "passthrough"}
    # Two power iterations instead of sklearn's seven: 3x faster, 99% of the explained variance. They must be
    # normalised (LU): sklearn skips that below three, and in float32 the tail of a steep spectrum then collapses.
    # On visual-word histograms the whitened components came out at up to 16 standard deviations instead of 1
    # (linear SVM 0.28 instead of 0.48 on PublicTest); with LU their variances match a float64 PCA's.
    pca = PCA(components, whiten=True, svd_solver="randomized", iterated_power=2,
              power_iteration_normalizer="LU", random_state=0)
    reduce = SubsampledPCA(pca) if components else "passthrough"
    return Pipeline([("extract", spec.extractor(landmark_model=landmark_model, n_jobs=n_jobs)),
                     ("map", maps[spec.kernel_map]),
                     ("reduce", reduce)])


def build_method(name, n_jobs=1, landmark_model=None):
    """An unfitted pipeline for method ``name``.

    Parameters
    ----------
    name : str
        See :func:`method_names`.
    n_jobs : int
        Worker processes for feature extraction.
    landmark_model : {"distilled", "dlib"}, optional
        Default: :func:`default_landmark_model`.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``features`` (a ``FeatureUnion`` of one ``extract``, ``map``,
        ``reduce`` pipeline per feature) and ``classify``.
    """
    feature_names, classifier = parse_method(name)
    landmark_model = landmark_model or default_landmark_model(feature_names)
    spec = CLASSIFIERS[classifier]
    weights = {f: w for f, w in spec.feature_weights.items() if f in feature_names}
    union = FeatureUnion([(f, feature_pipeline(FEATURES[f], n_jobs, landmark_model, spec.components))
                          for f in feature_names], transformer_weights=weights or None)
    return Pipeline([("features", union), ("classify", spec.build())])


def recipe_digest(name, landmark_model=None):
    """A digest of method ``name``'s unfitted pipeline, which changes whenever one of its parameters does.

    Trained models record it, so that a model trained on an older recipe can
    be told from one trained on today's, e.g. in the comparison's cache.
    scikit-learn's estimators pickle their library version with their
    parameters, so upgrading scikit-learn changes it too.
    """
    return joblib.hash(build_method(name, n_jobs=1, landmark_model=landmark_model))


def limit_components(model, n_samples):
    """Cap each feature's PCA at ``n_samples // 4`` components, in place.

    On small training sets, whitening near-empty directions only amplifies noise.
    """
    for name, pipeline in model.named_steps["features"].transformer_list:
        reduce = pipeline.named_steps["reduce"]
        if reduce != "passthrough":
            reduce.set_params(pca__n_components=min(reduce.pca.n_components, n_samples // 4))
    return model
