"""The window's playback state machine and its passes, alone (fer_classic.gui.playback uses no Qt)."""

import pytest

from fer_classic.gui.playback import FINISHED, LOADING, PAUSED, PLAYING, STOPPED, Playback


def face(emotion="happy"):
    return [{"face_id": 1, "box": (0, 0, 10, 10), "emotion": emotion, "probabilities": {emotion: 1.0}}]


def play(playback, frames, model="classic"):
    """Show ``frames`` as the worker would answer them; True when the last one finished the stream."""
    finished = False
    for frame in frames:
        playback.record(frame, frame / 25, face(), model)
        finished = playback.shown(frame)
    return finished


@pytest.fixture
def video():
    playback = Playback()
    playback.open("clip.mp4", camera=False, model_ready=False)
    playback.opened(25.0, 235)
    return playback


def test_a_video_waits_for_its_model_then_plays_to_the_end(video):
    assert video.state == LOADING and video.running
    video.model_ready()
    assert video.state == PLAYING
    assert not play(video, range(0, 200, 2))
    assert not video.at_end(234)            # the reader is ahead of the results
    assert play(video, [234]) and video.state == FINISHED
    assert video.summary() == "clip.mp4 finished: 101 of 235 frames analysed (the others were skipped to keep up)"


def test_stopped_is_not_finished_and_replays(video):
    # Issue 43, bug 7: Esc said "finished: 50 of 235 frames", and Play was disabled after it.
    video.model_ready()
    play(video, range(50))
    assert video.stop() == "clip.mp4 stopped at frame 50 of 235"
    assert video.state == STOPPED and not video.running
    assert video.stop() is None             # once
    assert not video.at_end(60) and video.state == STOPPED
    assert video.set_paused(False)          # Play after a stop: replay from the start
    video.replay()
    assert video.state == PLAYING and video.current.number == 2 and video.rows == []
    play(video, [0, 1])
    assert [row["frame"] for row in video.rows] == [0, 1]


def test_one_pass_per_replay_seek_and_model(video):
    # Issue 43, bug 1: a replay with another model mixed both passes' rows in one CSV, and the counts added up.
    video.model_ready()
    play(video, range(0, 100))
    video.seek(51)                          # a jump back: a new pass from there
    assert video.current.number == 2 and video.rows == []
    play(video, range(51, 60))
    play(video, range(60, 70), model="fer-cnn")         # another model: another pass, from where it came in
    assert video.current.number == 3 and video.current.first_frame == 60
    assert {row["frame"] for row in video.rows} == set(range(60, 70))
    play(video, range(70, 235), model="fer-cnn")
    assert video.at_end(234) and video.state == FINISHED
    assert video.summary() == "clip.mp4 finished: 175 of 175 frames analysed from frame 61 (pass 3, fer-cnn)"
    assert video.set_paused(False)
    video.replay()
    play(video, range(10), model="classic")
    assert video.current.number == 4 and len(video.rows) == 10 and video.current.model == "classic"


def test_a_seek_while_stopped_or_finished_shows_the_frame_paused(video):
    video.model_ready()
    play(video, range(235))
    assert video.at_end(234)
    video.seek(100)
    assert video.state == PAUSED and video.end_frame is None
    assert not video.set_paused(False) and video.state == PLAYING   # resumes from there
    video.stop()
    video.seek(5)
    assert video.state == PAUSED


def test_a_setting_changed_while_paused_replaces_that_frame(video):
    video.model_ready()
    play(video, range(10))
    video.set_paused(True)
    video.record(9, 9 / 25, face("sad"), "classic")
    assert len(video.rows) == 10 and video.rows[-1]["faces"][0]["emotion"] == "sad"
    assert video.current.number == 1


def test_a_model_loading_mid_video_holds_it(video):
    video.model_ready()
    video.model_loading()
    assert video.state == LOADING
    video.set_paused(True)
    assert video.state == PAUSED
    video.model_loading()                   # paused stays paused
    assert video.state == PAUSED


def test_a_camera_that_fails_ends_without_a_summary():
    camera = Playback()
    camera.open("camera 99", camera=True, model_ready=True)
    assert camera.at_end(-1) and camera.state == FINISHED and camera.summary() == ""
    camera.close()
    assert camera.state == "idle" and camera.rows == []
