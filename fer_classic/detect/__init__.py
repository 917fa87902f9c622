"""Phase 1, detection: where are the faces? Boxes (x, y, w, h), largest first."""

from .haar import CASCADES, HaarCascadeDetector, WholeImageDetector, sort_boxes_by_size

__all__ = ["CASCADES", "HaarCascadeDetector", "WholeImageDetector", "sort_boxes_by_size"]
