"""Benchmark video and batch processing.

Writes ``benchmarks/results/<date>-<commit>-video-batch/results.{json,md}``:

- **video**: end-to-end frames per second (decode, detect, recognize) on a
  640x480 clip with one face, pinned to one core, for each shipped model;
  median of several runs, with the time per phase;
- **batch**: faces per second on a folder of FER2013 test faces pasted on
  320x240 backgrounds, with 1 and 2 local workers and on a local Dask cluster
  of 2 workers; peak memory (RSS of the whole process tree) at 500 and 2,000
  images.

Usage::

    python benchmarks/video_batch.py [--images 2000] [--frames 150] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data as skdata  # noqa: E402
from skimage.util import img_as_ubyte  # noqa: E402

from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.store import read_manifest  # noqa: E402
from fer_classic.store.provenance import provenance, provenance_line, results_folder, save_results  # noqa: E402
from fer_classic.video.synthetic import astronaut_face, write_drifting_clip  # noqa: E402

BACKGROUNDS = ("coffee", "rocket", "brick", "grass", "gravel", "moon", "page", "horse")
SINGLE_CORE = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def background_images():
    images = []
    for name in BACKGROUNDS:
        image = img_as_ubyte(getattr(skdata, name)())
        image = image if image.ndim == 3 else np.dstack([image] * 3)
        images.append(cv2.resize(np.ascontiguousarray(image[:, :, :3][:, :, ::-1]), (640, 480)))
    return images


def write_clip(path, n_frames, fps=30):
    """640x480 clip: the astronaut's face (with its surroundings) drifting over a photo background."""
    write_drifting_clip(path, [astronaut_face(180, margin=40)], background_images()[0], n_frames, fps, top=150,
                        left=lambda i: 150 + int(120 * np.sin(i / 20)))


def write_batch_folder(folder, faces, seed=0):
    """One JPEG per face: the face enlarged to 96-160 px on a random 320x240 background crop."""
    rng = np.random.default_rng(seed)
    backgrounds = background_images()
    folder.mkdir(parents=True, exist_ok=True)
    for i, face in enumerate(faces):
        source = backgrounds[i % len(backgrounds)]
        top, left = rng.integers(0, source.shape[0] - 240), rng.integers(0, source.shape[1] - 320)
        canvas = source[top:top + 240, left:left + 320].copy()
        side = int(rng.integers(96, 161))
        x, y = rng.integers(0, 320 - side), rng.integers(0, 240 - side)
        canvas[y:y + side, x:x + side] = cv2.cvtColor(cv2.resize(face, (side, side)), cv2.COLOR_GRAY2BGR)
        cv2.imwrite(str(folder / f"face_{i:05d}.jpg"), canvas)


def video_fps(clip, model, repeats, refresh):
    """The video pipeline (the video default detector) pinned to core 0, full scans every ``refresh`` frames;
    median fps over ``repeats`` runs."""
    code = (
        "import json, sys, time, cv2; cv2.setNumThreads(1)\n"
        "from fer_classic import EmotionRecognizer\n"
        "from fer_classic.detect.registry import build_detector\n"
        "from fer_classic.video import process_video\n"
        f"detector = build_detector(video=True, refresh={refresh})\n"
        f"r = EmotionRecognizer.load({model!r}, detector=detector)\n"
        f"process_video({str(clip)!r}, r, progress=False)  # warm-up: model files, landmark predictor\n"
        "runs = []\n"
        f"for _ in range({repeats}):\n"
        "    t = time.perf_counter()\n"
        f"    report = process_video({str(clip)!r}, r, progress=False)\n"
        "    runs.append((time.perf_counter() - t, report))\n"
        "print(json.dumps(runs))\n"
    )
    output = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, env={**os.environ, **SINGLE_CORE}).stdout
    runs = json.loads(output.strip().splitlines()[-1])
    frames = runs[0][1]["stats"]["frames_processed"]
    faces_found = sum(face["frames"] for face in runs[0][1]["faces"].values())
    seconds = [wall for wall, _ in runs]
    phases = {phase: round(statistics.median(r["stats"]["seconds"][phase] for _, r in runs) / frames * 1000, 2)
              for phase in ("decode", "detect", "extract", "classify")}
    return {"model": model, "full_scan_every": refresh, "frames": frames, "frames_with_a_face": faces_found,
            "wall_seconds": seconds,
            "median_fps": round(frames / statistics.median(seconds), 1), "ms_per_frame_by_phase": phases}


def _tree_rss(pid):
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_batch_command(folder, out, extra):
    """Time ``fer-classic batch`` and sample the peak RSS of its process tree."""
    command = [sys.executable, "-m", "fer_classic", "batch", str(folder), "--out", str(out), *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0

    def sample():
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, _ = process.communicate()
    sampler.join()
    seconds = time.perf_counter() - started
    with open(out) as handle:
        rows = handle.read().splitlines()[1:]
    faces = sum(1 for row in rows if row.split(",")[1] not in ("", "0"))
    return {"command": " ".join(["fer-classic", *command[3:]]), "seconds": round(seconds, 2),
            "images": len({row.split(",")[0] for row in rows}), "faces_found": faces,
            "faces_per_second": round(faces / seconds, 1), "images_per_second": round(len(rows) / seconds, 1),
            "peak_rss_mb": round(peak / 2**20, 1), "summary": stdout.strip()}


def to_markdown(record):
    prov = record["provenance"]
    lines = ["# Video and batch", "",
             provenance_line(prov), "",
             "## Video, 640x480, one face, one core (taskset), detection at half size", "",
             "Full scans every 10 frames search only near the last faces in between (the `video` command's default); "
             "every frame is the plain detector.", "",
             "| model | full scan every | frames | median fps | ms/frame decode | detect | extract | classify |",
             "|---|---|---|---|---|---|---|---|"]
    for v in record["video"]:
        p = v["ms_per_frame_by_phase"]
        lines.append(f"| {v['model']} | {v['full_scan_every']} frame(s) | {v['frames']} "
                     f"({v['frames_with_a_face']} with a face) | {v['median_fps']} | "
                     f"{p['decode']} | {p['detect']} | {p['extract']} | {p['classify']} |")
    lines += ["", "## Batch of FER2013 test faces pasted on 320x240 backgrounds", "",
              "| run | images | faces found | seconds | faces/s | images/s | peak RSS (MB) |",
              "|---|---|---|---|---|---|---|"]
    for name, b in record["batch"].items():
        lines.append(f"| {name} | {b['images']} | {b['faces_found']} | {b['seconds']} | {b['faces_per_second']} | "
                     f"{b['images_per_second']} | {b['peak_rss_mb']} |")
    derived = record["derived"]
    lines += ["", f"- speed-up from 1 to 2 local workers: {derived['speedup_1_to_2']}x",
              f"- Dask (local cluster, 2 workers) time / joblib time with 2 workers: {derived['dask_over_joblib']}x",
              f"- peak RSS, 500 images vs {record['batch_images']}: {derived['rss_500_mb']} MB vs "
              f"{derived['rss_full_mb']} MB", ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"),
                        help="folder that receives the dated results folder (default benchmarks/results)")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    data = load_fer2013()
    record = {"provenance": provenance(data), "batch_images": args.images}
    with tempfile.TemporaryDirectory(prefix="fer-classic-video-batch-") as scratch:
        scratch = Path(scratch)
        write_clip(scratch / "clip.mp4", args.frames)
        record["video"] = [video_fps(scratch / "clip.mp4", model, args.repeats, refresh)
                           for model in sorted(read_manifest().models) for refresh in (10, 1)]
        print(json.dumps(record["video"], indent=2), file=sys.stderr)

        faces = np.concatenate([data["PrivateTest"].faces, data["PublicTest"].faces])[:args.images]
        write_batch_folder(scratch / "full", faces)
        write_batch_folder(scratch / "small", faces[:500])
        record["batch"] = {
            "joblib, 1 worker": run_batch_command(scratch / "full", scratch / "one.csv", ["--jobs", "1"]),
            "joblib, 2 workers": run_batch_command(scratch / "full", scratch / "two.csv", ["--jobs", "2"]),
            "dask, 2 workers": run_batch_command(scratch / "full", scratch / "dask.csv",
                                                 ["--jobs", "2", "--backend", "dask"]),
            "joblib, 2 workers, 500 images": run_batch_command(scratch / "small", scratch / "small.csv",
                                                               ["--jobs", "2"]),
        }
    batch = record["batch"]
    record["derived"] = {
        "speedup_1_to_2": round(batch["joblib, 1 worker"]["seconds"] / batch["joblib, 2 workers"]["seconds"], 2),
        "dask_over_joblib": round(batch["dask, 2 workers"]["seconds"] / batch["joblib, 2 workers"]["seconds"], 2),
        "rss_500_mb": batch["joblib, 2 workers, 500 images"]["peak_rss_mb"],
        "rss_full_mb": batch["joblib, 2 workers"]["peak_rss_mb"],
    }
    save_results(results_folder(record, args.results_dir, "video-batch"), record, to_markdown(record))


if __name__ == "__main__":
    main()
