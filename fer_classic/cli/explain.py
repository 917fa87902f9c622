"""One figure that shows the three phases at work on every face of an image.

Per face, three rows:

1. **detection**: the image with the detected boxes; the face with the first
   Haar features of the from-scratch Viola-Jones cascade drawn where they look;
2. **extraction**: the eye-aligned face with its 68 landmarks; the HOG
   visualisation; the uniform-LBP label image with its cell grid; the LBP
   histograms of every cell; the geometric features furthest from FER2013's
   average face;
3. **classification**: the seven probabilities, the decision, and the time
   each phase took.
"""

from __future__ import annotations

import numpy as np

from ..annotate import emotion_colors_float
from ..extract import geometric_feature_names, lbp_histograms
from ..extract.align import alignment_matrices, transform_points
from ..extract.lbp import N_LABELS
from ..faces import EMOTIONS
from ..phases import run_phases
from ..store import warm_up

N_HAAR_FEATURES = 4
N_GEOMETRIC_FEATURES = 8
LBP_GRID = (6, 6)


def _landmark_scaling(model):
    """Mean and scale of the geometric features the model was trained with, or None."""
    from sklearn.pipeline import Pipeline

    pipeline = getattr(model, "estimator_", model)
    if not isinstance(pipeline, Pipeline) or "features" not in pipeline.named_steps:
        return None
    landmarks = pipeline.named_steps["features"].named_transformers.get("landmarks")
    scaler = landmarks.named_steps.get("map") if isinstance(landmarks, Pipeline) else None
    if not hasattr(scaler, "scale_"):
        return None
    return scaler.mean_, scaler.scale_


def _top_geometric(geometric, scaling):
    """Names and signed z-scores (or raw values) of the most telling geometric features, points excluded."""
    names = np.array(geometric_feature_names())
    scalars = np.array([not name.startswith("point ") for name in names])
    values = geometric.astype(np.float64)
    if scaling is not None:
        values = (values - scaling[0]) / scaling[1]
    order = np.argsort(-np.abs(np.where(scalars, values, 0)))[:N_GEOMETRIC_FEATURES]
    return names[order], values[order], scaling is not None


def _draw_haar_features(axis, crop, cascade):
    from matplotlib.patches import Rectangle

    from ..detect.viola_jones.haar import FEATURE_KINDS

    axis.imshow(crop, cmap="gray", vmin=0, vmax=255)
    if cascade is None:
        axis.set_title("no Viola-Jones cascade", fontsize=8)
        return
    height, width = cascade.window_shape
    sy, sx = crop.shape[0] / height, crop.shape[1] / width
    features = cascade.stages[0].features
    for kind, (x, y, w, h) in list(zip(features.kinds, features.boxes))[:N_HAAR_FEATURES]:
        pattern = FEATURE_KINDS[kind]
        cell_h, cell_w = h / pattern.shape[0], w / pattern.shape[1]
        for (row, col), weight in np.ndenumerate(pattern):
            axis.add_patch(Rectangle(((x + col * cell_w) * sx - 0.5, (y + row * cell_h) * sy - 0.5),
                                     cell_w * sx, cell_h * sy, alpha=0.45,
                                     color="white" if weight > 0 else "black"))
        axis.add_patch(Rectangle((x * sx - 0.5, y * sy - 0.5), w * sx, h * sy, fill=False, color="red", lw=1))
    axis.set_title(f"first {min(N_HAAR_FEATURES, len(features))} Haar features\nof the from-scratch cascade",
                   fontsize=8)


def _draw_lbp(axis, labels):
    axis.imshow(labels, cmap="nipy_spectral", vmin=0, vmax=N_LABELS - 1)
    rows, cols = LBP_GRID
    for r in range(1, rows):
        axis.axhline(r * labels.shape[0] / rows - 0.5, color="white", lw=0.6)
    for c in range(1, cols):
        axis.axvline(c * labels.shape[1] / cols - 0.5, color="white", lw=0.6)
    axis.set_title("uniform LBP labels,\n6x6 cells", fontsize=8)


def explain_figure(recognizer, image, out, color_order="bgr", cascade=None):
    """Draw the three phases for every face of ``image`` and save a PNG.

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    image : ndarray
        Any image :func:`fer_classic.imageio.to_gray_uint8` accepts.
    out : str or Path
        PNG to write.
    color_order : {"bgr", "rgb"}
    cascade : fer_classic.detect.viola_jones.Cascade, optional
        Whose first Haar features are drawn; none are drawn when None.

    Returns
    -------
    dict
        What :func:`fer_classic.phases.run_phases` found.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    warm_up(recognizer)  # so the times shown are per image, not the landmark predictor's load
    result = run_phases(recognizer, image, color_order)
    faces, timings = result["faces"], result["timings"]
    scaling = _landmark_scaling(recognizer.model)
    rows = 3 * max(len(faces), 1)
    figure, axes = plt.subplots(rows, 5, figsize=(15, 3.1 * rows), squeeze=False)
    for axis in axes.ravel():
        axis.set_axis_off()

    overview = axes[0, 0]
    overview.imshow(result["gray"], cmap="gray", vmin=0, vmax=255)
    for number, face in enumerate(faces, start=1):
        x, y, w, h = face["box"]
        overview.add_patch(plt.Rectangle((x, y), w, h, fill=False, color="lime", lw=1.5))
        overview.text(x, y - 4, f"face {number}", color="lime", fontsize=8)
    overview.set_title(f"1 detection: {len(faces)} face(s), {timings['detect'] * 1000:.0f} ms", fontsize=9)
    if not faces:
        axes[0, 1].text(0, 0.5, "no face found", fontsize=12)

    for number, face in enumerate(faces):
        top = 3 * number
        _draw_haar_features(axes[top, 1], face["crop"], cascade)

        aligned_points = transform_points(face["landmarks"][None].astype(np.float64),
                                          alignment_matrices(face["landmarks"][None]))[0]
        axes[top + 1, 0].imshow(face["aligned"], cmap="gray", vmin=0, vmax=255)
        axes[top + 1, 0].scatter(aligned_points[:, 0], aligned_points[:, 1], s=6, c="red")
        axes[top + 1, 0].set_title(f"2 extraction (face {number + 1}):\naligned face, 68 landmarks", fontsize=8)
        axes[top + 1, 1].imshow(face["hog_image"], cmap="magma")
        axes[top + 1, 1].set_title("HOG (8 px cells)", fontsize=8)
        _draw_lbp(axes[top + 1, 2], face["lbp_image"])
        histograms = lbp_histograms(face["aligned"][None], LBP_GRID).reshape(-1, N_LABELS)
        axes[top + 1, 3].set_axis_on()
        axes[top + 1, 3].imshow(histograms, aspect="auto", cmap="viridis")
        axes[top + 1, 3].set_xlabel("LBP label", fontsize=7)
        axes[top + 1, 3].set_ylabel("cell", fontsize=7)
        axes[top + 1, 3].tick_params(labelsize=6)
        axes[top + 1, 3].set_title("LBP histogram per cell", fontsize=8)
        names, values, standardised = _top_geometric(face["geometric"], scaling)
        geometric_axis = axes[top + 1, 4]
        geometric_axis.set_axis_on()
        geometric_axis.barh(range(len(names))[::-1], values, color=["tab:red" if v > 0 else "tab:blue" for v in values])
        geometric_axis.set_yticks(range(len(names))[::-1], names, fontsize=7)
        geometric_axis.tick_params(axis="x", labelsize=7)
        geometric_axis.set_title("geometry: z-score vs FER2013" if standardised else "geometry (raw)", fontsize=8)

        probabilities = [face["probabilities"][e] for e in EMOTIONS]
        bars = axes[top + 2, 0]
        bars.set_axis_on()
        bars.bar(range(len(EMOTIONS)), probabilities, color=emotion_colors_float())
        bars.set_xticks(range(len(EMOTIONS)), [e[:4] for e in EMOTIONS], fontsize=7)
        bars.set_ylim(0, 1)
        bars.set_title(f"3 classification (face {number + 1})", fontsize=8)
        axes[top + 2, 1].text(0, 0.55, f"{face['emotion']}\n{max(probabilities):.0%}", fontsize=20,
                              color=emotion_colors_float()[EMOTIONS.index(face["emotion"])])
        phases = axes[top + 2, 2]
        phases.set_axis_on()
        names = ("detect", "extract", "classify")
        milliseconds = [timings[p] * 1000 for p in names]
        phases.barh([2, 1, 0], milliseconds, color=["tab:green", "tab:orange", "tab:purple"])
        phases.set_yticks([2, 1, 0], [f"{p} {m:.1f} ms" for p, m in zip(names, milliseconds)], fontsize=7)
        phases.tick_params(axis="x", labelsize=7)
        phases.set_title("time per phase (whole image)", fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=90)
    plt.close(figure)
    return result
