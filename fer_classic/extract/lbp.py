"""Phase 2, global method: local binary patterns (LBP).

Each pixel gets an 8-bit code: one bit per neighbour of its 3x3 ring, set when
the neighbour is at least as bright as the centre (Ojala et al., 2002). Codes
with at most two 0/1 transitions around the ring ("uniform" patterns: edges,
corners, spots) keep their own label, 58 in all; the rest share one. Histograms
of these 59 labels over a grid of cells describe the face's micro-texture and
where it lies (Ahonen et al., 2006).

References
----------
.. [1] T. Ojala, M. Pietikainen and T. Maenpaa, "Multiresolution gray-scale
       and rotation invariant texture classification with local binary
       patterns", IEEE TPAMI 24(7), 2002.
.. [2] T. Ahonen, A. Hadid and M. Pietikainen, "Face description with local
       binary patterns: application to face recognition", IEEE TPAMI 28(12), 2006.
"""

from __future__ import annotations

import numpy as np

# Neighbours clockwise from the top-left, as (row, column) offsets.
_RING = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
N_LABELS = 59


def _uniform_lookup():
    """Map each 8-bit code to its uniform label (0..57) or 58 for non-uniform codes."""
    codes = np.arange(256)
    bits = (codes[:, None] >> np.arange(8)) & 1
    transitions = np.sum(bits != np.roll(bits, 1, axis=1), axis=1)
    lookup = np.full(256, N_LABELS - 1, dtype=np.uint8)
    uniform = np.flatnonzero(transitions <= 2)
    lookup[uniform] = np.arange(len(uniform))
    return lookup


UNIFORM_LOOKUP = _uniform_lookup()


def lbp_codes(faces):
    """8-neighbour LBP codes of every interior pixel, vectorised over faces.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, h, w)

    Returns
    -------
    ndarray of uint8, shape (n, h - 2, w - 2)
    """
    faces = np.asarray(faces)
    if faces.ndim != 3 or faces.dtype != np.uint8:
        raise ValueError(f"faces must be uint8 (n, h, w), got {faces.dtype} {faces.shape}")
    h, w = faces.shape[1:]
    centre = faces[:, 1:-1, 1:-1]
    codes = np.zeros(centre.shape, dtype=np.uint8)
    for bit, (dy, dx) in enumerate(_RING):
        neighbour = faces[:, 1 + dy:h - 1 + dy, 1 + dx:w - 1 + dx]
        codes |= (neighbour >= centre).astype(np.uint8) << bit
    return codes


def lbp_image(faces):
    """Uniform LBP labels (0..58) of every interior pixel, shape (n, h - 2, w - 2)."""
    return UNIFORM_LOOKUP[lbp_codes(faces)]


def lbp_histograms(faces, grid=(6, 6)):
    """Uniform LBP histograms over a grid of cells.

    Parameters
    ----------
    faces : ndarray of uint8, shape (n, h, w)
    grid : (int, int)
        Cells along y and x.

    Returns
    -------
    ndarray of float32, shape (n, grid[0] * grid[1] * 59)
        Per cell, the share of each of the 59 labels (each cell sums to 1).
    """
    labels = lbp_image(faces).astype(np.int64)
    n, h, w = labels.shape
    rows, cols = grid
    if not (1 <= rows <= h and 1 <= cols <= w):
        raise ValueError(f"grid {grid} does not fit {h}x{w} LBP maps")
    cell_of_pixel = (np.arange(h) * rows // h)[:, None] * cols + (np.arange(w) * cols // w)[None, :]
    n_cells = rows * cols
    index = (np.arange(n)[:, None, None] * n_cells + cell_of_pixel) * N_LABELS + labels
    counts = np.bincount(index.ravel(), minlength=n * n_cells * N_LABELS).reshape(n, n_cells, N_LABELS)
    histograms = counts / counts.sum(axis=2, keepdims=True)
    return histograms.reshape(n, -1).astype(np.float32)
