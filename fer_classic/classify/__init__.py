"""Phase 3, classification: which emotion do the features show?

The names below are imported on first use: a front end that only predicts
with a saved model never loads the training registry.
"""

import importlib

_LAZY = {"CLASSIFIERS": "methods", "FEATURES": "methods", "build_method": "methods", "method_names": "methods",
         "parse_method": "methods", "emotion_metrics": "metrics", "format_metrics": "metrics",
         "train_method": "training"}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
