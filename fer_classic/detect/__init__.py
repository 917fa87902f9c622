"""Phase 1, detection: where are the faces? Boxes (x, y, w, h), largest first."""

from .boxes import box_iou, drop_duplicates, sort_boxes_by_size
from .haar import CASCADES, HaarCascadeDetector, WholeImageDetector
from .scaled import DownscaledDetector
from .tracking import RegionTrackingDetector

__all__ = ["CASCADES", "DownscaledDetector", "HaarCascadeDetector", "RegionTrackingDetector", "WholeImageDetector",
           "box_iou", "drop_duplicates", "sort_boxes_by_size"]
