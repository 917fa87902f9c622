"""Phase 3 on your own labelled faces: SVMs for small sets, tuned inside the training folds, scored per person.

Lab sets of posed expressions hold a few hundred to a few thousand faces of
about a hundred people, in classes of their own (``contempt``, ``pain``, or
``smile`` against ``frown``). That is where SVMs are the right tool, and
where they train in seconds. :class:`FaceClassifier` is a scikit-learn
estimator on 48x48 faces with any class names::

    FeatureUnion(per feature: extract -> map -> PCA)  ->  SVM

as the FER2013 methods are built (:mod:`fer_classic.classify.methods`), with
two differences made for small sets:

* its hyper-parameters (C, and gamma for the RBF kernel) are chosen by an
  *inner* cross-validation on the training faces alone, stratified and, when
  the persons are known, grouped by person;
* the SVMs are exact (libsvm) and their grids suit hundreds of faces rather
  than 57,000; ``svm-rbf``, the exact kernel SVM that FER2013 is too large
  for, is one of them (:data:`SMALL_SET_CLASSIFIERS`).

:func:`cross_validate` gives the honest score: K folds, stratified by class,
with no person in two folds when groups are given (Lucey et al. [1]_ report
leave-one-subject-out accuracy on CK+ for this reason). Features are
extracted once for every face (and its mirror image, if asked); everything
that learns (PCA, the SVM, its calibration, a SIFT vocabulary) is fitted
inside each training fold only. In the inner search, the SVMs are solved on a
kernel matrix computed once per fold.

References
----------
.. [1] P. Lucey et al., "The Extended Cohn-Kanade Dataset (CK+): A complete
       dataset for action unit and emotion-specified expression", CVPR
       workshops 2010.
.. [2] S. Varma and R. Simon, "Bias in error estimation when using
       cross-validation for model selection", BMC Bioinformatics 7, 2006
       (why C is chosen inside the training folds).
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from functools import partial
from itertools import product

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import SVC

from ..faces import check_faces, mirror_views
from ..method_name import MethodName
from .kernel_svm import KernelSVM
from .metrics import emotion_metrics
from .methods import CLASSIFIERS, FEATURES, default_landmark_model, feature_pipeline
from .mirror import MirrorAveragedClassifier

# Chosen on the stand-in lab sets (benchmarks/own_faces.py, record 2026-12-07-61666bf-own-faces): the default, and
# the best handcrafted method, the default without the CNN extra.
DEFAULT_METHOD = "cnn-fer+hog+lbp+landmarks/svm-linear"
HANDCRAFTED_METHOD = "hog+lbp+landmarks/svm-rbf"
DEFAULT_FOLDS = 10
INNER_FOLDS = 3


@dataclass(frozen=True)
class SmallSetClassifier:
    """An SVM for small sets and the grid its inner cross-validation searches."""

    build: callable
    grid: dict
    description: str


SMALL_SET_CLASSIFIERS = {
    "svm-linear": SmallSetClassifier(partial(KernelSVM, kernel="linear"), {"C": [1e-4, 1e-3, 1e-2, 1e-1]},
                                     "linear SVM (libsvm), C by inner cross-validation"),
    "svm-rbf": SmallSetClassifier(partial(KernelSVM, kernel="rbf"), {"C": [1.0, 10.0], "gamma": [0.5, 1.0, 2.0]},
                                  "exact RBF-kernel SVM, C and gamma by inner cross-validation"),
}


def small_set_method_names():
    """The candidates for your own faces: the handcrafted features, fer-cnn's embeddings, and both, per SVM."""
    feature_sets = ("hog+lbp+landmarks", "cnn-fer", "cnn-fer+hog+lbp+landmarks")
    return [f"{features}/{svm}" for features in feature_sets for svm in SMALL_SET_CLASSIFIERS]


def parse_small_set_method(name):
    """Features and classifier of a method for your own faces, validated.

    Any registered feature may be used (``cnn-*`` ones once the deep branch
    has registered them), with a small-set SVM (:data:`SMALL_SET_CLASSIFIERS`)
    or any FER2013 classifier (:data:`~fer_classic.classify.methods.CLASSIFIERS`,
    with its own grid).

    Returns
    -------
    features : tuple of str
    build : callable
        Builds the unfitted classifier.
    grid : list of dict
        Its hyper-parameters to search.
    description : str
    """
    try:
        parsed = MethodName.parse(name)
    except ValueError:
        parsed = None
    if parsed is None or parsed.family != "classical":
        raise ValueError(f"unknown method {name!r}: expected <features>/<classifier>, e.g. {DEFAULT_METHOD!r}")
    unknown = [f for f in parsed.features if f not in FEATURES]
    if unknown:
        hint = " (the cnn-* features need the CNN extra: pip install 'fer-classic[cnn]')" \
            if any(f.startswith("cnn-") for f in unknown) else ""
        raise ValueError(f"unknown feature {unknown[0]!r} in {name!r}; known: {', '.join(FEATURES)}{hint}")
    # A small-set SVM shadows the FER2013 classifier of the same name (their grids differ in scale).
    spec = SMALL_SET_CLASSIFIERS.get(parsed.classifier) or CLASSIFIERS.get(parsed.classifier)
    if spec is None:
        raise ValueError(f"unknown classifier {parsed.classifier!r} in {name!r}; known: "
                         f"{', '.join(dict.fromkeys([*SMALL_SET_CLASSIFIERS, *CLASSIFIERS]))}")
    points = [dict(zip(spec.grid, values)) for values in product(*spec.grid.values())] or [{}]
    return parsed.features, spec.build, points, spec.description


class FeatureBank:
    """Each feature of every face and of its mirror image, extracted once; learned features per training fold.

    Rows ``0..n-1`` of a feature matrix are the faces, rows ``n..2n-1`` their
    mirror images (with ``mirror``); :meth:`view_rows` turns face indices into
    these rows.

    Parameters
    ----------
    features : sequence of str
        Names from :data:`~fer_classic.classify.methods.FEATURES`.
    faces : ndarray of uint8, shape (n, 48, 48)
    mirror : bool
        Also extract the mirror images, for predictions averaged over both views.
    landmark_model : str
    n_jobs : int
    """

    def __init__(self, features, faces, mirror=False, landmark_model=None, n_jobs=1):
        self.n_faces = len(faces)
        self.mirror = mirror
        self.views = mirror_views(faces) if mirror else faces
        self.landmark_model = landmark_model or default_landmark_model(features)
        self.extractors = {name: FEATURES[name].extractor(landmark_model=self.landmark_model, n_jobs=n_jobs)
                           for name in features}
        self.fixed = {name: np.asarray(extractor.fit(self.views).transform(self.views), dtype=np.float32)
                      for name, extractor in self.extractors.items()
                      if not getattr(extractor, "learns_in_fit", True)}

    def view_rows(self, faces):
        """The rows of ``faces`` (indices) and, with ``mirror``, of their mirror images."""
        faces = np.asarray(faces)
        return np.concatenate([faces, faces + self.n_faces]) if self.mirror else faces

    def matrix(self, name, train_faces):
        """Feature ``name`` for every row, its extractor fitted on ``train_faces`` if it learns; and the extractor."""
        if name in self.fixed:
            return self.fixed[name], self.extractors[name]
        extractor = clone(self.extractors[name]).fit(self.views[self.view_rows(train_faces)])
        return np.asarray(extractor.transform(self.views), dtype=np.float32), extractor


class FaceClassifier(ClassifierMixin, BaseEstimator):
    """Your own faces in, any class names out: features, then an SVM tuned by inner cross-validation.

    Parameters
    ----------
    method : str, optional
        ``<features>/<classifier>`` (:func:`parse_small_set_method`).
        Default: :data:`DEFAULT_METHOD` when its features are registered (the
        CNN extra is installed), else :data:`HANDCRAFTED_METHOD`.
    inner_folds : int
        Folds of the inner cross-validation that chooses C (and gamma), >= 2.
    mirror : bool
        Average the predictions of each face and of its mirror image. Off by
        default: your classes may tell left from right (a wink, a head
        turned one way), which a mirror image turns into another class.
    landmark_model : {"distilled", "dlib"}, optional
    n_jobs : int
        Worker processes for feature extraction.
    random_state : int

    Attributes
    ----------
    classes_ : ndarray of str
        The class names, sorted: the order of :meth:`predict_proba`'s columns.
    method_ : str
    chosen_ : dict
        The hyper-parameters the inner cross-validation chose.
    model_ : MirrorAveragedClassifier or Pipeline
        The fitted face pipeline (integer labels, indices into ``classes_``).
    landmark_model_ : str or None
        The landmark model its features were built on.

    Examples
    --------
    >>> classifier = FaceClassifier().fit(faces, ["smile", "frown", ...])   # doctest: +SKIP
    >>> classifier.predict(new_faces)                                       # doctest: +SKIP
    array(['smile', 'frown'], dtype='<U5')
    """

    def __init__(self, method=None, inner_folds=INNER_FOLDS, mirror=False, landmark_model=None, n_jobs=1,
                 random_state=0):
        self.method = method
        self.inner_folds = inner_folds
        self.mirror = mirror
        self.landmark_model = landmark_model
        self.n_jobs = n_jobs
        self.random_state = random_state

    def resolved_method(self):
        """The method this classifier trains: ``method``, or the default that can run here."""
        if self.method is not None:
            return self.method
        return DEFAULT_METHOD if all(f in FEATURES for f in MethodName.parse(DEFAULT_METHOD).features) \
            else HANDCRAFTED_METHOD

    def fit(self, X, y, groups=None):
        """Fit on faces ``X`` (n, 48, 48) uint8 with class names ``y`` (n,); ``groups`` (n,) are the persons."""
        faces = check_faces(X)
        labels, groups = _check_labels(y, groups, len(faces))
        bank = FeatureBank(parse_small_set_method(self.resolved_method())[0], faces, self.mirror,
                           self.landmark_model, self.n_jobs)
        return self.fit_bank(bank, labels, groups)

    def fit_bank(self, bank, labels, groups=None, rows=None):
        """Fit on the faces ``rows`` (default all) of a :class:`FeatureBank`; what :func:`cross_validate` calls."""
        if self.inner_folds < 2:
            raise ValueError(f"inner_folds must be at least 2, got {self.inner_folds!r}")
        method = self.resolved_method()
        rows = np.arange(bank.n_faces) if rows is None else np.asarray(rows)
        self.classes_, codes = np.unique(np.asarray(labels)[rows], return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"a classifier needs two classes or more, got {list(self.classes_)}")
        persons = None if groups is None else np.asarray(groups)[rows]
        learner = _Learner(method, bank, self.random_state)
        blocks, _, classifier, self.chosen_ = learner.fit_fold(rows, codes, persons, self.inner_folds, calibrate=True)
        self.model_ = learner.face_pipeline(blocks, classifier)
        self.method_ = method
        # The landmark model its features read, or None for embeddings alone: a recognizer fits the same one.
        uses_landmarks = any(not name.startswith("cnn-") for name in learner.features)
        self.landmark_model_ = bank.landmark_model if uses_landmarks else None
        return self

    def predict_proba(self, X):
        """Class probabilities, shape (n, len(classes_)), columns in ``classes_`` order."""
        return self.model_.predict_proba(check_faces(X))

    def predict(self, X):
        """Class names, shape (n,)."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _check_labels(y, groups, n):
    labels = np.asarray(y)
    if labels.shape != (n,):
        raise ValueError(f"expected one label per face ({n}), got shape {labels.shape}")
    labels = labels.astype(str)
    if groups is not None:
        groups = np.asarray(groups).astype(str)
        if groups.shape != (n,):
            raise ValueError(f"expected one group per face ({n}), got shape {groups.shape}")
    return labels, groups


class _Learner:
    """What learns from a fold's faces: each feature's map and PCA, then the classifier at a grid point.

    The classifiers learn from the faces alone: on small sets, adding their
    mirror images to the training rows cost 5 to 7 times the fit time and
    gained nothing on FER2013's faces; with ``mirror``, the mirror images are
    used at prediction only, averaged with the faces.
    """

    def __init__(self, method, bank, random_state):
        self.features, self.build, self.grid, _ = parse_small_set_method(method)
        self.bank = bank
        self.random_state = random_state

    def prepare(self, train, codes):
        """Fit every feature's map and PCA on the faces ``train``; the fitted blocks and every row's features."""
        blocks, columns = [], []
        for name in self.features:
            matrix, extractor = self.bank.matrix(name, train)
            spec = FEATURES[name]
            # Whitening near-empty directions of a small set only amplifies noise: a quarter as many components
            # as training faces at most.
            cap = None if spec.components is None else max(2, min(len(train) // 4, matrix.shape[1]))
            block = feature_pipeline(spec, 1, self.bank.landmark_model, cap)
            learned = Pipeline(block.steps[1:]).fit(matrix[train], codes)
            blocks.append((name, Pipeline([("extract", extractor), *learned.steps])))
            columns.append(np.asarray(learned.transform(matrix), dtype=np.float32))
        return blocks, np.hstack(columns)

    def fit_classifier(self, params, features, train, codes, persons, calibrate=True):
        """The classifier at grid point ``params``, fitted on the rows ``train``.

        Uncalibrated (``calibrate`` False) where only its decisions count, in the search and in the folds.
        """
        classifier = self.build().set_params(**params)
        settings = classifier.get_params()
        if "random_state" in settings:
            classifier.set_params(random_state=self.random_state)
        if "held_out" in settings and not calibrate:
            classifier.set_params(held_out=0)
        fit_params = {}
        if "groups" in inspect.signature(classifier.fit).parameters:
            # Calibration rows are held out by person when persons are known.
            fit_params["groups"] = persons if persons is not None else np.arange(len(train))
        return classifier.fit(features[train], codes, **fit_params)

    def predict_proba(self, classifier, features, faces, n_classes):
        """Probabilities of the faces (indices), averaged over their views, in columns ``0..n_classes-1``."""
        view_rows = self.bank.view_rows(faces)
        probabilities = np.zeros((len(view_rows), n_classes))
        probabilities[:, classifier.classes_] = classifier.predict_proba(features[view_rows])  # a fold may lack a class
        return probabilities.reshape(len(view_rows) // len(faces), len(faces), n_classes).mean(axis=0)

    def search(self, features, train, codes, persons, inner_folds):
        """The grid point with the best accuracy over inner folds of the faces ``train``, and that accuracy.

        ``features`` come from :meth:`prepare` on ``train``: the PCA saw no
        face outside it, and no label. With a single grid point, or too few
        faces or persons for two inner folds, nothing is searched.
        """
        splitter = fold_splitter(inner_folds, codes, persons, self.random_state)
        if len(self.grid) == 1 or splitter is None:
            return self.grid[0], None
        n_classes = int(codes.max()) + 1
        score_grid = self._kernel_scores if isinstance(self.build(), KernelSVM) else self._fitted_scores
        correct = np.zeros(len(self.grid))
        for inner_train, inner_test in splitter.split(np.zeros(len(codes)), codes, persons):
            inner_persons = None if persons is None else persons[inner_train]
            for point, scores in enumerate(score_grid(features, train, inner_train, inner_test, codes, inner_persons,
                                                      n_classes)):
                correct[point] += (scores.argmax(axis=1) == codes[inner_test]).sum()
        best = int(np.argmax(correct))
        return self.grid[best], float(correct[best] / len(codes))

    def _fitted_scores(self, features, train, inner_train, inner_test, codes, persons, n_classes):
        """Each grid point's probabilities for the inner test faces, by fitting the classifier."""
        for params in self.grid:
            classifier = self.fit_classifier(params, features, train[inner_train], codes[inner_train], persons,
                                             calibrate=False)
            yield self.predict_proba(classifier, features, train[inner_test], n_classes)

    def _kernel_scores(self, features, train, inner_train, inner_test, codes, persons, n_classes):
        """Each grid point's one-vs-rest scores for the inner test faces, summed over views, by libsvm on a kernel
        matrix computed once for the fold: the same SVMs as :class:`KernelSVM`, without a kernel evaluation per fit.
        """
        fitted, tested = train[inner_train], self.bank.view_rows(train[inner_test])
        X, Y = features[fitted].astype(np.float64), features[np.concatenate([fitted, tested])].astype(np.float64)
        gram = Y @ X.T
        squared = np.maximum((Y ** 2).sum(axis=1)[:, None] + (X ** 2).sum(axis=1)[None, :] - 2 * gram, 0)
        scale = 1 / (X.shape[1] * X.var()) if X.var() > 0 else 1.0
        n_views = len(tested) // len(inner_test)
        for params in self.grid:
            svm = self.build().set_params(**params)
            kernel = gram if svm.kernel == "linear" else np.exp(-svm.gamma * scale * squared)
            machine = SVC(kernel="precomputed", C=svm.C, decision_function_shape="ovr")
            machine.fit(kernel[:len(fitted)], codes[inner_train])
            decisions = machine.decision_function(kernel[len(fitted):])
            decisions = np.column_stack([-decisions, decisions]) if decisions.ndim == 1 else decisions
            scores = np.full((len(tested), n_classes), -np.inf)
            scores[:, machine.classes_] = decisions
            yield scores.reshape(n_views, len(inner_test), n_classes).sum(axis=0)

    def fit_fold(self, train, codes, persons, inner_folds, calibrate):
        """Prepare the features on ``train``, search the grid on it, fit the chosen classifier.

        Returns the fitted blocks, every row's features, the classifier and the chosen grid point.
        """
        blocks, features = self.prepare(train, codes)
        params, _ = self.search(features, train, codes, persons, inner_folds)
        classifier = self.fit_classifier(params, features, train, codes, persons, calibrate)
        return blocks, features, classifier, params

    def face_pipeline(self, blocks, classifier):
        """The fitted pipeline on faces: each feature's extractor, map and PCA, then the classifier."""
        pipeline = Pipeline([("features", FeatureUnion(blocks)), ("classify", classifier)])
        return MirrorAveragedClassifier.from_fitted(pipeline) if self.bank.mirror else pipeline


def fold_splitter(n_folds, codes, persons, random_state):
    """Stratified K folds (grouped by person when known), fewer if the smallest class or the persons are fewer.

    None when not even two folds can be made.
    """
    counts = np.bincount(codes)
    n_folds = min(n_folds, int(counts[counts > 0].min()))
    if persons is not None:
        n_folds = min(n_folds, len(np.unique(persons)))
    if n_folds < 2:
        return None
    if persons is None:
        return StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    return StratifiedGroupKFold(n_folds, shuffle=True, random_state=random_state)


def check_folds(labels, folds, groups=None):
    """Refuse a cross-validation that cannot put every class in every fold, or that has fewer persons than folds.

    Raises
    ------
    ValueError
        Naming the class and its count, or the number of persons.
    """
    if not 2 <= folds <= 1000:
        raise ValueError(f"--cv: the number of folds must be 2 to 1000, got {folds}")
    names, counts = np.unique(np.asarray(labels).astype(str), return_counts=True)
    if len(names) < 2:
        raise ValueError(f"{len(names)} class ({', '.join(map(repr, names))}); a classifier needs two or more")
    smallest = int(np.argmin(counts))
    if counts[smallest] < folds:
        raise ValueError(f"--cv {folds}: class {str(names[smallest])!r} has {counts[smallest]} face(s), fewer than the "
                         f"{folds} folds; use fewer folds or add faces")
    if groups is not None:
        persons = len(np.unique(np.asarray(groups)))
        if persons < folds:
            raise ValueError(f"--cv {folds}: the groups give {persons} person(s), fewer than the {folds} folds")


def cross_validate(classifier, faces, labels, groups=None, folds=DEFAULT_FOLDS, progress=None, bank=None):
    """K-fold cross-validation of a :class:`FaceClassifier`: stratified, and grouped by person when known.

    Each fold's classifier, its inner search of C included, sees the training
    folds only; features are extracted once (:class:`FeatureBank`).

    Parameters
    ----------
    classifier : FaceClassifier
    faces : ndarray of uint8, shape (n, 48, 48)
    labels : array-like of str, shape (n,)
    groups : array-like of str, shape (n,), optional
        The person of each face: no person is in two folds.
    folds : int
    progress : callable, optional
        Wraps the iterable of folds (e.g. ``tqdm``) to show progress.
    bank : FeatureBank, optional
        Features already extracted for these faces (e.g. to fit the final model on them afterwards).

    Returns
    -------
    dict
        ``classes``, ``n_faces``, ``folds``, ``accuracy`` (mean over folds),
        ``accuracy_sd``, ``fold_accuracy`` (list), ``macro_f1``,
        ``per_class_recall`` ({class: float}), ``confusion`` (k x k list,
        rows true, columns predicted, in ``classes`` order), ``grouped``
        (bool), ``chosen`` (each fold's hyper-parameters) and ``seconds``.
    """
    started = time.perf_counter()
    faces = check_faces(faces)
    labels, groups = _check_labels(labels, groups, len(faces))
    check_folds(labels, folds, groups)
    classes, codes = np.unique(labels, return_inverse=True)
    if bank is None:
        bank = FeatureBank(parse_small_set_method(classifier.resolved_method())[0], faces, classifier.mirror,
                           classifier.landmark_model, classifier.n_jobs)
    learner = _Learner(classifier.resolved_method(), bank, classifier.random_state)
    splitter = fold_splitter(folds, codes, groups, classifier.random_state)
    splits = list(splitter.split(np.zeros(len(codes)), codes, groups))
    predicted = np.empty(len(codes), dtype=np.int64)
    fold_accuracy, chosen = [], []
    for train, test in (progress(splits) if progress else splits):
        persons = None if groups is None else groups[train]
        _, features, fitted, params = learner.fit_fold(train, codes[train], persons, classifier.inner_folds,
                                                       calibrate=False)
        predicted[test] = learner.predict_proba(fitted, features, test, len(classes)).argmax(axis=1)
        fold_accuracy.append(float((predicted[test] == codes[test]).mean()))
        chosen.append(params)
    metrics = emotion_metrics(codes, predicted, [str(name) for name in classes])
    return {"classes": [str(name) for name in classes], "n_faces": int(len(codes)), "folds": len(splits),
            "grouped": groups is not None,
            "accuracy": float(np.mean(fold_accuracy)), "accuracy_sd": float(np.std(fold_accuracy)),
            "fold_accuracy": fold_accuracy, "pooled_accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"], "per_class_recall": metrics["per_class_recall"],
            "confusion": metrics["confusion"], "chosen": chosen,
            "seconds": round(time.perf_counter() - started, 2)}
