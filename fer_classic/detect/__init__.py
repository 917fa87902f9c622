"""Phase 1, detection: where are the faces? Boxes (x, y, w, h), largest first.

Every detector is a :class:`~.base.FaceDetector`: any image in, boxes out.
One detector per module: :mod:`.haar` (OpenCV's cascades), :mod:`.profile`
(the profile cascade both ways), :mod:`.dlib_hog`, :mod:`.dlib_cnn`,
:mod:`.verified` (candidates confirmed by a second detector),
:mod:`.viola_jones` (from scratch), :mod:`.whole_image` (for face crops); :mod:`.merged` unites detectors,
:mod:`.scaled` and :mod:`.tracking` speed them up for video, :mod:`.boxes`
compares and merges boxes and :mod:`.scenes` makes labelled test scenes.
"""

from .boxes import box_inside_share, box_iou, drop_duplicates, sort_boxes_by_size
from .dlib_cnn import DlibCnnDetector
from .dlib_hog import DlibHogDetector
from .haar import CASCADES, HaarCascadeDetector
from .merged import MergedDetector
from .profile import ProfileDetector
from .scaled import DownscaledDetector
from .tracking import RegionTrackingDetector
from .verified import VerifiedDetector
from .whole_image import WholeImageDetector

__all__ = ["CASCADES", "DlibCnnDetector", "DlibHogDetector", "DownscaledDetector", "HaarCascadeDetector",
           "MergedDetector", "ProfileDetector", "RegionTrackingDetector", "VerifiedDetector", "WholeImageDetector",
           "box_inside_share", "box_iou", "drop_duplicates", "sort_boxes_by_size"]
