"""Phase 3, classification: which emotion do the features show?"""

from .methods import CLASSIFIERS, FEATURES, build_method, method_names, parse_method
from .metrics import emotion_metrics, format_metrics
from .training import train_method

__all__ = ["CLASSIFIERS", "FEATURES", "build_method", "method_names", "parse_method", "emotion_metrics",
           "format_metrics", "train_method"]
