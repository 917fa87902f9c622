"""Distil dlib's 68-point landmark model into the smaller predictor fer_classic ships.

dlib's 68-point model is an ensemble of 7,500 regression trees (15 cascades of
500) and took most of `classic`'s extraction time. This script trains a smaller
ensemble with dlib's own trainer on FER2013 Training crops, with the big
model's points as labels (knowledge distillation: no hand-labelled points are
needed), then measures:

- the time per face of both predictors, interleaved, on one thread;
- how far the student's points fall from the teacher's on PublicTest, in
  48-px pixels and as a fraction of the distance between the eyes;
- `classic` trained and scored with the student's landmarks (a fresh feature
  cache, so nothing computed with the teacher is reused), and its extraction
  throughput, as ``benchmarks/classical.py`` measures it.

With ``--ship``, the student becomes the landmark model that ships
(``models/fer2013_68_landmarks.dat``, recorded in the manifest); the models
built on landmarks must then be retrained (``make train``). Writes
``benchmarks/results/<date>-<commit>-landmark-distillation/``.

Usage::

    python tools/landmark_distillation.py [--train-faces 28709] [--cascades 10] [--trees 100]
                                               [--depth 4] [--oversampling 5] [--jobs 2] [--ship]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

import cv2
import dlib
import numpy as np

# The throughput helpers live in benchmarks/classical.py, which this tool reuses rather than copies.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from classical import (  # noqa: E402
    CLASSIC,
    environment_variable,
    extraction_throughput,
    fresh_cache,
    one_thread,  # a sibling script
)

from fer_classic.classify import build_method, train_method  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.extract.cache import cache_dir  # noqa: E402
from fer_classic.extract.landmarks import SHIPPED_MODEL_FILE, eye_centers, find_dlib_landmark_model, fit_landmarks  # noqa: E402
from fer_classic.extract.transformers import face_landmarks  # noqa: E402
from fer_classic.store import read_manifest, record_landmark_predictor, shipped_models_dir  # noqa: E402
from fer_classic.store.provenance import provenance, provenance_line, results_folder, save_results  # noqa: E402
from fer_classic.workers import DEFAULT_JOBS  # noqa: E402

UPSAMPLE = 2  # as fit_landmarks: the crops are fitted at twice their size


def train_student(faces, teacher_points, options):
    """dlib's shape-predictor trainer on upsampled crops, with the teacher's points as labels."""
    side = faces.shape[1] * UPSAMPLE
    box = dlib.rectangle(0, 0, side - 1, side - 1)
    images = [cv2.resize(face, (side, side), interpolation=cv2.INTER_LINEAR) for face in faces]
    # Back to the upsampled image's integer pixels, where the teacher placed them (inverse of fit_landmarks).
    pixels = np.rint((teacher_points + 0.5) * UPSAMPLE - 0.5).astype(int)
    labels = [[dlib.full_object_detection(box, [dlib.point(int(x), int(y)) for x, y in points])]
              for points in pixels]
    return dlib.train_shape_predictor(images, labels, options)


def ship(student_path, record, data):
    """Copy the student into the shipped models and record its provenance in the manifest."""
    target = shipped_models_dir() / SHIPPED_MODEL_FILE
    shutil.copyfile(student_path, target)
    prov = record["provenance"]
    entry = record_landmark_predictor(target, {
        "kind": "landmarks",
        "description": "68-point dlib shape predictor distilled from dlib's shape_predictor_68_face_landmarks.dat",
        "parameters": record["student"]["options"],
        "data": {"file": data.source.name, "md5": data.md5, "split": "Training",
                 "n_training_faces": record["student"]["train_faces"], "upsample": UPSAMPLE,
                 "labels": "the teacher's points"},
        "teacher": record["teacher"],
        "metrics": {"against_teacher_on_publictest": record["errors"],
                    "ms_per_face_one_thread": record["speed_ms_per_face"]},
        "timings_seconds": {"train": record["student"]["train_seconds"]},
        "trained": {"commit": prov["commit"], "date": prov["date"], "command": prov["command"]}})
    return {"file": str(target), "sha256": entry["sha256"]}


def seconds_per_face(model_path, faces, repeats):
    """Median seconds per face of fit_landmarks with the predictor at ``model_path``, on one thread."""
    with environment_variable("FER_CLASSIC_LANDMARKS", model_path):
        fit_landmarks(faces[:2])  # load outside the timing
        times = []
        with one_thread():
            for _ in range(repeats):
                started = time.perf_counter()
                fit_landmarks(faces)
                times.append((time.perf_counter() - started) / len(faces))
        return times


def point_errors(student, teacher):
    """Mean and median distance in pixels, and the mean normalised by the inter-ocular distance."""
    distances = np.linalg.norm(student - teacher, axis=2)
    right, left = eye_centers(teacher)
    inter_ocular = np.linalg.norm(left - right, axis=1)
    return {"mean_px": round(float(distances.mean()), 3), "median_px": round(float(np.median(distances)), 3),
            "mean_over_inter_ocular": round(float((distances.mean(axis=1) / inter_ocular).mean()), 4),
            "worst_region_mean_px": _worst_region(distances)}


REGIONS = {"jaw": slice(0, 17), "brows": slice(17, 27), "nose": slice(27, 36), "eyes": slice(36, 48),
           "mouth": slice(48, 68)}


def _worst_region(distances):
    means = {name: float(distances[:, part].mean()) for name, part in REGIONS.items()}
    worst = max(means, key=means.get)
    return {"region": worst, "px": round(means[worst], 3), "all": {k: round(v, 3) for k, v in means.items()}}


def to_markdown(record):
    prov, student, speed = record["provenance"], record["student"], record["speed_ms_per_face"]
    lines = ["# Landmark distillation", "",
             provenance_line(prov), "",
             f"Student: {student['options']}, trained on {student['train_faces']} Training crops at "
             f"{UPSAMPLE}x in {student['train_seconds']} s; file {student['size_mb']} MB (teacher "
             f"{record['teacher']['size_mb']} MB).", "",
             "| predictor | ms/face, one thread (median of interleaved runs) |", "|---|---|",
             f"| teacher: dlib's 68-point model | {speed['teacher']} |",
             f"| student | {speed['student']} |", "",
             f"Student against teacher on {record['errors']['faces']} PublicTest faces (48-px crops): mean "
             f"{record['errors']['mean_px']} px, median {record['errors']['median_px']} px, "
             f"{record['errors']['mean_over_inter_ocular']:.1%} of the distance between the eyes. By region (mean "
             f"px): {record['errors']['worst_region_mean_px']['all']}.", ""]
    if "classic_with_student" in record:
        result = record["classic_with_student"]
        lines += [f"## `{CLASSIC}` trained with the student's landmarks (fresh feature cache)", "",
                  "| split | accuracy | macro-F1 |", "|---|---|---|",
                  *[f"| {split} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} |"
                    for split, m in result["metrics"].items()],
                  "", f"Training took {result['seconds']} s, uncached. The shipped `classic` scores "
                  f"{record['classic_shipped_metrics']}.", ""]
    if "extraction_with_student" in record:
        lines += ["## Extraction throughput with the student (uncached, median)", "",
                  *[f"- {t['n_jobs']} core(s): {t['median_faces_per_second']:.0f} faces/s over {t['faces']} faces "
                    f"(runs: {t['seconds']} s)" for t in record["extraction_with_student"]], ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parents[1] / "benchmarks" / "results"))
    parser.add_argument("--train-faces", type=int, default=28709)
    parser.add_argument("--cascades", type=int, default=10)
    parser.add_argument("--trees", type=int, default=100, help="trees per cascade")
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--oversampling", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--extraction-faces", type=int, default=10000)
    parser.add_argument("--skip-classic", action="store_true", help="only train the student and compare the points")
    parser.add_argument("--ship", action="store_true",
                        help="make the student the shipped landmark model (implies --skip-classic)")
    parser.add_argument("--data")
    args = parser.parse_args(argv)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    data = load_fer2013(args.data)
    record = {"provenance": provenance(data)}
    folder = results_folder(record, args.results_dir, "landmark-distillation")

    rng = np.random.default_rng(0)
    train_faces = data["Training"].faces
    chosen = np.sort(rng.choice(len(train_faces), min(args.train_faces, len(train_faces)), replace=False))
    test_faces = data["PublicTest"].faces[:2000]
    teacher_path = find_dlib_landmark_model()
    log("teacher landmarks (cached)")
    teacher_train = face_landmarks(train_faces, model="dlib", n_jobs=args.jobs)[chosen]
    teacher_test = fit_landmarks(test_faces, model="dlib")

    options = dlib.shape_predictor_training_options()
    options.cascade_depth, options.num_trees_per_cascade_level = args.cascades, args.trees
    options.tree_depth, options.oversampling_amount = args.depth, args.oversampling
    options.num_threads, options.be_verbose = args.jobs, False
    described = {"cascades": args.cascades, "trees_per_cascade": args.trees, "tree_depth": args.depth,
                 "oversampling": args.oversampling, "nu": options.nu, "feature_pool_size": options.feature_pool_size}
    student_path = (cache_dir() / "distilled" /
                    f"fer2013-68-c{args.cascades}-t{args.trees}-d{args.depth}-o{args.oversampling}-n{len(chosen)}.dat")
    student_path.parent.mkdir(parents=True, exist_ok=True)
    log(f"training the student on {len(chosen)} faces: {described}")
    started = time.perf_counter()
    train_student(train_faces[chosen], teacher_train, options).save(str(student_path))
    record["student"] = {"options": described, "train_faces": int(len(chosen)),
                         "train_seconds": round(time.perf_counter() - started, 1), "file": student_path.name,
                         "size_mb": round(student_path.stat().st_size / 1e6, 1)}
    record["teacher"] = {"file": teacher_path.name, "size_mb": round(teacher_path.stat().st_size / 1e6, 1)}

    teacher_times, student_times = [], []
    for _ in range(args.repeats):  # interleaved, so a change in the machine's speed hits both
        teacher_times += seconds_per_face(teacher_path, test_faces, 1)
        student_times += seconds_per_face(student_path, test_faces, 1)
    record["speed_ms_per_face"] = {"teacher": round(1000 * statistics.median(teacher_times), 3),
                                   "student": round(1000 * statistics.median(student_times), 3),
                                   "runs_teacher": [round(1000 * t, 3) for t in teacher_times],
                                   "runs_student": [round(1000 * t, 3) for t in student_times]}
    os.environ["FER_CLASSIC_LANDMARKS"] = str(student_path)
    record["errors"] = {"faces": len(test_faces), **point_errors(fit_landmarks(test_faces), teacher_test)}
    if args.ship:
        record["shipped"] = ship(student_path, record, data)
    save_results(folder, record, to_markdown(record), echo=False)
    log(to_markdown(record))

    if not (args.skip_classic or args.ship):
        record["classic_shipped_metrics"] = {split: round(m["accuracy"], 4) for split, m in
                                             read_manifest().models["classic"].metrics.items()}
        with fresh_cache():  # every feature from the student's landmarks
            started = time.perf_counter()
            _, entry = train_method(CLASSIC, data, n_jobs=args.jobs, log=log)
            record["classic_with_student"] = {"metrics": entry["metrics"],
                                              "seconds": round(time.perf_counter() - started, 1)}
            save_results(folder, record, to_markdown(record), echo=False)
            features = build_method(CLASSIC, n_jobs=args.jobs).named_steps["features"].fit(train_faces)
            faces = train_faces[:args.extraction_faces]
            record["extraction_with_student"] = [extraction_throughput(features, faces, jobs, args.repeats)
                                                 for jobs in sorted({1, args.jobs})]
    save_results(folder, record, to_markdown(record))


if __name__ == "__main__":
    main()
