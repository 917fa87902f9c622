"""Video: the three phases on every frame, faces tracked across frames, timelines per person.

Per frame: detect faces (on a downscaled copy), give each the identity of the
box it overlaps most in earlier frames (IoU tracking), recognise its
expression, and smooth the probabilities over time with an exponential moving
average. Frames that fail to decode are counted and skipped; a run of them
longer than ``max_broken`` is taken as a damaged end of file.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .data import EMOTIONS
from .detect import box_iou


class VideoError(RuntimeError):
    """A video source that cannot be opened or written; the message names it."""


def open_capture(source):
    """Open a video file, or a camera given as an index (``0`` or ``"0"``).

    Returns
    -------
    cv2.VideoCapture

    Raises
    ------
    VideoError
        When the file is missing, unreadable or needs a codec OpenCV lacks, or
        no camera answers at that index.
    """
    if isinstance(source, int) or str(source).isdigit():
        capture = cv2.VideoCapture(int(source))
        if not capture.isOpened():
            raise VideoError(f"no camera at index {int(source)} (is one connected and free?)")
        return capture
    path = Path(source)
    if not path.is_file():
        raise VideoError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise VideoError(f"{path}: cannot open as a video (unreadable file, or no codec for it in OpenCV)")
    return capture


class IouTracker:
    """Give each box the identity of the track it overlaps most.

    Matching is greedy, best IoU first. A box matching no track starts a new
    one; a track unseen for more than ``max_missing`` processed frames ends.

    Parameters
    ----------
    min_iou : float
        Least overlap that continues a track.
    max_missing : int
    """

    def __init__(self, min_iou=0.3, max_missing=10):
        self.min_iou = min_iou
        self.max_missing = max_missing
        self.tracks = {}            # id -> (last box, frames missing)
        self.next_id = 1

    def update(self, boxes):
        """Identities for ``boxes`` (n, 4), in order; returns a list of n ints."""
        boxes = np.asarray(boxes).reshape(-1, 4)
        track_ids = list(self.tracks)
        ids = [None] * len(boxes)
        if track_ids and len(boxes):
            overlaps = box_iou(boxes, [self.tracks[t][0] for t in track_ids])
            for flat in np.argsort(-overlaps, axis=None):
                row, column = divmod(int(flat), len(track_ids))
                if overlaps[row, column] < self.min_iou:
                    break
                if ids[row] is None and track_ids[column] not in ids:
                    ids[row] = track_ids[column]
        for row, box in enumerate(boxes):
            if ids[row] is None:
                ids[row] = self.next_id
                self.next_id += 1
            self.tracks[ids[row]] = (box, 0)
        for track in set(track_ids) - set(ids):
            box, missing = self.tracks[track]
            if missing + 1 > self.max_missing:
                del self.tracks[track]
            else:
                self.tracks[track] = (box, missing + 1)
        return ids


class EmaSmoother:
    """Exponential moving average of each face's probabilities over time.

    ``smoothed = (1 - smoothing) * new + smoothing * previous``; 0 switches it off.
    """

    def __init__(self, smoothing=0.5):
        if not 0 <= smoothing < 1:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        self.smoothing = smoothing
        self.state = {}

    def update(self, face_id, probabilities):
        probabilities = np.asarray(probabilities, dtype=np.float64)
        previous = self.state.get(face_id)
        smoothed = (probabilities if previous is None
                    else (1 - self.smoothing) * probabilities + self.smoothing * previous)
        self.state[face_id] = smoothed
        return smoothed


@dataclass
class VideoStats:
    """What a run did: frames read, processed and broken, and time per phase."""

    frames_read: int = 0
    frames_processed: int = 0
    broken_frames: int = 0
    stopped_at_damage: bool = False
    seconds: dict = field(default_factory=lambda: {"decode": 0.0, "detect": 0.0, "extract": 0.0, "classify": 0.0})

    @property
    def processing_fps(self):
        """Processed frames per second of decoding and the three phases."""
        busy = sum(self.seconds.values())
        return self.frames_processed / busy if busy else 0.0


class FaceTracks:
    """Identities and smoothed probabilities of the faces of one stream.

    Parameters
    ----------
    smoothing : float
        See :class:`EmaSmoother`; 0 switches smoothing off.
    """

    def __init__(self, smoothing=0.5):
        self.tracker = IouTracker()
        self.smoother = EmaSmoother(smoothing)

    def set_smoothing(self, smoothing):
        """Restart the averages with a new strength; identities are kept."""
        if smoothing != self.smoother.smoothing:
            self.smoother = EmaSmoother(smoothing)

    def follow(self, faces):
        """Give each face (dicts from ``analyze``) its track's ``face_id``; smooth its probabilities in place."""
        for face, face_id in zip(faces, self.tracker.update([f["box"] for f in faces])):
            smoothed = self.smoother.update(face_id, [face["probabilities"][e] for e in EMOTIONS])
            face.update(face_id=face_id, emotion=EMOTIONS[int(smoothed.argmax())],
                        probabilities=dict(zip(EMOTIONS, smoothed.tolist())))
        return faces


def read_frames(capture, every=1, max_broken=25, stats=None):
    """Decode frames, skipping the undecodable ones.

    Parameters
    ----------
    capture : cv2.VideoCapture
        From :func:`open_capture`.
    every : int
        Decode one frame in ``every`` (the others are only grabbed).
    max_broken : int
        Consecutive undecodable frames after which the rest of the file is
        taken as damaged.
    stats : VideoStats, optional
        Counts frames read and broken, and decoding time.

    Yields
    ------
    index : int
        Frame number in the file, from 0.
    frame : ndarray of uint8, shape (h, w, 3)
        BGR.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    stats = stats if stats is not None else VideoStats()
    expected = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    index, consecutive_broken = -1, 0
    while True:
        tick = time.perf_counter()
        grabbed = capture.grab()
        index += 1
        frame = None
        if grabbed:
            stats.frames_read += 1
            if index % every:
                continue
            ok, frame = capture.retrieve()
            stats.seconds["decode"] += time.perf_counter() - tick
            frame = frame if ok and frame is not None and frame.size else None
        elif expected <= 0 or index >= expected:
            return                                      # past the known length (or none is known): the end
        if frame is None:
            stats.broken_frames += 1
            consecutive_broken += 1
            if consecutive_broken > max_broken:
                stats.stopped_at_damage = True
                return
            continue
        consecutive_broken = 0
        yield index, frame


def analyze_video(capture, recognizer, every=1, smoothing=0.5, max_broken=25, stats=None):
    """Run the recognizer over a video, frame by frame.

    Parameters
    ----------
    capture : cv2.VideoCapture
        From :func:`open_capture`.
    recognizer : fer_classic.EmotionRecognizer
    every, max_broken
        See :func:`read_frames`.
    smoothing : float
        See :class:`EmaSmoother`; 0 switches smoothing off.
    stats : VideoStats, optional
        Filled in as the run goes.

    Yields
    ------
    frame : ndarray of uint8, shape (h, w, 3)
        BGR.
    record : dict
        ``frame`` (index), ``time`` (seconds) and ``faces``: per face
        ``face_id``, ``box``, ``emotion`` and smoothed ``probabilities``.
    """
    stats = stats if stats is not None else VideoStats()
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    tracks = FaceTracks(smoothing)
    started = time.perf_counter()
    for index, frame in read_frames(capture, every, max_broken, stats):
        timings = {}
        faces = tracks.follow(recognizer.analyze(frame, timings=timings))
        for phase in ("detect", "extract", "classify"):
            stats.seconds[phase] += timings[phase]
        stats.frames_processed += 1
        seconds = index / fps if fps > 0 else time.perf_counter() - started
        yield frame, {"frame": index, "time": round(seconds, 3), "faces": faces}


TIMELINE_COLUMNS = ["frame", "time_s", "face_id", "x", "y", "w", "h", *EMOTIONS]


class TimelineWriter:
    """Per-frame CSV, one row per face, flushed after every frame so an interrupted run keeps its rows."""

    def __init__(self, path):
        self.path = Path(path)
        self.handle = open(self.path, "w", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(TIMELINE_COLUMNS)

    def write(self, record):
        for face in record["faces"]:
            self.writer.writerow([record["frame"], record["time"], face["face_id"], *face["box"],
                                  *(f"{face['probabilities'][e]:.5f}" for e in EMOTIONS)])
        self.handle.flush()

    def close(self):
        self.handle.close()


class TimelineSummary:
    """Per face: frames seen, share of frames in each emotion, dominant emotion; and the series to plot."""

    def __init__(self):
        self.series = {}            # face id -> list of (time, probabilities)

    def add(self, record):
        for face in record["faces"]:
            self.series.setdefault(face["face_id"], []).append(
                (record["time"], [face["probabilities"][e] for e in EMOTIONS]))

    def summary(self):
        faces = {}
        for face_id, points in self.series.items():
            decisions = np.bincount(np.argmax([p for _, p in points], axis=1), minlength=len(EMOTIONS))
            share = decisions / decisions.sum()
            faces[face_id] = {"frames": len(points), "dominant": EMOTIONS[int(share.argmax())],
                              "share": {e: round(float(s), 4) for e, s in zip(EMOTIONS, share)}}
        return faces

    def plot(self, path):
        """A PNG with one panel per face: the seven probabilities over time."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .annotate import emotion_colors_float

        ids = sorted(self.series) or [None]
        figure, axes = plt.subplots(len(ids), 1, figsize=(10, 2.6 * len(ids)), squeeze=False, sharex=True)
        for axis, face_id in zip(axes[:, 0], ids):
            points = self.series.get(face_id, [])
            if points:
                times = [t for t, _ in points]
                values = np.array([p for _, p in points])
                for k, (emotion, color) in enumerate(zip(EMOTIONS, emotion_colors_float())):
                    axis.plot(times, values[:, k], color=color, label=emotion, linewidth=1.4)
            axis.set_ylim(0, 1)
            axis.set_ylabel(f"face #{face_id}" if face_id else "no faces")
        axes[0, 0].legend(ncol=7, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1.3))
        axes[-1, 0].set_xlabel("time (s)")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)


def open_video_writer(path, fps, size):
    """A ``cv2.VideoWriter`` (mp4v for .mp4, MJPG for .avi), checked to be open."""
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if str(path).lower().endswith(".avi") else "mp4v"))
    writer = cv2.VideoWriter(str(path), fourcc, fps, size)
    if not writer.isOpened():
        raise VideoError(f"{path}: cannot write video (no encoder for this container in OpenCV; try .avi or .mp4)")
    return writer


def process_video(source, recognizer, out=None, csv_path=None, plot=None, every=1, smoothing=0.5, progress=True):
    """Analyse a video file or camera and write the requested outputs.

    Parameters
    ----------
    source : str, Path or int
        A file, or a camera index.
    recognizer : fer_classic.EmotionRecognizer
    out : path, optional
        Annotated video (boxes, labels, bars).
    csv_path : path, optional
        Per-frame timeline, see :data:`TIMELINE_COLUMNS`.
    plot : path, optional
        PNG timeline plot.
    every, smoothing
        See :func:`analyze_video`.
    progress : bool
        Show a progress bar with the processing rate.

    Returns
    -------
    dict
        ``faces`` (per face id: frames, dominant emotion, share of time per
        emotion) and ``stats`` (frames read, processed and broken, whether
        Ctrl+C stopped it, fps, seconds per phase).
    """
    from tqdm.auto import tqdm

    capture = open_capture(source)
    if hasattr(recognizer.detector, "reset"):
        recognizer.detector.reset()                          # a stateful detector starts afresh per video
    stats, summary = VideoStats(), TimelineSummary()
    timeline = TimelineWriter(csv_path) if csv_path else None
    writer = None
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
    bar = tqdm(total=total, unit="frame", disable=not progress, desc=str(source))
    interrupted = False
    try:
        from .annotate import draw_faces

        for frame, record in analyze_video(capture, recognizer, every=every, smoothing=smoothing, stats=stats):
            summary.add(record)
            if timeline:
                timeline.write(record)
            if out:
                if writer is None:
                    writer = open_video_writer(out, fps / every, (frame.shape[1], frame.shape[0]))
                writer.write(draw_faces(frame, record["faces"]))
            bar.n = record["frame"] + 1
            bar.set_postfix(fps=f"{stats.processing_fps:.1f}", faces=len(record["faces"]), refresh=False)
            bar.update(0)
    except KeyboardInterrupt:
        interrupted = True              # Ctrl+C ends a webcam session: keep and summarise what was done
    finally:
        bar.close()
        capture.release()
        if timeline:
            timeline.close()
        if writer is not None:
            writer.release()
    if plot:
        summary.plot(plot)
    return {"faces": summary.summary(),
            "stats": {"frames_read": stats.frames_read, "frames_processed": stats.frames_processed,
                      "broken_frames": stats.broken_frames, "stopped_at_damage": stats.stopped_at_damage,
                      "interrupted": interrupted,
                      "processing_fps": round(stats.processing_fps, 2),
                      "seconds": {k: round(v, 3) for k, v in stats.seconds.items()}}}
