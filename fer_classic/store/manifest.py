"""The manifest of a models folder, as a versioned schema: what is known of each model file.

``manifest.json`` beside a folder of models maps each model's name to a
:class:`ModelEntry`: its file and sha256, how it was made (method,
parameters, data), how well it does (metrics per split) and what it took
(training time, memory, library versions). Reading a manifest checks every
entry against the schema, so a damaged or foreign file fails in one line
that names it, and code reads fields, not chains of ``.get``.

:func:`read_json` reads every JSON file the model store keeps (manifests,
the user registry): a file that is not UTF-8, not JSON, nested beyond
reason or not an object fails as a :class:`ModelError` naming it.

Schema versions: 1 had no ``schema`` field; 2 adds it. Both read the same
way; a newer one is refused with a message that says so.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_text
from ..model_files import ModelError

SCHEMA_VERSION = 2
KINDS = ("classical", "cnn")


def read_json(path, what):
    """The JSON object in ``path``, or a :class:`ModelError` naming the file and ``what`` it should be.

    Parameters
    ----------
    path : Path
    what : str
        The file's role in words ("a manifest", "the user model registry").

    Returns
    -------
    dict
    """
    try:
        content = json.loads(Path(path).read_bytes())
    except (ValueError, RecursionError) as error:   # JSONDecodeError, UnicodeDecodeError; [[[[... a million deep
        message = " ".join(str(error).split())[:200]
        raise ModelError(f"{path}: {what} is not valid JSON ({type(error).__name__}: {message})") from None
    except OSError as error:
        raise ModelError(f"{path}: cannot read {what} ({error.strerror or error})") from None
    if not isinstance(content, dict):
        raise ModelError(f"{path}: {what} should be a JSON object, not {_json_type(content)}")
    return content


def _json_type(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(value), "a number")


@dataclass
class ModelEntry:
    """One model file, as its manifest records it.

    Attributes
    ----------
    kind : {"classical", "cnn"}
        A joblib pipeline, or a CNN's plain-array weights.
    file, sha256 : str
        The file's name in its folder, and its content's hash.
    size_bytes : int or None
    method : str
        Its method's name (:class:`~fer_classic.method_name.MethodName`).
    classifier : str
        The classifier in words.
    data, parameters, metrics, timings_seconds, library_versions : dict
        The data it was trained on (file, MD5, splits), its hyper-parameters,
        its metrics per split (``accuracy``, ``macro_f1``, ``confusion``...),
        its training time (``total`` and steps) and the library versions.
    storage_dtype : str
        How its arrays are stored: ``"float32"``, ``"float16"`` or ``"int8"``.
    landmark_model : dict or None
        The landmark model its features were built on (``name``, ``file``,
        ``digest``), for classical models that use landmarks.
    recipe_digest : str or None
        A hash of the method's recipe, so a changed recipe is retrained.
    peak_memory_mb : float or None
        The training process's peak memory.
    architecture, device, retrain : str or None
        A CNN's architecture, where it trained, and the command that trains it again.
    training, shipping, storage_change, storage_converted, float16_accuracy_change : dict or None
        A CNN's training history, its shipping verdict, and what each storage
        change did to its accuracy.
    note : str or None
        Anything a user should know, shown with the model.
    classes : list of str or None
        The class names of a model trained on your own faces, in its order;
        None for FER2013's seven emotions.
    litert : dict or None
        A CNN's LiteRT files (``tools/convert_litert.py``): per precision
        (``"float32"``, ``"int8"``) its ``file``, ``sha256``, ``size_bytes``
        and ``metrics`` measured with LiteRT; ``runtime``, the one used by
        default, and ``chosen_by``, why.
    """

    kind: str
    file: str
    sha256: str
    size_bytes: int | None = None
    method: str = ""
    classifier: str = ""
    data: dict = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    timings_seconds: dict = field(default_factory=dict)
    library_versions: dict = field(default_factory=dict)
    storage_dtype: str = "float32"
    landmark_model: dict | None = None
    recipe_digest: str | None = None
    peak_memory_mb: float | None = None
    architecture: str | None = None
    device: str | None = None
    retrain: str | None = None
    training: dict | None = None
    shipping: dict | None = None
    storage_change: dict | None = None
    storage_converted: dict | None = None
    float16_accuracy_change: dict | None = None
    note: str | None = None
    classes: list | None = None
    litert: dict | None = None

    @classmethod
    def from_dict(cls, fields, where="a manifest entry"):
        """Check ``fields`` against the schema; a :class:`ModelError` naming ``where`` and the field otherwise."""
        if not isinstance(fields, dict):
            raise ModelError(f"{where} should be an object, not {type(fields).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(fields) - set(known))
        missing = [f.name for f in known.values()
                   if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                   and f.name not in fields]
        if unknown or missing:
            raise ModelError(f"{where} does not follow the manifest schema: "
                             + "; ".join(filter(None, [unknown and f"unknown field(s) {', '.join(unknown)}",
                                                       missing and f"missing {', '.join(missing)}"])))
        for name, value in fields.items():
            expected = _TYPES[name]
            if value is None and known[name].default is None:
                continue
            # bool is an int to isinstance, but true is no size and no accuracy
            if isinstance(value, bool) and bool not in expected or not isinstance(value, expected):
                raise ModelError(f"{where}: {name} should be {' or '.join(t.__name__ for t in expected)}, "
                                 f"not {type(value).__name__}")
        if fields["kind"] not in KINDS:
            raise ModelError(f"{where}: kind must be one of {', '.join(KINDS)}, not {fields['kind']!r}")
        for split, metrics in fields.get("metrics", {}).items():
            accuracy = metrics.get("accuracy") if isinstance(metrics, dict) else None
            if not isinstance(metrics, dict) or not (accuracy is None or _is_number(accuracy)):
                raise ModelError(f"{where}: metrics of {split!r} should be an object with a numeric accuracy")
        total = fields.get("timings_seconds", {}).get("total")
        if not (total is None or _is_number(total)):
            raise ModelError(f"{where}: timings_seconds.total should be a number")
        if fields.get("classes") is not None and not all(isinstance(name, str) for name in fields["classes"]):
            raise ModelError(f"{where}: classes should be a list of names")
        if fields.get("size_bytes") is not None and fields["size_bytes"] < 0:
            raise ModelError(f"{where}: size_bytes should not be negative")
        return cls(**fields)

    def to_dict(self):
        """The entry as ``manifest.json`` stores it: unset optional fields left out."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}

    def accuracy(self, split):
        """Its accuracy on ``split`` (``"PublicTest"``, ``"PrivateTest"``...), or None if not measured."""
        return self.metrics.get(split, {}).get("accuracy")

    @property
    def training_seconds(self):
        """Its total training time in seconds, or None if not recorded."""
        return self.timings_seconds.get("total")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES = {"kind": (str,), "file": (str,), "sha256": (str,), "size_bytes": (int,), "method": (str,),
          "classifier": (str,), "data": (dict,), "parameters": (dict,), "metrics": (dict,),
          "timings_seconds": (dict,), "library_versions": (dict,), "storage_dtype": (str,),
          "landmark_model": (dict,), "recipe_digest": (str,), "peak_memory_mb": (int, float),
          "architecture": (str,), "device": (str,), "retrain": (str,), "training": (dict,), "shipping": (dict,),
          "storage_change": (dict,), "storage_converted": (dict,), "float16_accuracy_change": (dict,),
          "note": (str,), "classes": (list,), "litert": (dict,)}


@dataclass
class Manifest:
    """A folder's ``manifest.json``.

    Attributes
    ----------
    models : dict of {str: ModelEntry}
        By model name (the file's stem).
    landmark_predictor : dict or None
        Provenance of the landmark predictor shipped beside the models (a
        file the landmark phase reads, not a model to load by name).
    schema : int
    """

    models: dict = field(default_factory=dict)
    landmark_predictor: dict | None = None
    schema: int = SCHEMA_VERSION

    @classmethod
    def read(cls, path):
        """The manifest at ``path``; an empty one if there is no such file."""
        path = Path(path)
        if not path.is_file():
            return cls()
        content = read_json(path, "a manifest")
        if not isinstance(content.get("models"), dict):
            raise ModelError(f"{path}: a manifest should be an object with a 'models' mapping")
        schema = content.get("schema", 1)
        if not isinstance(schema, int) or isinstance(schema, bool) or schema > SCHEMA_VERSION:
            raise ModelError(f"{path}: manifest schema {schema!r} is newer than this fer_classic reads "
                             f"({SCHEMA_VERSION}); update fer_classic")
        models = {name: ModelEntry.from_dict(fields, f"{path}, model {name!r}")
                  for name, fields in content["models"].items()}
        landmark_predictor = content.get("landmark_predictor")
        if not (landmark_predictor is None or isinstance(landmark_predictor, dict)):
            raise ModelError(f"{path}: landmark_predictor should be an object")
        return cls(models, landmark_predictor, SCHEMA_VERSION)

    def write(self, path):
        """Write to ``path`` whole or not at all (:func:`fer_classic.atomic.write_text`)."""
        path = Path(path)
        content = {"schema": self.schema, "models": {name: entry.to_dict() for name, entry in self.models.items()}}
        if self.landmark_predictor is not None:
            content["landmark_predictor"] = self.landmark_predictor
        write_text(path, json.dumps(content, indent=2, sort_keys=True) + "\n")
