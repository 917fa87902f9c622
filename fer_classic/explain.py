"""One figure to project in class: the three phases at work on a photo, as the chosen model ran them.

The figure reads top to bottom:

- **the whole photo** (phase 1, detection), large, with every face's box numbered, the detector that found them
  named, and beside it the time each phase took on the whole image, drawn once;
- **one row per face**, the largest first, at most :data:`MAX_FACES` of them (the photo's caption says how many
  more were found). A row holds the 48x48 face the classifier was given, with the first Haar features of the
  from-scratch Viola-Jones cascade drawn on it when that cascade finds the face too; then only the phase-2
  features the model really computes, read from its pipeline: the eye-aligned face with its 68 landmarks (when a
  feature aligns or measures with them), HOG, uniform LBP labels on their cell grid, the dense SIFT grid, the
  geometric features furthest from FER2013's average face, and for a network (a CNN, or CNN embeddings) the
  strongest maps of its first convolution (not for MobileNetV2 and ResNet50, whose layers Keras nests out of
  reach); last, phase 3: the probability of each of the model's classes (FER2013's seven emotions, or the
  model's own) as labelled horizontal bars.

Every panel carries a caption that tells a student what to look at, and the fonts are sized for a slide.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import partial

import numpy as np

from .annotate import emotion_colors_float
from .atomic import save_figure
from .detect.boxes import box_iou
from .detect.dlib_cnn import DlibCnnDetector
from .detect.dlib_hog import DlibHogDetector
from .detect.haar import HaarCascadeDetector
from .detect.merged import MergedDetector
from .detect.profile import ProfileDetector
from .detect.registry import DEFAULT_SCALE_FACTOR, MIN_SIZE, VIOLA_JONES
from .detect.verified import VerifiedDetector
from .detect.viola_jones import ViolaJonesDetector
from .detect.whole_image import WholeImageDetector
from .extract import geometric_feature_names, lbp_image
from .extract.align import alignment_matrices, transform_points
from .extract.dense_sift import dense_grid
from .extract.lbp import N_LABELS
from .faces import EMOTIONS
from .phases import hog_visualisation, run_phases
from .store import warm_up

MAX_FACES = 3
N_HAAR_FEATURES = 4
N_GEOMETRIC_FEATURES = 6
N_FEATURE_MAPS = 8
# A cascade box and a detected box this much alike are the same face.
SAME_FACE_IOU = 0.3
# Sizes for a projected slide: one image panel is PANEL_INCHES wide, text is at least TEXT_SIZE points.
PANEL_INCHES = 2.6
TITLE_SIZE = 18
TEXT_SIZE = 15
CAPTION_SIZE = 14
CHARS_PER_INCH = 9.5  # of CAPTION_SIZE text, to wrap a caption to its panel
DPI = 90
# Where a wrapping estimator keeps the fitted one it wraps: small_sets.FaceClassifier, MirrorAveragedClassifier.
WRAPPED_ATTRIBUTES = ("model_", "estimator_")
PHASE_COLORS = {"detect": "tab:green", "extract": "tab:orange", "classify": "tab:purple"}
DETECTORS = {
    VerifiedDetector: "OpenCV's Haar cascade, each face confirmed by dlib's HOG detector",
    HaarCascadeDetector: "OpenCV's Haar cascade",
    ProfileDetector: "OpenCV's profile Haar cascade",
    MergedDetector: "OpenCV's frontal and profile Haar cascades",
    DlibHogDetector: "dlib's HOG detector",
    DlibCnnDetector: "dlib's CNN detector",
    ViolaJonesDetector: "the from-scratch Viola-Jones cascade",
    WholeImageDetector: "no detector: the whole image is the face",
}


@dataclass(frozen=True)
class Panel:
    """One panel of a face's row.

    Attributes
    ----------
    name : str
        What it shows (``"hog"``, ``"probabilities"``...); the axes' label, for tests and readers of the code.
    width : float
        In image panels.
    draw : callable
        ``draw(axis, face) -> (title, caption)``: draws one face (a :func:`~fer_classic.phases.run_phases` face
        with ``cascade_box`` added: see :func:`cascade_boxes`) and says what the panel shows.
    """

    name: str
    width: float
    draw: callable


def feature_pipelines(model):
    """The model's phase-2 feature pipelines by feature name; empty for a model that takes pixels (a CNN).

    Parameters
    ----------
    model : estimator
        A recognizer's model, mirror-averaged or not, or one that holds its fitted face pipeline in ``model_``
        (a :class:`~fer_classic.classify.small_sets.FaceClassifier`): wrappers are followed through their
        :data:`WRAPPED_ATTRIBUTES` down to the pipeline.

    Returns
    -------
    dict
        ``{name: Pipeline}``, each with an ``extract`` and a ``map`` step, in the model's order.
    """
    from sklearn.pipeline import Pipeline

    pipeline = _unwrapped(model)
    if not isinstance(pipeline, Pipeline) or "features" not in pipeline.named_steps:
        return {}
    return dict(pipeline.named_steps["features"].transformer_list)


def _unwrapped(model):
    """The innermost estimator of ``model``, following :data:`WRAPPED_ATTRIBUTES` while it has one."""
    for name in WRAPPED_ATTRIBUTES:
        inner = getattr(model, name, None)
        if inner is not None:
            return _unwrapped(inner)
    return model


def _needs_landmarks(extractor):
    # Every landmark-based extractor takes a landmark model; HOG and LBP may be told not to align.
    return hasattr(extractor, "landmark_model") and getattr(extractor, "align", True)


def face_panels(recognizer, cascade=None):
    """The panels of one face's row: the face, the features the model computes, its probabilities.

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    cascade : fer_classic.detect.viola_jones.Cascade, optional
        The from-scratch cascade whose first Haar features the face panel draws.

    Returns
    -------
    list of Panel
    """
    from .extract.transformers import HOGFeatures, LandmarkFeatures, LBPFeatures

    model = recognizer.model
    pipelines = feature_pipelines(model)
    extractors = {name: steps.named_steps["extract"] for name, steps in pipelines.items()}
    networks = {"the CNN": model.network_} if hasattr(model, "network_") else {}
    panels = [Panel("face", 1, partial(_draw_face, cascade))]
    measures = any(isinstance(e, LandmarkFeatures) for e in extractors.values())
    if any(_needs_landmarks(e) for e in extractors.values()):
        panels.append(Panel("landmarks", 1, partial(_draw_landmarks, measures)))
    for name, extractor in extractors.items():
        if isinstance(extractor, HOGFeatures):
            panels.append(Panel("hog", 1, partial(_draw_hog, extractor)))
        elif isinstance(extractor, LBPFeatures):
            panels.append(Panel("lbp", 1, partial(_draw_lbp, extractor)))
        elif hasattr(extractor, "patch_sizes"):
            panels.append(Panel("sift", 1, partial(_draw_sift, extractor, name)))
        elif isinstance(extractor, LandmarkFeatures):
            panels.append(Panel("geometry", 2, partial(_draw_geometry, _standardisation(pipelines[name]))))
        elif hasattr(extractor, "network"):
            networks[f"the {extractor.network} network"] = _shipped_network(extractor.network)
    for owner, network in networks.items():
        head = first_convolution(network)
        if head is not None:  # a network built on a Keras application nests its layers out of reach
            panels.append(Panel("feature maps", 1.6, partial(_draw_feature_maps, head, owner)))
    classifier = recognizer.info.classifier if recognizer.info is not None else type(model).__name__
    panels.append(Panel("probabilities", 2, partial(_draw_probabilities, classifier)))
    return sorted(panels, key=lambda panel: panel.width)  # the pictures first, then the charts


def _shipped_network(name):
    from .cnn.embeddings import network_file
    from .cnn.weight_files import load_weights

    return load_weights(network_file(name))[1]


def _standardisation(pipeline):
    """Mean and scale the geometric features were standardised with, or None."""
    scaler = pipeline.named_steps.get("map")
    return (scaler.mean_, scaler.scale_) if hasattr(scaler, "scale_") else None


def _image(axis, image, **options):
    axis.imshow(image, **{"cmap": "gray", "vmin": 0, "vmax": 255, **options})
    axis.set_xticks([])
    axis.set_yticks([])


def _draw_face(cascade, axis, face):
    _image(axis, face["crop"])
    title, caption = "the face", "Cut out in grey and shrunk to 48 x 48 pixels, as in FER2013."
    if face["cascade_box"] is None:
        return title, caption
    from matplotlib.patches import Rectangle

    from .detect.viola_jones.haar import FEATURE_KINDS

    # Window coordinates -> image -> crop: the features lie where the cascade's window saw the face.
    x0, y0, w0, h0 = face["cascade_box"]
    fx, fy, fw, fh = face["box"]
    height, width = cascade.window_shape
    sx, sy = w0 / width * face["crop"].shape[1] / fw, h0 / height * face["crop"].shape[0] / fh
    ox, oy = (x0 - fx) * face["crop"].shape[1] / fw - 0.5, (y0 - fy) * face["crop"].shape[0] / fh - 0.5
    features = cascade.stages[0].features
    shown = list(zip(features.kinds, features.boxes))[:N_HAAR_FEATURES]
    for kind, (x, y, w, h) in shown:
        pattern = FEATURE_KINDS[kind]
        cell_h, cell_w = h / pattern.shape[0], w / pattern.shape[1]
        for (row, col), weight in np.ndenumerate(pattern):
            axis.add_patch(Rectangle((ox + (x + col * cell_w) * sx, oy + (y + row * cell_h) * sy), cell_w * sx,
                                     cell_h * sy, alpha=0.35, color="white" if weight > 0 else "black"))
        axis.add_patch(Rectangle((ox + x * sx, oy + y * sy), w * sx, h * sy, fill=False, color="red", lw=2))
    axis.set_xlim(-0.5, face["crop"].shape[1] - 0.5)
    axis.set_ylim(face["crop"].shape[0] - 0.5, -0.5)
    return ("Haar features", f"The 48 x 48 grey face. The from-scratch cascade finds it too; its first {len(shown)} "
            "tests: white vs black areas.")


def _aligned_landmarks(face):
    landmarks = face["landmarks"][None].astype(np.float64)
    return transform_points(landmarks, alignment_matrices(face["landmarks"][None]))[0]


def _draw_landmarks(measures, axis, face):
    _image(axis, face["aligned"])
    axis.scatter(*_aligned_landmarks(face).T, s=14, c="red")
    use = "their distances and angles are features" if measures else "used only for that"
    return "68 landmarks", f"They put the eyes level at fixed places; {use}."


def _draw_hog(extractor, axis, face):
    cell = max(extractor.cell_sizes)
    _image(axis, hog_visualisation(face["aligned" if extractor.align else "crop"], cell, extractor.n_bins),
           cmap="magma", vmin=None, vmax=None)
    others = [size for size in extractor.cell_sizes if size != cell]
    also = f" (and {', '.join(map(str, others))} px)" if others else ""
    return "HOG", f"Edge directions in each {cell} px cell{also}: see brows, eyes, mouth."


def _draw_lbp(extractor, axis, face):
    labels = lbp_image(face["aligned" if extractor.align else "crop"][None])[0]
    _image(axis, labels, cmap="nipy_spectral", vmin=0, vmax=N_LABELS - 1)
    rows, cols = extractor.grid
    for r in range(1, rows):
        axis.axhline(r * labels.shape[0] / rows - 0.5, color="white", lw=1.2)
    for c in range(1, cols):
        axis.axvline(c * labels.shape[1] / cols - 0.5, color="white", lw=1.2)
    return "LBP", f"Texture: a pattern code per pixel ({N_LABELS} colours), counted in {rows} x {cols} cells."


def _draw_sift(extractor, name, axis, face):
    _image(axis, face["aligned"])
    keypoints = dense_grid(face["aligned"].shape[0], extractor.step, extractor.patch_sizes)
    centres = np.unique(keypoints[:, :2], axis=0)
    axis.scatter(*centres.T, s=10, c="cyan")
    side = min(extractor.patch_sizes)
    x, y = centres[np.argmin(np.abs(centres - face["aligned"].shape[0] / 2).sum(axis=1))]
    axis.add_patch(_square(x, y, side))
    encoding = "a Fisher vector" if name == "sift-fisher" else "a bag of words"
    return "dense SIFT", f"A gradient descriptor per dot and patch (one boxed), pooled as {encoding}."


def _square(x, y, side):
    from matplotlib.patches import Rectangle

    return Rectangle((x - side / 2, y - side / 2), side, side, fill=False, color="yellow", lw=2)


def top_geometric(geometric, standardisation):
    """The scalar geometric features furthest from the average face (the 68 point coordinates left out).

    Parameters
    ----------
    geometric : ndarray, shape (170,)
    standardisation : (mean, scale) or None
        What the model standardised the features with; without it, raw values are ranked.

    Returns
    -------
    names : ndarray of str
    values : ndarray of float64
        Z-scores, or raw values without ``standardisation``; largest in magnitude first.
    """
    names = np.array(geometric_feature_names())
    scalars = np.array([not name.startswith("point ") for name in names])
    values = geometric.astype(np.float64)
    if standardisation is not None:
        values = (values - standardisation[0]) / standardisation[1]
    order = np.argsort(-np.abs(np.where(scalars, values, 0)), kind="stable")[:N_GEOMETRIC_FEATURES]
    return names[order], values[order]


def _draw_geometry(standardisation, axis, face):
    names, values = top_geometric(face["geometric"], standardisation)
    rows = np.arange(len(names))[::-1]
    axis.barh(rows, values, color=["tab:red" if v > 0 else "tab:blue" for v in values])
    axis.set_yticks(rows, names, fontsize=CAPTION_SIZE)
    axis.axvline(0, color="black", lw=1)
    axis.tick_params(axis="x", labelsize=CAPTION_SIZE - 2)
    if standardisation is None:
        return "geometry", "The largest landmark measures (raw: the model does not standardise them)."
    return "geometry", "Measures least like FER2013's average face, in standard deviations: red larger, blue smaller."


def _draw_feature_maps(head, owner, axis, face):
    maps = np.asarray(head(face["crop"][None, :, :, None].astype(np.float32), training=False))[0]
    strongest = maps[..., np.argsort(-maps.std(axis=(0, 1)), kind="stable")[:N_FEATURE_MAPS]]
    # Each map to 0..1 on its own, framed by one bright pixel so the tiles stay apart.
    tiles = [np.pad((m - m.min()) / max(np.ptp(m), 1e-9), 1, constant_values=1) for m in np.moveaxis(strongest, -1, 0)]
    half = len(tiles) // 2
    _image(axis, np.block([tiles[:half], tiles[half:2 * half]]), cmap="magma", vmin=0, vmax=1)
    return ("first layer", f"No hand-made features: the {2 * half} of {owner}'s {maps.shape[-1]} learned "
            "first-layer filters that respond most (bright = strong).")


def first_convolution(network):
    """The part of a Keras network from its input to its first convolution, or None if it has none of its own.

    Parameters
    ----------
    network : keras.Model
        Taking (n, 48, 48, 1) faces; a convolution nested in a sub-model is not reached.

    Returns
    -------
    keras.Model or None
        From the faces to that convolution's maps, (n, h, w, channels).
    """
    import keras

    convolution = next((layer for layer in network.layers if isinstance(layer, keras.layers.Conv2D)), None)
    return None if convolution is None else keras.Model(network.input, convolution.output)


def _draw_probabilities(classifier, axis, face):
    classes = list(face["probabilities"])
    probabilities = np.array(list(face["probabilities"].values()))
    colors = emotion_colors_float(classes)
    rows = np.arange(len(classes))[::-1]
    axis.barh(rows, probabilities, color=colors)
    axis.set_yticks(rows, classes, fontsize=TEXT_SIZE)
    winner = classes.index(face["emotion"])
    axis.get_yticklabels()[winner].set_fontweight("bold")
    for row, p in zip(rows, probabilities):
        axis.text(p + 0.02, row, f"{p:.0%}", va="center", fontsize=CAPTION_SIZE)
    axis.set_xlim(0, 1.25)
    axis.set_xticks([])
    axis.title.set_color(colors[winner])
    kind = "emotion" if tuple(classes) == EMOTIONS else "class"
    return (f"{face['emotion']} {probabilities[winner]:.0%}",
            f"Phase 3, {classifier}: a probability per {kind}; the longest bar is the answer.")


def _label(axis, name, width, title, caption):
    axis.set_label(name)
    axis.set_title(title, fontsize=TITLE_SIZE)
    axis.set_xlabel(_wrap(caption, width * PANEL_INCHES), fontsize=CAPTION_SIZE, loc="left", linespacing=1.2)


def _wrap(caption, inches):
    return textwrap.fill(" ".join(caption.split()), max(12, int(inches * CHARS_PER_INCH)), break_on_hyphens=False)


def _wrap_captions(figure):
    """Wrap each caption again to the width its panel got: a chart's tick labels take part of its share."""
    figure.draw_without_rendering()
    for axis in figure.get_axes():
        caption = axis.xaxis.label
        caption.set_text(_wrap(caption.get_text(), axis.get_window_extent().width / figure.dpi))


def _draw_overview(axis, gray, faces, detector, seconds):
    from matplotlib.patches import Rectangle

    _image(axis, gray)
    line = max(2.0, max(gray.shape) / 400)
    for number, face in enumerate(faces, start=1):
        x, y, w, h = face["box"]
        shown = number <= MAX_FACES
        color = "lime" if shown else "yellow"
        axis.add_patch(Rectangle((x, y), w, h, fill=False, color=color, lw=line, ls="-" if shown else "--"))
        axis.text(x + line, y + line, str(number), color="black", fontsize=TEXT_SIZE, fontweight="bold", va="top",
                  bbox={"facecolor": color, "edgecolor": "none", "pad": 2})
    found = f"{len(faces)} face{'s' if len(faces) != 1 else ''}" if faces else "no face"
    more = (f" Faces {MAX_FACES + 1} to {len(faces)} (dashed) are left out below: {len(faces) - MAX_FACES} more."
            if len(faces) > MAX_FACES else "")
    below = " Each numbered face has its row below." if faces else " There is nothing to extract or classify."
    caption = f"{DETECTORS.get(type(detector), type(detector).__name__)} found {found} in the grey image."
    return f"Phase 1, detection: {found} in {seconds * 1000:.0f} ms", caption + below + more


def _draw_timings(axis, timings, extracts):
    phases = ("detect", "extract", "classify") if extracts else ("detect", "classify")
    milliseconds = np.array([timings[p] * 1000 for p in phases])
    rows = np.arange(len(phases))[::-1]
    axis.barh(rows, milliseconds, color=[PHASE_COLORS[p] for p in phases])
    axis.set_yticks(rows, phases, fontsize=TEXT_SIZE)
    for row, ms in zip(rows, milliseconds):
        axis.text(ms + milliseconds.max() * 0.03, row, f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms",
                  va="center", fontsize=CAPTION_SIZE)
    axis.set_xlim(0, milliseconds.max() * 1.45 or 1)
    axis.set_xticks([])
    caption = "On the whole image, all faces together."
    return "time per phase", caption if extracts else f"{caption} The network extracts and classifies in one pass."


def cascade_boxes(gray, faces, detector, cascade):
    """Per face, the box where the from-scratch cascade finds it, or None where it does not.

    Parameters
    ----------
    gray : ndarray of uint8, shape (h, w)
    faces : list of dict
        With ``box``.
    detector : object
        The detector that found ``faces``; when it is the from-scratch cascade, its boxes are the cascade's.
    cascade : fer_classic.detect.viola_jones.Cascade or None
        Else run on ``gray`` with the Viola-Jones defaults; None finds nothing.

    Returns
    -------
    list of (x, y, w, h) or None
    """
    boxes = [face["box"] for face in faces]
    if cascade is None or isinstance(detector, ViolaJonesDetector) or not boxes:
        return boxes if cascade is not None else [None] * len(boxes)
    found = ViolaJonesDetector(cascade, DEFAULT_SCALE_FACTOR[VIOLA_JONES], min_size=(MIN_SIZE, MIN_SIZE)).detect(gray)
    if not len(found):
        return [None] * len(boxes)
    overlap = box_iou(boxes, found)
    best = overlap.argmax(axis=1)
    return [tuple(found[j]) if overlap[i, j] >= SAME_FACE_IOU else None for i, j in enumerate(best)]


def build_figure(recognizer, result, cascade=None):
    """Lay out the figure of one analysed image: the photo and the timings on top, then one row per face.

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    result : dict
        From :func:`fer_classic.phases.run_phases`.
    cascade : fer_classic.detect.viola_jones.Cascade, optional
        The from-scratch cascade; its first Haar features are drawn on each face it finds too.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot: nothing to close.
    """
    from matplotlib.figure import Figure

    faces = result["faces"]
    shown = faces[:MAX_FACES]
    panels = face_panels(recognizer, cascade) if shown else []
    found_by_cascade = cascade_boxes(result["gray"], shown, recognizer.detector, cascade)
    row_width = sum(panel.width for panel in panels)
    width = max(row_width, 6) * PANEL_INCHES + 1
    # The photo as large as the header's share of the width allows, within reason: boxes must be readable.
    header_height = float(np.clip(width * 0.65 * np.divide(*result["gray"].shape) + 1.6, 4.5, 9))
    row_height = PANEL_INCHES + 2.3
    figure = Figure(figsize=(width, header_height + row_height * len(shown) + 0.6), dpi=DPI, layout="constrained")
    figure.suptitle(_model_title(recognizer), fontsize=TITLE_SIZE + 3, fontweight="bold")
    header, *rows = figure.subfigures(1 + len(shown), 1, height_ratios=[header_height] + [row_height] * len(shown),
                                      squeeze=False)[:, 0]
    overview, timing = header.subplots(1, 2, width_ratios=[3, 1])
    _label(overview, "overview", 3, *_draw_overview(overview, result["gray"], faces, recognizer.detector,
                                                    result["timings"]["detect"]))
    _label(timing, "timings", 1.5, *_draw_timings(timing, result["timings"], bool(feature_pipelines(recognizer.model))))
    for number, (row, face, cascade_box) in enumerate(zip(rows, shown, found_by_cascade), start=1):
        row.supylabel(f"face {number}", fontsize=TITLE_SIZE + 1, fontweight="bold")
        axes = row.subplots(1, len(panels), width_ratios=[panel.width for panel in panels])
        for axis, panel in zip(axes, panels):
            _label(axis, panel.name, panel.width, *panel.draw(axis, {**face, "cascade_box": cascade_box}))
    _wrap_captions(figure)
    return figure


def _model_title(recognizer):
    info = recognizer.info
    if info is None:
        return f"How the model {type(recognizer.model).__name__} reads this image"
    return f"How the model {info.file.rsplit('.', 1)[0]} ({info.method}) reads this image"


def explain_figure(recognizer, image, out, color_order="bgr", cascade=None):
    """Run the three phases on ``image`` and save the figure that shows them (see the module's description).

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    image : ndarray
        Any image :func:`fer_classic.imageio.to_gray_uint8` accepts.
    out : str or Path
        The figure to write, in the format its suffix names (PNG...), whole or not at all.
    color_order : {"bgr", "rgb"}
    cascade : fer_classic.detect.viola_jones.Cascade, optional
        The from-scratch cascade; its first Haar features are drawn on each face it finds too.

    Returns
    -------
    dict
        What :func:`fer_classic.phases.run_phases` found.

    Raises
    ------
    fer_classic.atomic.OutputError
        When ``out`` cannot be written; it is then left as it was.
    """
    warm_up(recognizer)  # so the times shown are per image, not the landmark predictor's load
    result = run_phases(recognizer, image, color_order)
    save_figure(build_figure(recognizer, result, cascade), out, dpi=DPI)
    return result
