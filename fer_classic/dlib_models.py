"""dlib's model files, as the ``face-recognition-models`` package ships them."""

from __future__ import annotations

import importlib.util
from pathlib import Path


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
