"""Damaged files, one case each (issue 40): a cache that heals, and every reader's damage named in one line.

A feature-cache entry that is truncated or rewritten is extracted again with
one warning naming it; a damaged archive, CSV, JSON registry, manifest or
checkpoint state fails (or is skipped) with a message naming the file,
never a traceback.
"""

import json
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

from fer_classic.cli import main
from fer_classic.data import DataFormatError, load_fer2013, load_ferplus_labels
from fer_classic.extract import cache
from fer_classic.quiet import QUIET_ENV
from fer_classic.reading import load_npz

from .conftest import write_npz


@pytest.fixture(autouse=True)
def _library_mode(monkeypatch):
    """Notices as warnings, as a library gives them; an in-process ``main()`` switches to printed lines (restored)."""
    monkeypatch.setenv(QUIET_ENV, "")


def one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def _double(faces):
    return faces.reshape(len(faces), -1)[:, :3].astype(np.float32) * 2


def _extract(faces, calls):
    """The cached features of ``faces``; ``calls`` records each extraction actually run."""
    def double(chunk):
        calls.append(len(chunk))
        return _double(chunk)

    return cache.cached_map("Doubled", {}, double, [faces])


@pytest.fixture
def entry(monkeypatch):
    """Faces, their expected features and the cache entry they were written to."""
    monkeypatch.setattr(cache, "MIN_DISK_BATCH", 4)
    faces = np.arange(8 * 4, dtype=np.uint8).reshape(8, 2, 2)
    calls = []
    first = _extract(faces, calls)
    [path] = (cache.cache_dir() / "Doubled").glob("*.npy")
    return faces, np.asarray(first).copy(), path


def _rewrite_values(path):
    """The same shape and size, other values: np.save over it keeps it a valid .npy (with no trailer, then add one)."""
    data = bytearray(path.read_bytes())
    data[-40] ^= 0xFF                     # a byte of the last row's values: the trailer is the last 32 bytes
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["truncate", "rewrite", "old format", "empty", "garbage"])
def test_a_damaged_cache_entry_is_extracted_again_with_one_warning_naming_it(entry, damage):
    faces, expected, path = entry
    size = path.stat().st_size
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: size // 2])
    elif damage == "rewrite":
        _rewrite_values(path)
    elif damage == "old format":
        np.save(path, expected * 3)        # a valid .npy of the same shape, without a checksum
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(np.random.default_rng(0).bytes(size))
    calls = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = _extract(faces, calls)
    assert calls == [8] and np.array_equal(again, expected)
    [warning] = caught
    assert warning.category is cache.FeatureCacheWarning and warning.filename == str(path)
    assert "damaged feature cache entry" in str(warning.message)
    calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        healed = _extract(faces, calls)       # replaced: read back, nothing extracted, nothing said
    assert calls == [] and np.array_equal(healed, expected) and isinstance(healed, np.memmap)


def test_a_healthy_entry_is_a_read_only_map_and_still_a_npy_file(entry):
    faces, expected, path = entry
    calls = []
    again = _extract(faces, calls)
    assert calls == [] and not again.flags.writeable and np.array_equal(again, expected)
    np.testing.assert_array_equal(np.load(path), expected)     # the trailer leaves it readable by np.load


def test_a_checked_entry_goes_to_joblib_workers(entry):
    from joblib import Parallel, delayed

    faces, expected, path = entry
    cached = _extract(faces, [])
    assert isinstance(cached, np.memmap) and cached.filename == str(path)     # sent to workers by file name
    sums = Parallel(n_jobs=2)(delayed(np.sum)(cached[i::2]) for i in range(2))
    assert sum(sums) == expected.sum()


@pytest.mark.parametrize("quiet", ["", "1"])
def test_a_command_shows_a_healed_entry_in_one_line(tmp_path, quiet):
    script = f"""
import numpy as np
from fer_classic.extract import cache
cache.MIN_DISK_BATCH = 4
faces = np.arange(32, dtype=np.uint8).reshape(8, 2, 2)
double = lambda f: f.reshape(len(f), -1).astype(np.float32)
cache.cached_map("Doubled", {{}}, double, [faces])
[path] = (cache.cache_dir() / "Doubled").glob("*.npy")
path.write_bytes(path.read_bytes()[:100])
cache.cached_map("Doubled", {{}}, double, [faces])
cache.cached_map("Doubled", {{}}, double, [faces])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "FER_CLASSIC_CACHE": str(tmp_path), QUIET_ENV: quiet})
    assert done.returncode == 0, done.stderr
    [line] = done.stderr.strip().splitlines()      # quiet: a command, which keeps Python's warnings off stderr
    assert line.startswith(f"fer-classic: warning: {tmp_path / 'Doubled'}" if quiet else str(tmp_path / "Doubled"))
    assert ("FeatureCacheWarning" in line) != bool(quiet) and "extracted again" in line


def _valid_npz(path):
    np.savez_compressed(path, a=np.arange(500), b=np.array("text"))
    return path


@pytest.mark.parametrize("cut", [10, 60, 200, -30, -5])
def test_a_truncated_archive_is_one_error_naming_it(tmp_path, cut):
    path = _valid_npz(tmp_path / "a.npz")
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(ValueError, match=r"a\.npz: (a damaged|not an) \.npz archive") as error:
        load_npz(path)
    assert "\n" not in str(error.value)


def test_every_damaged_byte_of_an_archive_is_one_error_naming_it(tmp_path):
    good = _valid_npz(tmp_path / "good.npz").read_bytes()
    path = tmp_path / "flipped.npz"
    loaded = 0
    for position in range(4, len(good), 7):
        data = bytearray(good)
        data[position] ^= 0x55
        path.write_bytes(bytes(data))
        try:
            load_npz(path)
            loaded += 1
        except ValueError as error:
            assert str(error).startswith(str(path)) and "\n" not in str(error)
    assert loaded < len(good) // 7           # most damage is caught: the zip CRC guards every member


def test_a_damaged_data_archive_is_one_line(tmp_path, tiny_dataset, monkeypatch, capsys):
    path = write_npz(tmp_path / "fer2013.npz", *tiny_dataset)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataFormatError, match="fer2013.npz: a damaged .npz archive"):
        load_fer2013(path)
    data = bytearray(write_npz(tmp_path / "fer2013.npz", *tiny_dataset).read_bytes())
    data[len(data) // 2] ^= 0xFF                  # inside the pixels' compressed stream: zlib.error or a bad CRC
    path.write_bytes(bytes(data))
    monkeypatch.setenv("FER2013_PATH", str(path))
    assert main(["evaluate"]) == 2
    err = one_error_line(capsys)
    assert str(path) in err and "damaged .npz archive" in err


def test_damaged_cnn_weights_are_one_error_naming_the_file(tmp_path):
    from fer_classic.cnn.weight_files import WEIGHTS_FORMAT, load_weights

    path = tmp_path / "weights.npz"
    np.savez_compressed(path, format=np.array(WEIGHTS_FORMAT), architecture=np.array("fer-cnn"),
                        options=np.array("[1, 2]"), w000=np.zeros(3, np.float16))
    with pytest.raises(ValueError, match="weights.npz: its architecture or options are damaged"):
        load_weights(path)
    np.savez_compressed(path, format=np.array([WEIGHTS_FORMAT, WEIGHTS_FORMAT]), architecture=np.array("x"))
    with pytest.raises(ValueError, match="weights.npz: not a fer-classic-cnn-weights"):
        load_weights(path)
    path.write_bytes(path.read_bytes()[:-50])
    with pytest.raises(ValueError, match="weights.npz: a damaged .npz archive"):
        load_weights(path)


CSV_HEADER = "emotion,pixels,Usage\n"


@pytest.mark.parametrize("row, message", [
    ("0," + "1 " * 80_000 + ",Training", "row 2: not readable as CSV"),       # over csv's field size limit
    ("9" * 5000 + ",1 2,Training", "row 2: emotion '99"),                      # int() refuses 5000 digits
    ("\u00b2,1 2,Training", "row 2: emotion '\u00b2' outside 0..6"),              # a digit to isdigit(), not to int()
    ("0," + " ".join(["99999999999999999999999"] * 2304) + ",Training", "row 2: pixels must be integers"),
    ("0,1 2\x00,Training", "row 2: "),                                         # a NUL: csv.Error before 3.11
    ("0,1 2," + "T" * 100_000, "row 2: unknown Usage 'TTT"),
])
def test_the_csv_reader_names_the_file_and_row_of_any_bad_row(tmp_path, row, message):
    path = tmp_path / "fer2013.csv"
    path.write_text(CSV_HEADER + row + "\n")
    with pytest.raises(DataFormatError) as error:
        load_fer2013(path)
    text = str(error.value)
    assert text.startswith(f"{path}, ") and message in text and len(text) < 400


def test_the_ferplus_reader_names_the_file(tmp_path):
    path = tmp_path / "fer2013new.csv"
    path.write_text("Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n")
    with pytest.raises(DataFormatError, match="fer2013new.csv: header only"):
        load_ferplus_labels(path)
    path.write_text(path.read_text() + "Training,a.png," + "1," * 9 + "1" * 6000 + "\n")
    with pytest.raises(DataFormatError, match=r"fer2013new.csv, row 2: expected integer votes"):
        load_ferplus_labels(path)


def test_ferplus_split_without_its_labels_is_one_line(tmp_path, tiny_dataset, monkeypatch, capsys):
    path = write_npz(tmp_path / "fer2013.npz", *tiny_dataset)
    data = load_fer2013(path)
    with pytest.raises(KeyError, match="fer2013new.csv"):      # still a KeyError to a mapping's user
        data["FERPlus-PrivateTest"]
    monkeypatch.setenv("FER2013_PATH", str(path))
    assert main(["evaluate", "--split", "FERPlus-PrivateTest"]) == 2
    err = one_error_line(capsys)
    assert "fer2013new.csv" in err and str(tmp_path) in err and "'" not in err.split("error: ")[1][:1]


def _registry(content):
    from fer_classic.store import user_registry_path

    path = user_registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize("content", ["[]", "{\"models\": []}", "{\"models\"", "\"text\"", "[" * 100_000 + "]" * 100_000,
                                     b"\xff\xfe{}"])
def test_a_registry_that_is_not_an_object_is_one_line_naming_it(content, capsys):
    from fer_classic.store import user_registry_path

    path = user_registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["models"]) == 2
    assert str(path) in one_error_line(capsys)


def test_bad_registry_entries_are_skipped_with_one_line_and_the_good_ones_listed(tmp_path, capsys):
    from fer_classic.store import list_models
    from fer_classic.store.catalogue import RegistryWarning, trusted_hashes

    model = tmp_path / "mine.joblib"
    model.write_bytes(b"not really a model")
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"mine": {
        "kind": "classical", "file": "mine.joblib", "sha256": "ab" * 32, "method": "hog/mlp"}}}))  # no size_bytes
    path = _registry({"models": {str(model): {"name": "mine", "sha256": "ab" * 32},
                                 str(tmp_path / "nameless.joblib"): {"sha256": "cd" * 32},
                                 str(tmp_path / "unhashed.joblib"): {"name": "x", "sha256": ["list"]},
                                 "relative.joblib": {"name": "y", "sha256": "ef" * 32},
                                 str(tmp_path / "list.joblib"): []}})
    with pytest.warns(RegistryWarning) as caught:
        models = list_models()
        hashes = trusted_hashes()
    assert models["mine"].source == "user" and models["mine"].entry.size_bytes is None
    assert "ab" * 32 in hashes and "cd" * 32 not in hashes
    assert len(caught) >= 4 and all(w.filename == str(path) for w in caught)
    capsys.readouterr()
    assert main(["models"]) == 0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert "mine" in out and len(lines) == 4, err
    assert all(line.startswith(f"fer-classic: warning: {path}: skipped the entry") for line in lines)


def test_a_damaged_manifest_beside_a_user_model_does_not_hide_the_others(tmp_path):
    from fer_classic.store import list_models
    from fer_classic.store.catalogue import RegistryWarning

    model = tmp_path / "mine.joblib"
    model.write_bytes(b"x")
    (tmp_path / "manifest.json").write_text('{"models": {"mine": {"kind": 3}}}')
    _registry({"models": {str(model): {"name": "mine", "sha256": "ab" * 32}}})
    with pytest.warns(RegistryWarning, match="listed without its details"):
        models = list_models()
    assert models["mine"].entry is None and len(models) > 1


@pytest.mark.parametrize("fields, message", [
    ({"kind": "cnn", "file": "a.npz", "sha256": "x", "size_bytes": True}, "size_bytes should be int"),
    ({"kind": "cnn", "file": "a.npz", "sha256": "x", "metrics": {"PrivateTest": 0.5}}, "metrics of 'PrivateTest'"),
    ({"kind": "cnn", "file": "a.npz", "sha256": "x", "metrics": {"PrivateTest": {"accuracy": "high"}}},
     "numeric accuracy"),
    ({"kind": "cnn", "file": "a.npz", "sha256": "x", "timings_seconds": {"total": "1 h"}}, "total should be"),
    ({"kind": "cnn", "file": "a.npz", "sha256": "x", "classes": [1, 2]}, "classes should be a list of names"),
    ({"kind": ["cnn"], "file": "a.npz", "sha256": "x"}, "kind should be str"),
])
def test_manifest_entries_are_checked_deep_enough_for_their_readers(tmp_path, fields, message):
    from fer_classic.store import ModelError
    from fer_classic.store.manifest import Manifest

    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"models": {"a": fields}}))
    with pytest.raises(ModelError, match=message) as error:
        Manifest.read(path)
    assert str(error.value).startswith(str(path))


@pytest.mark.parametrize("content", ["[]", "{}", '{"epoch": "3", "best_epoch": 0, "seconds": 1, "best_score": 0.5, '
                                     '"history": []}', "\xff", '{"epoch": 1, "best_epoch": 0, "seconds": 1, '
                                     '"best_score": 0.5, "history": [], "recipe": {"no_such_field": 1}}'])
def test_a_damaged_checkpoint_state_is_one_error_naming_it(tmp_path, content):
    pytest.importorskip("keras")
    from fer_classic.cnn.recipes import Recipe
    from fer_classic.cnn.training import _resume_state

    (tmp_path / "state.json").write_bytes(content.encode("latin-1") if content == "\xff" else content.encode())
    with pytest.raises(ValueError, match="state.json: not a checkpoint state") as error:
        _resume_state(tmp_path, "fer-cnn", Recipe(), print)
    assert str(error.value).startswith(str(tmp_path / "state.json"))


def test_a_zip_that_is_no_npz_is_a_damaged_archive(tmp_path):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, "
                                  b"'shape': (10**15,), }")
    with pytest.raises(ValueError, match="odd.npz: a damaged .npz archive"):
        load_npz(path)


def _cascade_arrays(tmp_path):
    """A small valid cascade file, and its arrays as written."""
    from fer_classic.detect.viola_jones import Cascade, HaarFeatures, Stage, StrongClassifier, save_cascade

    stages = [Stage(HaarFeatures(["type-2-x", "type-3-y"], [[0, 0, 4, 2], [2, 2, 2, 6]]),
                    StrongClassifier(np.arange(2), np.array([0.5, -0.5]), np.array([1, -1], np.int8),
                                     np.array([1.0, 0.5]), 0.7))]
    path = save_cascade(Cascade((24, 24), stages, 2.0, {"stages": []}), tmp_path / "cascade.npz")
    return path, dict(np.load(path))


@pytest.mark.parametrize("key, value", [
    ("format", np.array(["a", "b"])), ("window_shape", np.array(24)), ("window_shape", np.array([24.0, np.nan])),
    ("min_std", np.array([1.0, 2.0])), ("min_std", np.array("x")), ("stage_sizes", np.array([np.nan])),
    ("stage_sizes", np.array([3])), ("stage_sizes", np.array([-1, 3])), ("feature_kinds", np.array("type-4")),
    ("feature_kinds", np.array(["type-2-x", "type-9"])), ("feature_boxes", np.array([[0, 0, 4, 2], [20, 2, 6, 6]])),
    ("feature_boxes", np.array([[0, 0, 3, 2], [2, 2, 2, 6]])),
    ("feature_boxes", np.array([[2 ** 62, 0, 2 ** 62, 2]] * 2)),
    ("stump_polarities", np.array([1, 0])), ("stump_thresholds", np.array([0.5, np.inf])),
    ("stump_alphas", np.array(["a", "b"])), ("stage_thresholds", np.array(0.7)), ("history", np.array("[1]")),
    ("history", np.array("{")), ("history", np.array(3)), ("history", np.array("[" * 100_000 + "]" * 100_000)),
])
def test_a_damaged_cascade_is_one_error_naming_it(tmp_path, key, value):
    from fer_classic.detect.viola_jones import load_cascade

    path, arrays = _cascade_arrays(tmp_path)
    assert len(load_cascade(path).stages) == 1
    np.savez(path, **{**arrays, key: value})
    with pytest.raises(ValueError, match=f"^{path}: ") as refused:
        load_cascade(path)
    assert "\n" not in str(refused.value)


def test_a_truncated_or_flipped_cascade_archive_is_one_error_naming_it(tmp_path):
    from fer_classic.detect.viola_jones import ViolaJonesDetector, load_cascade

    path, _ = _cascade_arrays(tmp_path)
    whole = path.read_bytes()
    rng = np.random.default_rng(0)
    damaged = [whole[:cut] for cut in (0, 10, len(whole) // 2, len(whole) - 1)]
    for offset in rng.choice(len(whole), 40, replace=False):
        data = bytearray(whole)
        data[offset] ^= 0xFF
        damaged.append(bytes(data))
    for data in damaged:
        path.write_bytes(data)
        try:
            cascade = load_cascade(path)
        except ValueError as error:
            assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
        else:                                   # a byte the archive does not check (a name's padding...)
            ViolaJonesDetector(cascade).detect(np.zeros((40, 40), np.uint8))


@pytest.mark.parametrize("damage", ["truncate", "rewrite", "old format", "other shape", "empty"])
def test_a_damaged_prediction_cache_entry_is_predicted_again_with_one_line(damage):
    from fer_classic.compare.measure import split_probabilities
    from fer_classic.data import FER2013, Split

    faces = np.arange(6 * 48 * 48, dtype=np.uint8).reshape(6, 48, 48)
    data = FER2013({"PublicTest": Split(faces, np.zeros(6, np.int64), np.arange(6))}, "data.npz", "0" * 32)
    calls = []

    class Model:
        def predict_proba(self, batch):
            calls.append(len(batch))
            return np.tile(np.linspace(0.01, 0.2, 7), (len(batch), 1)) + batch[:, :1, 0] / 1000

    first = split_probabilities(Model(), data, ["PublicTest"], identity="model-1")["PublicTest"]
    [path] = (cache.cache_dir() / "predictions").glob("*.npy")
    assert calls == [6] and np.array_equal(split_probabilities(Model(), data, ["PublicTest"], "model-1")["PublicTest"],
                                           first) and calls == [6]   # the entry is read back: nothing predicted
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-50])
    elif damage == "rewrite":
        _rewrite_values(path)
    elif damage == "old format":
        np.save(path, first[::-1])                  # the same shape, other rows, no checksum: not to be trusted
    elif damage == "other shape":
        cache.write_entry(path, first[:3])          # whole and checked, but for another split
    else:
        path.write_bytes(b"")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = split_probabilities(Model(), data, ["PublicTest"], identity="model-1")["PublicTest"]
    assert calls == [6, 6] and np.array_equal(again, first)
    [warning] = caught
    assert warning.category is cache.FeatureCacheWarning and warning.filename == str(path)
    assert "damaged prediction cache entry, predicted again and replaced" in str(warning.message)
    assert "\n" not in str(warning.message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        healed = split_probabilities(Model(), data, ["PublicTest"], identity="model-1")["PublicTest"]
    assert calls == [6, 6] and np.array_equal(healed, first)


def test_a_damaged_comparison_record_is_skipped_with_one_line_naming_it(tmp_path):
    from types import SimpleNamespace

    from fer_classic.store import results_index

    good = {"provenance": {"date": "2026-12-01T00:00:00"}, "options": {"rank_by": "PrivateTest", "quick": False},
            "methods": [{"name": "hog/mlp", "status": "ok", "source": "shipped models/classic.joblib",
                         "latency_ms": 2.5, "metrics": {"PrivateTest": {"accuracy": 0.5}}}]}
    row = good["methods"][0]
    records = {"2026-12-01-0000001": json.dumps(good), "2026-12-01-0000002": "{not json",
               "2026-12-01-0000003": "[]", "2026-12-01-0000004": "[" * 100_000 + "]" * 100_000,
               "2026-12-01-0000005": json.dumps({**good, "methods": {"hog/mlp": row}}),
               "2026-12-01-0000006": json.dumps({**good, "methods": [{**row, "metrics": "PrivateTest"}]}),
               "2026-12-01-0000007": json.dumps({**good, "methods": [{**row, "metrics": {"PrivateTest": [0.5]}}]}),
               "2026-12-01-0000008": json.dumps({**good, "provenance": {"date": 20261201}}),
               "2026-12-01-0000009": json.dumps({**good, "methods": [{**row, "latency_ms": "fast"}]}),
               "2026-12-01-000000a-detectors": json.dumps({"provenance": {}, "rows": []})}     # another benchmark's
    for folder, text in records.items():
        (tmp_path / "benchmarks" / "results" / folder).mkdir(parents=True)
        (tmp_path / "benchmarks" / "results" / folder / "results.json").write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = results_index.comparison_records(tmp_path)
    assert [folder.name for folder, _ in found] == ["2026-12-01-0000001"]
    damaged = sorted(warning.filename for warning in caught)
    assert damaged == [str(tmp_path / "benchmarks" / "results" / f"2026-12-01-000000{k}" / "results.json")
                       for k in range(2, 10)]
    assert all("skipped" in str(warning.message) and "\n" not in str(warning.message) for warning in caught)
    entry = SimpleNamespace(method="hog/mlp", accuracy=lambda split: 0.5 if split == "PrivateTest" else None)
    assert results_index.recorded_latency_ms(entry, "shipped models/classic.joblib", found)[0] == 2.5
    broken = [(tmp_path, {"methods": [{**row, "metrics": "PrivateTest"}]})]   # a caller's record, unchecked
    assert results_index.recorded_latency_ms(entry, "shipped models/classic.joblib", broken) == (None, None)
