"""The manifest schema: entries read as fields, damaged or foreign manifests refused in one line."""

import json

import pytest

from fer_classic.store import ModelError, read_manifest
from fer_classic.store.manifest import SCHEMA_VERSION, Manifest, ModelEntry

ENTRY = {"kind": "classical", "file": "m.joblib", "sha256": "ab" * 32, "size_bytes": 10, "method": "hog/mlp",
         "metrics": {"PrivateTest": {"accuracy": 0.5}}, "timings_seconds": {"total": 12.5}}


def test_the_shipped_manifest_follows_the_schema():
    manifest = read_manifest()
    assert manifest.schema == SCHEMA_VERSION
    assert all(isinstance(entry, ModelEntry) for entry in manifest.models.values())
    assert manifest.models["classic"].accuracy("PrivateTest") > 0.6


def test_entries_round_trip_and_read_as_fields(tmp_path):
    path = tmp_path / "manifest.json"
    Manifest({"m": ModelEntry.from_dict(ENTRY)}).write(path)
    stored = json.loads(path.read_text())
    assert stored["schema"] == SCHEMA_VERSION and stored["models"]["m"].items() >= ENTRY.items()
    assert "landmark_model" not in stored["models"]["m"]                           # unset optional fields left out
    entry = Manifest.read(path).models["m"]
    assert (entry.accuracy("PrivateTest"), entry.accuracy("PublicTest"), entry.training_seconds) == (0.5, None, 12.5)
    assert not list(tmp_path.glob(".*partial"))


def test_a_version_1_manifest_without_schema_still_reads(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"m": ENTRY}}))
    assert read_manifest(tmp_path).models["m"].method == "hog/mlp"


@pytest.mark.parametrize("change, message", [
    ({"colour": "red"}, "unknown field.*colour"),
    ({"kind": "magic"}, "kind must be one of"),
    ({"size_bytes": "ten"}, "size_bytes should be int"),
    ({"file": None}, "file should be str"),
])
def test_an_entry_off_the_schema_is_refused_naming_the_file_model_and_field(tmp_path, change, message):
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"m": {**ENTRY, **change}}}))
    with pytest.raises(ModelError, match=message) as error:
        read_manifest(tmp_path)
    assert "manifest.json" in str(error.value) and "'m'" in str(error.value)


def test_a_newer_schema_or_broken_json_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"schema": SCHEMA_VERSION + 1, "models": {}}))
    with pytest.raises(ModelError, match="newer than this fer_classic reads"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        read_manifest(tmp_path)
