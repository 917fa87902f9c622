"""Hostile input, round three: outputs nobody can hijack, names that are data, exit codes that tell the truth."""

import contextlib
import csv
import os
import re
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from fer_classic.atomic import OutputError, OutputLock, create_exclusive, lock_path
from fer_classic.batch import finished_rows, partial_path, record_path, run_batch
from fer_classic.cli import main
from fer_classic.paths import csv_cell, csv_value, show_name
from fer_classic.video import TimelineWriter


def blank(path, value=200):
    cv2.imwrite(str(path), np.full((60, 80), value, np.uint8))
    return path


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    blank(images / "a.png")
    blank(images / "b.png", 90)
    return images


def read_records(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_a_link_planted_at_the_partial_name_is_never_written_through_nor_read(folder, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("secret first line\n")
    out = tmp_path / "results.csv"
    os.symlink(victim, partial_path(out))
    run_batch(folder, out, n_jobs=1, progress=False)
    assert victim.read_text() == "secret first line\n"           # the link was replaced, its target untouched
    assert not os.path.lexists(partial_path(out)) and read_records(out)[0][0] == "file"
    os.symlink(victim, partial_path(out))
    with pytest.raises(ValueError, match="symbolic link") as refused:
        run_batch(folder, out, n_jobs=1, resume=True, progress=False)
    assert "secret" not in str(refused.value)
    assert victim.read_text() == "secret first line\n"
    with pytest.raises(OutputError, match="already at that name"):
        create_exclusive(partial_path(out))                      # the primitive itself: O_EXCL | O_NOFOLLOW


@contextlib.contextmanager
def lock_held_elsewhere(out):
    """Another process holding the output lock of ``out`` until the block ends; yields its pid."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from fer_classic.atomic import OutputLock
        with OutputLock({str(out)!r}):
            print("locked", flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        yield holder.pid
    finally:
        holder.communicate("", timeout=60)


def test_a_second_writer_is_refused_naming_the_first(folder, tmp_path, capsys):
    out = tmp_path / "results.csv"
    out.write_text("the first run's\n")
    with lock_held_elsewhere(out) as pid:
        assert main(["batch", str(folder), "--out", str(out), "--jobs", "1"]) == 2
        err = capsys.readouterr().err
        assert f"another process (pid {pid}) is writing it" in err and err.count("\n") == 1
        assert out.read_text() == "the first run's\n"
    assert not lock_path(out).exists()                           # the holder removed it
    lock_path(out).write_text("12345\n")                          # as a run killed outright leaves it: no lock held
    with OutputLock(out):
        assert lock_path(out).read_text() == f"{os.getpid()}\n"
    assert not lock_path(out).exists()
    with OutputLock(out):                                        # and a lock is taken again, in-process too
        with pytest.raises(OutputError, match=f"pid {os.getpid()}"):
            OutputLock(out)


def test_outputs_are_checked_against_the_inputs_and_each_other(tmp_path, capsys, face_batch):
    from .conftest import write_npz

    images = tmp_path / "images"
    images.mkdir()
    blank(images / "x.png")
    before = blank(images / "x.annotated.png", 10).read_bytes()
    assert main(["predict", str(images), "--out", str(images)]) == 2
    assert "would overwrite the input" in capsys.readouterr().err
    assert (images / "x.annotated.png").read_bytes() == before and len(list(images.iterdir())) == 2

    pair = tmp_path / "pair"
    pair.mkdir()
    blank(pair / "a.jpg")
    blank(pair / "a.png", 50)
    out = tmp_path / "annotated"
    assert main(["predict", str(pair), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg.annotated.png", "a.png.annotated.png"]

    data = write_npz(tmp_path / "d.npz", face_batch, np.zeros(len(face_batch)), np.zeros(len(face_batch)))
    saved = data.read_bytes()
    capsys.readouterr()
    assert main(["train", "--method", "hog/svm-linear", "--data", str(data), "--out", str(data)]) == 2
    assert "--data itself" in capsys.readouterr().err and data.read_bytes() == saved
    faces = tmp_path / "faces"
    for name in ("happy", "sad"):
        (faces / name).mkdir(parents=True)
    assert main(["train", "--data", str(faces), "--out", str(faces / "model.joblib")]) == 2
    assert "inside --data" in capsys.readouterr().err and not (faces / "model.joblib").exists()


def test_resume_refuses_a_csv_written_with_another_model_or_detector(folder, tmp_path):
    from fer_classic.store import resolve_model

    out = tmp_path / "results.csv"
    options = {"name": "frontal-default", "scale_factor": None, "min_neighbors": None, "min_size": None}
    run_batch(folder, out, detector_options=options, n_jobs=1, progress=False)
    assert record_path(out).is_file()
    written = out.read_text()
    with pytest.raises(ValueError, match="written with --detector frontal-default, not whole-image"):
        run_batch(folder, out, detector_options={**options, "name": "whole-image"}, n_jobs=1, resume=True,
                  progress=False)
    with pytest.raises(ValueError, match="written with --min-size the default, not 30"):
        run_batch(folder, out, detector_options={**options, "min_size": 30}, n_jobs=1, resume=True, progress=False)
    with pytest.raises(ValueError, match="written with --model classic, not "):
        run_batch(folder, out, model=str(resolve_model("classic").path), detector_options=options, n_jobs=1,
                  resume=True, progress=False)
    assert out.read_text() == written
    assert run_batch(folder, out, detector_options=options, n_jobs=1, resume=True, progress=False)["skipped"] == 1


def test_formula_cells_get_a_quote_and_come_back_on_resume(tmp_path, monkeypatch):
    images = tmp_path / "images"
    images.mkdir()
    blank(images / "=HYPERLINK(1).png")
    (images / "-bad.png").write_bytes(b"not an image")
    (images / "@z.png").write_bytes(b"")
    monkeypatch.chdir(images)
    out = tmp_path / "results.csv"
    counts = run_batch(".", out, n_jobs=1, progress=False)
    assert counts["errors"] == 2
    cells = [record[0] for record in read_records(out)[1:]]
    errors = [record[-1] for record in read_records(out)[1:]]
    assert cells == ["'-bad.png", "'=HYPERLINK(1).png", "'@z.png"]
    assert all(error.startswith("'") for error in errors if error)     # they name the file first
    again = run_batch(".", out, n_jobs=1, resume=True, progress=False)
    assert again["skipped"] == 2 and again["files"] == 1                # read back as the names they are
    assert [record[0] for record in read_records(out)[1:]] == cells
    assert [csv_value(csv_cell(text)) for text in ("=1", "'x", "plain", "\tx")] == ["=1", "'x", "plain", "\tx"]
    writer = TimelineWriter(tmp_path / "video.csv", classes=("=cmd", "calm"))
    writer.close()
    assert read_records(tmp_path / "video.csv")[0][-2:] == ["'=cmd", "calm"]


def test_newlines_and_escapes_in_names_stay_data(tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    tricky = blank(images / "a\nfake line\x1b[31m.png")
    blank(images / "z.png")
    assert main(["predict", str(images)]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and printed.count("\n") == 2 and "a\\x0afake line\\x1b[31m.png" in printed
    assert show_name(tricky).endswith("a\\x0afake line\\x1b[31m.png")
    out = tmp_path / "results.csv"
    assert main(["batch", str(images), "--out", str(out), "--jobs", "1"]) == 0
    assert "\x1b" not in capsys.readouterr().out
    records = read_records(out)
    assert len(records) == 3 and records[1][0] == str(tricky)         # one record per file, the name whole
    text = out.read_text(encoding="utf-8")
    cut = text[:text.index("fake line")]                                 # a cut inside the quoted name
    out.write_text(cut, encoding="utf-8")
    assert finished_rows(out, records[0]) == []
    out.write_text(text, encoding="utf-8")
    again = run_batch(images, out, n_jobs=1, resume=True, progress=False)
    assert again["skipped"] == 1 and again["files"] == 1                # the name with a newline is found done


def test_predict_exits_1_when_an_annotated_image_cannot_be_written(tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    blank(images / "a.png")
    blank(images / "b.png")
    out = tmp_path / "annotated"
    (out / "a.annotated.png").mkdir(parents=True)                        # in the way: a folder at the name
    assert main(["predict", str(images), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "cannot write the annotated image" in err and "a.png" in err
    assert (out / "b.annotated.png").is_file()                            # the others are still made


def test_video_csv_and_the_apps_exports_are_refused_while_another_process_writes_them(tmp_path, capsys,
                                                                                       astronaut_bgr):
    from types import SimpleNamespace

    from fer_classic.gui.export import BatchExporter, write_timeline

    from .conftest import write_face_video

    clip = tmp_path / "clip.avi"
    write_face_video(clip, astronaut_bgr, n_frames=2)
    out = tmp_path / "timeline.csv"
    out.write_text("the first writer's\n")
    with lock_held_elsewhere(out) as pid:
        refused = f"another process (pid {pid}) is writing it"
        capsys.readouterr()
        assert main(["video", str(clip), "--csv", str(out)]) == 2
        err = capsys.readouterr().err
        assert refused in err and err.count("\n") == 1 and "Traceback" not in err
        with pytest.raises(OutputError, match=re.escape(refused)):
            TimelineWriter(out)
        with pytest.raises(OutputError, match=re.escape(refused)):
            write_timeline(out, [{"frame": 0, "time": 0.0, "faces": []}])
        failures = []
        settings = SimpleNamespace(model="classic", detector="frontal-default", scale_factor=None, min_neighbors=None)
        exporter = BatchExporter([blank(tmp_path / "a.png")], out, settings)
        exporter.failed.connect(failures.append)
        exporter.run()                                  # in this thread: refused before the first image is analysed
        assert len(failures) == 1 and refused in failures[0]
        assert out.read_text() == "the first writer's\n"
        assert not list(tmp_path.glob(".timeline.csv.*.partial"))
    writer = TimelineWriter(out)                        # the holder is gone: the lock is taken, and held till close
    with pytest.raises(OutputError, match=f"pid {os.getpid()}"):
        TimelineWriter(out)
    writer.close()
    assert not lock_path(out).exists() and read_records(out)[0][0] == "frame"


@pytest.mark.parametrize("content", [b"[]", b"\xff\xfe", b'{"model": 3, "detector": {}}', b'{"model": "classic"}',
                                     b'{"model": "classic", "detector": []}',
                                     b'{"model": "classic", "detector": {"name": {"x": 1}}}',
                                     b'{"model": "classic", "detector": {}, "classes": "happy"}',
                                     b"[" * 100_000 + b"]" * 100_000, b'{"model": "classic", "detector": {'])
def test_resume_refuses_a_damaged_record_in_one_line_naming_it(folder, tmp_path, capsys, content):
    out = tmp_path / "results.csv"
    run_batch(folder, out, n_jobs=1, progress=False)
    written = out.read_text()
    record_path(out).write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(f"{show_name(record_path(out))} is not the record of a batch run")):
        run_batch(folder, out, n_jobs=1, resume=True, progress=False)
    capsys.readouterr()
    assert main(["batch", str(folder), "--out", str(out), "--jobs", "1", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "is not the record of a batch run" in err and err.count("\n") == 1 and "Traceback" not in err
    assert out.read_text() == written and record_path(out).read_bytes() == content
