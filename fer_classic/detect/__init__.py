"""Phase 1, detection: where are the faces? Boxes (x, y, w, h), largest first."""

from .haar import CASCADES, HaarCascadeDetector, WholeImageDetector, sort_boxes_by_size
from .scaled import DownscaledDetector

__all__ = ["CASCADES", "DownscaledDetector", "HaarCascadeDetector", "WholeImageDetector", "sort_boxes_by_size"]
