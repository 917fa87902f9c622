"""Where model files are found: the models shipped with fer_classic, and dlib's.

Light on purpose (no numpy, no dlib): phase modules locate their model files
through it without importing the model store.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

MODELS_PACKAGE = "fer_classic_models"
# The model every front end and EmotionRecognizer.load use when none is named: the shipped classical one.
DEFAULT_MODEL = "classic"


class ModelError(RuntimeError):
    """A model that cannot be found, is not listed, fails its hash check, or is not trusted."""


def shipped_models_dir():
    """Folder of the shipped models to list: :func:`packaged_models_dir`, or ``$FER_CLASSIC_MODELS``.

    ``$FER_CLASSIC_MODELS`` names another folder to list instead (its
    pickles still load only when trusted by hash).
    """
    if os.environ.get("FER_CLASSIC_MODELS"):
        return Path(os.environ["FER_CLASSIC_MODELS"])
    return packaged_models_dir()


def packaged_models_dir():
    """Folder of the installed ``fer_classic_models`` package.

    In a source checkout that was not installed, the checkout's own
    ``models/``; never the working directory.
    """
    spec = importlib.util.find_spec(MODELS_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    checkout = Path(__file__).resolve().parent.parent
    return checkout / "models" if (checkout / "setup.cfg").is_file() else checkout / "no-models-installed"


def packaged_dlib_model(name):
    """``face_recognition_models/models/<name>`` if that package is installed and holds it, else None.

    The package is located without importing it: its import needs
    ``pkg_resources``, which recent setuptools no longer ship.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    return path if path.is_file() else None
