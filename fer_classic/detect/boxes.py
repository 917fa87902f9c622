"""Face boxes (x, y, w, h): ordering, overlap and de-duplication."""

from __future__ import annotations

import numpy as np


def sort_boxes_by_size(boxes):
    """Boxes (n, 4) as int64 (x, y, w, h), largest area first."""
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    return boxes[np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")]


def _areas_and_intersections(boxes_a, boxes_b):
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(1, -1, 4)
    overlap_w = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    overlap_h = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    intersection = np.clip(overlap_w, 0, None) * np.clip(overlap_h, 0, None)
    return a[..., 2] * a[..., 3], b[..., 2] * b[..., 3], intersection


def box_iou(boxes_a, boxes_b):
    """Intersection over union of every pair of boxes.

    Parameters
    ----------
    boxes_a : array-like, shape (n, 4)
    boxes_b : array-like, shape (m, 4)
        Boxes (x, y, w, h).

    Returns
    -------
    ndarray of float64, shape (n, m)
    """
    area_a, area_b, intersection = _areas_and_intersections(boxes_a, boxes_b)
    return intersection / np.maximum(area_a + area_b - intersection, 1e-9)


def box_inside_share(boxes_a, boxes_b):
    """Share of each box of ``boxes_a`` that lies inside each box of ``boxes_b``.

    Parameters
    ----------
    boxes_a : array-like, shape (n, 4)
    boxes_b : array-like, shape (m, 4)
        Boxes (x, y, w, h).

    Returns
    -------
    ndarray of float64, shape (n, m)
        Intersection over the area of the ``boxes_a`` box, in [0, 1].
    """
    area_a, _, intersection = _areas_and_intersections(boxes_a, boxes_b)
    return intersection / np.maximum(area_a, 1e-9)


def drop_duplicates(boxes, max_iou=0.5, max_inside=0.7):
    """One box per face: drop a box that overlaps a larger one by more than ``max_iou``, or lies mostly inside it.

    A detector often reports one face twice, at two scales: a box around the
    face and a smaller one within it (their IoU can be low, so the share of
    the smaller box inside the larger, ``max_inside``, catches those).

    Parameters
    ----------
    boxes : array-like, shape (n, 4)
        Boxes (x, y, w, h).
    max_iou : float
    max_inside : float
        Share of a box's area inside a larger kept box above which it is a duplicate.

    Returns
    -------
    ndarray of int64, shape (m, 4)
        The boxes kept, largest first.
    """
    boxes = sort_boxes_by_size(boxes)
    keep = []
    for i in range(len(boxes)):
        if not keep or (box_iou(boxes[i:i + 1], boxes[keep]).max() <= max_iou
                        and box_inside_share(boxes[i:i + 1], boxes[keep]).max() <= max_inside):
            keep.append(i)
    return boxes[keep]
