"""Phase 2 encoding: a bag of visual words over local descriptors.

A vocabulary of ``K`` visual words is the centres of a k-means clustering of
descriptors from training faces. A face is then described by how its
descriptors fall on the words, pooled over the regions of a spatial pyramid
(:mod:`.pooling`): with *hard* assignment each descriptor votes for its
nearest word; with *soft* assignment (a kernel codebook, van Gemert et al.,
2008) it spreads its vote by a Gaussian of its distance to each word.
*Counts* sum the votes of a region; *presence* keeps their maximum, "is this
pattern anywhere here" -- the presence vectors of Ionescu et al. (2013).

References
----------
.. [1] G. Csurka et al., "Visual categorization with bags of keypoints", ECCV
       workshop on statistical learning in computer vision, 2004.
.. [2] J. van Gemert et al., "Kernel codebooks for scene categorization",
       ECCV 2008.
.. [3] R. Ionescu, M. Popescu and C. Grozea, "Local learning to improve bag
       of visual words model for facial expression recognition", ICML 2013
       workshop on representation learning.
"""

from __future__ import annotations

import numpy as np

from .pooling import power_l2_normalise

ASSIGNMENTS = ("hard", "soft")
POOLINGS = ("counts", "presence")


def squared_distances(descriptors, centres):
    """Squared Euclidean distances, shape (n, k, K), from (n, k, d) descriptors to (K, d) centres."""
    descriptors = np.asarray(descriptors, dtype=np.float32)
    centres = np.asarray(centres, dtype=np.float32)
    cross = descriptors @ centres.T
    distances = (descriptors ** 2).sum(axis=2, keepdims=True) - 2 * cross + (centres ** 2).sum(axis=1)
    return np.maximum(distances, 0)


def bag_of_words(descriptors, centres, regions, assignment="soft", pooling="counts", bandwidth=1.0):
    """Encode each face's descriptors as pooled visual-word votes.

    Parameters
    ----------
    descriptors : ndarray, shape (n, k, d)
        ``k`` descriptors per face, in the order of ``regions``' columns.
    centres : ndarray, shape (K, d)
        The vocabulary.
    regions : ndarray of bool, shape (r, k)
        From :func:`~fer_classic.extract.pooling.pyramid_regions`.
    assignment : {"hard", "soft"}
    pooling : {"counts", "presence"}
    bandwidth : float
        Gaussian width of soft assignment, in distance units (fitted once,
        e.g. the median distance from a training descriptor to its nearest
        word, so that a face's code does not depend on its batch).

    Returns
    -------
    ndarray of float32, shape (n, r * K)
        Power- and L2-normalised.
    """
    if assignment not in ASSIGNMENTS or pooling not in POOLINGS:
        raise ValueError(f"assignment must be one of {ASSIGNMENTS} and pooling one of {POOLINGS}, "
                         f"got {assignment!r} and {pooling!r}")
    regions = np.asarray(regions, dtype=bool)
    distances = squared_distances(descriptors, centres)
    if assignment == "hard":
        votes = (distances == distances.min(axis=2, keepdims=True)).astype(np.float32)
    else:
        if not bandwidth > 0:
            raise ValueError(f"bandwidth must be positive, got {bandwidth}")
        nearest = distances.min(axis=2, keepdims=True)
        votes = np.exp(-(distances - nearest) / (2 * bandwidth ** 2))  # shifted by the nearest: no underflow
        votes /= votes.sum(axis=2, keepdims=True)
    if pooling == "counts":
        pooled = regions.astype(np.float32) @ votes  # (r, k) @ (n, k, w) -> (n, r, w)
    else:
        pooled = np.stack([votes[:, region].max(axis=1) for region in regions], axis=1)
    return power_l2_normalise(pooled.reshape(len(pooled), -1))
