"""Trained models on disk: located, listed, and trusted or refused before loading.

Where models live
-----------------
* **Shipped models** travel inside the installed distribution, as the
  package ``fer_classic_models`` (the repository's top-level ``models/``),
  with a ``manifest.json`` that records each file's sha256, method,
  parameters, data, metrics and library versions.
* **Your models**, written by ``fer-classic train --out`` (or
  :func:`save_model`), are recorded in a per-user registry,
  ``$XDG_DATA_HOME/fer_classic/trusted-models.json`` (default
  ``~/.local/share``), which only this tool writes.

Models are never looked up in the current working directory.

The trust rule
--------------
Unpickling a file runs whatever code its author put in it. A ``.joblib``
file is therefore unpickled only if its sha256 is listed in the shipped
manifest or in the user registry, or if the caller opts in explicitly
(``--trust-model`` on the command line). A ``manifest.json`` found beside a
file proves nothing: whoever wrote the file could write that too. CNN
weights (``.npz`` of plain arrays, read with ``allow_pickle=False``) and the
Viola-Jones cascade never run code, so they load from anywhere.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..atomic import replacing, write_text
from ..model_files import ModelError, packaged_models_dir, shipped_models_dir
from ..paths import display_path
from ..reading import DamagedFileWarning, notice, open_regular
from .half_precision import pack_float16, unpack_float16
from .manifest import Manifest, ModelEntry, read_json
from .provenance import library_versions

MANIFEST = "manifest.json"
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
MODEL_SUFFIXES = (".joblib", ".npz", ".tflite")


class UntrustedModelError(ModelError):
    """A pickle whose sha256 is neither shipped nor the user's own: loading it needs ``trust=True``."""


class RegistryWarning(DamagedFileWarning):
    """An entry of the user registry or of a manifest beside a user's model that was skipped as damaged."""


def _packaged_manifest_path():
    """The manifest that ships inside the package: the only one whose hashes are trusted."""
    return packaged_models_dir() / MANIFEST


def user_registry_path():
    """``$XDG_DATA_HOME/fer_classic/trusted-models.json`` (default ``~/.local/share``)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "fer_classic" / "trusted-models.json"


def user_models_dir():
    """Default folder of the models you train: ``$XDG_DATA_HOME/fer_classic/models``."""
    return user_registry_path().parent / "models"


def sha256(path, chunk_size=1 << 20):
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def _read_json(path, what):
    content = read_json(path, what)
    if not isinstance(content.get("models"), dict):
        raise ModelError(f"{path}: {what} should be an object with a 'models' mapping")
    return content


def _registry_entry_problem(key, record):
    """Why a user registry entry cannot be used, or None: its key is a file, its record names it and hashes it."""
    if not isinstance(record, dict):
        return "not an object"
    missing = [field for field in ("name", "sha256") if not isinstance(record.get(field), str) or not record[field]]
    if missing:
        return f"no {' and no '.join(missing)} (a non-empty string)"
    try:
        parts = [os.fsencode(part) for part in Path(key).parts]     # a lone surrogate from JSON fails here
    except UnicodeEncodeError:
        parts = []
    if not key or "\0" in key or not Path(key).is_absolute() or not parts or max(map(len, parts)) > 255:
        return "its key is not an absolute path"
    if not isinstance(record.get("saved", ""), str):
        return "saved is not a date"
    return None


def read_manifest(folder=None):
    """The :class:`~fer_classic.store.manifest.Manifest` of ``folder`` (default: the shipped models)."""
    return Manifest.read(Path(folder or shipped_models_dir()) / MANIFEST)


def read_user_registry():
    """The models this user saved: ``{"models": {absolute path: {"name", "sha256", "saved"}}}``.

    Raises
    ------
    ModelError
        Naming the file, when it is not a JSON object with a ``models``
        mapping. An entry without a name or sha256 (or otherwise unusable) is
        left out with one :class:`RegistryWarning` naming the file: it could
        not be listed or trusted anyway, and the next model saved rewrites
        the registry without it.
    """
    path = user_registry_path()
    if not path.is_file():
        return {"models": {}}
    content = _read_json(path, "the user model registry")
    models = {}
    for key, record in content["models"].items():
        problem = _registry_entry_problem(key, record)
        if problem is None:
            models[key] = record
        else:
            notice(path, f"skipped the entry {key[:200]!r}: {problem}", RegistryWarning)
    return {**content, "models": models}


def trusted_hashes():
    """sha256 of every file that may be unpickled: shipped ones and the user's own."""
    packaged = _packaged_manifest_path()
    hashes = set()
    hashes |= {entry.sha256 for entry in Manifest.read(packaged).models.values()}
    hashes |= {record.get("sha256") for record in read_user_registry()["models"].values()}
    return hashes - {None}


def _register_user_model(path, name, digest):
    registry = read_user_registry()
    registry["models"][str(Path(path).resolve())] = {
        "name": name, "sha256": digest,
        "saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    target = user_registry_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text(target, json.dumps(registry, indent=1, sort_keys=True) + "\n")


def model_output(out=None, stem="model", suffix=".joblib"):
    """Where a newly trained model is written: never over an unrelated file, never over your last model by default.

    Parameters
    ----------
    out : str or Path, optional
        The file asked for. It may exist only if it is one of your own
        registered models or a shipped model file (retraining it on purpose);
        any other existing file (data, notes) is refused. Its suffix must be ``suffix``.
    stem : str
        Without ``out``: the name in your models folder (:func:`user_models_dir`),
        with ``-2``, ``-3``... appended when taken, so a second training keeps the first.
    suffix : str

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        Naming ``--out`` and why.
    """
    if out is None:
        folder = user_models_dir()
        candidates = (folder / f"{stem}{'' if n == 1 else f'-{n}'}{suffix}" for n in range(1, 10_000))
        return next(path for path in candidates if not path.exists())
    out = Path(out)
    if out.suffix != suffix:
        raise ValueError(f"--out {display_path(out)}: a model file must end in {suffix}")
    if out.exists() or out.is_symlink():
        registered = str(out.resolve()) in read_user_registry()["models"] or _shipped_file(out)
        if not (out.is_file() and registered):
            raise ValueError(f"--out {display_path(out)} exists and is not one of your models: choose a new name")
    return out


def _shipped_file(path):
    """Whether ``path`` is a model file the repository's models folder ships (retrained there on purpose)."""
    folder = shipped_models_dir().resolve()
    path = Path(path).resolve()
    return path.parent == folder and any(entry.file == path.name for entry in read_manifest(folder).models.values())


def save_model(model, path, entry):
    """Write ``model`` to ``path``, record it in the manifest beside it and trust it for this user.

    Parameters
    ----------
    model : object
        A fitted estimator. One with a ``save(path, dtype=...)`` method (a
        :class:`~fer_classic.cnn.CNNClassifier`) writes ``.npz`` weights in
        ``entry["storage_dtype"]`` and its LiteRT files beside them; anything else is pickled with joblib, its
        large arrays in float16 when ``entry["storage_dtype"]`` says so
        (:mod:`fer_classic.store.half_precision`).
    path : str or Path
        Target file; its stem is the model's name.
    entry : dict
        The :class:`~fer_classic.store.manifest.ModelEntry` fields (``kind``,
        ``method``, ``parameters``, ``data``, ``metrics``...); ``file``,
        ``sha256``, ``size_bytes`` and ``library_versions`` are filled in here.

    Returns
    -------
    ModelEntry
        The complete manifest entry.
    """
    import joblib

    path = Path(path)
    ModelEntry.from_dict({"file": "", "sha256": "", "size_bytes": 0, **entry}, f"the entry of {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npz":
        model.save(path, dtype=entry.get("storage_dtype", "float32"))
        entry = {**entry, "litert": _litert_files(model, path)}
    else:
        with replacing(path) as stream:
            joblib.dump(pack_float16(model) if entry.get("storage_dtype") == "float16" else model, stream,
                        compress=3)
    entry = ModelEntry.from_dict(_describe_file(path, entry), f"the entry of {path.name}")
    manifest = read_manifest(path.parent)
    manifest.models[path.stem] = entry
    manifest.write(path.parent / MANIFEST)
    _register_user_model(path, path.stem, entry.sha256)
    return entry


def _litert_files(model, path):
    """Convert a CNN saved at ``path`` to LiteRT beside it, so it predicts without TensorFlow; the manifest's field."""
    files = model.save_litert(path.with_suffix(""))
    litert = {precision: {"file": file.name, "sha256": sha256(file), "size_bytes": file.stat().st_size}
              for precision, file in files.items()}
    return {**litert, "runtime": "litert", "chosen_by": "float32 by default: int8's accuracy is not measured here "
                                                        "(tools/convert_litert.py measures it)"}


def _describe_file(path, entry):
    return {**entry, "file": path.name, "sha256": sha256(path), "size_bytes": path.stat().st_size,
            "library_versions": library_versions()}


def record_landmark_predictor(path, entry):
    """Record the landmark predictor at ``path`` under ``landmark_predictor`` in the manifest beside it.

    It is not a model to load by name but a file the landmark phase reads
    (dlib's own format, no pickle); the manifest keeps its provenance.

    Returns
    -------
    dict
        The entry, with ``file``, ``sha256``, ``size_bytes`` and ``library_versions`` filled in.
    """
    path = Path(path)
    entry = _describe_file(path, entry)
    manifest = read_manifest(path.parent)
    manifest.landmark_predictor = entry
    manifest.write(path.parent / MANIFEST)
    return entry


@dataclass
class ResolvedModel:
    """A model file found on disk.

    Attributes
    ----------
    path : Path
    entry : ModelEntry or None
        Its manifest entry; for a file given by path that is not listed
        anywhere trusted, whatever the manifest beside it says (for
        display only), or None.
    source : {"shipped", "user", "file"}
    """

    path: Path
    entry: ModelEntry | None
    source: str


def list_models():
    """Every model that can be loaded by name: ``{name: ResolvedModel}``, shipped ones first.

    A user's model with the name of a shipped one does not hide it.
    """
    models = {}
    folder = shipped_models_dir()
    for name, entry in sorted(read_manifest(folder).models.items()):
        models[name] = ResolvedModel(folder / entry.file, entry, "shipped")
    for path, record in sorted(read_user_registry()["models"].items()):
        path = Path(path)
        if record["name"] in models or not path.is_file():
            continue
        try:
            entry = read_manifest(path.parent).models.get(path.stem)
        except ModelError as error:   # a damaged manifest beside one of your models must not hide every model
            manifest = path.parent / MANIFEST
            notice(manifest, f"{str(error).removeprefix(f'{manifest}: ')}; {record['name']} is listed without "
                   "its details", RegistryWarning)
            entry = None
        models[record["name"]] = ResolvedModel(path, entry, "user")
    return models


def _comparison_quick_model(path):
    """Whether ``path`` is one of the comparison's quick-subsample models (``$FER_CLASSIC_CACHE/models/quick-*``)."""
    from ..extract.cache import cache_dir

    folder = Path(path).parent
    return folder.name.startswith("quick-") and folder.parent.resolve() == (cache_dir() / "models").resolve()


def models_of_method(method):
    """The registered models of ``method`` (a name such as ``hog/mlp``): yours, newest first, then the shipped ones.

    Only models whose files exist are listed. Models the comparison trained
    on a quick subsample (:data:`fer_classic.compare.QUICK`) are left out:
    they are a few thousand faces' worth, kept only to make quick runs quick.

    Returns
    -------
    list of ResolvedModel
    """
    yours = []
    for path, record in read_user_registry()["models"].items():
        path = Path(path)
        if not path.is_file() or _comparison_quick_model(path):
            continue
        try:
            entry = read_manifest(path.parent).models.get(path.stem)
        except ModelError:   # a damaged manifest beside one model must not hide the others
            continue
        if entry is not None and entry.method == method and entry.sha256 == record.get("sha256"):
            # Saved in the same second: the file written last is the newer.
            yours.append(((record.get("saved") or "", path.stat().st_mtime_ns), ResolvedModel(path, entry, "user")))
    yours.sort(key=lambda pair: pair[0], reverse=True)
    folder = shipped_models_dir()
    shipped = [ResolvedModel(folder / entry.file, entry, "shipped")
               for _, entry in sorted(read_manifest(folder).models.items())
               if entry.method == method and any(path.is_file() for path in entry_files(folder / entry.file, entry))]
    return [model for _, model in yours] + shipped


def resolve_model(name_or_path):
    """Find a model by name (``fer-classic models`` lists them), by method, or by file path.

    A method name (``hog+lbp+landmarks+sift-fisher/svm-local``) that is no
    model's name gives the newest registered model of that method
    (:func:`models_of_method`).

    Returns
    -------
    ResolvedModel
    """
    models = list_models()
    name = str(name_or_path)
    candidate = Path(name_or_path)
    # A registered name wins over a file or folder of the same name in the working directory.
    if name in models and candidate.suffix not in MODEL_SUFFIXES:
        return _listed_file(models[name], name)
    if candidate.is_dir():
        raise ModelError(f"model {display_path(candidate)} is a folder; give a model file or a name from "
                         "`fer-classic models`")
    if candidate.suffix in MODEL_SUFFIXES or candidate.exists():
        if not candidate.exists():
            raise ModelError(f"model file {display_path(candidate)} does not exist")
        try:  # a manifest beside a file is for display only: a broken one must not stop the file loading
            entry = read_manifest(candidate.parent).models.get(candidate.stem)
        except ModelError:
            entry = None
        return ResolvedModel(candidate, entry, "file")
    if "/" in name and (of_method := models_of_method(name)):
        return _listed_file(of_method[0], name)
    raise ModelError(f"unknown model {name!r}: give a name or method from `fer-classic models` ({len(models)} "
                     "models), or a model file")


def default_runtime_file(entry):
    """What runs a CNN entry by default: ``(runtime, record)``, record being its LiteRT file's
    ``{file, sha256, size_bytes, metrics}``; ``(None, None)`` for an entry without LiteRT files."""
    from ..cnn.runtimes import LITERT_PRECISIONS

    litert = getattr(entry, "litert", None) or {}
    runtime = litert.get("runtime")
    if runtime not in LITERT_PRECISIONS or not isinstance(litert.get(LITERT_PRECISIONS[runtime]), dict):
        return None, None
    return runtime, litert[LITERT_PRECISIONS[runtime]]


def entry_files(path, entry):
    """A listed model's files: ``path``, plus a CNN's LiteRT files beside it (:attr:`ModelEntry.litert`)."""
    litert = (entry.litert or {}) if entry else {}
    return [Path(path), *(Path(path).with_name(record["file"]) for record in litert.values()
                          if isinstance(record, dict) and "file" in record)]


def _listed_file(resolved, name):
    # The wheel leaves out the large networks' TensorFlow weights: their LiteRT files are enough to load them.
    if not any(path.is_file() for path in entry_files(resolved.path, resolved.entry)):
        raise ModelError(f"model {name!r} is listed but its file {resolved.path} is missing")
    return resolved


def check_integrity(resolved):
    """Refuse a shipped or user model whose file no longer matches its recorded sha256."""
    recorded = resolved.entry.sha256 if resolved.entry else None
    if resolved.source in ("shipped", "user") and recorded:
        actual = sha256(resolved.path)
        if actual != recorded:
            raise ModelError(f"refusing to load {resolved.path}: its sha256 {actual[:16]}... does not match the "
                             f"recorded {recorded[:16]}... (the file was changed or replaced)")


def unpickle(path, trust=False):
    """Unpickle a model file, if the trust rule allows it.

    Parameters
    ----------
    path : str or Path
    trust : bool
        The caller's explicit opt-in for a file not trusted by hash.

    Raises
    ------
    ModelError
        When the file's sha256 is neither shipped nor the user's own, and
        ``trust`` is false; nothing is unpickled.
    """
    import joblib

    path = Path(path)
    with open_regular(path) as handle:
        content = handle.read()      # hashed and unpickled from the same bytes: no file can be swapped in between
    if not trust and hashlib.sha256(content).hexdigest() not in trusted_hashes():
        raise UntrustedModelError(
            f"refusing to unpickle {path}: it is neither a shipped model nor one you trained here, and loading a "
            "pickle runs its author's code. If you trust whoever made it, load it with trust=True")
    try:
        model = joblib.load(io.BytesIO(content))
    except Exception as error:  # a damaged or foreign file can fail anywhere in the unpickler
        raise ModelError(f"{path}: not a readable model file ({type(error).__name__}: {error})") from None
    if not callable(getattr(model, "predict_proba", None)):
        raise ModelError(f"{path}: holds a {type(model).__name__}, not a classifier with predict_proba")
    return unpack_float16(model)
