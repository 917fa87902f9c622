"""Phase 2, extraction: turn a face into numbers.

- local/geometric: :mod:`.landmarks` (68 points from dlib's model or one distilled from it) and :mod:`.geometry`;
- global/appearance: :mod:`.hog`, :mod:`.lbp` and :mod:`.dense_sift` on the face aligned by :mod:`.align`;
- encodings of local descriptors: :mod:`.bovw` (bag of visual words) and :mod:`.fisher` (Fisher vectors),
  pooled over a spatial pyramid by :mod:`.pooling`;
- :mod:`.transformers` wraps them as scikit-learn transformers.

Importing the package loads no algorithm: ``import fer_classic.extract.hog``
needs neither scikit-learn nor dlib.
"""

# name -> module that defines it; imported on first use so that one algorithm's module loads alone
_LAZY = {
    "align_faces": "align", "with_horizontal_flips": "augment", "geometric_feature_names": "geometry",
    "geometric_features": "geometry", "normalize_landmarks": "geometry", "hog_features": "hog",
    "find_landmark_model": "landmarks", "fit_landmarks": "landmarks", "lbp_histograms": "lbp", "lbp_image": "lbp",
    "HOGFeatures": "transformers", "LandmarkFeatures": "transformers", "LBPFeatures": "transformers",
    "SIFTBagOfWords": "transformers", "SIFTFisherVectors": "transformers", "face_landmarks": "transformers",
}

__all__ = list(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
