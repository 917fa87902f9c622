"""``fer-classic``: the command line, a thin shell over :mod:`fer_classic`."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import textwrap
from pathlib import Path

from .. import __version__, quiet_libraries
from ..cnn.architectures import ARCHITECTURES as CNN_ARCHITECTURES, check_architecture
from ..cnn.runtimes import RUNTIMES as CNN_RUNTIMES
from ..cnn.recipes import MIXING, OPTIMIZERS
from ..cnn.tta import TTA_MODES
from ..data import load_fer2013
from ..extract.cache import show_progress
from ..detect.registry import (DEFAULT_MIN_NEIGHBORS, DEFAULT_SCALE_FACTOR, DETECT_SCALE, DETECT_SCALE_RANGE,
                               DETECTORS, MIN_NEIGHBORS, MIN_SIZE, PHOTO_DETECTOR, REFRESH, SCALE_FACTOR,
                               SCALE_FACTOR_RANGE, VIDEO_DETECTOR, VIOLA_JONES_FILE, build_detector)
from ..extract.landmarks import LANDMARK_MODELS
from ..method_name import MethodName
from ..model_files import DEFAULT_MODEL
from ..paths import IMAGE_SUFFIXES, annotated_outputs, check_outputs, display_path, printable, show_name
from ..store.catalogue import UntrustedModelError
from ..video.tracking import SMOOTHING
from ..workers import DEFAULT_JOBS

INTERRUPTED = 130           # the exit status of a command stopped by Ctrl+C (128 + SIGINT)


def _train(args):
    from ..labelled import is_labelled_source
    from ..store import model_output, save_model

    if args.data and is_labelled_source(args.data):
        return _train_own(args)
    for option in ("cv", "groups", "json"):
        if getattr(args, option):
            raise ValueError(f"--{option} applies to your own labelled faces (--data DIR or labels.csv), not to "
                             "FER2013, whose splits are fixed")
    if args.method is None:
        raise ValueError("--method: required to train on FER2013 (`fer-classic train --help` lists them); it is "
                         "optional only for your own faces (--data DIR)")
    try:  # before the data: a typo must not cost a load
        method = MethodName.parse(args.method)
        if method.family == "cnn":
            check_architecture(method.classifier)
        else:
            if any(feature.startswith("cnn-") for feature in method.features):
                from ..cnn import embeddings  # noqa: F401  registers the cnn-* features
            from ..classify import parse_method

            parse_method(args.method)
    except ValueError as error:
        raise ValueError(f"--method: {error}") from None
    from ..paths import check_outside

    check_outside(args.out, args.data)      # --out over or inside --data: refused before the data is loaded
    cnn = method.family == "cnn"
    out = model_output(args.out, method.classifier if cnn else method.file_stem, ".npz" if cnn else ".joblib")
    data = load_fer2013(args.data)
    for note in data.notes:
        print(note, file=sys.stderr)
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if cnn:
        return _train_cnn(args, data, out, log)
    from ..classify import train_method

    model, entry = train_method(args.method, data, flip=not args.no_flip, mirror_test=not args.no_mirror_test,
                                n_jobs=args.jobs, landmark_model=args.landmarks, log=log)
    entry = save_model(model, out, entry)
    accuracy = entry.accuracy("PrivateTest")
    peak = entry.peak_memory_mb
    print(f"saved {out} ({entry.size_bytes / 1e6:.1f} MB) in {out.parent / 'manifest.json'}; "
          f"trained in {entry.training_seconds:.0f} s"
          f"{f', peak memory {peak / 1024:.1f} GB' if peak else ''}; PrivateTest accuracy {accuracy:.4f}")
    return 0


def _progress(iterable, desc):
    """A progress bar on stderr, shown on a terminal only."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, unit=" " + desc.split()[-1], file=sys.stderr, disable=None, leave=False)


def _labelled_faces(args):
    """The faces of ``--data`` (a labelled folder or CSV) through the detector options; skipped files named."""
    from ..own_faces import load_labelled_faces

    faces = load_labelled_faces(args.data, _detector(args), groups=getattr(args, "groups", None),
                                progress=lambda items: _progress(items, "files"))
    for skipped in faces.skipped:
        print(f"fer-classic: skipped {printable(skipped['path'])}: {skipped['reason']}", file=sys.stderr)
    return faces


def _train_own(args):
    """Train on your own labelled faces: cross-validate if asked, fit on every face, save with the class names."""
    import numpy as np

    from ..classify.metrics import format_metrics
    from ..own_faces import check_method, save_own_model, train_own_model
    from ..store import model_output

    for option in ("no_flip", "no_mirror_test", "landmarks"):
        if getattr(args, option):
            raise ValueError(f"--{option.replace('_', '-')} applies to FER2013 training only")
    if args.method is not None:
        try:
            if MethodName.parse(args.method).family == "cnn":
                raise ValueError("your own faces train an SVM on features, not a CNN: use <features>/<classifier>")
            check_method(args.method)
        except ValueError as error:
            raise ValueError(f"--method: {error}") from None
    from ..paths import check_outside

    check_outside(args.out, args.data)      # --out over or inside --data: refused before the faces are read
    out = model_output(args.out, Path(args.data).stem or "my-faces")
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    data = _labelled_faces(args)
    counts = dict(zip(*np.unique(data.labels, return_counts=True)))
    persons = f", {len(np.unique(data.groups))} persons" if data.groups is not None else ""
    log(f"{display_path(data.source)}: {len(data)} faces of {len(counts)} classes "
        f"({', '.join(f'{name} {count}' for name, count in counts.items())}){persons}; "
        f"{len(data.skipped)} file(s) skipped")
    classifier, report = train_own_model(data, args.method, folds=args.cv, n_jobs=args.jobs, progress=_progress,
                                         log=log)
    entry, outputs = save_own_model(classifier, out, report, data)
    cv = report["cv"]
    if args.json:
        print(json.dumps({**report, "skipped": data.skipped, "model": str(out), "report": str(outputs["report"]),
                          "confusion_png": str(outputs["confusion"]) if outputs["confusion"] else None}, indent=2))
        return 0
    if cv:
        grouped = "grouped by person" if cv["grouped"] else "not grouped by person: add --groups for an honest score"
        print(format_metrics({**cv, "n": cv["n_faces"], "accuracy": cv["pooled_accuracy"]},
                             f"{report['method']}, {cv['folds']}-fold cross-validation ({grouped})"))
        print(f"accuracy over the folds: {cv['accuracy']:.4f} ± {cv['accuracy_sd']:.4f} (mean ± sd)")
    else:
        print("no cross-validation: add --cv 10 (and --groups REGEX) for an honest score")
    print(f"saved {display_path(out)} ({entry.size_bytes / 1e6:.1f} MB, classes {', '.join(report['classes'])}) in "
          f"{report['seconds']:.1f} s; report {display_path(outputs['report'])}"
          + (f", confusion matrix {display_path(outputs['confusion'])}" if outputs["confusion"] else ""))
    print(f"use it: fer-classic predict photo.jpg --model {out.stem}")
    return 0


RECIPE_OPTIONS = ("epochs", "batch_size", "optimizer", "learning_rate", "weight_decay", "warmup_epochs",
                  "label_smoothing", "mixing", "mixing_alpha", "erasing", "patience", "input_size", "width",
                  "batch_norm", "stem_stride")


def _train_cnn(args, data, out, log):
    """Train a CNN by its recipe (options override it) into ``out``; the shipped folder receives only a network that
    learned."""
    from ..cnn.method import train_cnn_method
    from ..cnn.recipes import recipe_for
    from ..extract.cache import cache_dir
    from ..store import check_integrity, resolve_model, save_model, shipped_models_dir

    architecture = MethodName.parse(args.method).classifier
    recipe = recipe_for(architecture, **{name: getattr(args, name) for name in RECIPE_OPTIONS})
    checkpoints = Path(args.checkpoint_dir) if args.checkpoint_dir else cache_dir() / "checkpoints" / architecture
    warm_start = warm_start_entry = None
    if args.warm_start:
        start = resolve_model(args.warm_start)
        check_integrity(start)
        # A manifest beside a loose file proves nothing, so only a registered model's history is counted.
        warm_start, warm_start_entry = start.path, start.entry if start.source != "file" else None
    log(f"training {architecture}, checkpoints in {checkpoints}; recipe: {recipe}")
    model, entry = train_cnn_method(architecture, data, recipe=recipe, seed=args.seed, tta=args.tta,
                                    checkpoint_dir=checkpoints, resume=args.resume, warm_start=warm_start,
                                    warm_start_entry=warm_start_entry, log=log)
    if not entry["shipping"]["ok"] and out.resolve().parent == shipped_models_dir().resolve():
        log(f"not saved among the shipped models: {entry['shipping']['reason']}")
        out = checkpoints / f"{architecture}.npz"
    entry = save_model(model, out, entry)
    print(f"saved {out} ({entry.size_bytes / 1e6:.1f} MB) in {out.parent / 'manifest.json'}; "
          f"trained in {entry.training_seconds:.0f} s; PublicTest accuracy {entry.accuracy('PublicTest'):.4f}")
    return 0


def _benchmark(args):
    from ..compare import compared_methods, run_comparison

    if args.list:
        print("\n".join(compared_methods()))
        return 0
    methods = [m.strip() for m in args.methods.split(",")] if args.methods else None
    splits = ["PublicTest", "PrivateTest"] if args.split == "both" else [args.split]
    record, folder = run_comparison(methods, splits=splits, quick=args.quick, train_missing=args.train_missing,
                                    jobs=args.jobs, video=args.video, out=args.out, data_path=args.data,
                                    log=lambda line: print(line, file=sys.stderr))
    print((folder / "results.md").read_text())
    print(f"wrote {folder}")
    failed = [row["name"] for row in record["methods"] if row["status"] == "failed"]
    if failed:
        print(f"failed: {', '.join(failed)} (see results.md)", file=sys.stderr)
    # A clip that could not be read is a measurement not made: an error, though the accuracies stand.
    video_failed = [row["name"] for row in record["methods"] if "error" in (row.get("video") or {})]
    if video_failed:
        print(f"fer-classic: error: the video benchmark failed for {', '.join(video_failed)} (see results.md)",
              file=sys.stderr)
    return 1 if failed or video_failed else 0


def _evaluate(args):
    from ..classify.metrics import format_metrics
    from ..labelled import is_labelled_source
    from ..pipeline import EmotionRecognizer

    labelled = bool(args.data) and is_labelled_source(args.data)
    if labelled and args.split:
        raise ValueError("--split applies to FER2013; a labelled folder or CSV is scored whole")
    if not labelled and (args.detector or args.scale_factor or args.min_neighbors or args.min_size):
        raise ValueError("the detector options apply to a labelled folder or CSV (--data DIR); FER2013's faces are "
                         "cut already")
    recognizer = EmotionRecognizer.load(args.model, tta=args.tta, runtime=args.runtime,
                                        trust=args.trust_model)
    if labelled:
        return _evaluate_labelled(args, recognizer)
    args.split = args.split or "PrivateTest"
    data = load_fer2013(args.data)
    split = data[args.split]
    # Say which data the figures are on; with --json, stdout stays one JSON object.
    print(f"data: {data.source.resolve()} (MD5 {data.md5})", file=sys.stderr if args.json else sys.stdout)
    metrics = recognizer.evaluate(split.faces, split.labels)
    print(json.dumps(metrics) if args.json else format_metrics(metrics, f"{args.model} on {args.split}"))
    return 0


def _evaluate_labelled(args, recognizer):
    """Score a model on your labelled faces, classes matched by name and synonym."""
    from ..classify.metrics import format_metrics
    from ..own_faces import evaluate_on_labelled

    data = _labelled_faces(args)
    metrics = evaluate_on_labelled(recognizer, data)
    if args.json:
        print(json.dumps(metrics))
        return 0
    renamed = {name: model for name, model in metrics["matched"].items() if name != model}
    print(format_metrics(metrics, f"{args.model} on {display_path(data.source)}"))
    if renamed:
        print("classes matched: " + ", ".join(f"{name} -> {model}" for name, model in renamed.items()))
    if metrics["left_out"]:
        print("left out, not among the model's classes: "
              + ", ".join(f"{name} ({count} faces)" for name, count in metrics["left_out"].items()))
    if data.skipped:
        print(f"{len(data.skipped)} file(s) skipped (named above)")
    return 0


def _predict(args):
    from ..annotate import write_annotated
    from ..imageio import ImageError
    from ..pipeline import EmotionRecognizer

    annotated = annotated_outputs(args.out, args.paths, "--out") if args.out else None
    recognizer = EmotionRecognizer.load(args.model, detector=_detector(args), tta=args.tta, runtime=args.runtime,
                                        trust=args.trust_model)
    results, interrupted = [], False
    try:
        for result in recognizer.analyze_files(args.paths, keep_images=annotated is not None):
            if annotated is not None and "faces" in result:
                path, image = result.pop("path"), result.pop("image")
                try:
                    result["annotated"] = display_path(write_annotated(annotated(path), image, result["faces"]))
                except (ImageError, OSError) as error:     # an output not made is an error: exit status 1
                    result["error"] = f"cannot write the annotated image: {error}"
            results.append(result)
            if not args.json:
                print(_describe(result), file=sys.stderr if "error" in result else sys.stdout, flush=True)
    except KeyboardInterrupt:
        interrupted = True              # print what was done: the JSON stays a whole list
    if args.json:
        print(json.dumps(results, indent=2), flush=True)
    if interrupted:
        print(f"fer-classic: interrupted after {len(results)} file(s); the output above holds them", file=sys.stderr)
        return INTERRUPTED
    if not results:
        print(f"fer-classic: error: no image in {', '.join(map(show_name, args.paths))} (folders are searched for "
              f"{', '.join(IMAGE_SUFFIXES)})", file=sys.stderr)
        return 1
    return 1 if any("error" in r for r in results) else 0


def _describe(result):
    """A result as text; file and class names are data: their control characters (a newline too) are escaped."""
    name = printable(result["file"], lines=False)
    if "error" in result:
        error = printable(result["error"], lines=False)  # most errors name their file already
        return error if error.startswith(name) else f"{name}: {error}"
    lines = [f"{name}: {len(result['faces'])} face(s)"
             + (f", annotated in {printable(result['annotated'], lines=False)}" if "annotated" in result else "")]
    for face in result["faces"]:
        ranked = sorted(face["probabilities"].items(), key=lambda kv: -kv[1])
        lines.append(f"  box {face['box']}: {printable(face['emotion'], lines=False)} "
                     f"({face['probabilities'][face['emotion']]:.2f})   "
                     + " ".join(f"{printable(e, lines=False)} {p:.2f}" for e, p in ranked[1:]))
    return "\n".join(lines)


def _detector_options(args, default=PHOTO_DETECTOR):
    return {"name": args.detector or default, "scale_factor": args.scale_factor,
            "min_neighbors": args.min_neighbors, "min_size": args.min_size}


def _detector(args):
    return build_detector(**_detector_options(args))


def _video(args):
    from ..pipeline import EmotionRecognizer
    from ..video import check_video_outputs, process_video

    check_video_outputs(args.input, out=args.out, csv_path=args.csv, plot=args.plot)
    detector = build_detector(**_detector_options(args, VIDEO_DETECTOR), video=True, detect_scale=args.detect_scale,
                              refresh=args.refresh)
    recognizer = EmotionRecognizer.load(args.model, detector=detector, tta=args.tta, runtime=args.runtime,
                                        trust=args.trust_model)
    report = process_video(args.input, recognizer, out=args.out, csv_path=args.csv, plot=args.plot, every=args.every,
                           smoothing=args.smoothing)
    stats = report["stats"]
    if not stats["frames_read"] and not stats["interrupted"]:
        print(f"fer-classic: error: {show_name(args.input)}: no frame could be read (an empty or damaged video)",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{show_name(args.input)}: {stats['frames_processed']} frames processed of {stats['frames_read']} read, "
              f"{stats['broken_frames']} broken and skipped, {stats['processing_fps']:.1f} fps")
        for face_id, face in report["faces"].items():
            shares = ", ".join(f"{e} {s:.0%}" for e, s in sorted(face["share"].items(), key=lambda kv: -kv[1]) if s)
            print(f"  face #{face_id}: {face['frames']} frames, mostly {face['dominant']} ({shares})")
    if stats["interrupted"]:
        print("fer-classic: interrupted; the outputs hold the frames done", file=sys.stderr)
        return INTERRUPTED
    return 0


def _batch(args):
    from ..batch import run_batch

    _detector(args)  # bad options fail here, before any worker starts
    counts = run_batch(args.pattern, args.out, model=args.model, detector_options=_detector_options(args),
                       n_jobs=args.jobs, backend=args.backend, scheduler=args.scheduler, resume=args.resume,
                       trust=args.trust_model)
    print(f"{counts['files']} files classified ({counts['skipped']} skipped as done), {counts['faces']} faces, "
          f"{counts['errors']} errors -> {show_name(args.out)}")
    if counts["interrupted"]:
        print(f"fer-classic: interrupted; {show_name(args.out)} holds the files done, --resume finishes it",
              file=sys.stderr)
        return INTERRUPTED
    return 1 if counts["errors"] else 0


def _explain(args):
    from ..detect.registry import shipped_cascade
    from ..explain import explain_figure
    from ..imageio import read_image
    from ..pipeline import EmotionRecognizer

    check_outputs([args.image], {"--out": args.out})
    recognizer = EmotionRecognizer.load(args.model, detector=_detector(args), tta=args.tta, runtime=args.runtime,
                                        trust=args.trust_model)
    result = explain_figure(recognizer, read_image(args.image), args.out, cascade=shipped_cascade(), size=args.size)
    slides = result["slides"]
    more = f" and {len(slides) - 1} more slide(s), to {show_name(slides[-1])}" if len(slides) > 1 else ""
    print(f"{show_name(args.image)}: {len(result['faces'])} face(s) explained in {show_name(args.out)}{more}")
    return 0


def _slide_size(text):
    """An argparse ``type``: ``explain``'s WIDTHxHEIGHT slide size, refused before any work when out of range."""
    from ..explain import parse_slide_size

    try:
        return parse_slide_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _train_detector(args):
    from ..detect.viola_jones import train_detector

    out = args.out
    stats = train_detector(out, n_positives=args.positives, n_negatives=args.negatives,
                           max_stages=args.max_stages, n_jobs=args.jobs, log=lambda line: print(line, file=sys.stderr))
    print(json.dumps(stats, indent=2, default=str))
    return 0


def _gui(args):
    from ..gui import run

    return run([sys.argv[0], *(["--present"] if args.present else []), *args.paths])


def _models(args):
    """One aligned row per model, best PrivateTest accuracy first: what it is, how good, how big and how fast."""
    from ..faces import EMOTIONS
    from ..store import list_models, shipped_models_dir, user_registry_path
    from ..store.catalogue import default_runtime_file
    from ..store.results_index import comparison_records, recorded_latency_ms

    models = list_models()
    if not models:
        print(f"no models: none ships in {shipped_models_dir()} and none is recorded in {user_registry_path()}")
        return 0
    records = comparison_records()
    used_records = set()
    rows = []
    for name, model in models.items():
        entry = model.entry      # None: a user's model whose manifest entry is gone
        runtime, runs = default_runtime_file(entry)        # a CNN's LiteRT file: its size, accuracy and speed
        try:
            size = (runs or {}).get("size_bytes") or (entry.size_bytes if entry and entry.size_bytes
                                                      else model.path.stat().st_size)
        except OSError:
            size = None
        classes = getattr(entry, "classes", None)
        own_classes = bool(classes) and tuple(classes) != tuple(EMOTIONS)
        if own_classes:
            listed = printable(", ".join(map(str, classes)))
            listed = listed if len(listed) <= 40 else listed[:39] + "…"
        ms = None
        if entry is not None and not own_classes:
            file = runs["file"] if runs else entry.file
            where = (f"shipped models/{file}" if model.source == "shipped"
                     else f"trained by you ({display_path(model.path.with_name(file))})")
            ms, record = recorded_latency_ms(entry, where, records)
            if record is not None:
                used_records.add(record.name)
        measured = {split: values.get("accuracy") for split, values in (runs or {}).get("metrics", {}).items()}
        private = measured.get("PrivateTest", entry.accuracy("PrivateTest") if entry else None)
        public = measured.get("PublicTest", entry.accuracy("PublicTest") if entry else None)
        cross_validated = entry.accuracy("cross-validation") if entry else None
        rows.append((private, [printable(name), model.source, entry.method if entry and entry.method else "?",
                               runtime or "–",
                               f"{len(classes)}: {listed}" if own_classes else "FER2013's 7",
                               f"{size / 1e6:.1f}" if size is not None else "–",
                               f"{public:.4f}" if public is not None else "–",
                               f"{private:.4f}" if private is not None else "–",
                               f"{cross_validated:.4f}" if cross_validated is not None else "–",
                               f"{ms:.1f}" if ms is not None else "–"]))
    rows.sort(key=lambda row: (row[0] is None, -(row[0] or 0)))   # stable: equal ones stay by name
    header = ["name", "source", "method", "runtime", "classes", "size MB", "PublicTest acc", "PrivateTest acc",
              "CV acc (yours)", "ms a face"]
    # The classes and your own data's cross-validated accuracy say something only for models trained on your faces.
    for column in (header.index("CV acc (yours)"), header.index("classes")):
        if all(cells[column] in ("FER2013's 7", "–") for _, cells in rows):
            header.pop(column)
            rows = [(key, cells[:column] + cells[column + 1:]) for key, cells in rows]
    table = [header, *(cells for _, cells in rows)]
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    numeric = {column for column, name in enumerate(header)
               if name not in ("name", "source", "method", "runtime", "classes")}
    for line in table:
        print("  ".join(cell.rjust(width) if column in numeric else cell.ljust(width)
                        for column, (cell, width) in enumerate(zip(line, widths))).rstrip())
    print("\nms a face: batch 1 on one core, " + (
        f"from benchmarks/results/{', '.join(sorted(used_records))}" if used_records else "from a comparison record")
        + " (– where no committed comparison measured that very file).\n"
        "runtime: what runs a CNN by default, chosen per network on PublicTest accuracy and latency "
        "(--runtime changes it); a CNN's size and accuracies are that runtime's.\n"
        "--model takes a name, a method (your newest model of it) or a model file.")
    return 0


def _number(kind, low=None, high=None, low_open=False, high_open=False):
    """An argparse ``type``: a number of ``kind`` within bounds, so a bad value is refused before any work.

    ``low_open`` / ``high_open`` exclude the bound itself.
    """
    below = [f"{'>' if low_open else '>='} {low}"] if low is not None else []
    above = [f"{'<' if high_open else '<='} {high}"] if high is not None else []
    rule = " and ".join(below + above)

    def parse(text):
        value = kind(text)            # a ValueError here reads "invalid int value: 'x'"
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if (low is not None and (value <= low if low_open else value < low)) or \
                (high is not None and (value >= high if high_open else value > high)):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    parse.__name__ = kind.__name__
    parse.bounds = (low, high)        # for the fuzz tests: every numeric option is bounded
    return parse


POSITIVE_INT = _number(int, 1, 1_000_000)
# More local workers than CPUs only adds memory (each holds a model): --jobs 1000 once started 370 of them.
JOBS = _number(int, 1, os.cpu_count() or 1)


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, but a name never breaks across lines: not at a hyphen
    (``hog+lbp+landmarks+sift-fisher/svm-local`` stays whole, to copy and paste), nor when longer than a line."""

    def _split_lines(self, text, width):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False)

    def _format_action(self, action):
        if callable(action.help):      # made when shown: listing the methods imports every registry
            action.help = action.help()
        return super()._format_action(action)


def _train_method_help():
    from ..classify import method_names
    from ..classify.small_sets import DEFAULT_METHOD, HANDCRAFTED_METHOD, small_set_method_names

    return (f"on your own faces (optional): <features>/<classifier>, by default {DEFAULT_METHOD} "
            f"({HANDCRAFTED_METHOD} without the CNN extra); the other candidates: "
            + ", ".join(m for m in small_set_method_names() if m != DEFAULT_METHOD)
            + ". On FER2013 (required): <features>/<classifier>, one of: " + ", ".join(method_names())
            + "; or cnn/<architecture>, one of: " + ", ".join(f"cnn/{a}" for a in CNN_ARCHITECTURES))


def build_parser():
    """The argument parser, with one sub-command per task."""
    parser = argparse.ArgumentParser(prog="fer-classic", description="Facial-expression recognition, "
                                     "the classic way: detection -> extraction -> classification.",
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--verbose", action="store_true",
                        help="let the libraries' notices and warnings through to stderr (TensorFlow, absl, libpng, "
                             "Pillow, scikit-learn, LiteRT); by default only fer-classic's own messages show")
    commands = parser.add_subparsers(dest="command", required=True)
    tta_option = {"choices": list(TTA_MODES), "help": "a CNN's test-time augmentation (default: as trained)"}
    runtime_option = {"choices": list(CNN_RUNTIMES),
                      "help": "what runs a CNN: LiteRT in float32 or int8, or tensorflow (pip install "
                              "'fer-classic[train]'); default: each network's measured choice (`fer-classic models` "
                              "shows it; docs/usage.md compares them)"}
    data_help = "FER2013 .npz/.csv or image folder (default: $FER2013_PATH, ./data, ../shared/fer2013)"
    trust_help = ("unpickle a model file that is neither shipped nor trained by you: this runs its author's code, "
                  "so use it only for files from people you trust")

    # Phase 1's options: predict, video, batch and explain take them, and train and evaluate on labelled photos.
    detector_options = argparse.ArgumentParser(add_help=False)
    detector_options.add_argument("--detector", "--cascade", dest="detector", choices=list(DETECTORS), metavar="NAME",
                           help=f"face detector, one of: {', '.join(DETECTORS)} (default {PHOTO_DETECTOR}; "
                           f"for video {VIDEO_DETECTOR}). verified: OpenCV's frontal Haar cascade proposes faces "
                           "permissively and dlib's HOG detector confirms each on a zoomed crop; whole-image: no "
                           "detection, each image is one face crop. docs/benchmarks.md#detectors-benchmarksdetectorspy "
                           "describes and compares them all")
    detector_options.add_argument("--scale-factor", type=_number(float, *SCALE_FACTOR_RANGE),
                           help=f"Haar pyramid step, {SCALE_FACTOR_RANGE[0]} to {SCALE_FACTOR_RANGE[1]} (default "
                           f"{SCALE_FACTOR}; {', '.join(f'{k} {v}' for k, v in DEFAULT_SCALE_FACTOR.items())})")
    detector_options.add_argument("--min-neighbors", type=_number(int, 0, 1000),
                           help=f"Haar detections to keep a face, >= 0 (default {MIN_NEIGHBORS}; "
                           f"{', '.join(f'{k} {v}' for k, v in DEFAULT_MIN_NEIGHBORS.items())}, as it checks each)")
    detector_options.add_argument("--min-size", type=POSITIVE_INT,
                           help=f"smallest face side in pixels (default {MIN_SIZE})")

    train = commands.add_parser("train", parents=[detector_options],
                                help="train an SVM on your own labelled faces, or a classical method or a CNN on "
                                     "FER2013, and save it")
    train.add_argument("--method", metavar="NAME", help=_train_method_help)
    train.add_argument("--out", metavar="FILE", help="model file to write (default: <method>.joblib or <arch>.npz in "
                       "your models folder, $XDG_DATA_HOME/fer_classic/models); it loads by its name, its method or "
                       "its path afterwards")
    train.add_argument("--data", metavar="PATH",
                       help="your own labelled faces: a folder with one subfolder per class (any names, 2 or more), "
                            "or a CSV with the columns path,label[,group]; photos go through the detector (the "
                            "largest face; --detector whole-image for face crops). Or FER2013: " + data_help)
    own = train.add_argument_group("your own labelled faces (--data DIR or labels.csv)")
    own.add_argument("--cv", type=_number(int, 2, 1000), metavar="K",
                     help="score by stratified K-fold cross-validation before the final fit (default: none; 10 is "
                          "usual)")
    own.add_argument("--groups", metavar="REGEX",
                     help="the person of each file: the first capture group of REGEX in its file name, e.g. "
                          "'^(S[0-9]+)_'; no person is in two folds. Report results with it (docs/usage.md)")
    own.add_argument("--json", action="store_true", help="print one JSON object: classes, faces, skipped files, "
                     "cross-validation, seconds, model")
    classical = train.add_argument_group("classical methods on FER2013")
    classical.add_argument("--no-flip", action="store_true", help="do not add mirrored training faces")
    classical.add_argument("--no-mirror-test", action="store_true",
                           help="predict on each face alone, not averaged with its mirror image")
    classical.add_argument("--landmarks", choices=list(LANDMARK_MODELS),
                           help="landmark model the features are built on (default: dlib's own for landmarks "
                                "alone, where the points' precision decides; the six times faster distilled one "
                                "otherwise)")
    classical.add_argument("--jobs", type=JOBS, default=DEFAULT_JOBS, metavar="N",
                           help=f"worker processes for extraction, also on your own faces (default {DEFAULT_JOBS})")
    cnn = train.add_argument_group("CNNs (cnn/<architecture>); each option overrides the architecture's recipe",
                                   "An option left out takes the recipe's value (training prints the recipe as it "
                                   "starts).")
    cnn.add_argument("--epochs", type=_number(int, 1, 10_000), help="length of the learning-rate schedule")
    cnn.add_argument("--batch-size", type=_number(int, 1, 4096))
    cnn.add_argument("--optimizer", choices=list(OPTIMIZERS), help="adam, adamw, or SGD with Nesterov momentum")
    cnn.add_argument("--learning-rate", type=_number(float, 0, 1, low_open=True),
                     help="peak learning rate, after the warm-up")
    cnn.add_argument("--weight-decay", type=_number(float, 0, 1), help="decoupled weight decay (adamw, sgd)")
    cnn.add_argument("--warmup-epochs", type=_number(float, 0, 10_000), help="linear warm-up before the cosine decay")
    cnn.add_argument("--label-smoothing", type=_number(float, 0, 1, high_open=True))
    cnn.add_argument("--mixing", choices=list(MIXING), help="mix pairs of faces within each batch")
    cnn.add_argument("--mixing-alpha", type=_number(float, 0, 100, low_open=True),
                     help="Beta(alpha, alpha) of the mixing proportion")
    cnn.add_argument("--erasing", type=_number(float, 0, 1, high_open=True),
                     help="probability of random erasing per face")
    cnn.add_argument("--patience", type=POSITIVE_INT, help="early-stopping patience in epochs")
    cnn.add_argument("--input-size", type=_number(int, 32, 512), help="side the face is resized to inside the network")
    cnn.add_argument("--width", type=_number(int, 1, 1024), help="fer-cnn's first-block channels")
    cnn.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=None,
                     help="vgg19 only: batch normalisation after every convolution (VGG19-BN, its recipe's default)")
    cnn.add_argument("--stem-stride", type=int, choices=[1, 2],
                     help="resnet50 only: a 3x3 stem of this stride, no max-pooling, made for 48 px faces")
    cnn.add_argument("--seed", type=_number(int, 0, 2**32 - 1), default=0,
                     help="random seed of the initial weights, the batch order and the augmentation (default 0)")
    cnn.add_argument("--tta", choices=list(TTA_MODES), default="flip",
                     help="test-time augmentation for evaluation and prediction (default flip)")
    cnn.add_argument("--checkpoint-dir",
                     help="checkpoints after every epoch (default $FER_CLASSIC_CACHE/checkpoints/<arch>)")
    cnn.add_argument("--resume", action="store_true", help="continue from the checkpoint in --checkpoint-dir")
    cnn.add_argument("--warm-start", metavar="MODEL",
                     help="start from this trained network (a name from `fer-classic models` or a .npz file) of the "
                          "same architecture, with a fresh schedule: a warm restart")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", parents=[detector_options],
                                   help="score a model on a FER2013 split, or on your own labelled faces")
    evaluate.add_argument("--model", default=DEFAULT_MODEL, metavar="MODEL",
                          help="a name or method that `fer-classic models` lists, or a model file "
                               f"(default {DEFAULT_MODEL})")
    evaluate.add_argument("--trust-model", action="store_true", help=trust_help)
    evaluate.add_argument("--split", choices=["PublicTest", "PrivateTest", "FERPlus-PrivateTest"],
                          help="the FER2013 split to score (default PrivateTest; FERPlus-PrivateTest: the same faces "
                               "with FER+ labels)")
    evaluate.add_argument("--data", metavar="PATH",
                          help="FER2013 (" + data_help + "), or your labelled faces: a folder of class folders or a "
                               "CSV path,label[,group]; classes are matched to the model's by name and synonym "
                               "(anger -> angry, happiness -> happy...), the others left out and counted")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--tta", **tta_option)
    evaluate.add_argument("--runtime", **runtime_option)
    evaluate.set_defaults(run=_evaluate)

    detection = argparse.ArgumentParser(add_help=False, parents=[detector_options])
    detection.add_argument("--model", default=DEFAULT_MODEL, metavar="MODEL",
                           help="a name or method that `fer-classic models` lists, or a model file "
                                f"(default {DEFAULT_MODEL})")
    detection.add_argument("--trust-model", action="store_true", help=trust_help)


    predict = commands.add_parser("predict", parents=[detection], help="recognise the expressions in images")
    predict.add_argument("paths", nargs="+", metavar="IMAGE_OR_DIR")
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.add_argument("--out", metavar="FILE_OR_DIR",
                         help="write annotated images: an image file for one input image, else a folder that "
                              "receives <name>.annotated.png per image")
    predict.add_argument("--tta", **tta_option)
    predict.add_argument("--runtime", **runtime_option)
    predict.set_defaults(run=_predict)

    video = commands.add_parser("video", parents=[detection], help="annotate a video file or webcam, with timelines")
    video.add_argument("input", metavar="INPUT", help="video file, or a camera index such as 0")
    video.add_argument("--out", help="annotated video to write (.mp4 or .avi)")
    video.add_argument("--csv", help="per-frame CSV: frame, time, face id, box, seven probabilities")
    video.add_argument("--plot", help="PNG timeline plot")
    video.add_argument("--every", type=POSITIVE_INT, default=1, help="process one frame in N (default 1)")
    video.add_argument("--smoothing", type=_number(float, 0, 1, high_open=True), default=SMOOTHING,
                       help=f"exponential moving average weight of the past, 0 = off (default {SMOOTHING})")
    video.add_argument("--detect-scale", type=_number(float, *DETECT_SCALE_RANGE),
                       help=f"detect faces on the frame scaled by this factor (default {DETECT_SCALE}; min-size "
                       "applies there)")
    video.add_argument("--refresh", type=POSITIVE_INT,
                       help="scan the whole frame every N frames, in between only near known faces "
                            f"(default {REFRESH}; 1 scans every frame)")
    video.add_argument("--json", action="store_true", help="print the summary as JSON")
    video.add_argument("--tta", **tta_option)
    video.add_argument("--runtime", **runtime_option)
    video.set_defaults(run=_video)

    batch = commands.add_parser("batch", parents=[detection], help="classify a folder or glob of images into a CSV")
    batch.add_argument("pattern", metavar="DIR_OR_GLOB")
    batch.add_argument("--out", required=True, help="CSV to write, one row per face")
    batch.add_argument("--jobs", type=JOBS, default=DEFAULT_JOBS, metavar="N",
                       help=f"worker processes (default {DEFAULT_JOBS})")
    batch.add_argument("--resume", action="store_true", help="skip files already in --out")
    batch.add_argument("--backend", choices=["loky", "dask"], default="loky",
                       help="local processes (loky) or a Dask distributed cluster (default loky)")
    batch.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)")
    batch.set_defaults(run=_batch)

    explain = commands.add_parser("explain", parents=[detection],
                                  help="draw the three phases at work on every face of an image")
    explain.add_argument("image", metavar="IMAGE")
    explain.add_argument("--out", required=True, help="PNG slide to write; a crowd's further faces go on OUT-2.png...")
    explain.add_argument("--size", type=_slide_size, default="1920x1080", metavar="WxH",
                         help="slide size in pixels, 4:3 to 21:9 (default 1920x1080)")
    explain.add_argument("--tta", **tta_option)
    explain.add_argument("--runtime", **runtime_option)
    explain.set_defaults(run=_explain)

    detector = commands.add_parser("train-detector", help="train the from-scratch Viola-Jones cascade")
    detector.add_argument("--out", default=VIOLA_JONES_FILE, help=f"cascade file (default ./{VIOLA_JONES_FILE}; "
                          "the repository's models/ ships it)")
    detector.add_argument("--positives", type=POSITIVE_INT, default=3000, help="FER2013 training faces (default 3000)")
    detector.add_argument("--negatives", type=POSITIVE_INT, default=2000,
                          help="non-face windows per stage (default 2000)")
    detector.add_argument("--max-stages", type=POSITIVE_INT, default=20, help="most cascade stages (default 20)")
    detector.add_argument("--jobs", type=JOBS, default=DEFAULT_JOBS, metavar="N",
                          help=f"worker processes (default {DEFAULT_JOBS})")
    detector.set_defaults(run=_train_detector)

    gui = commands.add_parser("gui", help="the desktop app: images, folders, video and webcam, with the phases shown")
    gui.add_argument("paths", nargs="*", metavar="IMAGE_OR_DIR", help="images or folders to open")
    gui.add_argument("--present", action="store_true",
                     help="projection mode: large type, high contrast, large phase images (also in the View menu)")
    gui.set_defaults(run=_gui)

    benchmark = commands.add_parser("benchmark", help="compare every method side by side on FER2013 "
                                    "(the same as python benchmarks/compare.py)")
    benchmark.add_argument("--methods", help="comma-separated names (default: all; see --list)")
    benchmark.add_argument("--list", action="store_true", help="list the registered methods and stop")
    benchmark.add_argument("--split", choices=["both", "PublicTest", "PrivateTest"], default="both",
                           help="evaluation split(s) (default both; FER+ labels come with PrivateTest)")
    benchmark.add_argument("--quick", action="store_true",
                           help="stratified subsample, under 2 minutes on 2 cores (numbers not comparable)")
    benchmark.add_argument("--train-missing", action="store_true",
                           help="train classical methods that have no model yet; CNNs are only listed")
    benchmark.add_argument("--jobs", type=JOBS, default=DEFAULT_JOBS, metavar="N",
                           help=f"worker processes (default {DEFAULT_JOBS})")
    benchmark.add_argument("--video", nargs="?", const="synthetic", metavar="FILE",
                           help="also time the end-to-end pipeline on a video (no FILE: a synthetic clip)")
    benchmark.add_argument("--out", help="a new results folder (default benchmarks/results/<date>-<commit>[-quick]/)")
    benchmark.add_argument("--data", metavar="PATH", help=data_help)
    benchmark.set_defaults(run=_benchmark)

    models = commands.add_parser("models", help="list the shipped models and yours, best first: accuracy, size "
                                 "and speed")
    models.set_defaults(run=_models)
    for command in commands.choices.values():
        command.formatter_class = HelpFormatter
    return parser


def main(argv=None):
    """Entry point; returns the exit status."""
    try:                                    # Ctrl+C while the parser loads the method names is quiet too
        args = build_parser().parse_args(argv)
        if sys.stdout is None and args.command != "gui":
            # Started with stdout closed (`fer-classic predict x.jpg >&-`): the results would go nowhere.
            print("fer-classic: error: standard output is closed; the results have nowhere to go", file=sys.stderr)
            return 2
        quiet_libraries(training=args.command == "train" and str(args.method).startswith("cnn/"),
                        verbose=args.verbose)
        show_progress(True)  # the library is silent unless asked; a command shows its long steps
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(errors="backslashreplace")   # a name the terminal cannot show is escaped
        return args.run(args)
    except KeyboardInterrupt:
        print("fer-classic: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`fer-classic predict photos | head`): stop quietly, as a command killed by
        # SIGPIPE does; stdout goes to /dev/null so that Python's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except UntrustedModelError as error:
        print(f"fer-classic: error: {printable(error)} (--trust-model)", file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        # Bad input (missing data, malformed file, unknown or tampered model, an output that would overwrite
        # an input, an optional dependency not installed) is reported in one line, never a traceback.
        from ..quiet import asked_verbose

        message = printable(error).strip()
        frame = error.__traceback__
        while frame is not None and frame.tb_next is not None:
            frame = frame.tb_next
        raised_in = frame.tb_frame.f_code.co_filename if frame is not None else ""
        if message and not asked_verbose() and \
                not raised_in.startswith(os.path.dirname(os.path.dirname(__file__))):
            message = message.splitlines()[0]   # a library's essay (scikit-learn's on NaN): its first line
        print(f"fer-classic: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
