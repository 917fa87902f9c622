"""Viola-Jones face detection from scratch, one algorithm per module.

=============  ==========================================================
module         algorithm
=============  ==========================================================
``integral``   integral images, O(1) rectangle sums, window variance
``haar``       the five Haar-like feature kinds, vectorised evaluation
``adaboost``   AdaBoost with sorted-threshold decision stumps
``cascade``    the attentional cascade, bootstrapped negatives, save/load
``pyramid``    image pyramid and sliding windows
``detector``   multi-scale detection and non-maximum suppression
``training``   offline training data and :func:`train_detector`
=============  ==========================================================

References
----------
.. [1] P. Viola and M. Jones, "Rapid object detection using a boosted cascade
       of simple features", CVPR 2001.
.. [2] P. Viola and M. Jones, "Robust real-time face detection", IJCV 57(2),
       2004.
.. [3] Y. Freund and R. E. Schapire, "A decision-theoretic generalization of
       on-line learning and an application to boosting", JCSS 55(1), 1997.
"""

from .adaboost import StrongClassifier, adaboost, best_stumps, boost, sort_feature_values, stump_predict
from .cascade import Cascade, Stage, cascade_windows, load_cascade, pass_stages, save_cascade, train_cascade
from .detector import ViolaJonesDetector, box_inside, non_max_suppression, scan_image
from .haar import FEATURE_KINDS, HaarFeatures, haar_feature_values, haar_feature_values_at, haar_features
from .integral import integral_image, integral_images, rectangle_sum, window_std
from .pyramid import image_pyramid, window_origins
from .training import (BENCHMARK_BACKGROUNDS, TRAINING_BACKGROUNDS, background_image, eight_views, face_windows,
                       mirror_symmetry, train_detector)

__all__ = [
    "BENCHMARK_BACKGROUNDS", "Cascade", "FEATURE_KINDS", "HaarFeatures", "Stage", "StrongClassifier",
    "TRAINING_BACKGROUNDS", "ViolaJonesDetector", "adaboost", "background_image", "best_stumps", "boost",
    "box_inside", "cascade_windows", "eight_views", "face_windows", "haar_feature_values",
    "haar_feature_values_at", "haar_features", "image_pyramid", "integral_image", "integral_images", "load_cascade",
    "mirror_symmetry", "non_max_suppression", "pass_stages", "rectangle_sum", "save_cascade", "scan_image",
    "sort_feature_values", "stump_predict", "train_cascade", "train_detector", "window_origins", "window_std",
]
