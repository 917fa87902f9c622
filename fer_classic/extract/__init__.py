"""Phase 2, extraction: turn a face into numbers.

- local/geometric: :mod:`.landmarks` (68 points from dlib's model or one distilled from it) and :mod:`.geometry`;
- global/appearance: :mod:`.hog`, :mod:`.lbp` and :mod:`.dense_sift` on the face aligned by :mod:`.align`;
- encodings of local descriptors: :mod:`.bovw` (bag of visual words) and :mod:`.fisher` (Fisher vectors),
  pooled over a spatial pyramid by :mod:`.pooling`;
- :mod:`.transformers` wraps them as scikit-learn transformers.
"""

from .align import align_faces
from .augment import with_horizontal_flips
from .geometry import geometric_feature_names, geometric_features, normalize_landmarks
from .hog import hog_features
from .landmarks import find_landmark_model, fit_landmarks
from .lbp import lbp_histograms, lbp_image
from .transformers import (HOGFeatures, LandmarkFeatures, LBPFeatures, SIFTBagOfWords, SIFTFisherVectors, check_faces,
                           face_landmarks)

__all__ = [
    "align_faces", "with_horizontal_flips", "geometric_feature_names", "geometric_features", "normalize_landmarks",
    "hog_features", "find_landmark_model", "fit_landmarks", "lbp_histograms", "lbp_image",
    "HOGFeatures", "LandmarkFeatures", "LBPFeatures", "SIFTBagOfWords", "SIFTFisherVectors", "check_faces",
    "face_landmarks",
]
