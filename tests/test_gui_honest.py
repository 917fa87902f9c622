"""The desktop app's third round (issue 43), through its real window: honest states and exports, no silent changes.

Run on PySide6 by default, and on PySide2 with ``make test-pyside2``.
"""

import csv

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")         # the GUI and its tests need the [gui]/[dev] extras

from qtpy.QtCore import QRectF  # noqa: E402

from fer_classic import EMOTIONS  # noqa: E402
from fer_classic.gui.widgets import TimelinePlot  # noqa: E402

from .conftest import write_face_video  # noqa: E402
from .test_gui import WAIT_MS, astronaut_png, models_folder, status, window  # noqa: E402, F401


@pytest.fixture
def clip(tmp_path, astronaut_bgr):
    video = tmp_path / "face.avi"
    write_face_video(video, astronaut_bgr, n_frames=30)
    return video


def test_stop_is_not_the_end_and_play_replays_in_a_new_pass(qtbot, window, clip, tmp_path):
    # Issue 43, bug 7: Esc said "finished", and Play and the seek bar were disabled after it.
    with qtbot.waitSignal(window.analysis_shown, timeout=WAIT_MS):
        window.open_video(clip)
    with qtbot.waitSignal(window.stream_finished, timeout=WAIT_MS):
        window.stop_action.trigger()
    assert "face.avi stopped at frame" in status(window) and "of 30" in status(window)
    assert "finished" not in status(window)
    assert window.pause_action.isEnabled() and window.pause_action.text() == "Play"
    assert window.seek_slider.isEnabled() and not window.stop_action.isEnabled()
    with qtbot.waitSignal(window.stream_finished, timeout=WAIT_MS):
        window.pause_action.trigger()               # Play: from the start again
        assert status(window) == "playing face.avi again"   # "stopped" no longer holds
    assert status(window).startswith("face.avi finished: ")
    assert window.playback.current.number == 2
    # Issue 43, bug 1: one pass per export, its frames once each, and the count in the status bar agrees.
    frames = [record["frame"] for record in window.records]
    assert frames[-1] == 29 and frames == sorted(set(frames)) and window.playback.current.first_frame == 0
    assert status(window).startswith(f"face.avi finished: {len(frames)} of 30 frames analysed")
    assert window.export_csv(tmp_path / "timeline.csv")
    with open(tmp_path / "timeline.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["frame"]) for row in rows] == frames
    assert all(len(row["time_s"].split(".")[-1]) <= 3 for row in rows)        # milliseconds, not 0.0333333
    assert "pass 2 (classic, from frame 1)" in status(window)


def test_the_finished_message_goes_when_the_video_replays(qtbot, window, clip):
    with qtbot.waitSignal(window.stream_finished, timeout=WAIT_MS):
        window.open_video(clip)
    assert "finished" in status(window)
    window.set_paused(False)
    assert "finished" not in status(window) and window.stop_action.isEnabled()


def test_the_timeline_breaks_at_a_new_pass(qtbot):
    # Issue 43, bug 6: a vertical line joined the old model's values to the new one's.
    timeline = TimelinePlot()
    qtbot.addWidget(timeline)
    even = dict.fromkeys(EMOTIONS, 1 / 7)
    for seconds, segment in [(0.0, 1), (0.04, 1), (0.08, 2), (0.12, 2)]:
        timeline.add(seconds, even, segment)
    path = timeline.path("happy", QRectF(0, 0, 100, 100), 0.0)
    moves = [path.elementAt(i).isMoveTo() for i in range(path.elementCount())]
    assert moves == [True, False, True, False]
    timeline.resize(600, 150)
    image = timeline.grab().toImage()
    assert not image.isNull()


def test_a_blank_frame_reports_nothing_odd(qtbot, window, tmp_path):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((120, 160), 128, np.uint8))
    with qtbot.waitSignal(window.analysis_shown, timeout=WAIT_MS):
        window.open_files([blank])
    assert "no face found in blank.png" in status(window)
