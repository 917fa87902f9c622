"""Video: the three phases on every frame, faces tracked across frames, timelines per person.

Per frame: detect faces (on a downscaled copy), give each the identity of the
box it overlaps most in earlier frames (IoU tracking), recognise its
expression, and smooth the probabilities over time with an exponential moving
average.

- :mod:`.capture` opens files and cameras and decodes frames past damage;
- :mod:`.tracking` follows faces and smooths their probabilities;
- :mod:`.timeline` writes the per-frame CSV and the per-face summaries and plots;
- :mod:`.synthetic` writes the synthetic clips the tests, the benchmarks and the comparison measure on.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2

from ..atomic import check_writable
from ..paths import check_outputs, display_path
from .capture import (WRITABLE_VIDEO_SUFFIXES, VideoError, VideoFileWriter, VideoStats, check_video_output,
                      is_camera, open_capture, open_video_writer, read_frames)
from .timeline import TIMELINE_COLUMNS, TimelineSummary, TimelineWriter, timeline_columns
from .tracking import SMOOTHING, EmaSmoother, FaceTracks, IouTracker

PLOT_SUFFIXES = (".png", ".pdf", ".svg")

__all__ = ["PLOT_SUFFIXES", "SMOOTHING", "TIMELINE_COLUMNS", "WRITABLE_VIDEO_SUFFIXES", "EmaSmoother",
           "FaceTracks", "IouTracker", "TimelineSummary", "TimelineWriter", "VideoError", "VideoFileWriter",
           "VideoStats", "analyze_video", "check_video_output", "check_video_outputs", "is_camera", "open_capture",
           "open_video_writer", "process_video", "read_frames", "timeline_columns"]


def analyze_video(capture, recognizer, every=1, smoothing=SMOOTHING, stats=None):
    """Run the recognizer over a video, frame by frame.

    Parameters
    ----------
    capture : cv2.VideoCapture
        From :func:`open_capture`.
    recognizer : fer_classic.EmotionRecognizer
    every : int
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
    for index, frame in read_frames(capture, every, stats):
        timings = {}
        faces = tracks.follow(recognizer.analyze(frame, timings=timings))
        for phase in ("detect", "extract", "classify"):
            stats.seconds[phase] += timings[phase]
        stats.frames_processed += 1
        seconds = index / fps if fps > 0 else time.perf_counter() - started
        yield frame, {"frame": index, "time": round(seconds, 3), "faces": faces}


def check_video_outputs(source, out=None, csv_path=None, plot=None):
    """Refuse, before any work, outputs that are the input or each other, or cannot be written.

    Parameters
    ----------
    source : str, Path or int
        The video file or camera index read.
    out, csv_path, plot : path, optional
        See :func:`process_video`.

    Raises
    ------
    ValueError
        When an output is the input, a folder, or another output, or ``plot``
        is not a PNG, PDF or SVG file.
    VideoError, fer_classic.atomic.OutputError
        When an output's folder is missing, it is a device, or ``out`` is not
        ``.mp4`` or ``.avi``.
    """
    check_outputs([] if is_camera(source) else [source], {"--out": out, "--csv": csv_path, "--plot": plot})
    if out:
        check_video_output(out)
    for path in (csv_path, plot):
        if path:
            check_writable(path)
    if plot and Path(plot).suffix.lower() not in PLOT_SUFFIXES:
        raise ValueError(f"--plot {display_path(plot)}: use one of {', '.join(PLOT_SUFFIXES)}")


def process_video(source, recognizer, out=None, csv_path=None, plot=None, every=1, smoothing=SMOOTHING,
                  progress=True):
    """Analyse a video file or camera and write the requested outputs.

    Parameters
    ----------
    source : str, Path or int
        A file, or a camera index.
    recognizer : fer_classic.EmotionRecognizer
    out : path, optional
        Annotated video (boxes, labels, bars).
    csv_path : path, optional
        Per-frame timeline, with the recognizer's classes as columns: see :func:`timeline_columns`.
    plot : path, optional
        PNG timeline plot.
    every, smoothing
        See :func:`analyze_video`.
    progress : bool
        Show a progress bar with the processing rate.

    Returns
    -------
    dict
        ``faces`` (per face id: frames, dominant class, share of time per
        class of the recognizer) and ``stats`` (frames read, processed and broken, whether
        Ctrl+C stopped it, fps, seconds per phase).

    Raises
    ------
    ValueError, VideoError, fer_classic.atomic.OutputError
        Before anything is read or written, as :func:`check_video_outputs` says;
        an OutputError also when another process is writing ``csv_path``.
    VideoError
        When the source cannot be opened or the video cannot be encoded.
    """
    from tqdm.auto import tqdm

    check_video_outputs(source, out=out, csv_path=csv_path, plot=plot)
    # --csv is locked from here until its writer closes: a second run writing it is refused, naming this one's pid,
    # before a camera is opened.
    timeline = TimelineWriter(csv_path, recognizer.classes) if csv_path else None
    capture = None
    try:
        capture = open_capture(source)
        if hasattr(recognizer.detector, "reset"):
            recognizer.detector.reset()                          # a stateful detector starts afresh per video
        stats, summary = VideoStats(), TimelineSummary(recognizer.classes)
        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
        writer = VideoFileWriter(out, fps / every) if out else None
    except BaseException:
        if capture is not None:
            capture.release()
        if timeline:
            timeline.close(keep=False)      # nothing written, and the lock let go
        raise
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
    bar = tqdm(total=total, unit="frame", disable=not progress, desc=str(source))
    interrupted = finished = False
    try:
        from ..annotate import draw_faces

        for frame, record in analyze_video(capture, recognizer, every=every, smoothing=smoothing, stats=stats):
            summary.add(record)
            if timeline:
                timeline.write(record)
            if writer:
                writer.write(draw_faces(frame, record["faces"]))
            bar.n = record["frame"] + 1
            bar.set_postfix(fps=f"{stats.processing_fps:.1f}", faces=len(record["faces"]), refresh=False)
            bar.update(0)
        finished = True
    except KeyboardInterrupt:
        interrupted = finished = True   # Ctrl+C ends a webcam session: keep and summarise what was done
    finally:
        bar.close()
        capture.release()
        for output in (timeline, writer):
            if output:
                output.close(keep=finished)     # an error mid-way leaves the old outputs as they were
    if plot:
        summary.plot(plot)
    return {"faces": summary.summary(),
            "stats": {"frames_read": stats.frames_read, "frames_processed": stats.frames_processed,
                      "broken_frames": stats.broken_frames, "interrupted": interrupted,
                      "processing_fps": round(stats.processing_fps, 2),
                      "seconds": {k: round(v, 3) for k, v in stats.seconds.items()}}}
