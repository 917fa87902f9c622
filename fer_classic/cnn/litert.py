"""A CNN run by LiteRT (TensorFlow Lite's runtime) from a ``.tflite`` file: prediction without TensorFlow.

:mod:`fer_classic.cnn.litert_export` writes the files when a network is
built or trained; this module only reads them, with ``ai-edge-litert`` (the
``[cnn]`` extra, 59 MB, against TensorFlow's 1.3 GB) and its XNNPACK
kernels. Importing it imports neither TensorFlow nor Keras.

A file takes uint8 faces (n, 48, 48) and returns the probabilities (n, 7)
and the embedding (n, d) its softmax layer reads. :class:`LiteRTClassifier`
adds test-time augmentation around it, like
:class:`~fer_classic.cnn.CNNClassifier`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from ..faces import EMOTIONS, average_views, check_faces
from .tta import test_time_views

MISSING_LITERT = "the CNNs need LiteRT: pip install 'fer-classic[cnn]' (ai-edge-litert)"


def require_litert():
    """Raise ImportError, saying what to install, unless ``ai-edge-litert`` (the ``[cnn]`` extra) is installed."""
    import importlib.util

    if importlib.util.find_spec("ai_edge_litert") is None:
        raise ImportError(MISSING_LITERT)


def litert_path(stem, precision):
    """``<stem>.<precision>.tflite``: where a network's LiteRT file of ``precision`` lives beside its weights."""
    stem = Path(stem)
    return stem.with_name(f"{stem.name}.{precision}.tflite")


def _threads():
    # The cores this process may run on: one when a latency probe pins it to one core.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


class LiteRTNetwork:
    """One ``.tflite`` network, ready to run.

    Parameters
    ----------
    path : str or Path
        A file written by :func:`~fer_classic.cnn.litert_export.write_litert_files`.
    threads : int, optional
        Interpreter threads (default: the CPUs this process may use).

    Raises
    ------
    ImportError
        When ``ai-edge-litert`` is not installed.
    ValueError
        When the file is not such a network; the message names it.
    """

    def __init__(self, path, threads=None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ImportError(MISSING_LITERT) from None
        from ..quiet import captured_stderr
        from ..reading import open_regular

        self.path = Path(path)
        with open_regular(self.path) as stream:      # only a regular file; an OSError names it
            content = stream.read()
        try:
            # The XNNPACK delegate is made at the first allocation and says so on stderr ("INFO: Created TensorFlow
            # Lite XNNPACK delegate for CPU."): allocate now, where that line can be kept off the terminal.
            with captured_stderr(active=True):
                self._interpreter = Interpreter(model_content=content, num_threads=threads or _threads())
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise ValueError(f"{self.path}: not a LiteRT model ({' '.join(str(error).split())[:160]})") from None
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if (len(inputs) != 1 or inputs[0]["dtype"] != np.uint8 or len(outputs) != 2
                or outputs[0]["shape"][-1] != len(EMOTIONS)):
            raise ValueError(f"{self.path}: not a fer_classic network (expected uint8 faces in, probabilities of "
                             f"{len(EMOTIONS)} emotions and an embedding out)")
        self._input = inputs[0]["index"]
        self._outputs = [output["index"] for output in outputs]
        self.embedding_size = int(outputs[1]["shape"][-1])
        self._planned_shape = None
        self._lock = threading.Lock()      # one interpreter: the GUI's worker and a caller may share a model

    def __call__(self, faces):
        """Probabilities and embeddings of a batch.

        Parameters
        ----------
        faces : ndarray of uint8, shape (n, 48, 48), n >= 1

        Returns
        -------
        probabilities : ndarray of float32, shape (n, 7)
        embeddings : ndarray of float32, shape (n, d)
        """
        faces = np.ascontiguousarray(faces, dtype=np.uint8)
        with self._lock:
            if self._planned_shape != faces.shape:     # planning costs; live use keeps one batch size
                self._interpreter.resize_tensor_input(self._input, faces.shape)
                self._interpreter.allocate_tensors()
                self._planned_shape = faces.shape
            self._interpreter.set_tensor(self._input, faces)
            self._interpreter.invoke()
            return tuple(self._interpreter.get_tensor(index).copy() for index in self._outputs)

    def run_batches(self, faces, batch_size=256):
        """:meth:`__call__` over any number of faces, ``batch_size`` at a time; n may be 0."""
        faces = np.asarray(faces)
        if len(faces) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32), np.zeros((0, self.embedding_size), np.float32)
        parts = [self(faces[start:start + batch_size]) for start in range(0, len(faces), batch_size)]
        return tuple(np.concatenate(part) for part in zip(*parts))


def first_convolution_maps(path, faces):
    """The feature maps of a LiteRT network's first convolution, as the figures of phase 2 show them.

    The converter folds the batch normalisation and the activation that
    follow the convolution into it, so these are the maps after both.

    Parameters
    ----------
    path : str or Path
        A ``.tflite`` file (:func:`~fer_classic.cnn.litert_export.write_litert_files`).
    faces : ndarray of uint8, shape (n, 48, 48)

    Returns
    -------
    ndarray of float32, shape (n, h, w, channels), or None
        None when the network has no convolution of its own.
    """
    import warnings

    from ai_edge_litert.interpreter import Interpreter

    from ..quiet import captured_stderr

    with warnings.catch_warnings(), captured_stderr(active=True):
        warnings.simplefilter("ignore")    # "preserve_all_tensors is intended for debugging": exactly this use
        interpreter = Interpreter(model_path=str(path), num_threads=1, experimental_preserve_all_tensors=True)
        entry = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(entry, np.shape(faces))
        interpreter.allocate_tensors()
    convolution = next((op for op in interpreter._get_ops_details() if op["op_name"] == "CONV_2D"), None)
    if convolution is None:
        return None
    interpreter.set_tensor(entry, np.ascontiguousarray(faces, dtype=np.uint8))
    interpreter.invoke()
    return interpreter.get_tensor(convolution["outputs"][0]).copy()


class LiteRTClassifier:
    """A shipped or saved CNN predicting through LiteRT, with test-time augmentation.

    Prediction only: train with :class:`~fer_classic.cnn.CNNClassifier`, whose
    saving writes the ``.tflite`` files. It follows scikit-learn's classifier
    API (``get_params``, ``set_params``, ``predict_proba``, ``classes_``)
    without importing scikit-learn, whose import alone took longer than
    loading and running a network.

    Parameters
    ----------
    model_file : str or Path
        A ``.tflite`` file (:func:`~fer_classic.cnn.litert_export.write_litert_files`).
    tta : {"none", "flip", "ten-crop"}
        Test-time augmentation (:func:`~fer_classic.cnn.tta.test_time_views`).
    batch_size_predict : int
        Images per interpreter call (each view of a face counts).
    threads : int, optional
        Interpreter threads (default: the CPUs this process may use).

    Attributes
    ----------
    classes_ : ndarray of int, shape (7,)
    """

    def __init__(self, model_file=None, tta="flip", batch_size_predict=256, threads=None):
        self.model_file = model_file
        self.tta = tta
        self.batch_size_predict = batch_size_predict
        self.threads = threads

    def get_params(self, deep=True):
        """The constructor's parameters, by name."""
        return {"model_file": self.model_file, "tta": self.tta, "batch_size_predict": self.batch_size_predict,
                "threads": self.threads}

    def set_params(self, **params):
        """Set constructor parameters by name; returns self."""
        unknown = sorted(set(params) - set(self.get_params()))
        if unknown:
            raise ValueError(f"invalid parameter(s) {', '.join(unknown)} for LiteRTClassifier; valid: "
                             f"{', '.join(self.get_params())}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self):
        return f"LiteRTClassifier({', '.join(f'{k}={v!r}' for k, v in self.get_params().items() if v is not None)})"

    @property
    def classes_(self):
        return np.arange(len(EMOTIONS))

    @property
    def precision(self):
        """``"float32"`` or ``"int8"``, from the file's name, else None."""
        parts = Path(self.model_file).name.split(".")
        return parts[-2] if len(parts) >= 3 and parts[-2] in ("float32", "int8") else None

    def network(self):
        """The :class:`LiteRTNetwork` of :attr:`model_file`, made at the first call and kept."""
        if self.model_file is None:
            raise ValueError("LiteRTClassifier needs a model_file")
        key = (str(self.model_file), self.threads)
        if getattr(self, "_network_key", None) != key:
            self._network = LiteRTNetwork(self.model_file, self.threads)
            self._network_key = key
        return self._network

    def __getstate__(self):
        # The interpreter is rebuilt from the file in a worker process, never pickled.
        return {k: v for k, v in self.__dict__.items() if k not in ("_network", "_network_key")}

    def predict_proba(self, faces):
        """Probabilities averaged over the test-time views.

        Parameters
        ----------
        faces : ndarray of uint8, shape (n, 48, 48)

        Returns
        -------
        ndarray of float64, shape (n, 7)
        """
        views = test_time_views(check_faces(faces), self.tta)      # which says so of an unknown mode
        probabilities, _ = self.network().run_batches(np.concatenate(views), self.batch_size_predict)
        return average_views(probabilities.astype(np.float64), len(views))

    def predict(self, faces):
        """Most likely emotion index per face, shape (n,)."""
        return self.predict_proba(faces).argmax(axis=1)

    def embed(self, faces):
        """The embeddings the softmax layer reads, of the faces as given (no augmentation), shape (n, d) float32."""
        return self.network().run_batches(check_faces(faces), self.batch_size_predict)[1]
