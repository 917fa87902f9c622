"""Load a model by name or file under the store's trust rule, and warm it up: what every front end calls.

Models of each ``kind`` in the manifest are loaded by the function that
:data:`MODEL_LOADERS` names for it; the trust rule for pickles is the
catalogue's (:mod:`fer_classic.store.catalogue`).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as np

from ..faces import FACE_SIZE
from ..model_files import ModelError
from .catalogue import ResolvedModel, check_integrity, resolve_model, unpickle


def _load_pickled(resolved, trust, runtime):
    if runtime is not None:
        raise ValueError(f"model {resolved.path.stem!r} is not a CNN: runtime applies to CNNs only")
    check_integrity(resolved)
    return unpickle(resolved.path, trust)


def _load_cnn(resolved, trust, runtime):
    """A CNN in ``runtime``: LiteRT from its ``.tflite`` file, or TensorFlow from its ``.npz`` weights.

    Both formats are plain data, so ``trust`` is not needed; a listed file
    must still match its recorded sha256.
    """
    from ..cnn.litert import LiteRTClassifier, require_litert
    from ..cnn.runtimes import LITERT_PRECISIONS, check_runtime

    check_runtime(runtime)
    entry, path = resolved.entry, resolved.path
    tta = entry.parameters.get("tta", "flip") if entry else "flip"
    if path.suffix == ".tflite":                      # a LiteRT file given by path
        if runtime == "tensorflow":
            raise ValueError(f"{path.name} is a LiteRT file: it runs in LiteRT only (the runtime tensorflow needs "
                             "the network's .npz weights)")
        require_litert()
        return LiteRTClassifier(path, tta=tta)
    litert = entry.litert if entry else None
    runtime = runtime or (litert["runtime"] if litert else "tensorflow")
    if runtime == "tensorflow":
        return _load_keras(resolved, tta)
    if not litert:
        raise ModelError(f"{path.name} has no LiteRT files: give its .tflite file, convert it "
                         "(tools/convert_litert.py), or use the runtime tensorflow")
    record = litert[LITERT_PRECISIONS[runtime]]
    file = path.with_name(record["file"])
    if record.get("kept") is False:
        raise ModelError(f"model {path.stem!r} has no {runtime} file: {record['file']} "
                         f"({record['size_bytes'] / 1e6:.0f} MB) is not kept, as {litert['runtime']} runs it by "
                         f"default (tools/convert_litert.py --networks {path.stem} writes it)")
    if not file.is_file():
        raise ModelError(f"model {path.stem!r}: its LiteRT file {file} is missing")
    check_integrity(ResolvedModel(file, dataclasses.replace(entry, sha256=record["sha256"]), resolved.source))
    require_litert()
    return LiteRTClassifier(file, tta=tta)


def _load_keras(resolved, tta):
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        raise ImportError(MISSING_TENSORFLOW)
    if not resolved.path.is_file():
        raise ModelError(f"model {resolved.path.stem!r}: its TensorFlow weights {resolved.path.name} are not "
                         "installed (the wheel ships the large networks' LiteRT files only; a source checkout has "
                         "them): use a LiteRT runtime")
    check_integrity(resolved)
    from ..cnn.classifier import CNNClassifier

    return CNNClassifier.load(resolved.path, tta=tta)


MODEL_LOADERS = {"classical": _load_pickled, "cnn": _load_cnn}
MISSING_TENSORFLOW = "the runtime tensorflow needs TensorFlow: pip install 'fer-classic[train]'"


def _kind(resolved):
    """The manifest's kind for a listed model; for a bare file, what its format says."""
    if resolved.source != "file" and resolved.entry and resolved.entry.kind in MODEL_LOADERS:
        return resolved.entry.kind
    return "cnn" if resolved.path.suffix in (".npz", ".tflite") else "classical"


def load_model(name_or_path, trust=False, runtime=None):
    """Load a model by name or path, under the store's trust rule.

    Parameters
    ----------
    name_or_path : str or Path
        A name from ``fer-classic models``, or a model file.
    trust : bool
        Unpickle a file that is neither shipped nor trained by this user.
    runtime : {None, "litert", "litert-int8", "tensorflow"}
        What runs a CNN (:mod:`fer_classic.cnn.runtimes`); None, the
        network's measured choice. Only for CNNs.

    Returns
    -------
    model : object with ``predict_proba``
    entry : ModelEntry or None
        Its manifest entry (None for an unlisted file).
    """
    resolved = resolve_model(name_or_path)
    model = MODEL_LOADERS[_kind(resolved)](resolved, trust, runtime)
    _check_landmark_model(resolved)
    return model, resolved.entry


def _check_landmark_model(resolved):
    """Warn when a classical model meets landmarks from another model than the one it was trained with."""
    from ..extract.landmarks import find_landmark_model, landmark_model_digest

    expected = resolved.entry.landmark_model if resolved.entry else None
    if expected and expected["digest"] != landmark_model_digest(expected["name"]):
        warnings.warn(f"{resolved.path.name} was trained with the landmark model {expected['file']} but "
                      f"{find_landmark_model(expected['name'])} is in use ($FER_CLASSIC_LANDMARKS?): its features "
                      "shift and its accuracy may drop", stacklevel=3)


def warm_up(model):
    """Classify one blank face and fit its landmarks, so lazy loads happen now: the one warm-up every front end uses.

    dlib's landmark model (which the phase views need whatever the model),
    a network's graph, a recognizer's detector files and lazy imports would
    otherwise land in the first image's timings, several times a warm
    detection's, or freeze a window for most of a second.

    Returns
    -------
    model
    """
    from ..extract.landmarks import DEFAULT_LANDMARK_MODEL, fit_landmarks

    blank = np.full((1, FACE_SIZE, FACE_SIZE), 128, np.uint8)
    model.predict_proba(blank)
    fit_landmarks(blank, model=getattr(model, "landmark_model", DEFAULT_LANDMARK_MODEL))
    detector = getattr(model, "detector", None)       # a recognizer's
    if detector is not None:
        warm_up_detector(detector)
    return model


def warm_up_detector(detector):
    """Run ``detector`` once on a real face, so its lazily loaded files are not counted in the first image's time.

    A real face, not a blank image: a detector that verifies its candidates
    loads its verifier only when there is a candidate.

    Returns
    -------
    detector
    """
    detector.detect(_warm_up_photo())
    if hasattr(detector, "reset"):
        detector.reset()                               # a tracking detector forgets the warm-up frame
    return detector


@functools.lru_cache(maxsize=1)
def _warm_up_photo():
    # Decoded once: the GUI warms every detector it builds, and builds one per video and setting.
    from skimage import data

    photo = np.ascontiguousarray(data.astronaut()[::2, ::2, ::-1])
    photo.flags.writeable = False
    return photo
