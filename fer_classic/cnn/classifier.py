"""A trained CNN as a scikit-learn style classifier of 48x48 faces, and its weight files.

Weights are stored as a NumPy ``.npz`` of plain arrays (int8 kernels or
float16 where that costs no accuracy; :mod:`fer_classic.cnn.storage`), read
with ``allow_pickle=False``: loading a weight file never runs code. The
architecture is rebuilt from its name and the shape options stored beside
the weights (input size, width).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..data import EMOTIONS
from ..extract import check_faces
from .architectures import build_cnn, check_architecture
from .recipes import Recipe, recipe_for
from .storage import decode_weights, encode_weights
from .tta import TTA_MODES, test_time_views

# Version 2 added int8 kernels; version 1 files (float16 or float32 only) read the same way.
WEIGHTS_FORMAT = "fer-classic-cnn-weights/2"
READABLE_FORMATS = ("fer-classic-cnn-weights/1", WEIGHTS_FORMAT)


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """A CNN on 48x48 grayscale faces.

    Parameters
    ----------
    architecture : str
        A key of :data:`~fer_classic.cnn.architectures.ARCHITECTURES`.
    recipe : Recipe, optional
        How to train (default: the architecture's, from
        :data:`~fer_classic.cnn.recipes.RECIPES`).
    tta : {"none", "flip", "ten-crop"}
        Test-time augmentation (:func:`~fer_classic.cnn.tta.test_time_views`).
    seed : int
        Seeds initialisation, shuffling and augmentation.
    batch_size_predict : int
        Faces per forward pass at prediction.

    Attributes
    ----------
    network_ : keras.Model
    classes_ : ndarray of int, shape (7,)
    history_ : dict
        Per-epoch losses and accuracies, epochs run, seconds (set by :meth:`fit`).
    """

    def __init__(self, architecture="fer-cnn", recipe=None, tta="flip", seed=0, batch_size_predict=256):
        self.architecture = architecture
        self.recipe = recipe
        self.tta = tta
        self.seed = seed
        self.batch_size_predict = batch_size_predict

    def fit(self, faces, labels, validation=None, checkpoint_dir=None, resume=False, warm_start=None, progress=True,
            log=print):
        """Train from scratch (or resume, or warm-start) on labelled faces.

        Parameters
        ----------
        faces : ndarray of uint8, shape (n, 48, 48)
        labels : ndarray of int, shape (n,)
        validation : (faces, labels), optional
            Drives early stopping and the choice of the best epoch.
        checkpoint_dir : str or Path, optional
            Where to save checkpoints after every epoch.
        resume : bool
            Continue from the checkpoint in ``checkpoint_dir``.
        warm_start : str or Path, optional
            A weight file of the same architecture to start from
            (:func:`~fer_classic.cnn.training.fit_network`).
        """
        from .training import fit_network

        check_architecture(self.architecture)
        recipe = recipe_for(self.architecture) if self.recipe is None else self.recipe
        if not isinstance(recipe, Recipe):
            raise TypeError(f"recipe must be a fer_classic.cnn.recipes.Recipe, got {type(recipe).__name__}")
        self.network_, self.history_ = fit_network(
            self.architecture, check_faces(faces), np.asarray(labels), validation, recipe=recipe, seed=self.seed,
            checkpoint_dir=checkpoint_dir, resume=resume, warm_start=warm_start, progress=progress, log=log)
        self.options_ = recipe.network_options()
        self.classes_ = np.arange(len(EMOTIONS))
        return self

    def predict_proba(self, faces):
        """Probabilities averaged over the test-time views.

        Parameters
        ----------
        faces : ndarray of uint8, shape (n, 48, 48)

        Returns
        -------
        ndarray of float64, shape (n, 7)
        """
        faces = check_faces(faces)
        if self.tta not in TTA_MODES:
            raise ValueError(f"unknown test-time augmentation {self.tta!r}; choose from {', '.join(TTA_MODES)}")
        # All views of all faces go through the network together: one forward pass for a single face.
        views = test_time_views(faces, self.tta)
        stacked = np.concatenate(views)
        probabilities = np.zeros((len(stacked), len(EMOTIONS)))
        for start in range(0, len(stacked), self.batch_size_predict):
            batch = stacked[start:start + self.batch_size_predict, :, :, None].astype(np.float32)
            probabilities[start:start + len(batch)] = np.asarray(self.network_.predict_on_batch(batch))
        return probabilities.reshape(len(views), len(faces), len(EMOTIONS)).mean(axis=0)

    def predict(self, faces):
        """Most likely emotion index per face, shape (n,)."""
        return self.predict_proba(faces).argmax(axis=1)

    def save(self, path, dtype="float16"):
        """Write the weights to ``path`` (.npz) as ``dtype``; see :func:`save_weights`."""
        save_weights(self.network_, self.architecture, path, dtype, self.options_)
        return Path(path)

    @classmethod
    def load(cls, path, tta="flip"):
        """A classifier with the weights of ``path`` (written by :meth:`save`)."""
        architecture, network, options = load_weights(path)
        classifier = cls(architecture=architecture, tta=tta)
        classifier.network_ = network
        classifier.options_ = options
        classifier.classes_ = np.arange(len(EMOTIONS))
        return classifier


def save_weights(network, architecture, path, dtype="float16", options=None):
    """Save a network's weights as plain arrays.

    Parameters
    ----------
    network : keras.Model
        Built by :func:`~fer_classic.cnn.architectures.build_cnn`.
    architecture : str
    path : str or Path
        ``.npz`` file to write.
    dtype : {"int8", "float16", "float32"}
        How to store the weights (:func:`~fer_classic.cnn.storage.encode_weights`);
        loading converts back to float32.
    options : dict, optional
        The :func:`~fer_classic.cnn.architectures.build_cnn` options the
        network was built with (``input_size``, ``width``).
    """
    arrays = encode_weights(network.get_weights(), dtype)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, format=np.array(WEIGHTS_FORMAT), architecture=np.array(architecture),
                        options=np.array(json.dumps(options or {})), **arrays)


def load_weights(path):
    """Rebuild the network saved by :func:`save_weights`; never unpickles.

    Returns
    -------
    architecture : str
    network : keras.Model
    options : dict
        The build options stored with the weights (empty for the defaults).

    Raises
    ------
    ValueError
        When ``path`` is not such a file or its arrays do not fit the
        architecture; the message names the file.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable .npz weight file ({error})") from None
    if arrays.get("format", np.array("")).item() not in READABLE_FORMATS or "architecture" not in arrays:
        raise ValueError(f"{path}: not a {' or '.join(READABLE_FORMATS)} file")
    architecture = str(arrays["architecture"].item())
    options = json.loads(str(arrays["options"].item())) if "options" in arrays else {}
    try:
        network = build_cnn(architecture, **options)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: cannot rebuild its network ({error})") from None
    try:
        weights = decode_weights(arrays)
    except (KeyError, ValueError) as error:
        raise ValueError(f"{path}: its weight arrays are incomplete or damaged ({error})") from None
    expected = [tuple(w.shape) for w in network.weights]
    if [w.shape for w in weights] != expected:
        raise ValueError(f"{path}: its {len(weights)} arrays do not match the {architecture} architecture's "
                         f"{len(expected)} weights")
    network.set_weights(weights)
    return architecture, network, options
