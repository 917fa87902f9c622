"""The three phases composed: detect faces, extract features, classify the emotion.

>>> from fer_classic import EmotionRecognizer
>>> recognizer = EmotionRecognizer.load("classic")
>>> recognizer.analyze(image)                       # doctest: +SKIP
[{'box': (177, 66, 95, 95), 'emotion': 'happy', 'probabilities': {...}}]

A recognizer is a detector (phase 1) plus a fitted scikit-learn pipeline that
holds phases 2 and 3 (feature extraction, then the classifier). It works on
48x48 grayscale faces, as FER2013 is cut: detected boxes are cropped from the
grayscale image and resized to that size.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np

from .classify.timing import timed_predict_proba
from .detect.registry import build_detector
from .extract.landmarks import DEFAULT_LANDMARK_MODEL
from .faces import EMOTIONS, FACE_SIZE, check_faces, class_names
from .imageio import ImageError, read_image, to_gray_uint8
from .model_files import DEFAULT_MODEL
from .paths import IMAGE_SUFFIXES, display_path, find_images
from .store import load_model

__all__ = ["IMAGE_SUFFIXES", "EmotionRecognizer", "crop_faces", "expand_image_paths"]


def expand_image_paths(paths):
    """Files as given, plus the images below each folder (see :func:`fer_classic.paths.find_images`).

    Folders that cannot be searched are left out; :meth:`EmotionRecognizer.analyze_files`
    reports them instead.
    """
    return (path for path, error in find_images(paths) if error is None)


def crop_faces(gray, boxes, size=FACE_SIZE):
    """Cut boxes out of a grayscale image and resize them to ``size`` x ``size``.

    Parameters
    ----------
    gray : ndarray of uint8, shape (h, w)
    boxes : ndarray, shape (n, 4)
        (x, y, w, h); parts outside the image are filled by edge replication.

    Returns
    -------
    ndarray of uint8, shape (n, size, size)
    """
    faces = np.empty((len(boxes), size, size), dtype=np.uint8)
    for i, (x, y, w, h) in enumerate(np.asarray(boxes, dtype=np.int64)):
        pad = max(0, -x, -y, x + w - gray.shape[1], y + h - gray.shape[0])
        source = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else gray
        crop = source[y + pad:y + pad + h, x + pad:x + pad + w]
        interpolation = cv2.INTER_AREA if w > size else cv2.INTER_LINEAR
        faces[i] = cv2.resize(crop, (size, size), interpolation=interpolation)
    return faces


class EmotionRecognizer:
    """Facial-expression recognition: detection, extraction, classification.

    Parameters
    ----------
    model : estimator
        Fitted; ``predict_proba`` on (n, 48, 48) uint8 faces. Usually a
        ``Pipeline`` whose last step is the classifier.
    detector : str, or object with ``detect(image) -> (n, 4) boxes``, optional
        A detector, or a name of :data:`fer_classic.detect.registry.DETECTORS`
        built with its defaults. Default: the photo detector
        (:data:`~fer_classic.detect.registry.PHOTO_DETECTOR`), as the CLI uses.
    info : fer_classic.store.manifest.ModelEntry, optional
        The model's manifest entry, if it is listed.
    """

    def __init__(self, model, detector=None, info=None):
        self.model = model
        self.detector = build_detector(detector) if detector is None or isinstance(detector, str) else detector
        self.info = info

    @property
    def classes(self):
        """The names of the classes the model tells apart, in the order of :meth:`predict_proba`'s columns.

        FER2013's seven emotions (:data:`~fer_classic.faces.EMOTIONS`) for the
        shipped models; a model trained on your own faces has its own classes.
        """
        return class_names(self.model)

    @property
    def landmark_model(self):
        """The landmark model the classifier was trained on (its manifest says), else the default; overlays use it."""
        recorded = self.info.landmark_model if self.info is not None else None
        return recorded["name"] if recorded else DEFAULT_LANDMARK_MODEL

    @classmethod
    def load(cls, name_or_path=DEFAULT_MODEL, detector=None, tta=None, runtime=None, trust=False):
        """Load a model by name (see ``fer-classic models``) or path, under the store's trust rule.

        ``tta`` ("none", "flip" or "ten-crop") overrides a CNN's test-time
        augmentation; classical models always average a face with its mirror.
        ``runtime`` ("litert", "litert-int8" or "tensorflow") chooses what runs
        a CNN (:mod:`~fer_classic.cnn.runtimes`); by default, the network's
        measured choice, a LiteRT one, which imports no TensorFlow. ``trust`` unpickles a
        file that is neither shipped nor trained by this user (see
        :mod:`fer_classic.store`): only for trusted files.
        """
        model, info = load_model(name_or_path, trust=trust, runtime=runtime)
        if tta is not None:
            if not hasattr(model, "tta"):
                raise ValueError(f"model {str(name_or_path)!r} is not a CNN: tta applies to CNNs only")
            model.set_params(tta=tta)
        return cls(model, detector=detector, info=info)

    def predict_proba(self, faces, timings=None):
        """Emotion probabilities.

        Parameters
        ----------
        faces : ndarray of uint8, shape (n, 48, 48)
        timings : dict, optional
            Receives the seconds spent in ``extract`` and ``classify``.

        Returns
        -------
        ndarray of float64, shape (n, len(classes))
            Columns in :attr:`classes` order; rows sum to 1.
        """
        faces = check_faces(faces)
        classes = self.classes
        probabilities = np.zeros((len(faces), len(classes)))
        seconds = {"extract": 0.0, "classify": 0.0}
        if len(faces):
            # Named classes come in the model's order; a FER2013 model fitted on fewer than the seven emotions
            # leaves the missing columns at zero.
            columns = slice(None) if classes is not EMOTIONS else self.model.classes_
            probabilities[:, columns], seconds = timed_predict_proba(self.model, faces)
        if timings is not None:
            timings.update(seconds)
        return probabilities / probabilities.sum(axis=1, keepdims=True).clip(min=1e-12)

    def predict(self, faces):
        """Most likely class per face, as an index into :attr:`classes`, shape (n,)."""
        return self.predict_proba(faces).argmax(axis=1)

    def evaluate(self, faces, labels):
        """Score on labelled faces (``labels``: indices into :attr:`classes`).

        See :func:`fer_classic.classify.metrics.emotion_metrics`.
        """
        from .classify.metrics import emotion_metrics

        return emotion_metrics(labels, self.predict(faces), self.classes)

    def analyze(self, image, color_order="bgr", timings=None):
        """Find every face in ``image`` and recognise its expression.

        Parameters
        ----------
        image : ndarray
            Gray, BGR/RGB or with alpha, 8/16-bit or float.
        color_order : {"bgr", "rgb"}
            Channel order of a color ``image``.
        timings : dict, optional
            Receives the seconds spent in each phase: ``detect``, ``extract``
            and ``classify``.

        Returns
        -------
        list of dict
            Per face, largest first: ``box`` (x, y, w, h), ``emotion`` (str,
            the most likely of :attr:`classes`), and ``probabilities``
            ({class: float}, in :attr:`classes` order).
        """
        started = time.perf_counter()
        gray = to_gray_uint8(image, color_order)
        boxes = self.detector.detect(gray)
        detected = time.perf_counter()
        probabilities = self.predict_proba(crop_faces(gray, boxes), timings)
        if timings is not None:
            timings["detect"] = detected - started
        classes = self.classes
        return [{"box": tuple(int(v) for v in box),
                 "emotion": classes[int(p.argmax())],
                 "probabilities": {name: float(v) for name, v in zip(classes, p)}}
                for box, p in zip(boxes, probabilities)]

    def analyze_files(self, paths, keep_images=False):
        """Analyze image files and folders, one result per file, never stopping on a bad one.

        Parameters
        ----------
        paths : str or Path, or iterable of str or Path
            Image files, folders searched recursively for images, or glob
            patterns: see :func:`fer_classic.paths.find_images`. One str or
            Path is one path (not its characters).
        keep_images : bool
            Add ``path`` (Path) and ``image`` (the decoded image) to each
            result read, to draw on it.

        Returns
        -------
        iterator of dict
            ``{"file": str, "faces": [...]}`` as in :meth:`analyze`, or
            ``{"file": str, "error": str}`` for a file that cannot be read
            or analysed (an OpenCV or model error on that image), or a
            folder that cannot be searched. ``file`` is
            :func:`~fer_classic.paths.display_path` text.

        Raises
        ------
        ValueError
            At once, when a path is the root of a file system (``/``): searching it all is never meant.
        """
        paths = [paths] if isinstance(paths, (str, bytes, Path)) else list(paths)
        paths = [os.fsdecode(path) if isinstance(path, bytes) else path for path in paths]
        for path in paths:
            resolved = Path(os.path.realpath(path))       # never raises, not even on a symlink loop
            if resolved == resolved.parent and resolved.is_dir():
                raise ValueError(f"{display_path(path)}: refusing to search a whole file system for images; "
                                 "name the folders that hold them")

        def results():
            for path, error in find_images(paths):
                if error is None:
                    try:
                        image = read_image(path)
                        if not keep_images:
                            # Only the grey image goes on: the colour one (up to imageio.MAX_IMAGE_BYTES) is freed
                            # before the detector allocates its own buffers.
                            image = to_gray_uint8(image)
                        result = {"file": display_path(path), "faces": self.analyze(image)}
                        yield {**result, "path": Path(path), "image": image} if keep_images else result
                        continue
                    except ImageError as image_error:
                        error = str(image_error)
                    except (cv2.error, ValueError, RuntimeError, MemoryError) as failure:
                        # One image that breaks OpenCV or the model fails alone; the run goes on with the next.
                        # OpenCV's cause is its last line; a scikit-learn essay (NaN features) says it in its first.
                        detail = _summary(failure) if isinstance(failure, cv2.error) else \
                            (str(failure).strip().splitlines() or [""])[0]
                        error = f"{display_path(path)}: cannot analyse ({type(failure).__name__}: {detail})"
                yield {"file": display_path(path), "error": error}
        return results()


def _summary(error):
    # OpenCV's messages span lines, with the cause on the last one.
    lines = str(error).strip().splitlines()
    return lines[-1] if lines else ""
