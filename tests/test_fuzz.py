"""Property-based tests: every numeric option, the image reader, the resume reader and the data reader, fuzzed.

Each property says what any input must lead to: a value in range or one clear
error, never a traceback, a hang or a crash inside OpenCV. The examples are
derandomized, so the suite is deterministic.
"""

import argparse
import contextlib
import io
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
