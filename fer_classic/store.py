"""Trained models on disk: located, listed in a manifest, and hash-checked before loading.

A model is a file beside a ``manifest.json`` that records, per model, its
file and sha256, method, parameters, data, metrics and library versions.
Classical models are joblib files: unpickling runs code, so a file is
unpickled only when its sha256 matches its manifest entry, and a tampered or
unknown file is refused. CNNs are ``.npz`` weight files read without
pickle (:mod:`fer_classic.cnn.classifier`), hash-checked all the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from importlib import metadata
from pathlib import Path

import joblib

MANIFEST = "manifest.json"
MODEL_SUFFIXES = (".joblib", ".npz")
_VERSIONED = ("fer-classic", "numpy", "scikit-learn", "scikit-image", "opencv-contrib-python-headless",
              "dlib-bin", "joblib", "keras", "tensorflow-cpu", "tensorflow", "jax")


class ModelError(RuntimeError):
    """A model that cannot be found, is not listed, or fails its hash check."""


def models_dir():
    """Folder of shipped models.

    ``$FER_CLASSIC_MODELS`` if set, else the ``models/`` folder of the source
    checkout, else ``./models``.
    """
    if os.environ.get("FER_CLASSIC_MODELS"):
        return Path(os.environ["FER_CLASSIC_MODELS"])
    checkout = Path(__file__).resolve().parent.parent / "models"
    return checkout if checkout.is_dir() else Path("models")


def sha256(path, chunk_size=1 << 20):
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def library_versions():
    """Versions of Python and the libraries a model depends on."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def read_manifest(folder=None):
    """The manifest of ``folder`` (default :func:`models_dir`): ``{"models": {name: entry}}``."""
    path = Path(folder or models_dir()) / MANIFEST
    if not path.is_file():
        return {"models": {}}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ModelError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(manifest.get("models"), dict):
        raise ModelError(f"{path}: expected an object with a 'models' mapping")
    return manifest


def save_model(model, path, entry):
    """Write ``model`` to ``path`` and record it in the manifest beside it.

    Parameters
    ----------
    model : object
        A fitted estimator; a :class:`~fer_classic.cnn.CNNClassifier` is
        saved as ``.npz`` weights in ``entry["storage_dtype"]``, anything else
        with joblib.
    path : str or Path
        Target file; its stem is the model's name.
    entry : dict
        Manifest fields (method, parameters, metrics...); ``file``, ``sha256``,
        ``size_bytes`` and ``library_versions`` are filled in here.

    Returns
    -------
    dict
        The complete manifest entry.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npz":
        model.save(path, dtype=entry.get("storage_dtype", "float32"))
    else:
        joblib.dump(model, path, compress=3)
    manifest = read_manifest(path.parent)
    entry = {**entry, "file": path.name, "sha256": sha256(path), "size_bytes": path.stat().st_size,
             "library_versions": library_versions()}
    manifest["models"][path.stem] = entry
    (path.parent / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return entry


def resolve_model(name_or_path):
    """Find a model file and its manifest entry.

    Parameters
    ----------
    name_or_path : str or Path
        A name listed in the shipped manifest (e.g. ``"classic"``), or a model
        file with a ``manifest.json`` beside it.

    Returns
    -------
    path : Path
    entry : dict
    """
    candidate = Path(name_or_path)
    if candidate.suffix in MODEL_SUFFIXES or candidate.is_file():
        folder, name = candidate.parent, candidate.stem
    else:
        folder, name = models_dir(), str(name_or_path)
    entries = read_manifest(folder)["models"]
    if name not in entries:
        known = ", ".join(sorted(entries)) or "none"
        raise ModelError(f"unknown model {str(name_or_path)!r}: not listed in {folder / MANIFEST} (listed: {known})")
    path = folder / entries[name]["file"]
    if not path.is_file():
        raise ModelError(f"model {name!r} is listed but its file {path} is missing")
    return path, entries[name]


def load_model(name_or_path):
    """Load a model after checking its sha256 against the manifest.

    Returns
    -------
    model : object
    entry : dict
        Its manifest entry.

    Raises
    ------
    ModelError
        When the model is unknown or its file does not match the recorded hash.
    """
    path, entry = resolve_model(name_or_path)
    actual = sha256(path)
    if actual != entry.get("sha256"):
        raise ModelError(f"refusing to load {path}: its sha256 {actual[:16]}... does not match the manifest's "
                         f"{str(entry.get('sha256'))[:16]}... (the file was changed or replaced)")
    if path.suffix == ".npz":
        from .cnn import CNNClassifier

        return CNNClassifier.load(path, tta=entry.get("parameters", {}).get("tta", "flip")), entry
    return joblib.load(path), entry
