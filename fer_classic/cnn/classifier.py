"""A CNN as a scikit-learn style classifier of 48x48 faces, trained and run by Keras (TensorFlow).

Its weights are saved and loaded by :mod:`fer_classic.cnn.weight_files`;
saving also writes the LiteRT files that predict without TensorFlow
(:mod:`fer_classic.cnn.litert`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from ..faces import EMOTIONS, average_views, check_faces
from .architectures import check_architecture
from .inference import compiled_forward
from .recipes import Recipe, recipe_for
from .tta import TTA_MODES, test_time_views
from .weight_files import load_weights, save_weights


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
        Images per forward pass at prediction (a face and its mirror count as two).

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
        flip = self.tta == "flip"
        # The mirror image is made and averaged inside the compiled call; ten crops are cut here and stacked.
        views = [faces] if flip else test_time_views(faces, self.tta)
        stacked = np.concatenate(views)
        forward = self._compiled(flip)
        step = max(1, self.batch_size_predict // (2 if flip else 1))
        probabilities = np.zeros((len(stacked), len(EMOTIONS)))
        for start in range(0, len(stacked), step):
            probabilities[start:start + step] = np.asarray(forward(stacked[start:start + step]))
        return average_views(probabilities, len(views))

    def _compiled(self, flip):
        """The network's compiled call, built once per network and mode."""
        key = (id(self.network_), flip)
        if getattr(self, "_forward_key", None) != key:
            self._forward = compiled_forward(self.network_, flip)
            self._forward_key = key
        return self._forward

    def predict(self, faces):
        """Most likely emotion index per face, shape (n,)."""
        return self.predict_proba(faces).argmax(axis=1)

    def save(self, path, dtype="float16"):
        """Write the weights to ``path`` (.npz) as ``dtype``; see :func:`save_weights`."""
        save_weights(self.network_, self.architecture, path, dtype, self.options_)
        return Path(path)

    def save_litert(self, stem):
        """Write the network's LiteRT files, ``<stem>.float32.tflite`` and ``<stem>.int8.tflite``.

        Returns
        -------
        dict of str to Path
            Precision -> file (:func:`~fer_classic.cnn.litert_export.write_litert_files`).
        """
        from .litert_export import write_litert_files

        return write_litert_files(self.network_, stem)

    @classmethod
    def load(cls, path, tta="flip"):
        """A classifier with the weights of ``path`` (written by :meth:`save`)."""
        architecture, network, options = load_weights(path)
        classifier = cls(architecture=architecture, tta=tta)
        classifier.network_ = network
        classifier.options_ = options
        classifier.classes_ = np.arange(len(EMOTIONS))
        return classifier
