"""Compact local learning: the fused model's bank of training faces, small enough to ship, and how it decides.

Local learning's model is its training rows (:mod:`fer_classic.classify.local`):
57,418 mirrored faces in 1,926 whitened dimensions (500 per handcrafted
feature, ``fer-cnn``'s 256 units) take 217 MB in float16, and the PCA bases
that produce them another 18 MB. Three steps make it compact:

1. :class:`LinearProjection` maps the joined features onto their top
   principal directions, unwhitened, so that dot products, which both the
   cosine search and the linear local SVMs read, are kept as well as the
   dimensions allow;
2. :class:`CompactLocalSVM` keeps the rows in int8 with one scale a column
   (and can leave the mirror images out);
3. :func:`fold_projection` composes each feature's PCA with the projection
   once training is done, so that the model stores one (raw dimensions x
   components) matrix instead of 500 components a feature.

:class:`LocalLearningClassifier` is the mirror-averaged model that ships; it
can also name the training faces a decision was learned from
(:meth:`~LocalLearningClassifier.nearest_training_faces`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA

from ..faces import check_faces, class_names
from .local import LocalSVM, cosine_neighbours, quantize_columns, unit_rows
from .mirror import MirrorAveragedClassifier


class LinearProjection(TransformerMixin, BaseEstimator):
    """Rows projected onto their top ``n_components`` principal directions, not whitened.

    Parameters
    ----------
    n_components : int
        At most this many: fewer when the rows or their dimensions are fewer.
    max_samples : int
        Rows the principal directions are estimated from, drawn at random.
    random_state : int

    Attributes
    ----------
    mean_ : ndarray of float32, shape (n_features,)
    components_ : ndarray of float32 or int8, shape (n_features, k)
        ``k`` is ``n_components`` or fewer; int8 once :func:`fold_projection` stored it so.
    scale_ : ndarray of float32, shape (n_features,)
        With int8 components: each row's step; absent otherwise.
    offset_ : ndarray of float32, shape (k,)
        Added after the projection: ``transform(X) = (X - mean_) @ (components_ * scale_) + offset_``.
    """

    caches = ("_matrix",)

    def __init__(self, n_components=256, max_samples=20000, random_state=0):
        self.n_components = n_components
        self.max_samples = max_samples
        self.random_state = random_state

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float32)
        rows = np.sort(np.random.default_rng(self.random_state).permutation(len(X))[:self.max_samples])
        pca = PCA(min(self.n_components, len(rows), X.shape[1]), svd_solver="randomized", iterated_power=2,
                  power_iteration_normalizer="LU", random_state=self.random_state).fit(X[rows])
        self.mean_ = pca.mean_.astype(np.float32)
        self.components_ = np.ascontiguousarray(pca.components_.T, dtype=np.float32)
        self.offset_ = np.zeros(self.components_.shape[1], np.float32)
        return self

    def transform(self, X):
        """Projected rows, shape (n, k) float32."""
        return (np.asarray(X, dtype=np.float32) - self.mean_) @ self.matrix() + self.offset_

    def matrix(self):
        """The projection in float32, shape (n_features, k): int8 components decoded once per process."""
        scale = getattr(self, "scale_", None)
        if scale is None:
            return self.components_
        if getattr(self, "_matrix", None) is None:
            self._matrix = self.components_ * scale[:, None]
        return self._matrix

    def __getstate__(self):
        state = dict(self.__dict__)
        for name in self.caches:
            state.pop(name, None)
        return state


class CompactLocalSVM(LocalSVM):
    """:class:`~fer_classic.classify.local.LocalSVM` in int8 by default, searched in two steps, knowing each row's face.

    The neighbours are found in two steps: cosine similarity on the first
    ``search_dims`` columns (the top principal directions, when the rows come
    from :class:`LinearProjection`) shortlists ``shortlist`` rows, then cosine
    similarity on every column ranks them. On the shipped ``fused`` bank,
    32 columns and 1,000 rows kept 99.6% of the exact 100 nearest (300
    PublicTest faces in both views), and the search reads 8 times fewer bytes.

    Parameters
    ----------
    n_neighbors, C, temperature, storage
        As :class:`~fer_classic.classify.local.LocalSVM`.
    mirrors : bool
        Keep every row. False keeps the first row of each group (``groups``
        pairs a face with its mirror image): half the bank; each test face is
        still classified in both views (:class:`LocalLearningClassifier`).
    search_dims : int
    shortlist : int or None
        None, or no more than the neighbours wanted: the exact search.

    Attributes
    ----------
    training_rows_ : ndarray of int32, shape (n_kept,)
        Each stored row's group: the row of FER2013's Training split it comes
        from (a mirror image's, its face's) when trained by
        :func:`~fer_classic.classify.training.train_method`.
    """

    caches = (*LocalSVM.caches, "_coarse_rows")

    def __init__(self, n_neighbors=100, C=0.01, temperature=0.5, storage="int8", mirrors=True, search_dims=32,
                 shortlist=1000):
        super().__init__(n_neighbors=n_neighbors, C=C, temperature=temperature, storage=storage)
        self.mirrors = mirrors
        self.search_dims = search_dims
        self.shortlist = shortlist

    def fit(self, X, y, groups=None):
        """Fit on rows ``X`` (n, d) with labels ``y`` (n,) and ``groups`` (n,) (default: a group a row)."""
        y = np.asarray(y)
        groups = np.arange(len(y)) if groups is None else np.asarray(groups)
        kept = np.arange(len(y)) if self.mirrors else np.unique(groups, return_index=True)[1]
        self.training_rows_ = groups[kept].astype(np.int32)
        return super().fit(np.asarray(X)[kept], y[kept])

    def neighbours(self, X, k=None, batch_size=256):
        """Indices of each sample's ``k`` (default ``n_neighbors``) nearest training rows, nearest first, (n, k)."""
        k = min(k or self.n_neighbors, len(self.rows_))
        shortlist = min(self.shortlist or 0, len(self.rows_))
        if shortlist <= k or self.search_dims >= self.rows_.shape[1]:
            return super().neighbours(X, k)
        if getattr(self, "_coarse_rows", None) is None:
            self._coarse_rows = unit_rows(self.stored_rows()[:, :self.search_dims])
        X = unit_rows(X)
        found = np.empty((len(X), k), dtype=np.intp)
        for start in range(0, len(X), batch_size):       # bounds memory at batch_size * shortlist rows
            queries = X[start:start + batch_size]
            short = cosine_neighbours(queries[:, :self.search_dims], self._coarse_rows, shortlist)
            similarity = np.einsum("nkd,nd->nk", self._unit_bank()[short], queries)
            order = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
            found[start:start + batch_size] = np.take_along_axis(short, order, axis=1)
        return found


def fold_projection(pipeline, storage="int8"):
    """Compose each feature's PCA with the classifier's :class:`LinearProjection`, in place; store it compactly.

    ``features -> (project -> local)`` becomes ``features -> project -> local``
    where the features stop after their maps and ``project`` takes the
    joined mapped features straight to the local SVM's dimensions: the same
    function, in one matrix instead of one PCA basis a feature. The union's
    ``transformer_weights`` then weigh the mapped features instead.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted: a ``features`` FeatureUnion whose blocks end in a ``reduce``
        step (a fitted ``SubsampledPCA`` or ``"passthrough"``, the latter after
        a ``StandardScaler`` map), then a ``classify`` pipeline of ``project``
        and ``local``.
    storage : {"int8", "float32"}
        The folded matrix's: int8 with a scale a row (an input dimension)
        left 99.3% of the shipped model's PublicTest predictions unchanged
        (0.7144 against 0.7155) for 4.6 MB less than float16; float32 is then
        stored in float16 like every large weight.

    Returns
    -------
    pipeline
    """
    union = pipeline.named_steps["features"]
    project, local = pipeline.named_steps["classify"].named_steps["project"], \
        pipeline.named_steps["classify"].named_steps["local"]
    means, matrices, start = [], [], 0
    weights = union.transformer_weights or {}
    for name, block in union.transformer_list:
        reduce = block.steps[-1][1]
        if reduce == "passthrough":
            width = block.named_steps["map"].n_features_in_
            means.append(np.zeros(width, np.float32))
            matrices.append(project.components_[start:start + width])
        else:
            pca = reduce.pca_
            width = pca.n_components_
            scale = np.sqrt(pca.explained_variance_) if pca.whiten else np.ones(width)
            scale = np.maximum(scale, np.finfo(scale.dtype).eps)   # as PCA.transform floors it
            # The union weighs the block's mapped features now, its mean with them.
            means.append((pca.mean_ * weights.get(name, 1)).astype(np.float32))
            matrices.append(((pca.components_.T / scale) @ project.components_[start:start + width]).astype(
                np.float32))
            block.steps[-1] = (block.steps[-1][0], "passthrough")
        start += width
    folded = LinearProjection(project.n_components, project.max_samples, project.random_state)
    folded.mean_ = np.concatenate(means)
    matrix = np.vstack(matrices)
    if storage == "int8":
        codes, folded.scale_ = quantize_columns(matrix.T)
        folded.components_ = np.ascontiguousarray(codes.T)
    else:
        folded.components_ = np.ascontiguousarray(matrix)
    folded.offset_ = (project.offset_ - project.mean_ @ project.components_).astype(np.float32)
    pipeline.steps[1:] = [("project", folded), ("classify", local)]
    return pipeline


class LocalLearningClassifier(MirrorAveragedClassifier):
    """Mirror-averaged local learning that can show the training faces behind each decision.

    ``estimator_`` is a fitted pipeline ending in a
    :class:`~fer_classic.classify.local.LocalSVM` step: features, then
    (after :func:`fold_projection`) their projection, then the local SVM.
    """

    def nearest_training_faces(self, faces, k=8):
        """Each face's ``k`` nearest training faces, and how its local SVM decided.

        Parameters
        ----------
        faces : ndarray of uint8, shape (n, 48, 48)
        k : int

        Returns
        -------
        list of dict, one a face
            ``rows``: int ndarray (k,), rows of FER2013's Training split in
            file order (``load_fer2013(path, ferplus=False)["Training"]``),
            nearest first, found from the face as it is (not its mirror);
            ``labels``: int ndarray (k,), their emotions' indices;
            ``distances``: float ndarray (k,), cosine distances (1 - cosine
            similarity) in the local SVM's space; ``mirrored``: bool ndarray
            (k,), True where the neighbour is the mirror image of its row (a
            row may then appear twice, as itself and as its mirror image);
            ``decision``: one line on how the local SVMs of the face and of
            its mirror image decided.
        """
        faces = check_faces(faces)
        local = self.estimator_[-1]
        X = self.estimator_[:-1].transform(self.views(faces))
        near = local.neighbours(X)
        probabilities = self.combine(np.array([local._local_probabilities(x, rows) for x, rows in zip(X, near)]))
        n, k = len(faces), min(k, near.shape[1])
        distances = 1.0 - local.similarities(X[:n], near[:n, :k])
        training_rows = getattr(local, "training_rows_", np.arange(len(local.y_)))
        mirrored = np.ones(len(training_rows), dtype=bool)       # every stored row but the first of its face
        mirrored[np.unique(training_rows, return_index=True)[1]] = False
        names = class_names(self)
        found = []
        for face in range(n):
            nearest = near[face, :k]
            first, second = np.argsort(-probabilities[face], kind="stable")[:2]
            present = len(np.unique(local.y_[near[face]]))
            if probabilities[face, second] == 0:     # one emotion in both views' neighbourhoods: no SVM to fit
                decision = (f"no SVM needed: its {near.shape[1]} nearest training faces, and its mirror image's, "
                            f"are all {names[local.classes_[first]]} (FER2013 Training labels)")
            else:
                decision = (f"local SVM on its {near.shape[1]} nearest training faces ({present} "
                            f"emotion{'s' if present != 1 else ''} among them, FER2013 Training labels), face and "
                            f"mirror image averaged: {names[local.classes_[first]]} {probabilities[face, first]:.2f} "
                            f"over {names[local.classes_[second]]} {probabilities[face, second]:.2f}")
            found.append({"rows": training_rows[nearest].astype(np.int64),
                          "labels": local.classes_[local.y_[nearest]].astype(np.int64),
                          "distances": distances[face].astype(np.float64), "mirrored": mirrored[nearest],
                          "decision": decision})
        return found
