"""Property-based tests: every numeric option, the image reader, the resume reader and the data reader, fuzzed.

Since issue 40 also every damaged file: archives as data and as CNN weights, the CSV reader, every JSON
schema (manifest, user registry, checkpoint state) and the feature cache.

Each property says what any input must lead to: a value in range or one clear
error, never a traceback, a hang or a crash inside OpenCV. The examples are
derandomized, so the suite is deterministic.
"""

import argparse
import contextlib
import io
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fer_classic.batch import finished_rows
from fer_classic.cli.main import build_parser
from fer_classic.data import DataFormatError, load_fer2013
from fer_classic.detect.registry import DETECT_SCALE_RANGE, SCALE_FACTOR_RANGE, build_detector
from fer_classic.imageio import ImageError, read_image, to_gray_uint8

FUZZ = settings(max_examples=20, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


PARSER = build_parser()       # built once: parsing leaves it as it was


def _subcommands():
    [commands] = [a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices


def _required_arguments(parser):
    """Placeholder values for a sub-command's required arguments, so one option at a time can be fuzzed."""
    argv = []
    for action in parser._actions:
        if not action.option_strings and action.nargs != 0 and not isinstance(action, argparse._SubParsersAction):
            argv += ["x"] if action.nargs in (None, "+") else []
        elif action.required:
            argv += [action.option_strings[0], "x"]
    return argv


NUMERIC_OPTIONS = [(name, action) for name, parser in _subcommands().items() for action in parser._actions
                   if getattr(action.type, "bounds", None) is not None]
ANY_NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["inf", "-inf", "nan", "1e308", "1e-308", "1.0000001", "0", "-0", "1e6", "", " ", "0x10"]),
    st.text(max_size=6))


def test_every_numeric_option_is_bounded():
    assert len(NUMERIC_OPTIONS) >= 25
    for name, parser in _subcommands().items():
        for action in parser._actions:
            if action.type in (int, float):
                assert action.choices, f"{name} {action.option_strings}: a number without a range"


@pytest.mark.parametrize("command, action", NUMERIC_OPTIONS,
                         ids=[f"{name}{action.option_strings[0]}" for name, action in NUMERIC_OPTIONS])
@FUZZ
@given(text=ANY_NUMBER_TEXT)
def test_a_numeric_option_gives_a_value_in_range_or_one_error_naming_it(command, action, text):
    parser = _subcommands()[command]
    option = action.option_strings[0]
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            args = PARSER.parse_args([command, *_required_arguments(parser), f"{option}={text}"])
        except SystemExit as stop:
            assert stop.code == 2
            message = stderr.getvalue().strip().splitlines()[-1]
            assert message.startswith(f"fer-classic {command}: error: argument {option}")
            return
    value = getattr(args, action.dest)
    low, high = action.type.bounds
    assert math.isfinite(value)
    assert (low is None or value >= low) and (high is None or value <= high)


@FUZZ
@given(detector=st.sampled_from(["verified", "frontal-default", "frontal-alt2", "viola-jones"]),
       scale_factor=st.floats(*SCALE_FACTOR_RANGE), min_neighbors=st.integers(0, 1000),
       min_size=st.integers(1, 1_000_000), detect_scale=st.floats(*DETECT_SCALE_RANGE))
def test_any_accepted_detector_option_detects_without_crashing(detector, scale_factor, min_neighbors, min_size,
                                                               detect_scale):
    frame = np.random.default_rng(0).integers(0, 256, (48, 64), dtype=np.uint8)
    photo = build_detector(detector, scale_factor=scale_factor, min_neighbors=min_neighbors, min_size=min_size)
    video = build_detector(detector, scale_factor=scale_factor, min_neighbors=min_neighbors, min_size=min_size,
                           video=True, detect_scale=detect_scale)
    for found in (photo.detect(frame), video.detect(frame)):
        assert all(w > 0 and h > 0 for _, _, w, h in found)


HEADERS = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"RIFF",
           b"P5\n", b"P6\n4 4\n255\n"]


@FUZZ
@given(header=st.sampled_from(HEADERS), body=st.binary(max_size=600))
def test_the_image_reader_reads_or_refuses_random_bytes(tmp_path, header, body):
    path = tmp_path / "fuzzed.img"
    path.write_bytes(header + body)
    try:
        image = read_image(path)
    except ImageError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
        return
    assert image.ndim in (2, 3) and image.size
    assert to_gray_uint8(image).dtype == np.uint8


@FUZZ
@given(width=st.integers(1, 2**31 - 1), height=st.integers(1, 2**31 - 1))
def test_a_huge_declared_image_is_refused_before_decoding(tmp_path, width, height):
    import struct
    import zlib

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    path = tmp_path / "declared.png"
    path.write_bytes(png + b"\x00" * 64)
    with pytest.raises(ImageError):      # too large, or no pixel data behind the header: either way, one error
        read_image(path)


@FUZZ
@given(content=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)))
def test_resume_reads_any_file_as_rows_or_refuses_it(tmp_path, content):
    path = tmp_path / "results.csv"
    path.write_bytes(content)
    try:
        rows = finished_rows(path)
    except ValueError as error:
        assert "not a batch CSV" in str(error) and not any(ord(c) < 32 and c not in "\t\n" for c in str(error))
        return
    assert isinstance(rows, list)


ARRAYS = st.one_of(
    st.builds(lambda n, dtype: np.zeros(n, dtype), st.integers(0, 4), st.sampled_from(["u1", "i8", "f4", "U3"])),
    st.builds(lambda n: np.zeros((n, 48, 48), np.uint8), st.integers(0, 4)),
    st.builds(lambda v: np.array([v]), st.integers(-300, 300)))


@FUZZ
@given(pixels=ARRAYS, emotion=ARRAYS, usage=ARRAYS)
def test_the_data_reader_loads_or_names_the_problem(tmp_path, pixels, emotion, usage):
    path = tmp_path / "fer2013.npz"
    np.savez(path, pixels=pixels, emotion=emotion, usage=usage)
    try:
        load_fer2013(path, ferplus=False)
    except DataFormatError as error:
        assert str(error).startswith(str(path))


BOXES = st.lists(st.tuples(st.integers(-50, 400), st.integers(-50, 400), st.integers(1, 500), st.integers(1, 500)),
                 max_size=12)


@FUZZ
@given(height=st.integers(8, 400), width=st.integers(8, 400), boxes=BOXES, selected=st.none() | st.integers(0, 11),
       bars=st.booleans())
def test_faces_are_drawn_on_any_picture_whatever_their_boxes(height, width, boxes, selected, bars):
    from fer_classic.annotate import draw_faces
    from fer_classic.faces import EMOTIONS

    probabilities = {emotion: 1 / len(EMOTIONS) for emotion in EMOTIONS}
    faces = [{"box": box, "emotion": EMOTIONS[i % len(EMOTIONS)], "probabilities": probabilities}
             for i, box in enumerate(boxes)]
    canvas = draw_faces(np.zeros((height, width, 3), np.uint8), faces, bars=bars, selected=selected)
    assert canvas.shape == (height, width, 3) and canvas.dtype == np.uint8


# Issue 40: damaged files. Each reader returns valid data or raises its one-line error naming the file.

def _damage(data, cut, flips):
    """``data`` cut to ``cut`` bytes (when given) with the bytes at ``flips`` (positions, values) changed."""
    data = bytearray(data if cut is None else data[:cut % (len(data) + 1)])
    for position, value in flips:
        if data:
            data[position % len(data)] ^= value or 1
    return bytes(data)


DAMAGE = {"cut": st.none() | st.integers(0, 10**6),
          "flips": st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3)}


def _one_line_naming(error, path):
    text = str(error)
    assert text.startswith(str(path)) and "\n" not in text, text


@FUZZ
@given(**DAMAGE)
def test_a_damaged_data_archive_loads_or_is_named(tmp_path, cut, flips):
    path = tmp_path / "fer2013.npz"
    np.savez_compressed(path, pixels=np.full((6, 48, 48), 7, np.uint8), emotion=np.arange(6) % 7,
                        usage=np.array([0, 0, 1, 1, 2, 2]))
    path.write_bytes(_damage(path.read_bytes(), cut, flips))
    try:
        data = load_fer2013(path, ferplus=False)
    except DataFormatError as error:
        _one_line_naming(error, path)
        return
    assert data["Training"].faces.dtype == np.uint8


@FUZZ
@given(**DAMAGE)
def test_damaged_cnn_weights_load_or_are_named(tmp_path, cut, flips):
    from fer_classic.cnn.weight_files import WEIGHTS_FORMAT, load_weights

    path = tmp_path / "weights.npz"
    # An architecture that is no network: a file that survives its damage is refused cheaply, still by name.
    np.savez_compressed(path, format=np.array(WEIGHTS_FORMAT), architecture=np.array("no-such-network"),
                        options=np.array("{}"), w000=np.ones((3, 3), np.float16))
    path.write_bytes(_damage(path.read_bytes(), cut, flips))
    with pytest.raises(ValueError) as error:
        load_weights(path)
    _one_line_naming(error.value, path)


CSV_FIELD = st.one_of(st.sampled_from(["0", "6", "7", "-1", "Training", "PublicTest", "PrivateTest", "", " ", '"']),
                      st.text(max_size=12), st.integers(-10**30, 10**30).map(str),
                      st.builds(lambda n, v: " ".join([v] * n), st.sampled_from([2, 2303, 2304, 2305]),
                                st.sampled_from(["0", "255", "256", "-1", "1e3", "99999999999999999999"])),
                      st.builds(lambda n: "9" * n, st.integers(4000, 200_000)))


@FUZZ
@given(rows=st.lists(st.lists(CSV_FIELD, min_size=0, max_size=4), max_size=3), header=st.booleans())
def test_the_csv_reader_reads_or_names_the_file_and_row(tmp_path, rows, header):
    path = tmp_path / "fer2013.csv"
    lines = (["emotion,pixels,Usage"] if header else []) + [",".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    try:
        data = load_fer2013(path, ferplus=False)
    except DataFormatError as error:
        _one_line_naming(error, path)
        assert len(str(error)) < 500
        return
    assert sum(len(split) for split in data.splits.values()) == len(rows)


JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers(-2**70, 2**70) | st.text(max_size=6),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)
ENTRY_FIELDS = ["kind", "file", "sha256", "size_bytes", "method", "metrics", "timings_seconds", "classes", "name",
                "saved", "landmark_predictor"]
SCHEMA_LIKE = st.dictionaries(st.sampled_from(ENTRY_FIELDS), JSON | st.sampled_from(["cnn", "classical", "a.npz"]),
                              max_size=6)
MODELS_LIKE = st.builds(lambda models, extra: {"models": models, **extra},
                        st.dictionaries(st.text(max_size=8) | st.just("/tmp/a.joblib"), SCHEMA_LIKE | JSON,
                                        max_size=3),
                        st.dictionaries(st.sampled_from(["schema", "landmark_predictor"]), JSON, max_size=2))


@FUZZ
@given(content=JSON | MODELS_LIKE)
def test_a_manifest_of_any_json_reads_or_is_named(tmp_path, content):
    from fer_classic.model_files import ModelError
    from fer_classic.store.manifest import Manifest

    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(content))
    try:
        manifest = Manifest.read(path)
    except ModelError as error:
        _one_line_naming(error, path)
        return
    for entry in manifest.models.values():       # what readers ask of an entry works, with the types they expect
        accuracy, seconds = entry.accuracy("PrivateTest"), entry.training_seconds
        assert accuracy is None or (isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool))
        assert seconds is None or (isinstance(seconds, (int, float)) and not isinstance(seconds, bool))
        assert isinstance(entry.to_dict(), dict) and isinstance(entry.file, str) and isinstance(entry.sha256, str)


@FUZZ
@given(content=JSON | MODELS_LIKE)
def test_a_user_registry_of_any_json_lists_or_is_named(content):
    import warnings

    from fer_classic.model_files import ModelError
    from fer_classic.store import list_models, user_registry_path
    from fer_classic.store.catalogue import trusted_hashes

    path = user_registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            models, hashes = list_models(), trusted_hashes()
        except ModelError as error:
            _one_line_naming(error, path)
            return
    assert all(isinstance(h, str) for h in hashes) and all(isinstance(name, str) for name in models)
    assert all(str(w.message) and "\n" not in str(w.message) for w in caught)


@FUZZ
@given(content=JSON | st.fixed_dictionaries(
    {"epoch": JSON, "best_epoch": st.integers(-1, 3), "seconds": st.floats(), "best_score": st.floats(),
     "history": JSON, "recipe": JSON}))
def test_a_checkpoint_state_of_any_json_resumes_or_is_named(tmp_path, content):
    pytest.importorskip("keras")
    from fer_classic.cnn.recipes import Recipe
    from fer_classic.cnn.training import _resume_state

    path = tmp_path / "state.json"
    path.write_text(json.dumps(content))
    try:
        state = _resume_state(tmp_path, "fer-cnn", Recipe(), lambda line: None)
    except ValueError as error:
        _one_line_naming(error, tmp_path)
        return
    assert isinstance(state["epoch"], int) and isinstance(state["history"], list)


@FUZZ
@given(**DAMAGE, rewrite=st.booleans())
def test_a_damaged_feature_cache_entry_is_extracted_again(monkeypatch, cut, flips, rewrite):
    import warnings

    from fer_classic.extract import cache
    from fer_classic.quiet import QUIET_ENV

    monkeypatch.setenv(QUIET_ENV, "")                  # notices as warnings, whatever an earlier main() set
    monkeypatch.setattr(cache, "MIN_DISK_BATCH", 2)
    faces = np.arange(4 * 9, dtype=np.uint8).reshape(4, 3, 3)
    features = lambda f: f.reshape(len(f), -1).astype(np.float32) / 3     # noqa: E731
    expected = features(faces)
    cache.cached_map("Fuzzed", {}, features, [faces])
    [path] = (cache.cache_dir() / "Fuzzed").glob("*.npy")
    damaged = _damage(path.read_bytes(), cut, flips)
    if rewrite:
        np.save(path, expected + 1)         # a valid .npy of the same shape and other values
    else:
        path.write_bytes(damaged)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = cache.cached_map("Fuzzed", {}, features, [faces])
    np.testing.assert_array_equal(again, expected)
    assert len(caught) <= 1 and all(w.filename == str(path) for w in caught)
    path.unlink()


# Names are data (issue 40): any file name, control characters included, prints on one line and round-trips a CSV.
NAMES = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF, blacklist_characters="/\x00"),
                min_size=1, max_size=24)


@FUZZ
@given(name=NAMES)
def test_any_file_name_prints_without_control_characters_and_stays_one_csv_record(name):
    import csv as csv_module

    from fer_classic.paths import csv_cell, csv_value, show_name

    shown = show_name(name)
    assert not any(ord(c) < 32 or ord(c) == 127 for c in shown)
    buffer = io.StringIO()
    csv_module.writer(buffer).writerow([csv_cell(name), "happy"])
    [row] = list(csv_module.reader(io.StringIO(buffer.getvalue())))
    assert csv_value(row[0]) == name and row[1] == "happy"
    assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))


# Outputs against inputs: whatever the names in a folder, predict DIR --out DIR never plans to write over an input,
# and no two images share an output.
@FUZZ
@given(stems=st.lists(st.sampled_from(["a", "b", "a.annotated", "b.annotated", "c-2", "c"]), min_size=1, max_size=8),
       suffixes=st.lists(st.sampled_from([".png", ".jpg", ".bmp"]), min_size=8, max_size=8))
def test_annotated_outputs_never_overwrite_an_input_or_each_other(tmp_path_factory, stems, suffixes):
    from fer_classic.paths import annotated_outputs

    folder = tmp_path_factory.mktemp("photos")
    inputs = {folder / f"{stem}{suffix}" for stem, suffix in zip(stems, suffixes)}
    for path in inputs:
        path.write_bytes(b"")
    try:
        target = annotated_outputs(folder, [str(folder)], "--out")
    except ValueError as error:                   # refused: only because an output would overwrite an input
        assert "overwrite" in str(error)
        return
    outputs = [target(path) for path in sorted(inputs)]
    assert len(set(outputs)) == len(outputs) and not set(outputs) & inputs
