"""Hostile input, round three (issue 40): Ctrl+C at any moment, workers that die with their parent, third-party
chatter kept off stderr unless --verbose, and analyze_files given one path or the file system's root."""

import importlib
import os
import select
import signal
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest

from fer_classic.quiet import QUIET_ENV


def _default_ctrl_c():
    signal.signal(signal.SIGINT, signal.SIG_DFL)      # a shell without job control would leave it ignored


def _clean_env():
    """The test process's environment, less what an in-process ``main()`` of another test may have set."""
    env = dict(os.environ)
    for name in (QUIET_ENV, "PYTHONWARNINGS"):
        env.pop(name, None)
    return env


def test_ctrl_c_during_start_up_is_one_line_and_status_130():
    # Deterministic: the interrupt arrives while `fer-classic` imports numpy, deep inside its start-up, before
    # main() runs; the script is the console script's own two lines.
    code = """if True:
        import os, signal, sys

        class InterruptOnNumpy:
            def find_spec(self, name, path=None, target=None):
                if name == "numpy":
                    os.kill(os.getpid(), signal.SIGINT)
                return None

        sys.meta_path.insert(0, InterruptOnNumpy())
        sys.argv[0] = "fer-classic"
        from fer_classic.cli import main
        sys.exit(main())
    """
    done = subprocess.run([sys.executable, "-c", code, "models"], capture_output=True, text=True, timeout=120,
                          preexec_fn=_default_ctrl_c, env=_clean_env())
    assert done.returncode == 130
    assert done.stderr == "fer-classic: interrupted\n"
    assert "Traceback" not in done.stdout + done.stderr


def test_ctrl_c_anywhere_in_main_is_caught(monkeypatch, capsys):
    import fer_classic.cli as cli

    def interrupted(argv):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_run", interrupted)
    assert cli.main(["models"]) == 130
    assert capsys.readouterr().err == "fer-classic: interrupted\n"


def test_a_worker_dies_when_its_parent_is_killed(tmp_path):
    from fer_classic.workers import die_with_parent

    assert die_with_parent() is False                  # the main process is no worker: nothing changes here
    parent = """if True:
        import multiprocessing, os, signal
        from fer_classic.workers import die_with_parent

        pool = multiprocessing.get_context("fork").Pool(1, initializer=die_with_parent)
        print(pool.apply(os.getpid), flush=True)
        signal.pause()                                  # until killed
    """
    process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True, env=_clean_env())
    try:
        worker = int(process.stdout.readline())
        handle = os.pidfd_open(worker)                  # readable once the worker has ended: an event, not a poll
    finally:
        process.kill()
        process.wait()
    try:
        ended, _, _ = select.select([handle], [], [], 30)
    finally:
        os.close(handle)
    assert ended, "the worker outlived its killed parent by 30 s"


@pytest.fixture(scope="module")
def noisy_files(tmp_path_factory, astronaut_bgr):
    """A PNG that libpng complains about, and a JPEG whose EXIF makes Pillow warn."""
    folder = tmp_path_factory.mktemp("noisy")
    png = bytearray(cv2.imencode(".png", astronaut_bgr)[1].tobytes())
    png[png.find(b"IDAT") + 100] ^= 0xFF
    (folder / "broken.png").write_bytes(png)
    jpeg = cv2.imencode(".jpg", astronaut_bgr)[1].tobytes()
    tiff = (b"II*\x00" + struct.pack("<IH", 8, 1) + struct.pack("<HHII", 0x010F, 2, 100, 1000)
            + struct.pack("<I", 0))                     # one tag whose data lies past the end
    exif = b"Exif\x00\x00" + tiff
    (folder / "odd-exif.jpg").write_bytes(jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
                                          + jpeg[2:])
    return folder


@pytest.mark.parametrize("verbose", [False, True])
def test_third_party_warnings_show_only_with_verbose(noisy_files, verbose):
    args = [sys.executable, "-m", "fer_classic", *(["--verbose"] if verbose else []), "predict",
            str(noisy_files / "broken.png"), str(noisy_files / "odd-exif.jpg")]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, env=_clean_env())
    assert done.returncode == 1                          # broken.png is an error either way
    lines = done.stderr.splitlines()
    assert any("broken.png: not a decodable image" in line for line in lines)
    assert "odd-exif.jpg: 1 face(s)" in done.stdout
    chatter = [line for line in lines if line.startswith("libpng") or "Warning" in line]
    if verbose:
        assert any(line.startswith("libpng error") for line in chatter)
        assert any("UserWarning" in line for line in chatter)
    else:
        assert chatter == []
        assert lines == [line for line in lines if line.startswith(str(noisy_files))]   # each names its file


def test_the_app_quits_on_ctrl_c():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    from fer_classic.gui.app import _quit_on_sigint

    app = QApplication.instance() or QApplication([])
    interrupted = []
    previous = signal.getsignal(signal.SIGINT)
    with _quit_on_sigint(app, interrupted):
        QTimer.singleShot(50, lambda: os.kill(os.getpid(), signal.SIGINT))
        fallback = []
        QTimer.singleShot(10_000, lambda: (fallback.append(True), app.quit()))   # a bound, should the handler never run
        app.exec()
    assert interrupted == [True] and not fallback
    assert signal.getsignal(signal.SIGINT) is previous


def test_analyze_files_takes_one_path_and_refuses_the_root(tmp_path):
    from fer_classic.pipeline import EmotionRecognizer

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "bad.png").write_bytes(b"not an image")
    recognizer = EmotionRecognizer(model=None, detector=object())      # nothing is detected: no file decodes
    for one in (str(folder), folder):
        results = list(recognizer.analyze_files(one))
        assert [r["file"] for r in results] == [str(folder / "bad.png")]
        assert "not a decodable image" in results[0]["error"]
    with pytest.raises(ValueError, match="whole file system"):
        recognizer.analyze_files("/")                    # at once, before any folder is walked
    with pytest.raises(ValueError, match="whole file system"):
        recognizer.analyze_files([str(folder), "/.."])


def test_a_library_essay_is_one_line_unless_verbose(monkeypatch, capsys):
    from sklearn.svm import SVC

    monkeypatch.setenv(QUIET_ENV, "1")                  # restored after the test, as the next one expects
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    commands = importlib.import_module("fer_classic.cli.main")     # the module (fer_classic.cli.main is main())

    def essay(args):
        SVC().fit(np.array([[np.nan], [1.0]]), [0, 1])     # scikit-learn's paragraph on NaN values

    monkeypatch.setattr(commands, "_models", essay)
    assert commands.main(["models"]) == 2
    assert capsys.readouterr().err == "fer-classic: error: Input X contains NaN.\n"
    assert commands.main(["--verbose", "models"]) == 2
    assert "HistGradientBoostingClassifier" in capsys.readouterr().err
