"""Generate the tutorial's figures and numbers from the project's own code and models.

Usage::

    python docs/make_figures.py

Writes ``docs/figures/*.png`` and ``docs/figures/numbers.json``; the tutorial
(``docs/tutorial.md``) shows these figures and quotes these numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data as skdata  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from viola_jones import astronaut_scene, make_scenes, match  # noqa: E402

from fer_classic import EMOTIONS  # noqa: E402
from fer_classic.annotate import emotion_colors_float  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.detect import HaarCascadeDetector  # noqa: E402
from fer_classic.detect.registry import shipped_cascade  # noqa: E402
from fer_classic.detect.viola_jones import (  # noqa: E402
    FEATURE_KINDS,
    HaarFeatures,
    ViolaJonesDetector,
    haar_feature_values_at,
    integral_image,
    rectangle_sum,
)
from fer_classic.extract import align_faces, fit_landmarks, lbp_image  # noqa: E402
from fer_classic.extract.align import alignment_matrices, transform_points  # noqa: E402
from fer_classic.phases import hog_visualisation  # noqa: E402
from fer_classic.store import load_model, read_manifest  # noqa: E402

FIGURES = ROOT / "docs" / "figures"


def save(figure, name):
    figure.tight_layout()
    figure.savefig(FIGURES / name, dpi=90)
    plt.close(figure)


def integral_figure(face, numbers):
    """A face, its integral image, and one rectangle sum from four corners."""
    integral = integral_image(face)
    y, x, h, w = 14, 8, 10, 32                                  # a band across the eyes
    direct = int(face[y:y + h, x:x + w].sum())
    from_corners = int(rectangle_sum(integral, y, x, h, w))
    numbers["integral_image"] = {"rectangle": [x, y, w, h], "direct_sum": direct, "four_corner_sum": from_corners}
    figure, axes = plt.subplots(1, 2, figsize=(8, 4))
    axes[0].imshow(face, cmap="gray")
    axes[0].add_patch(plt.Rectangle((x - 0.5, y - 0.5), w, h, fill=False, color="red"))
    axes[0].set_title(f"face; red box sums to {direct}")
    axes[1].imshow(integral, cmap="viridis")
    for (cy, cx), label in (((y, x), "A"), ((y, x + w), "B"), ((y + h, x), "C"), ((y + h, x + w), "D")):
        axes[1].plot(cx, cy, "ro")
        axes[1].text(cx + 1, cy - 1, label, color="white", fontsize=12)
    axes[1].set_title(f"integral image: D - B - C + A = {from_corners}")
    save(figure, "integral_image.png")


def haar_response_figure(gray, numbers):
    """One three-rectangle feature (bright, dark, bright bands) evaluated at every position of a photo."""
    feature = HaarFeatures(["type-3-y"], [[0, 0, 60, 27]])
    integral = integral_image(gray)
    ys, xs = np.mgrid[0:gray.shape[0] - 27, 0:gray.shape[1] - 60]
    started = time.perf_counter()
    response = haar_feature_values_at(integral, ys.ravel(), xs.ravel(), feature)[0].reshape(ys.shape)
    seconds = time.perf_counter() - started
    peak_y, peak_x = np.unravel_index(np.argmax(response), response.shape)
    numbers["haar_response"] = {"positions": int(response.size), "seconds": round(seconds, 4),
                                "peak_window": [int(peak_x), int(peak_y), 60, 27]}
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.5))
    axes[0].imshow(FEATURE_KINDS["type-3-y"], cmap="gray")
    axes[0].set_title("type-3-y: +1 / -2 / +1 bands")
    axes[1].imshow(gray, cmap="gray")
    axes[1].add_patch(plt.Rectangle((peak_x, peak_y), 60, 27, fill=False, color="red", lw=2))
    axes[1].set_title("strongest response (red)")
    image = axes[2].imshow(response, cmap="coolwarm")
    figure.colorbar(image, ax=axes[2], fraction=0.046)
    axes[2].set_title(f"response at {response.size:,} positions in {seconds * 1000:.0f} ms")
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    save(figure, "haar_response.png")


def adaboost_figure(cascade, numbers):
    """Training error of each stage's strong classifier, round by round."""
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for number, record in enumerate(cascade.history["stages"], start=1):
        axis.plot(range(1, len(record["training_errors"]) + 1), record["training_errors"], label=f"stage {number}")
    axis.set_xlabel("AdaBoost round (one decision stump each)")
    axis.set_ylabel("training error at AdaBoost's threshold")
    axis.legend(fontsize=7, ncol=3)
    axis.set_title("AdaBoost: training error per round, per cascade stage")
    save(figure, "adaboost_error.png")
    numbers["cascade"] = {"stages": len(cascade.stages), "features": cascade.n_features,
                          "features_per_stage": [len(s.features) for s in cascade.stages],
                          "first_stage_errors": [round(e, 4) for e in cascade.history["stages"][0]["training_errors"]]}


def detections_figure(faces, numbers):
    """The from-scratch cascade and OpenCV's on the same photos."""
    scenes = [astronaut_scene(), *make_scenes(faces, n_faces=4, seed=3)[:2]]
    detectors = {"from scratch (this project)": ViolaJonesDetector(shipped_cascade()),
                 "OpenCV haarcascade_frontalface_default": HaarCascadeDetector()}
    figure, axes = plt.subplots(len(detectors), len(scenes), figsize=(4.5 * len(scenes), 8), squeeze=False)
    numbers["detections"] = {}
    for row, (name, detector) in enumerate(detectors.items()):
        found = missed = false = 0
        for column, (_, image, truth) in enumerate(scenes):
            boxes = detector.detect(image)
            hits, false_positives = match(boxes, truth)
            hits = int(hits.sum())
            found, missed, false = found + hits, missed + len(truth) - hits, false + false_positives
            axis = axes[row, column]
            axis.imshow(image, cmap="gray")
            for x, y, w, h in truth:
                axis.add_patch(plt.Rectangle((x, y), w, h, fill=False, color="yellow", ls="--"))
            for x, y, w, h in boxes:
                axis.add_patch(plt.Rectangle((x, y), w, h, fill=False, color="lime", lw=2))
            axis.set_axis_off()
        axes[row, 0].set_title(f"{name}: {found} found, {missed} missed, {false} false", loc="left", fontsize=10)
        numbers["detections"][name] = {"found": found, "missed": missed, "false_positives": false}
    save(figure, "detections.png")


def faces_figure(data, numbers):
    """One PrivateTest face per emotion: landmarks, aligned face, HOG and LBP."""
    test = data["PrivateTest"]
    picks = [int(np.flatnonzero(test.labels == k)[3]) for k in range(len(EMOTIONS))]
    faces = test.faces[picks]
    landmarks = fit_landmarks(faces)
    aligned = align_faces(faces, landmarks)
    labels = lbp_image(aligned)
    points = transform_points(landmarks.astype(np.float64), alignment_matrices(landmarks))
    figure, axes = plt.subplots(4, len(EMOTIONS), figsize=(2 * len(EMOTIONS), 8.4))
    for k, emotion in enumerate(EMOTIONS):
        axes[0, k].imshow(faces[k], cmap="gray")
        axes[0, k].set_title(emotion)
        axes[1, k].imshow(aligned[k], cmap="gray")
        axes[1, k].scatter(points[k, :, 0], points[k, :, 1], s=4, c="red")
        axes[2, k].imshow(hog_visualisation(aligned[k]), cmap="magma")
        axes[3, k].imshow(labels[k], cmap="nipy_spectral")
    for row, name in enumerate(["FER2013 face", "aligned + landmarks", "HOG", "uniform LBP"]):
        axes[row, 0].set_ylabel(name)
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    save(figure, "faces_features.png")
    numbers["faces"] = {"private_test_rows": [int(test.rows[i]) for i in picks]}


def confusion_figure(numbers):
    """Row-normalised PrivateTest confusion matrix of the shipped classic model, from its manifest."""
    entry = read_manifest().models["classic"]
    metrics = entry.metrics["PrivateTest"]
    confusion = np.array(metrics["confusion"], dtype=np.float64)
    rates = confusion / confusion.sum(axis=1, keepdims=True)
    figure, axis = plt.subplots(figsize=(6.5, 5.5))
    image = axis.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(rates):
        axis.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                  color="white" if value > 0.5 else "black")
    axis.set_xticks(range(7), EMOTIONS, rotation=45)
    axis.set_yticks(range(7), EMOTIONS)
    for tick, color in zip(axis.get_yticklabels(), emotion_colors_float()):
        tick.set_color(color)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(f"classic: {entry.method}\nPrivateTest accuracy {metrics['accuracy']:.3f}")
    figure.colorbar(image, fraction=0.046)
    save(figure, "confusion_classic.png")
    numbers["classic"] = {"method": entry.method, "private_test_accuracy": metrics["accuracy"],
                          "macro_f1": metrics["macro_f1"], "per_class_recall": metrics["per_class_recall"]}


def deep_figure(numbers):
    """Training curves of every shipped network, and the first convolution's filters of fer-cnn."""
    from fer_classic.cnn.method import full_history  # needs Keras, which the other figures do not

    networks = {name: entry for name, entry in read_manifest().models.items() if entry.kind == "cnn"}
    histories = {name: full_history(entry.training) for name, entry in networks.items()}
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for index, (name, history) in enumerate(histories.items()):
        epochs = [h["epoch"] for h in history]
        colour = f"C{index}"
        axis.plot(epochs, [h["val_accuracy"] for h in history], color=colour, label=f"{name}: PublicTest")
        axis.plot(epochs, [h["accuracy"] for h in history], color=colour, linestyle="--",
                  label=f"{name}: Training (augmented)")
        for restart in (h["epoch"] for h in history if h.get("restart")):
            axis.axvline(restart - 0.5, color=colour, linestyle=":", label=f"{name}: warm restart")
    axis.set_xlabel("epoch")
    axis.set_ylabel("accuracy")
    axis.set_title("Shipped networks' training curves, from the manifest")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    save(figure, "cnn_training_curves.png")
    # A warm restart's epochs count after those of the run it started from.
    numbers["deep"] = {name: {"epochs_run": len(histories[name]),
                              "best_epoch": entry.training["best_epoch"] + len(histories[name])
                              - entry.training["epochs_run"],
                              "warm_restarts": sum(bool(h.get("restart")) for h in histories[name]),
                              "training_minutes": round(entry.training_seconds / 60),
                              "private_test_accuracy": entry.accuracy("PrivateTest"),
                              "ferplus_private_test_accuracy": entry.accuracy("FERPlus-PrivateTest"),
                              "size_bytes": entry.size_bytes, "recipe": entry.parameters["recipe"]}
                       for name, entry in networks.items()}

    # The first layer sees grey levels directly, so its 3x3 kernels can be read as tiny image filters.
    network = load_model("fer-cnn")[0].network_
    first = next(layer for layer in network.layers if layer.__class__.__name__ == "Conv2D")
    kernels = np.asarray(first.get_weights()[0])[:, :, 0, :]  # (3, 3, filters)
    columns = 8
    rows = -(-kernels.shape[-1] // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.9, rows * 0.9))
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index < kernels.shape[-1]:
            kernel = kernels[:, :, index]
            limit = np.abs(kernel).max()
            axis.imshow(kernel, cmap="coolwarm", vmin=-limit, vmax=limit)
    figure.suptitle("fer-cnn: the first convolution's 3x3 filters (red positive, blue negative)", fontsize=9)
    save(figure, "cnn_first_filters.png")
    numbers["deep"]["fer-cnn"]["first_layer_filters"] = int(kernels.shape[-1])


def explain_slide():
    """``fer-classic explain`` on skimage's astronaut with the classic model: the slide docs/usage.md shows."""
    from fer_classic import EmotionRecognizer
    from fer_classic.explain import explain_figure

    explain_figure(EmotionRecognizer.load("classic"), skdata.astronaut(), FIGURES / "explain.png", color_order="rgb",
                   cascade=shipped_cascade())


FIGURE_NAMES = ("integral", "haar_response", "adaboost", "detections", "faces", "confusion", "deep", "explain")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=FIGURE_NAMES, default=FIGURE_NAMES,
                        help="regenerate these figures and their numbers only, keeping the others")
    args = parser.parse_args(argv)
    FIGURES.mkdir(parents=True, exist_ok=True)
    numbers_file = FIGURES / "numbers.json"
    numbers = json.loads(numbers_file.read_text()) if numbers_file.exists() else {}
    data = load_fer2013()
    test = data["PrivateTest"]
    happy = test.faces[np.flatnonzero(test.labels == EMOTIONS.index("happy"))[0]]
    figures = {"integral": lambda: integral_figure(happy, numbers),
               "haar_response": lambda: haar_response_figure(skdata.astronaut().mean(axis=2).astype(np.uint8),
                                                             numbers),
               "adaboost": lambda: adaboost_figure(shipped_cascade(), numbers),
               "detections": lambda: detections_figure(test.faces, numbers),
               "faces": lambda: faces_figure(data, numbers),
               "confusion": lambda: confusion_figure(numbers),
               "deep": lambda: deep_figure(numbers),
               "explain": explain_slide}
    for name in args.only:
        figures[name]()
    numbers_file.write_text(json.dumps(numbers, indent=2) + "\n")
    print(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
