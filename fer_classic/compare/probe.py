"""Measure one method in this process, pinned to one core with one thread: ``python -m fer_classic.compare.probe``.

The comparison starts one probe per method, so that a backend's thread pool
is sized for one thread from the start. It prints one JSON line.

``--what latency``: median ms per face at batch 1 over ``--faces`` PrivateTest faces.
``--what video``: frames per second and ms per phase of the end-to-end pipeline on ``--video``.
"""

from __future__ import annotations

import os

if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402


def _video(model, clip, repeats):
    from ..detect.registry import build_detector
    from ..pipeline import EmotionRecognizer
    from ..video import process_video

    recognizer = EmotionRecognizer(model, detector=build_detector(video=True))
    process_video(clip, recognizer, progress=False)  # warm-up
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        report = process_video(clip, recognizer, progress=False)
        runs.append((time.perf_counter() - started, report["stats"]))
    frames = runs[0][1]["frames_processed"]
    face_frames = sum(face["frames"] for face in report["faces"].values())
    wall = statistics.median(seconds for seconds, _ in runs)
    phases = {phase: round(statistics.median(stats["seconds"][phase] for _, stats in runs) / frames * 1000, 2)
              for phase in ("decode", "detect", "extract", "classify")}
    return {"frames": frames, "face_detections": face_frames, "fps": round(frames / wall, 1),
            "ms_per_frame": phases, "repeats": repeats}


def main(argv=None):
    cv2.setNumThreads(1)
    parser = argparse.ArgumentParser(prog="python -m fer_classic.compare.probe")
    parser.add_argument("--method", required=True)
    parser.add_argument("--tag", default="full")
    parser.add_argument("--what", choices=["latency", "video"], required=True)
    parser.add_argument("--data")
    parser.add_argument("--faces", type=int, default=30)
    parser.add_argument("--video")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from ..data import load_fer2013
    from .measure import latency_ms
    from .methods import load_method

    model = load_method(args.method, tag=args.tag, log=lambda line: None).model
    if args.what == "latency":
        faces = load_fer2013(args.data, ferplus=False)["PrivateTest"].faces[:args.faces]
        answer = {"latency_ms": round(latency_ms(model, faces), 3), "faces": len(faces)}
    else:
        answer = _video(model, args.video, args.repeats)
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
