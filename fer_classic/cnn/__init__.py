"""The deep branch: CNNs trained on FER2013, usable wherever a classical model is.

Needs Keras 3 and a backend (the ``[cnn]`` extra installs TensorFlow for the
CPU; on a GPU machine set ``KERAS_BACKEND=jax``).

>>> from fer_classic import EmotionRecognizer
>>> EmotionRecognizer.load("fer-cnn").predict_proba(faces)   # doctest: +SKIP
"""

from .architectures import ARCHITECTURES, build_cnn
from .classifier import CNNClassifier
from .recipes import RECIPES, Recipe, recipe_for
from .tta import TTA_MODES, test_time_views
from .weight_files import load_weights, save_weights

__all__ = ["ARCHITECTURES", "CNNClassifier", "RECIPES", "Recipe", "TTA_MODES", "build_cnn", "load_weights",
           "recipe_for", "save_weights", "test_time_views"]
