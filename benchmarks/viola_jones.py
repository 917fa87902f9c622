"""Benchmark the from-scratch Viola-Jones detector against OpenCV's frontal-face cascade.

Measures, and writes to ``benchmarks/results/<date>-<commit>-viola-jones/``:

- the training time of :func:`fer_classic.detect.viola_jones.train_detector`
  (skipped with ``--cascade``, which evaluates an existing cascade instead);
- Haar-feature evaluations per second of both vectorised evaluators (the
  matrix product used in training, the corner gather used in detection),
  median of several runs;
- on the same photos, for both detectors: detection rate, false positives per
  image and seconds per image; and for this package's detector, the same at
  other ``min_neighbors`` (the default was chosen on scenes built from
  training backgrounds and PublicTest faces, not on these).

The photos are ``skimage.data.astronaut()`` (one face, at about x, y, w, h =
177, 66, 95, 95) and scenes made by pasting FER2013 ``PrivateTest`` faces
(never trained on), resized to 60-120 px, at known places into the held-out
backgrounds :data:`~fer_classic.detect.viola_jones.BENCHMARK_BACKGROUNDS` (four
scenes each, every other one mirrored, five faces a scene). A detection finds a face when its intersection over union
with the face's box is at least 0.3; each face is found at most once, and every
detection that finds no face is a false positive.

Usage::

    python benchmarks/viola_jones.py [--out PATH | --cascade PATH] [--jobs 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.detect import HaarCascadeDetector  # noqa: E402

# docs/make_figures.py imports make_scenes and match from here too.
from fer_classic.detect.scenes import IOU_MATCH, make_scenes, match  # noqa: E402
from fer_classic.detect.viola_jones import (  # noqa: E402
    BENCHMARK_BACKGROUNDS,
    ViolaJonesDetector,
    haar_feature_values,
    haar_feature_values_at,
    haar_features,
    integral_image,
    load_cascade,
    train_detector,
    window_origins,
)
from fer_classic.store import sha256  # noqa: E402
from fer_classic.store.provenance import provenance, provenance_line, results_folder, save_results  # noqa: E402
from fer_classic.video.synthetic import ASTRONAUT_BOX  # noqa: E402
from fer_classic.workers import DEFAULT_JOBS  # noqa: E402


def astronaut_scene():
    from skimage import data
    return "astronaut", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY), np.array([ASTRONAUT_BOX], dtype=np.int64)


def evaluate(detector, scenes):
    """Detection rate, false positives per image and seconds per image over all scenes."""
    rows, n_found, n_faces, n_false, seconds = [], 0, 0, 0, []
    for name, image, truth in scenes:
        started = time.perf_counter()
        detections = detector.detect(image)
        seconds.append(time.perf_counter() - started)
        found, false_positives = match(detections, truth)
        rows.append({"scene": name, "faces": len(truth), "found": int(found.sum()),
                     "false_positives": false_positives, "seconds": round(seconds[-1], 3)})
        n_found, n_faces, n_false = n_found + int(found.sum()), n_faces + len(truth), n_false + false_positives
    return {"detection_rate": round(n_found / n_faces, 4), "faces": n_faces, "found": n_found,
            "false_positives_per_image": round(n_false / len(scenes), 3), "images": len(scenes),
            "median_seconds_per_image": round(statistics.median(seconds), 3), "per_scene": rows}


def _median_rate(evaluate, evaluations, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        evaluate()
        times.append(time.perf_counter() - started)
    return {"evaluations": evaluations, "seconds": [round(t, 3) for t in times],
            "median_evaluations_per_second": round(evaluations / statistics.median(times))}


def feature_throughput(repeats, seed=0):
    """Median Haar-feature evaluations per second of both evaluators.

    ``matrix_product``: all 10,344 default features on 2,000 random 24x24
    windows (:func:`haar_feature_values`). ``corner_gather``: 100 of them at
    every window position (step 1) of the 512x512 astronaut photo
    (:func:`haar_feature_values_at`).
    """
    rng = np.random.default_rng(seed)
    features = haar_features()
    integrals = integral_image(rng.integers(0, 256, (2000, 24, 24), dtype=np.uint8))
    gray = astronaut_scene()[1]
    ys, xs = window_origins(gray.shape, (24, 24), step=1)
    few = features[rng.choice(len(features), 100, replace=False)]
    image_integral = integral_image(gray)
    return {"matrix_product": _median_rate(lambda: haar_feature_values(integrals, features),
                                           len(features) * len(integrals), repeats),
            "corner_gather": _median_rate(lambda: haar_feature_values_at(image_integral, ys, xs, few),
                                          len(few) * len(ys), repeats)}


def to_markdown(record):
    prov, training = record["provenance"], record["training"]
    detectors = record["detectors"]
    lines = ["| detector | detection rate | faces found | false positives / image | median s / image |",
             "|---|---|---|---|---|"]
    lines += [f"| {name} | {d['detection_rate']:.3f} | {d['found']} / {d['faces']} | "
              f"{d['false_positives_per_image']:.2f} | {d['median_seconds_per_image']:.3f} |"
              for name, d in detectors.items()]
    names = list(detectors)
    scene_lines = ["| scene | faces | " + " | ".join(f"{n} found / false" for n in names) + " |",
                   "|---|---|" + "---|" * len(names)]
    for rows in zip(*(d["per_scene"] for d in detectors.values())):
        scene_lines.append(f"| {rows[0]['scene']} | {rows[0]['faces']} | "
                           + " | ".join(f"{r['found']} / {r['false_positives']}" for r in rows) + " |")
    goal = record["goal"]
    throughput = record["feature_throughput"]
    sweep_lines = ["| min_neighbors | detection rate | false positives / image |", "|---|---|---|"]
    sweep_lines += [f"| {row['min_neighbors']} | {row['detection_rate']:.3f} | {row['false_positives_per_image']:.2f} |"
                    for row in record["min_neighbors_sweep"]]
    return "\n".join([
        "# Viola-Jones from scratch vs OpenCV's haarcascade_frontalface_default",
        "",
        provenance_line(prov),
        "",
        f"Cascade `{record['cascade']['file']}` (sha256 `{record['cascade']['sha256'][:16]}...`, "
        f"{record['cascade']['size_bytes'] / 1e3:.0f} kB): {record['cascade']['n_stages']} stages, "
        f"{record['cascade']['n_features']} features.",
        "",
        "## Detection (IoU >= 0.3 with a face's box; FER2013 PrivateTest faces in held-out backgrounds, "
        "plus astronaut)",
        "",
        *lines,
        "",
        f"Parameters: {'; '.join(f'{name}: {params}' for name, params in record['detector_parameters'].items())}.",
        "",
        f"Goal: at least 90% of OpenCV's detection rate at no more than twice its false positives per image: "
        f"{goal['detection_rate_ratio']:.2f} of the rate ({'met' if goal['detection_met'] else 'missed'}), "
        f"false positives {goal['false_positive_verdict']}.",
        "",
        *scene_lines,
        "",
        "This package's detector at other `min_neighbors` (same scenes):",
        "",
        *sweep_lines,
        "",
        "## Training",
        "",
        (f"- `train_detector` with {training['n_positives']} faces, {training['n_negatives']} negatives per stage, "
         f"{training['n_jobs']} threads: {training['seconds']:.0f} s; held-out faces passing the cascade "
         f"{training['detection_rate']:.3f}, negative windows passing it {training['false_positive_rate']:.2e}"
         if "seconds" in training else f"- not trained in this run ({training['note']})"),
        "",
        "## Haar-feature evaluations per second (median)",
        "",
        *[f"- {name.replace('_', ' ')}: {t['median_evaluations_per_second']:.3g} per second "
          f"({t['evaluations']} evaluations; runs: {t['seconds']} s)" for name, t in throughput.items()],
        "",
    ])


def goal_verdict(ours, opencv):
    ratio = ours["detection_rate"] / opencv["detection_rate"] if opencv["detection_rate"] else float("inf")
    limit = 2 * opencv["false_positives_per_image"]
    met = ours["false_positives_per_image"] <= limit
    return {"detection_rate_ratio": round(ratio, 3), "detection_met": ratio >= 0.9,
            "false_positives_limit_per_image": round(limit, 3), "false_positives_met": met,
            "false_positive_verdict": f"{ours['false_positives_per_image']:.2f} vs a limit of {limit:.2f} per image "
                                      f"({'met' if met else 'missed'})"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"),
                        help="folder that receives the dated results folder (default benchmarks/results)")
    parser.add_argument("--cascade", help="evaluate this cascade instead of training one")
    parser.add_argument("--out", help="where to keep the trained cascade (default: a temporary file)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", help="FER2013 file or folder (default: discovered)")
    parser.add_argument("--min-neighbors", type=int, nargs="*", default=[2, 3, 4, 6, 8, 10],
                        help="other min_neighbors to try this package's detector at")
    args = parser.parse_args(argv)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    data = load_fer2013(args.data)
    record = {"provenance": provenance(data)}

    with tempfile.TemporaryDirectory() as scratch:
        if args.cascade:
            cascade_path = Path(args.cascade)
            record["training"] = {"note": f"evaluated the existing {cascade_path}"}
        else:
            cascade_path = Path(args.out or Path(scratch) / "viola_jones_cascade.npz")
            record["training"] = train_detector(cascade_path, n_jobs=args.jobs, data=data, log=log)
        cascade = load_cascade(cascade_path)
        record["cascade"] = {"file": str(cascade_path) if args.cascade or args.out else "(temporary)",
                             "sha256": sha256(cascade_path), "size_bytes": cascade_path.stat().st_size,
                             "n_stages": len(cascade.stages), "n_features": cascade.n_features,
                             "min_std": cascade.min_std}

    log("feature evaluation throughput")
    record["feature_throughput"] = feature_throughput(args.repeats)

    scenes = [astronaut_scene(), *make_scenes(data["PrivateTest"].faces)]
    record["scenes"] = {"iou_match": IOU_MATCH, "images": len(scenes),
                        "faces": int(sum(len(truth) for _, _, truth in scenes)),
                        "backgrounds": list(BENCHMARK_BACKGROUNDS), "face_source": "FER2013 PrivateTest"}
    detectors = {"viola-jones (this package)": ViolaJonesDetector(cascade),
                 "opencv frontal-default": HaarCascadeDetector()}
    record["detector_parameters"] = {name: {key: value for key, value in vars(detector).items()
                                            if isinstance(value, (str, int, float, tuple, type(None)))}
                                     for name, detector in detectors.items()}
    record["detectors"] = {}
    for name, detector in detectors.items():
        log(f"detecting with {name}")
        record["detectors"][name] = evaluate(detector, scenes)
    record["goal"] = goal_verdict(*record["detectors"].values())
    record["min_neighbors_sweep"] = []
    for min_neighbors in args.min_neighbors:
        log(f"detecting with min_neighbors={min_neighbors}")
        result = evaluate(ViolaJonesDetector(cascade, min_neighbors=min_neighbors), scenes)
        record["min_neighbors_sweep"].append({"min_neighbors": min_neighbors, **{
            key: result[key] for key in ("detection_rate", "found", "false_positives_per_image")}})

    save_results(results_folder(record, args.results_dir, "viola-jones"), record, to_markdown(record))


if __name__ == "__main__":
    main()
