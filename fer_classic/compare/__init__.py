"""Compare every method side by side on FER2013: the project's main benchmark.

``python benchmarks/compare.py`` or ``fer-classic benchmark`` evaluates each
registered method (:mod:`fer_classic.compare.methods`) on PublicTest and
PrivateTest (and FER+ labels), measures its speed and size, and writes
``results.json``, ``results.md`` and plots to
``benchmarks/results/<date>-<commit>/``. A method that fails is reported
with its error and the others go on.
"""

from __future__ import annotations

import tempfile
import traceback
from pathlib import Path

from tqdm.auto import tqdm

from ..data import load_fer2013
from ..store.provenance import check_new_folder, provenance, results_folder, save_results
from .ensemble import select_members, weighted_average
from .measure import latency_ms, quick_subsample, run_probe, split_metrics, split_probabilities, throughput
from .methods import CLASSICAL_METHODS, ENSEMBLE, MissingModel, NotTrained, compared_methods, load_method, method_kind
from .report import markdown, write_plots

QUICK = {"n_test": 350, "n_train": 2000}
DEFAULT_RESULTS = Path("benchmarks") / "results"  # relative to the working directory, never the package


def _measure(candidate, data, splits, timing_faces, latency):
    """One method's row: metrics per split, probabilities kept for the ensemble, speed and size."""
    probabilities = split_probabilities(candidate.model, data, splits, identity=candidate.identity)
    row = {"name": candidate.name, "kind": candidate.kind, "status": "ok", "source": candidate.source,
           "metrics": split_metrics(probabilities, data), "train_seconds": candidate.train_seconds,
           "size_bytes": candidate.size_bytes, "notes": list(candidate.notes)}
    if candidate.history:
        row["training_history"] = candidate.history
    quick = latency == "in-process"
    row["faces_per_second"] = round(throughput(candidate.model, timing_faces, repeats=1 if quick else 3), 2)
    if quick:
        row["latency_ms"] = round(latency_ms(candidate.model, timing_faces[:10]), 3)
    else:
        row["latency_ms"] = latency(candidate.name)["latency_ms"]
    return row, probabilities


def _ensemble(rows, probabilities, data, rank_split):
    """The best classical model fused with the CNNs that help, chosen and weighted on PublicTest.

    CNNs are tried best first and kept only when they raise the weighted
    average's PublicTest accuracy (:func:`~fer_classic.compare.ensemble.select_members`),
    so a barely trained network cannot drag it down.
    """
    classical = [r for r in rows if r["kind"] == "classical" and r["status"] == "ok"]
    cnns = [r for r in rows if r["kind"] == "cnn" and r["status"] == "ok"]
    if not classical or not cnns:
        raise MissingModel("needs a measured classical model and at least one measured CNN")
    choose_on = "PublicTest" if "PublicTest" in classical[0]["metrics"] else rank_split
    best = max(classical, key=lambda r: r["metrics"][choose_on]["accuracy"])
    candidates = {r["name"]: probabilities[r["name"]][choose_on] for r in [best, *cnns]}
    names, weights = select_members(candidates, data[choose_on].labels, first=best["name"])
    if len(names) == 1:
        raise MissingModel(f"no CNN raises {best['name']}'s {choose_on} accuracy when fused with it")
    members = [next(r for r in rows if r["name"] == name) for name in names]
    averaged = {split: weighted_average([probabilities[name][split] for name in names], weights)
                for split in probabilities[best["name"]]}

    def total(key):
        values = [m.get(key) for m in members]
        return None if any(v is None for v in values) else float(sum(values))

    weight_of = {name: round(float(w), 4) for name, w in zip(names, weights)}
    source = "weighted average of " + ", ".join(f"`{n}` ({w:.2f})" for n, w in weight_of.items())
    return {"name": ENSEMBLE, "kind": "ensemble", "status": "ok", "members": names, "weights": weight_of,
            "source": source, "metrics": split_metrics(averaged, data), "train_seconds": total("train_seconds"),
            "size_bytes": total("size_bytes"), "latency_ms": total("latency_ms"),
            "faces_per_second": round(1 / sum(1 / m["faces_per_second"] for m in members), 2),
            "notes": [source, f"members and weights chosen on {choose_on}: the best classical model, then each CNN "
                      "that raised the weighted average's accuracy, with weights minimising its log loss; latency, "
                      "size and training time are the members' sums"]}, averaged


def run_comparison(methods=None, splits=("PublicTest", "PrivateTest"), quick=False, train_missing=False,
                   jobs=2, video=None, out=None, data_path=None, loaders=None, plots=True, log=print):
    """Measure every selected method and write the results folder.

    Parameters
    ----------
    methods : sequence of str, optional
        Names from :func:`~fer_classic.compare.methods.compared_methods` (default
        all), plus any key of ``loaders``.
    splits : sequence of str
        Evaluation splits; PrivateTest ranks the table when present. FER+ labels are
        added whenever PrivateTest is evaluated and ``fer2013new.csv`` is found.
    quick : bool
        Stratified subsample (:data:`QUICK`): 350 faces per test split,
        2,000 Training faces for any classical model trained now; latency
        is then measured in this process rather than a one-core probe.
    train_missing : bool
        Train classical methods that have no model yet.
    jobs : int
        Worker processes for feature extraction and training.
    video : str, optional
        A video file for the end-to-end benchmark, or ``"synthetic"`` for a
        clip made from FER2013 faces.
    out : str or Path, optional
        A new (or empty) results folder (default ``benchmarks/results/<date>-<commit>[-quick]/``
        under the working directory, ``-2``... appended when taken; nothing is written inside
        the package).
    data_path : str, optional
        FER2013 location (default: searched as by :func:`~fer_classic.data.load_fer2013`).
    loaders : dict, optional
        Extra ``{name: callable(name) -> Candidate}``, e.g. for a method under test.

    Returns
    -------
    record : dict
        What ``results.json`` holds.
    folder : Path
    """
    loaders = dict(loaders or {})
    names = list(methods or compared_methods())
    unknown = [n for n in names if n not in compared_methods() and n not in loaders]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; registered: {', '.join(compared_methods())}")
    if out:
        check_new_folder(out)
    if video not in (None, "synthetic"):
        from ..reading import check_regular

        try:                        # a missing clip is refused before any work, not found after the comparison
            check_regular(video)
        except OSError as error:
            raise ValueError(f"--video {video}: cannot read the clip ({error.strerror or error})") from None
    full = load_fer2013(data_path)
    data = quick_subsample(full, **QUICK) if quick else full
    tag = f"quick-{QUICK['n_train']}" if quick else "full"
    splits = list(splits)
    if "PrivateTest" in splits and "FERPlus-PrivateTest" in data.splits:
        splits.append("FERPlus-PrivateTest")
    timing_faces = data["PrivateTest" if "PrivateTest" in splits else splits[0]].faces[:64 if quick else 256]

    def probe_latency(name):
        return run_probe(["--method", name, "--tag", tag, "--what", "latency", "--faces", 30,
                          *(["--data", data_path] if data_path else [])])

    latency = "in-process" if quick else probe_latency
    rank_by = "PrivateTest" if "PrivateTest" in splits else splits[0]
    record = {"provenance": provenance(full),
              "options": {"methods": names, "splits": [s for s in splits if not s.startswith("FERPlus")],
                          "ferplus": "FERPlus-PrivateTest" in splits, "rank_by": rank_by,
                          "quick": quick, "subsample": QUICK if quick else None, "train_missing": train_missing,
                          "latency": ("batch 1 in the comparison's process, all threads (quick run)" if quick else
                                      "batch 1, one core and one thread, median of 30 PrivateTest faces"),
                          "throughput_faces": len(timing_faces)},
              "methods": []}
    probabilities = {}
    bar = tqdm([n for n in names if n != ENSEMBLE], desc="methods", unit="method")
    for name in bar:
        bar.set_postfix_str(name)
        try:
            if name in loaders:
                candidate = loaders[name](name)
            else:
                candidate = load_method(name, tag=tag, training_data=data if train_missing else None,
                                        n_jobs=jobs, log=log)
            row, probabilities[name] = _measure(candidate, data, splits, timing_faces, latency)
        except NotTrained as error:
            row = {"name": name, "kind": method_kind(name), "status": "not trained", "error": str(error),
                   "train_command": error.command}
        except MissingModel as error:
            row = {"name": name, "kind": method_kind(name) if name not in loaders else "other",
                   "status": "missing", "error": str(error)}
        except Exception as error:  # a failing method is reported, and the others still run
            row = {"name": name, "kind": method_kind(name) if name not in loaders else "other",
                   "status": "failed", "error": f"{type(error).__name__}: {error}",
                   "traceback": traceback.format_exc(limit=-3)}
        log(f"{name}: " + (f"{row['status']} ({row['error']})" if row["status"] != "ok" else
                           f"{rank_by} accuracy {row['metrics'][rank_by]['accuracy']:.4f}"))
        record["methods"].append(row)
    if ENSEMBLE in names:
        try:
            row, probabilities[ENSEMBLE] = _ensemble(record["methods"], probabilities, data, rank_by)
        except MissingModel as error:
            row = {"name": ENSEMBLE, "kind": "ensemble", "status": "missing", "error": str(error)}
        record["methods"].append(row)

    folder = Path(out) if out else results_folder(record, DEFAULT_RESULTS, "quick" if quick else None)
    folder.mkdir(parents=True, exist_ok=True)
    if video:
        record["video"] = _video_benchmark(record, full, video, folder, tag, data_path, log)
    if plots:
        try:
            record["plots"] = [str(p.relative_to(folder)) for p in write_plots(record, folder)]
        except ImportError:
            record["plots"] = "skipped: matplotlib is not installed (pip install .[plots])"
    save_results(folder, record, markdown(record), echo=False)
    return record, folder


def _video_benchmark(record, data, video, folder, tag, data_path, log):
    """Frames per second of the end-to-end pipeline for every measured method but the ensemble."""
    from ..detect.registry import VIDEO_DETECTOR, build_detector
    from .clip import detectable_faces, write_synthetic_clip

    if video == "synthetic":
        # Outside the results folder: the clip is made of FER2013 faces, which are never committed.
        clip = Path(tempfile.mkdtemp(prefix="fer_classic_clip_")) / "synthetic_clip.mp4"
        faces = detectable_faces(data["PrivateTest"].faces, 3, build_detector(VIDEO_DETECTOR))
        description = write_synthetic_clip(clip, faces)
    else:
        clip, description = Path(video), f"{Path(video).name}"
    rows = [r for r in record["methods"] if r["status"] == "ok" and r["kind"] != "ensemble"]
    for row in tqdm(rows, desc="video", unit="method"):
        try:
            row["video"] = run_probe(["--method", row["name"], "--tag", tag, "--what", "video", "--video", clip,
                                      *(["--data", data_path] if data_path else [])])
        except Exception as error:  # noqa: BLE001 - reported in the table
            row["video"] = {"error": str(error)}
        log(f"video {row['name']}: {row['video'].get('fps', row['video'].get('error'))}")
    return {"file": str(clip.name), "description": description, "detector": VIDEO_DETECTOR,
            "scheme": _tracking_scheme(build_detector(video=True))}


def _tracking_scheme(tracker):
    """How the video detector spends its time, in words, read off the detector itself."""
    return (f"a frame scaled by {tracker.detector.scale:g}, full scan every {tracker.refresh} frames, and in between "
            f"the region around each known face, zoomed by a power of the detector's pyramid step "
            f"({tracker.pyramid_step:g}) so the face is about {tracker.face_side:g} px wide")


__all__ = ["CLASSICAL_METHODS", "QUICK", "compared_methods", "run_comparison"]
