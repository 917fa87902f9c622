"""The deep branch: CNNs trained on FER2013, usable wherever a classical model is.

Shipped networks predict through LiteRT (:mod:`fer_classic.cnn.litert`, the
``[cnn]`` extra), without TensorFlow; training and ``runtime="tensorflow"``
need Keras 3 and a backend (the ``[train]`` extra installs TensorFlow for the
CPU; on a GPU machine set ``KERAS_BACKEND=jax``). The names below are
imported on first use, so that importing one module of the branch loads
neither scikit-learn nor Keras.

>>> from fer_classic import EmotionRecognizer
>>> EmotionRecognizer.load("fer-cnn").predict_proba(faces)   # doctest: +SKIP
"""

import importlib

_LAZY = {"ARCHITECTURES": "architectures", "build_cnn": "architectures", "CNNClassifier": "classifier",
         "LiteRTClassifier": "litert", "RECIPES": "recipes", "Recipe": "recipes", "recipe_for": "recipes",
         "TTA_MODES": "tta", "test_time_views": "tta", "load_weights": "weight_files", "save_weights": "weight_files"}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
