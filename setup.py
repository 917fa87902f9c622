"""Build script: the package, plus the repository's models/ folder installed as ``fer_classic_models``.

The wheel is for prediction, so a CNN travels as the one LiteRT file it runs by default (its manifest entry's
``litert.runtime``); its TensorFlow weights (``.npz``, for training and ``--runtime tensorflow``) and its other
LiteRT precision stay in the repository. Every other file in models/ travels.
"""

import json
import runpy
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).resolve().parent
MODELS = ROOT / "models"
# runtimes.py imports nothing, so the build reads it without importing fer_classic's dependencies.
LITERT_PRECISIONS = runpy.run_path(str(ROOT / "fer_classic" / "cnn" / "runtimes.py"))["LITERT_PRECISIONS"]


def shipped_model_files():
    """The names of the files in models/ that the wheel holds."""
    manifest = json.loads((MODELS / "manifest.json").read_text())
    left_out = set()
    for entry in manifest["models"].values():
        litert = entry.get("litert")
        if entry["kind"] == "cnn" and litert:
            default = litert[LITERT_PRECISIONS[litert["runtime"]]]["file"]
            left_out |= {entry["file"], *(record["file"] for record in litert.values()
                                          if isinstance(record, dict) and record.get("file", default) != default)}
    return sorted(path.name for path in MODELS.iterdir()
                  if path.is_file() and path.name not in left_out and path.suffix != ".py")


setup(packages=[*find_packages(include=["fer_classic", "fer_classic.*"]), "fer_classic_models"],
      package_dir={"fer_classic_models": "models"},
      package_data={"fer_classic_models": shipped_model_files()})
