"""Phase 2 encoding: Fisher vectors of local descriptors under a Gaussian mixture.

A diagonal Gaussian mixture of ``K`` components, fitted to (PCA-reduced)
descriptors of training faces, models "what local patches look like". A
face's Fisher vector is the gradient of its descriptors' log-likelihood with
respect to the means and variances: for each component, how far and in
which direction the face's patches pull it. That is ``2 K D`` numbers for
``D``-dimensional descriptors, per region of a spatial pyramid, followed by
power and L2 normalisation (the "improved" Fisher vector of Perronnin et
al., 2010).

References
----------
.. [1] F. Perronnin, J. Sanchez and T. Mensink, "Improving the Fisher kernel
       for large-scale image classification", ECCV 2010.
.. [2] J. Sanchez et al., "Image classification with the Fisher vector:
       theory and practice", IJCV 105(3), 2013.
"""

from __future__ import annotations

import numpy as np

from .pooling import power_l2_normalise


def gaussian_posteriors(descriptors, weights, means, variances):
    """Soft assignment of each descriptor to each component.

    Parameters
    ----------
    descriptors : ndarray, shape (n, k, D)
    weights : ndarray, shape (K,)
    means, variances : ndarray, shape (K, D)
        Of a diagonal Gaussian mixture.

    Returns
    -------
    ndarray of float32, shape (n, k, K)
        Rows sum to 1.
    """
    x = np.asarray(descriptors, dtype=np.float32)
    precisions = 1 / np.asarray(variances, dtype=np.float32)
    means = np.asarray(means, dtype=np.float32)
    # log N(x | mu, sigma^2) up to a constant shared by all components, expanded into matrix products.
    log_density = (-0.5 * ((x ** 2) @ precisions.T - 2 * x @ (means * precisions).T
                           + (means ** 2 * precisions).sum(axis=1))
                   - 0.5 * np.log(np.asarray(variances, dtype=np.float32)).sum(axis=1)
                   + np.log(np.asarray(weights, dtype=np.float32)))
    log_density -= log_density.max(axis=2, keepdims=True)
    posteriors = np.exp(log_density)
    return posteriors / posteriors.sum(axis=2, keepdims=True)


def fisher_vectors(descriptors, weights, means, variances, regions):
    """Improved Fisher vectors, pooled over the regions of a spatial pyramid.

    Parameters
    ----------
    descriptors : ndarray, shape (n, k, D)
    weights, means, variances
        The mixture, as in :func:`gaussian_posteriors`.
    regions : ndarray of bool, shape (r, k)
        From :func:`~fer_classic.extract.pooling.pyramid_regions`.

    Returns
    -------
    ndarray of float32, shape (n, r * 2 * K * D)
        Per region: the mean gradients, then the variance gradients, each
        (K, D) row-major; power- and L2-normalised per face.
    """
    x = np.asarray(descriptors, dtype=np.float32)
    weights = np.asarray(weights, dtype=np.float32)
    means = np.asarray(means, dtype=np.float32)
    sigmas = np.sqrt(np.asarray(variances, dtype=np.float32))
    posteriors = gaussian_posteriors(x, weights, means, variances)
    parts = []
    for region in np.asarray(regions, dtype=bool):
        gamma, patches = posteriors[:, region], x[:, region]                  # (n, m, K), (n, m, D)
        count = max(int(region.sum()), 1)
        mass = gamma.sum(axis=1)[..., None]                                   # (n, K, 1)
        # Batched matrix products (BLAS); the equivalent einsum is ~20x slower, a tenth of all extraction.
        weighting = gamma.transpose(0, 2, 1)                                  # (n, K, m)
        first = weighting @ patches                                           # sum of gamma * x
        second = weighting @ patches ** 2                                     # sum of gamma * x^2
        centred = (first - mass * means) / sigmas
        spread = (second - 2 * first * means + mass * means ** 2) / sigmas ** 2 - mass
        parts += [(centred / (count * np.sqrt(weights)[:, None])).reshape(len(x), -1),
                  (spread / (count * np.sqrt(2 * weights)[:, None])).reshape(len(x), -1)]
    return power_l2_normalise(np.concatenate(parts, axis=1))
