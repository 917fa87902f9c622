"""The comparison's outputs: a ranked markdown table and plots.

Plots need matplotlib (the ``[plots]`` extra); without it the tables are
still written and the record says the plots were skipped.
"""

from __future__ import annotations

import numpy as np

from ..atomic import save_figure
from ..faces import EMOTIONS
from ..method_name import MethodName
from ..store.provenance import provenance_line


def _number(value, digits=4):
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def ranked(rows, split):
    """Measured rows, best ``split`` accuracy first, then the missing and failed ones."""
    measured = [row for row in rows if row["status"] == "ok"]
    measured.sort(key=lambda row: -row["metrics"].get(split, {}).get("accuracy", -1))
    return measured + [row for row in rows if row["status"] != "ok"]


def _ranked_table(record):
    """The ranked table's lines, the "not trained" rows last, and the sentence that explains its timings."""
    options = record["options"]
    split, splits = options["rank_by"], options["splits"]
    ferplus = "FERPlus-PrivateTest" if options.get("ferplus") else None
    header = ["rank", "method"] + [f"{s} acc" for s in splits] + [f"{split} macro-F1"]
    header += (["FER+ acc"] if ferplus else []) + ["train s", "faces/s (batched)", "ms/face (batch 1)", "size MB"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for rank, row in enumerate(ranked(record["methods"], split), start=1):
        if row["status"] != "ok":
            continue
        metrics = row["metrics"]
        cells = [str(rank), f"`{row['name']}`"] + [_number(metrics.get(s, {}).get("accuracy")) for s in splits]
        cells.append(_number(metrics.get(split, {}).get("macro_f1")))
        if ferplus:
            cells.append(_number(metrics.get(ferplus, {}).get("accuracy")))
        size = row.get("size_bytes")
        cells += [_number(row.get("train_seconds"), 0), _number(row.get("faces_per_second"), 1),
                  _number(row.get("latency_ms"), 2), _number(size / 1e6 if size else None, 2)]
        lines.append("| " + " | ".join(cells) + " |")
    for row in record["methods"]:
        if row["status"] == "not trained":
            blanks = [""] * (len(header) - 3)
            lines.append("| – | " + f"`{row['name']}` | not trained: `{row['train_command']}` | "
                         + " | ".join(blanks) + " |")
    return lines + ["", f"Latency is {options['latency']}. Training time: measured when the comparison "
                    "trained a classical model (kept in its cache), taken from the manifest for shipped models.", ""]


def _video_detector(record):
    detector = record["video"].get("detector")
    return f"`{detector}`" if detector else "not recorded by this run"


def _video_table(record):
    videos = [row for row in record["methods"] if row.get("video")]
    if not videos:
        return []
    lines = [f"## End-to-end video ({record['video']['description']})", "",
             f"One core, one thread; the `video` default detector ({_video_detector(record)}) on "
             f"{record['video'].get('scheme', 'a half-size frame, full scan every 10 frames')}.", "",
             "| method | fps | faces found / frames | ms/frame: decode | detect | extract | classify |",
             "|---|---|---|---|---|---|---|"]
    for row in videos:
        video = row["video"]
        if "error" in video:
            lines.append(f"| `{row['name']}` | failed: {video['error']} | | | | | |")
            continue
        phases = video["ms_per_frame"]
        lines.append(f"| `{row['name']}` | {video['fps']} | {video['face_detections']} / {video['frames']} | "
                     + " | ".join(str(phases[p]) for p in ("decode", "detect", "extract", "classify")) + " |")
    return lines + [""]


def _notes(record):
    notes = [row for row in record["methods"] if row.get("notes") and row["status"] == "ok"]
    return ["## Notes", "", *(f"- `{row['name']}`: {'; '.join(row['notes'])}" for row in notes), ""] if notes else []


def markdown(record):
    """``results.md``: provenance, the ranked table, per-class recall, video, and what did not run."""
    options = record["options"]
    split = options["rank_by"]
    lines = ["# FER2013: every method side by side", "", provenance_line(record["provenance"]), ""]
    if options["quick"]:
        lines += [f"**Quick run:** stratified subsample of {options['subsample']}; numbers are not comparable "
                  "with a full run.", ""]
    lines += _ranked_table(record)

    lines += [f"## Recall per class ({split})", "", "| method | " + " | ".join(EMOTIONS) + " |",
              "|" + "---|" * (len(EMOTIONS) + 1)]
    for row in ranked(record["methods"], split):
        if row["status"] == "ok" and split in row["metrics"]:
            recall = row["metrics"][split]["per_class_recall"]
            lines.append(f"| `{row['name']}` | " + " | ".join(_number(recall[e], 3) for e in EMOTIONS) + " |")
    lines.append("")

    lines += _video_table(record) + _notes(record)
    others = [row for row in record["methods"] if row["status"] not in ("ok", "not trained")]
    if others:
        lines += ["## Not measured", ""] + [f"- `{row['name']}` ({row['status']}): {row['error']}" for row in others]
        lines.append("")
    if record.get("corrections"):
        lines += ["## Corrections made after the run", "", *(f"- {text}" for text in record["corrections"]), ""]
    return "\n".join(lines)


def readme_summary(record, folder):
    """The README's results block: the ranked table, its notes, the plot and the video table.

    Parameters
    ----------
    record : dict
        A comparison's ``results.json``.
    folder : str
        The results folder, relative to the README, for the links.
    """
    options = record["options"]
    lines = [provenance_line(record["provenance"]) + f" Full record, confusion matrices and per-class recall in "
             f"[`{folder}/`]({folder}/results.md). Ranked by {options['rank_by']} accuracy; hyper-parameters, "
             "epochs and ensemble weights were chosen on PublicTest.", ""]
    lines += _ranked_table(record)
    lines += [line.replace("## Notes", "Notes:") for line in _notes(record)]
    if "accuracy_vs_latency.png" in (record.get("plots") or []):
        lines += [f"![Accuracy versus latency]({folder}/accuracy_vs_latency.png)", ""]
    if "cnn_training.png" in (record.get("plots") or []):
        lines += [f"![CNN training curves]({folder}/cnn_training.png)", ""]
    lines += [line.replace("## End-to-end video", "**End-to-end video**") for line in _video_table(record)]
    return "\n".join(lines)


def short_summary(record, details):
    """The README's short results table: each measured method's test accuracy, speed, size and training time.

    Parameters
    ----------
    record : dict
        A comparison's ``results.json``.
    details : str
        Where the full results are, relative to the README, for the link.
    """
    split = record["options"]["rank_by"]
    origin = record["provenance"]
    lines = [f"From the comparison of commit `{origin['commit'][:7]}` ({origin['date'][:10]}, "
             f"{origin['machine']['cpu']}, {origin['machine']['cores']} cores); ranked by {split} accuracy, "
             f"which no choice was made on. Full table, plots and how to read them: [{details}]({details}).", "",
             f"| method | {split} accuracy | ms a face (batch 1, one core) | size MB | train s |",
             "|---|---|---|---|---|"]
    for row in ranked(record["methods"], split):
        if row["status"] == "ok":
            size = row.get("size_bytes")
            lines.append(f"| `{row['name']}` | {_number(row['metrics'].get(split, {}).get('accuracy'))} | "
                         f"{_number(row.get('latency_ms'), 1)} | {_number(size / 1e6 if size else None, 1)} | "
                         f"{_number(row.get('train_seconds'), 0)} |")
    return "\n".join(lines)


def write_plots(record, folder):
    """Confusion matrices, accuracy versus latency, and recall per class, as PNGs; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..classify.methods import ALL_FEATURES

    def save(figure, path):
        figure.tight_layout()
        try:
            save_figure(figure, path, dpi=90)
        finally:
            plt.close(figure)
        return path

    split = record["options"]["rank_by"]
    rows = [row for row in ranked(record["methods"], split) if row["status"] == "ok" and split in row["metrics"]]
    written = []
    (folder / "confusion").mkdir(parents=True, exist_ok=True)
    for row in rows:
        confusion = np.asarray(row["metrics"][split]["confusion"], dtype=float)
        normalised = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
        figure, axis = plt.subplots(figsize=(6, 5))
        image = axis.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
        for (i, j), value in np.ndenumerate(normalised):
            axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                      color="white" if value > 0.5 else "black")
        axis.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right")
        axis.set_yticks(range(len(EMOTIONS)), EMOTIONS)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
        axis.set_title(f"{row['name']} on {split}: accuracy {row['metrics'][split]['accuracy']:.3f}")
        figure.colorbar(image, ax=axis, fraction=0.046, label="share of the true class")
        written.append(save(figure, folder / "confusion" / f"{MethodName.parse(row['name']).file_stem}.png"))

    # The combined methods' full names would run off the axes; legend and title spell the prefix out.
    combined = "+".join(ALL_FEATURES) + "/"
    timed = [row for row in rows if row.get("latency_ms")]
    if timed:
        figure, axis = plt.subplots(figsize=(9, 5.5))
        colours = {"classical": "tab:blue", "cnn": "tab:orange", "ensemble": "tab:green", "peer": "tab:gray"}
        for row in timed:
            point = (row["latency_ms"], row["metrics"][split]["accuracy"])
            axis.scatter(*point, color=colours[row["kind"]], s=40)
            axis.annotate(row["name"].replace(combined, "all/"), point, fontsize=7, xytext=(4, 3),
                          textcoords="offset points")
        for kind, colour in colours.items():
            axis.scatter([], [], color=colour, label=kind)
        axis.scatter([], [], color="none", label=f"all = {combined[:-1]}")
        axis.set_xscale("log")
        axis.margins(x=0.12)  # room for the rightmost labels
        axis.set_xlabel("ms per face, batch 1 (log scale)")
        axis.set_ylabel(f"{split} accuracy")
        axis.set_title(f"Accuracy versus latency\n({record['options']['latency']})", fontsize=10)
        axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
        axis.grid(alpha=0.3)
        written.append(save(figure, folder / "accuracy_vs_latency.png"))

    trained = [row for row in rows if row.get("training_history")]
    if trained:
        figure, axis = plt.subplots(figsize=(8, 4.5))
        for row in trained:
            history = [h for h in row["training_history"] if "val_accuracy" in h]
            axis.plot([h["seconds"] / 60 for h in history], [h["val_accuracy"] for h in history], marker="o",
                      label=row["name"])
        axis.set_xlabel("training minutes")
        axis.set_ylabel("PublicTest accuracy (no test-time augmentation)")
        axis.set_title("CNN training curves, from the manifest")
        axis.grid(alpha=0.3)
        axis.legend()
        written.append(save(figure, folder / "cnn_training.png"))

    if rows:
        # A heat map rather than grouped bars: with eighteen methods, bars need more colours than the eye tells apart.
        recall = np.array([[row["metrics"][split]["per_class_recall"][e] or 0.0 for e in EMOTIONS] for row in rows])
        figure, axis = plt.subplots(figsize=(8, 1.2 + 0.32 * len(rows)))
        image = axis.imshow(recall, cmap="viridis", vmin=0, vmax=1, aspect="auto")
        for (i, j), value in np.ndenumerate(recall):
            axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                      color="black" if value > 0.6 else "white")
        axis.set_xticks(range(len(EMOTIONS)), EMOTIONS)
        axis.set_yticks(range(len(rows)), [row["name"].replace(combined, "all/") for row in rows], fontsize=8)
        axis.set_title(f"Recall per class on {split}, methods ranked by accuracy (all = {combined[:-1]})", fontsize=9)
        figure.colorbar(image, ax=axis, fraction=0.03, label="recall")
        written.append(save(figure, folder / "per_class_recall.png"))
    return written
