import csv
import json
import os

import cv2
import numpy as np
import pytest

from fer_classic import EMOTIONS, EmotionRecognizer
from fer_classic.cli import main
from fer_classic.detect import DownscaledDetector, HaarCascadeDetector, RegionTrackingDetector, box_iou
from fer_classic.video import EmaSmoother, IouTracker, VideoError, open_capture, process_video

from .conftest import write_face_video


@pytest.fixture(scope="module")
def recognizer():
    detector = RegionTrackingDetector(DownscaledDetector(HaarCascadeDetector(), 0.5))
    return EmotionRecognizer.load("classic", detector=detector)


def test_box_iou():
    iou = box_iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]])
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0]])


def test_tracker_keeps_identities_and_starts_new_ones():
    tracker = IouTracker(min_iou=0.3, max_missing=1)
    assert tracker.update([[0, 0, 50, 50], [200, 0, 50, 50]]) == [1, 2]
    assert tracker.update([[205, 2, 50, 50], [3, 1, 50, 50]]) == [2, 1]        # order changed, identities kept
    assert tracker.update([[400, 0, 50, 50]]) == [3]
    tracker.update([])
    assert tracker.update([[0, 0, 50, 50]]) == [4]                             # track 1 expired after 1 miss


def test_smoother():
    smoother = EmaSmoother(0.5)
    np.testing.assert_allclose(smoother.update(1, [1, 0]), [1, 0])
    np.testing.assert_allclose(smoother.update(1, [0, 1]), [0.5, 0.5])
    np.testing.assert_allclose(EmaSmoother(0).update(1, [0, 1]), [0, 1])
    with pytest.raises(ValueError):
        EmaSmoother(1.0)


def test_downscaled_detection_maps_boxes_back(astronaut_bgr):
    full = HaarCascadeDetector().detect(astronaut_bgr)
    half = DownscaledDetector(HaarCascadeDetector(), 0.5).detect(astronaut_bgr)
    assert len(half) == 1 and box_iou(half, full)[0, 0] > 0.7


class RecordingDetector:
    """The Haar cascade, noting the shape of every image it is given."""

    def __init__(self):
        self.calls = []

    def detect(self, image):
        self.calls.append(image.shape)
        return HaarCascadeDetector().detect(image)


def test_region_tracking_scans_near_known_faces(astronaut_bgr):
    recording = RecordingDetector()
    calls = recording.calls
    tracker = RegionTrackingDetector(recording, refresh=3)
    boxes = [tracker.detect(astronaut_bgr) for _ in range(4)]
    assert all(len(b) == 1 and box_iou(b, boxes[0])[0, 0] > 0.8 for b in boxes)
    assert calls[0] == (512, 512) and calls[3] == (512, 512)                # full scans on frames 1 and 4
    assert all(shape[0] < 250 for shape in calls[1:3])                      # frames 2-3: the face's region only
    blank = np.zeros_like(astronaut_bgr)
    assert len(tracker.detect(blank)) == 0                                  # the face left...
    tracker.detect(blank)
    assert calls[-1] == (512, 512)                                          # ...so the next frame scans everything


def test_region_tracking_can_zoom_regions_to_a_face_side(astronaut_bgr):
    recording = RecordingDetector()
    # The Haar cascade's pyramid step is 1.1: zooms on the same lattice keep the box size from wandering.
    tracker = RegionTrackingDetector(recording, refresh=5, face_side=60, pyramid_step=1.1)
    full, *tracked = [tracker.detect(astronaut_bgr) for _ in range(4)]
    side = max(full[0, 2:])
    zoom = 1.1 ** round(np.log(60 / side) / np.log(1.1))
    assert abs(recording.calls[1][0] - 2 * side * zoom) <= 2    # the face's region (plus margins), zoomed
    assert all(len(b) == 1 and box_iou(b, full)[0, 0] > 0.7 for b in tracked)   # mapped back to the frame
    assert len({int(b[0, 2]) for b in tracked}) == 1           # and the same size frame after frame
    with pytest.raises(ValueError, match="face side"):
        RegionTrackingDetector(RecordingDetector(), face_side=0).detect(astronaut_bgr)
    with pytest.raises(ValueError, match="pyramid step"):
        RegionTrackingDetector(RecordingDetector(), face_side=60, pyramid_step=1).detect(astronaut_bgr)


def test_drop_duplicates():
    from fer_classic.detect import drop_duplicates
    kept = drop_duplicates([[0, 0, 10, 10], [1, 1, 10, 10], [50, 50, 20, 20]])
    assert kept.tolist() == [[50, 50, 20, 20], [0, 0, 10, 10]]


def test_video_outputs(tmp_path, astronaut_bgr, recognizer):
    n_frames = write_face_video(tmp_path / "clip.avi", astronaut_bgr)
    report = process_video(tmp_path / "clip.avi", recognizer, out=tmp_path / "annotated.avi",
                           csv_path=tmp_path / "timeline.csv", plot=tmp_path / "timeline.png", every=2,
                           progress=False)
    processed = (n_frames + 1) // 2
    assert report["stats"]["frames_processed"] == processed and report["stats"]["broken_frames"] == 0
    with open(tmp_path / "timeline.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == processed                                              # one face per processed frame
    assert [int(r["frame"]) for r in rows] == list(range(0, n_frames, 2))
    assert {r["face_id"] for r in rows} == {"1"}                               # one identity throughout
    for row in rows:
        assert sum(float(row[e]) for e in EMOTIONS) == pytest.approx(1.0, abs=1e-4)
    annotated = cv2.VideoCapture(str(tmp_path / "annotated.avi"))
    assert int(annotated.get(cv2.CAP_PROP_FRAME_COUNT)) == processed
    ok, frame = annotated.read()
    assert ok and frame.shape == (240, 320, 3)
    assert (tmp_path / "timeline.png").stat().st_size > 5000
    [face] = report["faces"].values()
    assert face["frames"] == processed and sum(face["share"].values()) == pytest.approx(1.0)


def test_corrupted_tail_is_processed_up_to_the_damage(tmp_path, astronaut_bgr, recognizer):
    write_face_video(tmp_path / "clip.avi", astronaut_bgr, n_frames=20)
    data = bytearray((tmp_path / "clip.avi").read_bytes())
    cut = len(data) * 6 // 10
    (tmp_path / "broken.avi").write_bytes(bytes(data[:cut]) + b"\0" * (len(data) - cut))
    report = process_video(tmp_path / "broken.avi", recognizer, csv_path=tmp_path / "t.csv", progress=False)
    stats = report["stats"]
    assert 5 <= stats["frames_processed"] < 20
    assert stats["broken_frames"] >= 1
    assert stats["frames_processed"] + stats["broken_frames"] <= 20
    with open(tmp_path / "t.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == stats["frames_processed"]


def damage_frames(path, frames):
    """Zero the JPEG data of some frames of an MJPG AVI, keeping the container intact: damage in the middle."""
    data = bytearray(path.read_bytes())
    chunks = [i for i in range(len(data) - 10) if data[i:i + 4] == b"00dc" and data[i + 8:i + 10] == b"\xff\xd8"]
    for start in (chunks[k] for k in frames):
        size = int.from_bytes(data[start + 4:start + 8], "little")
        data[start + 8:start + 8 + size] = bytes(size)
    path.write_bytes(bytes(data))


def test_damage_in_the_middle_is_skipped_and_counted(tmp_path, astronaut_bgr):
    from fer_classic.video import VideoStats, read_frames

    write_face_video(tmp_path / "clip.avi", astronaut_bgr, n_frames=60, size=(480, 240))
    damage_frames(tmp_path / "clip.avi", range(15, 45))              # 30 broken frames in a row
    stats = VideoStats()
    indices = [index for index, _ in read_frames(open_capture(tmp_path / "clip.avi"), stats=stats)]
    assert indices == [*range(15), *range(45, 60)]                     # the frames after the damage are kept
    assert stats.broken_frames == 30


def test_outputs_never_overwrite_the_input(tmp_path, astronaut_bgr, capsys):
    clip = tmp_path / "clip.avi"
    write_face_video(clip, astronaut_bgr, n_frames=3)
    before = clip.read_bytes()
    for options in (["--out", str(clip)], ["--csv", str(clip)], ["--plot", str(tmp_path / "." / "clip.avi")],
                    ["--out", str(tmp_path / "a.avi"), "--csv", str(tmp_path / "a.avi")], ["--csv", str(tmp_path)]):
        assert main(["video", str(clip), *options]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "Traceback" not in error
        assert "is an input" in error or "same file" in error or "is a folder" in error
    assert clip.read_bytes() == before and not (tmp_path / "a.avi").exists()


def test_bad_sources_get_clear_errors(tmp_path, capsys):
    with pytest.raises(VideoError, match="missing.mp4: cannot read video .No such file"):
        open_capture(tmp_path / "missing.mp4")
    os.mkfifo(tmp_path / "fifo.mp4")
    with pytest.raises(VideoError, match="not a regular file: a FIFO"):
        open_capture(tmp_path / "fifo.mp4")                     # at once: OpenCV would wait for a writer for ever
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(VideoError, match="cannot open as a video"):
        open_capture(tmp_path / "notes.mp4")
    with pytest.raises(VideoError, match="no camera at index 7"):
        open_capture("7")
    assert main(["video", str(tmp_path / "notes.mp4")]) == 2
    assert "cannot open as a video" in capsys.readouterr().err


def test_video_cli_json(tmp_path, astronaut_bgr, capsys):
    write_face_video(tmp_path / "clip.avi", astronaut_bgr, n_frames=6)
    assert main(["video", str(tmp_path / "clip.avi"), "--json", "--smoothing", "0"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["stats"]["frames_processed"] == 6 and len(report["faces"]) == 1
