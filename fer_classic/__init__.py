"""fer_classic: facial-expression recognition in three phases.

1. detection (:mod:`fer_classic.detect`): Viola-Jones Haar cascades find faces;
2. extraction (:mod:`fer_classic.extract`): landmarks geometry, HOG and LBP describe them;
3. classification (:mod:`fer_classic.classify`): SVMs, linear models and an MLP name the emotion.

:class:`EmotionRecognizer` composes the three.
"""

__version__ = "0.1.0"

from .data import EMOTIONS, load_fer2013  # noqa: E402
from .pipeline import EmotionRecognizer  # noqa: E402

__all__ = ["EMOTIONS", "EmotionRecognizer", "load_fer2013", "__version__"]
