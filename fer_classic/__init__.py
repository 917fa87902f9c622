"""fer_classic: facial-expression recognition in three phases.

1. detection (:mod:`fer_classic.detect`): Viola-Jones Haar cascades find faces;
2. extraction (:mod:`fer_classic.extract`): landmarks geometry, HOG and LBP describe them;
3. classification (:mod:`fer_classic.classify`): SVMs, linear models and an MLP name the emotion.

:class:`EmotionRecognizer` composes the three. Importing this package loads
nothing else: each phase can be imported and studied on its own, and the
names below are imported on first use.
"""

__version__ = "0.1.0"

_LAZY = {"EMOTIONS": "faces", "load_fer2013": "data", "EmotionRecognizer": "pipeline"}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'fer_classic' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
