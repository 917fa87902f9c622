"""A requested output that could not be made is a non-zero exit status (issue 40, item 7)."""

import subprocess
import sys

import cv2

from fer_classic.cli import main


def test_closed_stdout_is_an_error(tmp_path, astronaut_bgr):
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), astronaut_bgr)
    done = subprocess.run([sys.executable, "-m", "fer_classic", "predict", str(photo), "--detector", "whole-image"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120,
                          preexec_fn=lambda: __import__("os").close(1))
    assert done.returncode == 2 and "standard output is closed" in done.stderr


def test_a_video_without_frames_is_an_error(tmp_path, capsys):
    clip = tmp_path / "empty.avi"
    cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 64)).release()
    assert clip.stat().st_size > 0
    assert main(["video", str(clip), "--model", "landmarks"]) == 1
    assert "no frame could be read" in capsys.readouterr().err


def test_benchmark_refuses_a_missing_clip_before_any_work(tmp_path, capsys):
    assert main(["benchmark", "--quick", "--video", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "r")]) == 2
    assert "--video" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_benchmark_exit_status_says_when_the_video_failed(monkeypatch, tmp_path, capsys):
    import fer_classic.compare as compare

    def fake_comparison(*args, **kwargs):
        folder = tmp_path / "results"
        folder.mkdir()
        (folder / "results.md").write_text("table\n")
        return {"methods": [{"name": "classic", "status": "ok", "video": {"error": "cannot read the clip"}}]}, folder

    monkeypatch.setattr(compare, "run_comparison", fake_comparison)
    assert main(["benchmark", "--quick", "--video", "clip.mp4"]) == 1
    assert "video benchmark failed for classic" in capsys.readouterr().err
