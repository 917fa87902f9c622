"""Hostile and odd input, one regression test per case found (issue 32): nothing lost, no traceback, no hang.

Each test runs the command a user would type and checks the exit status, that
the message is one line on stderr naming the file or option, and that the
files around are as they were.
"""

import csv
import json
import os
import subprocess
import sys

import cv2
import joblib
import numpy as np
import pytest

from fer_classic.cli import main
from fer_classic.store.provenance import check_new_folder, results_folder


@pytest.fixture(scope="module")
def photo(tmp_path_factory, astronaut_bgr):
    path = tmp_path_factory.mktemp("photo") / "photo.jpg"
    cv2.imwrite(str(path), astronaut_bgr)
    return path


def one_error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def odd_folder(tmp_path, astronaut_bgr):
    """A good image, a FIFO named like an image, a symlink loop, and another good image, in that order."""
    folder = tmp_path / "odd"
    folder.mkdir()
    small = cv2.resize(astronaut_bgr, (256, 256))
    cv2.imwrite(str(folder / "a.jpg"), small)
    os.mkfifo(folder / "b_fifo.jpg")
    os.symlink("c_loop2.jpg", folder / "c_loop1.jpg")
    os.symlink("c_loop1.jpg", folder / "c_loop2.jpg")
    cv2.imwrite(str(folder / "d.jpg"), small)
    return folder


def test_fifo_and_symlink_loops_are_per_file_errors_and_the_run_goes_on(odd_folder, tmp_path, capsys):
    assert main(["predict", str(odd_folder)]) == 1               # no hang: the FIFO has no writer
    captured = capsys.readouterr()
    assert captured.out.count("1 face(s)") == 2                 # a.jpg and d.jpg
    errors = captured.err.strip().splitlines()
    assert len(errors) == 3 and "not a regular file: a FIFO" in errors[0]
    assert all("Too many levels of symbolic links" in line for line in errors[1:])
    assert all(line.count("b_fifo.jpg") + line.count("c_loop") == 1 for line in errors)   # the path, once
    for pattern in (str(odd_folder), str(odd_folder / "*.jpg")):
        out = tmp_path / "rows.csv"
        assert main(["batch", pattern, "--out", str(out), "--jobs", "1"]) == 1
        with open(out, newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [bool(row["error"]) for row in rows] == [False, True, True, True, False]
    capsys.readouterr()
    assert main(["explain", str(odd_folder / "b_fifo.jpg"), "--out", str(tmp_path / "e.png")]) == 2
    assert "not a regular file" in one_error_line(capsys)


def test_an_opencv_or_model_error_on_one_image_is_that_images_error(photo, tmp_path, monkeypatch):
    from fer_classic import EmotionRecognizer

    second = tmp_path / "second.jpg"
    second.write_bytes(photo.read_bytes())
    recognizer = EmotionRecognizer.load("classic")
    real_detect = recognizer.detector.detect

    def detect(gray):
        if detect.calls == 0:
            detect.calls += 1
            raise cv2.error("OpenCV(4.x) resize.cpp:4155: error: (-215:Assertion failed) !dsize.empty()")
        return real_detect(gray)

    detect.calls = 0
    monkeypatch.setattr(recognizer.detector, "detect", detect)
    first, after = recognizer.analyze_files([photo, second])
    assert "cannot analyse (error:" in first["error"] and "!dsize.empty()" in first["error"]
    assert len(after["faces"]) == 1


@pytest.mark.parametrize("content, message", [
    (os.urandom(5000), "not a readable model file"),
    (None, "holds a dict, not a classifier"),
])
def test_a_file_that_is_no_classifier_is_refused_in_one_line(photo, tmp_path, content, message, capsys):
    model = tmp_path / "model.joblib"
    if content is None:
        joblib.dump({"weights": [1, 2]}, model)
    else:
        model.write_bytes(content)
    assert main(["predict", str(photo), "--model", str(model), "--trust-model"]) == 2
    assert message in one_error_line(capsys)


def test_data_files_that_are_not_fer2013_are_named(tmp_path, capsys, monkeypatch):
    strings = tmp_path / "strings.npz"
    np.savez(strings, pixels=np.zeros((3, 48, 48), np.uint8), emotion=np.zeros(3, np.uint8),
             usage=np.array(["Training", "PublicTest", "PrivateTest"]))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(np.random.default_rng(0).bytes(3000))
    for path, message in ((strings, "usage codes must be a 1-D array of integers"),
                          (garbage, "not an .npz archive")):
        monkeypatch.setenv("FER2013_PATH", str(path))
        assert main(["evaluate"]) == 2
        err = one_error_line(capsys)
        assert message in err and str(path) in err and "allow_pickle" not in err


def test_outputs_that_cannot_be_written_fail_before_any_work(photo, tmp_path, astronaut_bgr, capsys):
    from .conftest import write_face_video

    clip = tmp_path / "clip.avi"
    write_face_video(clip, astronaut_bgr, n_frames=4)
    cases = [
        (["explain", str(photo), "--out", "/dev/full"], "/dev/full: cannot write: not a regular file"),
        (["video", str(clip), "--plot", "/dev/full"], "/dev/full: cannot write: not a regular file"),
        (["video", str(clip), "--out", str(tmp_path / "missing" / "a.mp4")], "folder"),
        (["video", str(clip), "--out", str(tmp_path / "a.txt")], "use .mp4 or .avi"),
        (["predict", str(photo), "--out", str(tmp_path / "a.txt")], ".txt is not an image format"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = one_error_line(capsys)
        assert message in err and "Assertion" not in err and "encoder" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.avi"]


def test_a_failed_write_is_an_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    from fer_classic.atomic import OutputError, write_text

    target = tmp_path / "results.json"
    target.write_text("old")

    def no_space(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError, match="results.json: cannot write .No space left on device"):
        write_text(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_model_given_as_a_folder_and_empty_folders(photo, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(photo), "--model", str(tmp_path)]) == 2
    assert "is a folder" in one_error_line(capsys)
    assert main(["predict", str(tmp_path / "empty")]) == 1
    assert "no image in" in one_error_line(capsys)


def test_resume_on_a_binary_file_escapes_what_it_quotes(photo, tmp_path, capsys):
    out = tmp_path / "results.csv"
    out.write_bytes(b"\x1b[2J\x1b[31mname\x07,x\n")
    assert main(["batch", str(photo), "--out", str(out), "--resume"]) == 2
    err = one_error_line(capsys)
    assert "\\x1b[2J" in err and "\x1b" not in err and "\x07" not in err
    out.write_bytes(bytes(range(256)))
    assert main(["batch", str(photo), "--out", str(out), "--resume"]) == 2
    assert "not UTF-8 text" in one_error_line(capsys)


def test_results_folders_are_never_reused(tmp_path):
    record = {"provenance": {"date": "2026-12-06T10:00:00", "commit": "abcdef0123"}}
    first = results_folder(record, tmp_path)
    assert first.name == "2026-12-06-abcdef0"
    first.mkdir()
    assert results_folder(record, tmp_path).name == "2026-12-06-abcdef0-2"
    assert results_folder(record, tmp_path, "quick").name == "2026-12-06-abcdef0-quick"
    check_new_folder(tmp_path / "new")
    check_new_folder(first)                                     # empty: fine
    (first / "results.json").write_text("{}")
    with pytest.raises(ValueError, match="already exists and is not an empty folder"):
        check_new_folder(first)


def test_gui_without_a_display_says_so_in_one_line():
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "fer_classic", "gui"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "fer-classic: error: no display to open a window on (DISPLAY is not set): run it on a desktop, over ssh -X, "
        "or under xvfb-run (Debian: apt-get install xvfb)"]


def test_predict_json_stays_one_document_with_bad_files(photo, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\x00" * 10)
    assert main(["predict", str(photo), str(bad), "--json"]) == 1
    results = json.loads(capsys.readouterr().out)
    assert [("error" in r) for r in results] == [False, True]
