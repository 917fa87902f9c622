"""Face boxes (x, y, w, h): ordering, overlap and de-duplication."""

from __future__ import annotations

import numpy as np


def sort_boxes_by_size(boxes):
    """Boxes (n, 4) as int64 (x, y, w, h), largest area first."""
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    return boxes[np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")]


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
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(1, -1, 4)
    overlap_w = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    overlap_h = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    intersection = np.clip(overlap_w, 0, None) * np.clip(overlap_h, 0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - intersection
    return intersection / np.maximum(union, 1e-9)


def drop_duplicates(boxes, max_iou=0.5):
    """Keep the larger of any two boxes that overlap by more than ``max_iou``; largest first."""
    boxes = sort_boxes_by_size(boxes)
    keep = []
    for i in range(len(boxes)):
        if not keep or box_iou(boxes[i:i + 1], boxes[keep]).max() <= max_iou:
            keep.append(i)
    return boxes[keep]
