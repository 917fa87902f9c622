"""``fer-classic``: the command line, a thin shell over :mod:`fer_classic`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .data import EMOTIONS, load_fer2013
from .detect import CASCADES, HaarCascadeDetector


def _train(args):
    from .classify import train_method
    from .store import models_dir, save_model

    data = load_fer2013(args.data)
    for note in data.notes:
        print(note, file=sys.stderr)
    model, entry = train_method(args.method, data, flip=not args.no_flip, mirror_test=not args.no_mirror_test,
                                n_jobs=args.jobs,
                                log=lambda line: print(line, file=sys.stderr))
    out = Path(args.out) if args.out else models_dir() / (args.method.replace("/", "_") + ".joblib")
    entry = save_model(model, out, entry)
    print(f"saved {out} ({entry['size_bytes'] / 1e6:.1f} MB) in {out.parent / 'manifest.json'}; "
          f"trained in {entry['timings_seconds']['total']:.0f} s")
    return 0


def _evaluate(args):
    from .classify.metrics import format_metrics
    from .pipeline import EmotionRecognizer

    recognizer = EmotionRecognizer.load(args.model)
    split = load_fer2013(args.data)[args.split]
    metrics = recognizer.evaluate(split.faces, split.labels)
    print(json.dumps(metrics) if args.json else format_metrics(metrics, f"{args.model} on {args.split}"))
    return 0


def _predict(args):
    from .pipeline import EmotionRecognizer

    detector = HaarCascadeDetector(args.cascade, args.scale_factor, args.min_neighbors, (args.min_size,) * 2)
    recognizer = EmotionRecognizer.load(args.model, detector=detector)
    results = []
    for result in recognizer.analyze_files(args.paths):
        results.append(result)
        if not args.json:
            print(_describe(result), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if any("error" in r for r in results) else 0


def _describe(result):
    if "error" in result:
        return f"{result['file']}: error: {result['error']}"
    lines = [f"{result['file']}: {len(result['faces'])} face(s)"]
    for face in result["faces"]:
        ranked = sorted(face["probabilities"].items(), key=lambda kv: -kv[1])
        lines.append(f"  box {face['box']}: {face['emotion']} ({face['probabilities'][face['emotion']]:.2f})   "
                     + " ".join(f"{e} {p:.2f}" for e, p in ranked[1:]))
    return "\n".join(lines)


def _models(args):
    from .store import models_dir, read_manifest

    entries = read_manifest()["models"]
    if not entries:
        print(f"no models listed in {models_dir() / 'manifest.json'}")
    for name, entry in sorted(entries.items()):
        metrics = entry.get("metrics", {})
        scores = "  ".join(f"{split} acc {m['accuracy']:.4f} F1 {m['macro_f1']:.4f}" for split, m in metrics.items()
                           if split in ("PublicTest", "PrivateTest"))
        print(f"{name:<12} {entry.get('method', '?'):<28} {entry.get('size_bytes', 0) / 1e6:5.1f} MB  {scores}")
    return 0


def build_parser():
    """The argument parser, with one sub-command per task."""
    from .classify import method_names

    parser = argparse.ArgumentParser(prog="fer-classic", description="Facial-expression recognition, "
                                     "the classic way: detection -> extraction -> classification.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    data_help = "FER2013 .npz/.csv or image folder (default: $FER2013_PATH, ./data, ../shared/fer2013)"

    train = commands.add_parser("train", help="train a classical method on FER2013 and save it")
    train.add_argument("--method", required=True, metavar="NAME",
                       help="<features>/<classifier>; one of: " + ", ".join(method_names()))
    train.add_argument("--out", help="model file to write (default: models/<method>.joblib)")
    train.add_argument("--data", help=data_help)
    train.add_argument("--no-flip", action="store_true", help="do not add mirrored training faces")
    train.add_argument("--no-mirror-test", action="store_true",
                       help="predict on each face alone, not averaged with its mirror image")
    train.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("evaluate", help="score a model on a FER2013 split")
    evaluate.add_argument("--model", default="classic", help="model name or file (default classic)")
    evaluate.add_argument("--split", default="PrivateTest",
                          choices=["PublicTest", "PrivateTest", "FERPlus-PrivateTest"])
    evaluate.add_argument("--data", help=data_help)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=_evaluate)

    predict = commands.add_parser("predict", help="recognise the expressions in images")
    predict.add_argument("paths", nargs="+", metavar="IMAGE_OR_DIR")
    predict.add_argument("--model", default="classic", help="model name or file (default classic)")
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.add_argument("--cascade", default="frontal-default", choices=list(CASCADES))
    predict.add_argument("--scale-factor", type=float, default=1.1)
    predict.add_argument("--min-neighbors", type=int, default=5)
    predict.add_argument("--min-size", type=int, default=30, help="smallest face side in pixels")
    predict.set_defaults(run=_predict)

    models = commands.add_parser("models", help="list shipped models and their metrics")
    models.set_defaults(run=_models)
    return parser


def main(argv=None):
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        # Bad input (missing data, malformed file, unknown or tampered model) is reported, never a traceback.
        print(f"fer-classic: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
