"""The command line on real photos, with the shipped ``classic`` model."""

import json
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fer_classic.cli import main
from fer_classic.store import resolve_model

from .conftest import write_npz


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut_bgr):
    folder = tmp_path_factory.mktemp("photos")
    cv2.imwrite(str(folder / "astronaut.png"), astronaut_bgr)
    cv2.imwrite(str(folder / "blank.png"), np.full((240, 320, 3), 200, np.uint8))
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (folder / "empty.png").write_bytes(b"")
    return folder


def test_classic_model_is_shipped():
    model = resolve_model("classic")
    assert model.source == "shipped" and model.path.stat().st_size <= 25e6
    assert model.entry.metrics["PrivateTest"]["n"] == 3589


def test_predict_astronaut_is_happy(photos, capsys):
    assert main(["predict", str(photos / "astronaut.png"), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    [face] = result["faces"]
    assert face["emotion"] == "happy"
    assert sum(face["probabilities"].values()) == pytest.approx(1.0)
    np.testing.assert_allclose(face["box"], (177, 66, 95, 95), atol=8)


def test_predict_keeps_going_past_bad_files(photos, capsys):
    paths = [photos / "corrupt.jpg", photos / "blank.png", photos / "empty.png", photos / "missing.png",
             photos / "astronaut.png"]
    assert main(["predict", *map(str, paths), "--json"]) == 1
    results = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    assert "not a decodable image" in results[str(photos / "corrupt.jpg")]["error"]
    assert "empty file" in results[str(photos / "empty.png")]["error"]
    assert "cannot read" in results[str(photos / "missing.png")]["error"]
    assert results[str(photos / "blank.png")]["faces"] == []               # no face is not an error
    assert len(results[str(photos / "astronaut.png")]["faces"]) == 1


def test_predict_folder_in_text(photos, capsys):
    assert main(["predict", str(photos)]) == 1
    captured = capsys.readouterr()
    assert "astronaut.png: 1 face(s)" in captured.out and "happy" in captured.out
    assert "blank.png: 0 face(s)" in captured.out and "corrupt.jpg" not in captured.out
    [line] = [line for line in captured.err.splitlines() if "corrupt.jpg" in line]   # errors on stderr, path once
    assert line.count("corrupt.jpg") == 1 and "not a decodable image" in line
    assert "Traceback" not in captured.err


def test_evaluate_json(tmp_path, face_batch, capsys):
    labels = np.full(len(face_batch), 3)
    data = write_npz(tmp_path / "fer2013.npz", face_batch, labels, np.repeat([0, 1, 2], 20))
    assert main(["evaluate", "--model", "classic", "--split", "PrivateTest", "--data", str(data), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {"accuracy", "macro_f1", "per_class_recall", "confusion", "n"}
    assert metrics["n"] == 20 and metrics["per_class_recall"]["happy"] == metrics["accuracy"]


def test_bad_input_is_an_error_message_not_a_traceback(tmp_path, capsys):
    (tmp_path / "fer2013.csv").write_text("emotion,pixels,Usage\n3,1 2,Training\n")
    assert main(["evaluate", "--data", str(tmp_path / "fer2013.csv")]) == 2
    assert "row 2: 2 pixels" in capsys.readouterr().err
    assert main(["predict", "--model", "no-such-model", str(tmp_path)]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_models_lists_classic(capsys):
    assert main(["models"]) == 0
    assert "classic" in capsys.readouterr().out


def test_predict_with_the_from_scratch_cascade(photos, capsys):
    from fer_classic.detect.boxes import box_iou

    assert main(["predict", str(photos / "astronaut.png"), "--cascade", "viola-jones", "--scale-factor", "1.25",
                 "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert box_iou([face["box"] for face in result["faces"]], [(177, 66, 95, 95)]).max() > 0.5


@pytest.mark.parametrize("options, message", [
    (["--min-neighbors", "-1"], "--min-neighbors: must be >= 0 and <= 1000, got -1"),
    (["--min-size", "-5"], "--min-size: must be >= 1 and <= 1000000, got -5"),
    (["--scale-factor", "1"], "--scale-factor: must be >= 1.01 and <= 4.0, got 1"),
    (["--scale-factor", "1.0000001"], "--scale-factor: must be >= 1.01"),
    (["--scale-factor", "inf"], "--scale-factor: must be a finite number, got inf"),
    (["--scale-factor", "1e308"], "--scale-factor: must be >= 1.01 and <= 4.0, got 1e308"),
    (["--scale-factor", "nan"], "--scale-factor: must be a finite number, got nan"),
    (["--min-neighbors", "many"], "invalid int value: 'many'"),
    (["--detector", "no-such"], "invalid choice: 'no-such'"),
])
def test_bad_option_values_are_refused(options, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "photo.png", *options])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("command", [["video", "clip.avi", "--every", "0"], ["video", "clip.avi", "--smoothing", "1"],
                                     ["video", "clip.avi", "--detect-scale", "0"],
                                     ["video", "clip.avi", "--detect-scale", "1e-6"],
                                     ["batch", "photos", "--out", "o.csv", "--jobs", "1000"],
                                     ["train", "--method", "cnn/fer-cnn", "--learning-rate", "inf"],
                                     ["train", "--method", "cnn/fer-cnn", "--width", "0"],
                                     ["train", "--method", "cnn/fer-cnn", "--weight-decay", "-1"],
                                     ["train", "--method", "cnn/fer-cnn", "--warmup-epochs", "-5"],
                                     ["train", "--method", "cnn/fer-cnn", "--mixing-alpha", "0"],
                                     ["train", "--method", "cnn/fer-cnn", "--epochs", "0"],
                                     ["train", "--method", "hog/mlp", "--jobs", "1000"],
                                     ["video", "clip.avi", "--refresh", "0"], ["batch", "photos", "--out", "o.csv",
                                                                               "--jobs", "0"]])
def test_bad_video_batch_and_training_values_are_refused_before_any_work(command, capsys):
    with pytest.raises(SystemExit):
        main(command)
    assert "must be" in capsys.readouterr().err


def test_explicit_data_path_never_falls_back(monkeypatch, capsys):
    monkeypatch.setenv("FER2013_PATH", "/no/such/fer2013.npz")
    assert main(["evaluate"]) == 2
    assert "FER2013_PATH=/no/such/fer2013.npz: no such file or folder" in capsys.readouterr().err


def test_evaluate_names_its_data(tmp_path, face_batch, capsys):
    from fer_classic.data import file_md5

    data = write_npz(tmp_path / "fer2013.npz", face_batch, np.full(len(face_batch), 3), np.repeat([0, 1, 2], 20))
    assert main(["evaluate", "--data", str(data)]) == 0
    assert f"data: {data} (MD5 {file_md5(data)})" in capsys.readouterr().out


def test_file_names_that_are_not_utf8(tmp_path, astronaut_bgr, capsys):
    ok, encoded = cv2.imencode(".png", astronaut_bgr)
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.png"), "wb") as handle:      # Latin-1 bytes
        handle.write(encoded.tobytes())
    assert main(["predict", str(tmp_path)]) == 0
    assert "caf\\xe9.png: 1 face(s)" in capsys.readouterr().out
    assert main(["predict", str(tmp_path), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["file"].endswith("caf\\xe9.png") and len(result["faces"]) == 1


def _default_ctrl_c():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def fer_classic_process(*args):
    """``fer-classic ARGS`` in a child process, its output piped, Ctrl+C handled as in a terminal.

    A shell without job control starts background commands with SIGINT ignored, and children inherit that:
    the Ctrl+C tests would then see the command run to its end.
    """
    return subprocess.Popen([sys.executable, "-m", "fer_classic", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_ctrl_c)


@pytest.fixture(scope="module")
def many_photos(tmp_path_factory, astronaut_bgr):
    """24 small copies of the astronaut: more than a batch chunk (16 files), to interrupt."""
    folder = tmp_path_factory.mktemp("many")
    for i in range(24):
        cv2.imwrite(str(folder / f"astronaut_{i:02d}.jpg"), cv2.resize(astronaut_bgr, (256, 256)))
    return folder


def test_ctrl_c_in_predict_ends_cleanly(many_photos):
    process = fer_classic_process("predict", many_photos)
    first = process.stdout.readline()                           # one file done, 23 to go
    process.send_signal(signal.SIGINT)                          # Ctrl+C
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "astronaut_00.jpg: 1 face(s)" in first
    assert "fer-classic: interrupted after" in err and "Traceback" not in err


def test_ctrl_c_in_predict_json_prints_the_files_done(photos, monkeypatch, capsys):
    from fer_classic.pipeline import EmotionRecognizer

    analyze = EmotionRecognizer.analyze

    def interrupted_on_the_second_call(self, image, *args, **kwargs):
        if interrupted_on_the_second_call.calls:
            raise KeyboardInterrupt
        interrupted_on_the_second_call.calls += 1
        return analyze(self, image, *args, **kwargs)

    interrupted_on_the_second_call.calls = 0
    monkeypatch.setattr(EmotionRecognizer, "analyze", interrupted_on_the_second_call)
    assert main(["predict", str(photos / "astronaut.png"), str(photos / "blank.png"), "--json"]) == 130
    captured = capsys.readouterr()
    [result] = json.loads(captured.out)                         # whole JSON, with the file done
    assert len(result["faces"]) == 1 and "interrupted after 1 file(s)" in captured.err


def test_ctrl_c_in_batch_leaves_a_valid_csv_to_resume(many_photos, tmp_path):
    import csv

    from fer_classic.batch import BATCH_COLUMNS, partial_path

    out = tmp_path / "results.csv"
    process = fer_classic_process("batch", many_photos, "--out", out, "--jobs", "1")
    # The progress bar reaches 16/24 once the first chunk's rows are written and flushed: wait for it on stderr.
    seen = ""
    while "16/24" not in seen and (character := process.stderr.read(1)):
        seen += character
    assert partial_path(out).read_text().count("\n") >= 2
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "interrupted" in err and "Traceback" not in err
    text = out.read_text()
    assert text.endswith("\n")
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert 16 <= len(rows) < 24 and all(len(row) == len(BATCH_COLUMNS) for row in rows)
    assert main(["batch", str(many_photos), "--out", str(out), "--resume", "--jobs", "1"]) == 0
    with open(out, newline="") as handle:
        assert sorted(row["file"] for row in csv.DictReader(handle)) == sorted(map(str, many_photos.iterdir()))


def test_broken_pipe_ends_quietly(photos):
    process = fer_classic_process("predict", photos)
    process.stdout.close()                                      # as `fer-classic predict photos | head -0` does
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_predict_out_writes_one_annotated_image(photos, tmp_path, capsys):
    out = tmp_path / "annotated.png"
    assert main(["predict", str(photos / "astronaut.png"), "--out", str(out), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["annotated"] == str(out)
    drawn, original = cv2.imread(str(out)), cv2.imread(str(photos / "astronaut.png"))
    assert drawn.shape == original.shape and (drawn != original).any()
    assert not list(tmp_path.glob("*.partial"))


def test_predict_out_folder_names_each_image_and_refuses_a_file_for_several(photos, tmp_path, capsys):
    folder = tmp_path / "annotated"
    assert main(["predict", str(photos / "astronaut.png"), str(photos / "blank.png"), "--out", str(folder)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["astronaut.annotated.png", "blank.annotated.png"]
    capsys.readouterr()
    one = tmp_path / "one.png"
    assert main(["predict", str(photos), "--out", str(one)]) == 2
    assert "--out" in capsys.readouterr().err and not one.exists()              # refused before any work


def test_whole_image_detector_gives_one_face_per_crop(tmp_path, astronaut_gray, capsys):
    from fer_classic.pipeline import crop_faces

    from .conftest import ASTRONAUT_BOX

    crop = crop_faces(astronaut_gray, np.array([ASTRONAUT_BOX]))[0]
    cv2.imwrite(str(tmp_path / "crop.png"), crop)
    assert main(["predict", str(tmp_path / "crop.png"), "--detector", "whole-image", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    [face] = result["faces"]
    assert face["box"] == [0, 0, 48, 48]


def test_api_and_cli_find_the_same_faces(photos, capsys):
    from fer_classic import EmotionRecognizer
    from fer_classic.imageio import read_image

    assert main(["predict", str(photos / "astronaut.png"), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    api = EmotionRecognizer.load("classic").analyze(read_image(photos / "astronaut.png"))
    assert [list(f["box"]) for f in api] == [f["box"] for f in result["faces"]]
    assert [f["emotion"] for f in api] == [f["emotion"] for f in result["faces"]]


@pytest.mark.parametrize("model", ["classic", "landmarks", "fer-cnn"])
def test_predict_on_a_good_photo_keeps_stderr_empty(photos, model):
    if model == "fer-cnn":
        pytest.importorskip("keras")
    result = subprocess.run([sys.executable, "-m", "fer_classic", "predict", str(photos / "astronaut.png"),
                             "--model", model], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0 and "happy" in result.stdout
    assert result.stderr == ""
