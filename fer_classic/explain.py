"""Slides to project in class: the three phases at work on a photo, as the chosen model ran them.

A slide is 16:9, 1920x1080 pixels unless asked otherwise (:data:`SLIDE_SIZE`), dark text on white, and reads left
to right under three headings:

- **1 Detection**: the whole photo with the slide's faces boxed and numbered (the other faces dashed), the detector
  that found them named, and the time each phase took on the whole image;
- **2 Extraction**: one row per face, the largest first: the 48x48 face the classifier was given, with the first
  Haar features of the from-scratch Viola-Jones cascade drawn on it when that cascade finds the face too; then only
  the phase-2 features the model really computes, read from its pipeline: the eye-aligned face with its 68
  landmarks (when a feature aligns or measures with them), HOG, uniform LBP labels on their cell grid, the dense
  SIFT grid, the geometric features furthest from FER2013's average face, and for a network (a CNN, or CNN
  embeddings) the strongest maps of its first convolution (not for MobileNetV2 and ResNet50, whose layers Keras
  nests out of reach);
- **3 Classification**: the probability of each of the model's classes (FER2013's seven emotions, or the model's
  own) as labelled bars. A model that learns locally (one with ``nearest_training_faces``, like ``fused``) also
  gets, under each face's row, its nearest FER2013 training faces with their labels and how its local SVM decided.

Each panel is named once above its column, and each phase explained once below it. A slide holds
:data:`FACES_PER_SLIDE` faces at most (see :func:`faces_per_slide`); the others go on further slides,
``<out>-2.png``, ``<out>-3.png``..., :data:`MAX_SLIDES` in all, and the first slide says where they are. Every text
is at least :data:`TEXT_PX` pixels high on a 1080-pixel-high slide, so it stays readable projected.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .annotate import emotion_colors_float
from .atomic import save_figure
from .cnn.litert import first_convolution_maps
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

SLIDE_SIZE = (1920, 1080)
SIDE_LIMITS = (640, 7680)          # pixels, either side
ASPECT_LIMITS = (4 / 3, 21 / 9)    # width / height: from a 4:3 projector to a wide screen
FACES_PER_SLIDE = 2               # at most; three made the images 90 px, too small to see projected
MAX_SLIDES = 8
N_HAAR_FEATURES = 4
N_GEOMETRIC_FEATURES = 3
N_FEATURE_MAPS = 8
N_NEIGHBOURS = 8
# A cascade box and a detected box this much alike are the same face.
SAME_FACE_IOU = 0.3
# The layout is in pixels of a slide LAYOUT_HEIGHT high, scaled to the slide asked for: at LAYOUT_DPI dots per inch
# a font of p pixels there is p * 72 / LAYOUT_DPI points.
LAYOUT_HEIGHT = 1080
LAYOUT_DPI = 100
TEXT_PX = 24          # the smallest text: captions, chart labels
PANEL_TITLE_PX = 26
HEADING_PX = 32
TITLE_PX = 34
LINE = 1.3            # line height, in font sizes
MARGIN = 24
GAP = 16
HEADINGS_Y = MARGIN + TITLE_PX * LINE + GAP / 2   # under the slide's title
PHASE_GAP = 44
CAPTION_LINES = 7     # below the rows; a longer caption is cut
MAX_ROW_PX = 600
MAX_SIDE_PX = 300     # an image panel's side at most
MIN_PHOTO_PX = 500
MIN_PHOTO_SHARE = 0.25            # of the width, on a narrow slide where MIN_PHOTO_PX would crowd the faces out
GEOMETRY_PX = 280                 # the geometry chart at most; a longer measure's name wraps
MAX_PHOTO_SHARE = 0.36
TIMING_PX = 150       # the time chart under the photo, its title included
BAR_PX = 190          # the probability bars' full length
VALUE_PX = 76         # room after a bar for "100%"
THUMB_PX = 88
NEIGHBOUR_TEXT_LINES = 3  # the neighbour line's title, then how the model decided, above the thumbnails
NEIGHBOUR_LINE_PX = NEIGHBOUR_TEXT_LINES * TEXT_PX * LINE + THUMB_PX + 4 + TEXT_PX * LINE
DARK = "#1a1a1a"
MUTED = "#555555"
RULE_BETWEEN_FACES = "#bbbbbb"
SHOWN_BOX, OTHER_BOX = "lime", "deepskyblue"
# Where a wrapping estimator keeps the fitted one it wraps: small_sets.FaceClassifier, MirrorAveragedClassifier.
WRAPPED_ATTRIBUTES = ("model_", "estimator_")
PHASE_COLORS = {"detect": "tab:green", "extract": "tab:orange", "classify": "tab:purple"}
PHASE_HEADINGS = {"detect": "1 Detection", "extract": "2 Extraction", "classify": "3 Classification"}
LOCAL_CAPTION = " Under each face: its nearest training faces, and how the SVM fitted on them alone decided."
DETECTORS = {
    VerifiedDetector: "OpenCV's Haar cascade, each face confirmed by dlib's HOG detector,",
    HaarCascadeDetector: "OpenCV's Haar cascade",
    ProfileDetector: "OpenCV's profile Haar cascade",
    MergedDetector: "OpenCV's frontal and profile Haar cascades",
    DlibHogDetector: "dlib's HOG detector",
    DlibCnnDetector: "dlib's CNN detector",
    ViolaJonesDetector: "the from-scratch Viola-Jones cascade",
    WholeImageDetector: "No detector: the whole image is the face, so it",
}
FER2013_MISSING = "FER2013 not found: set FER2013_PATH to your fer2013.csv, or put it in ./data/, to see the faces."


@dataclass(frozen=True)
class Panel:
    """One panel of a face's row.

    Attributes
    ----------
    name : str
        What it shows (``"hog"``, ``"probabilities"``...); the axes' label, for tests and readers of the code.
    title : str
        Shown once, above the panel's column.
    caption : str
        What to look at; shown once, with its phase's other captions under the rows.
    draw : callable
        ``draw(axis, face)`` draws one face: a :func:`~fer_classic.phases.run_phases` face with ``number`` and
        ``cascade_box`` added (see :func:`cascade_boxes`).
    sides : float
        The panel's image width, in image sides (an image is square).
    chart_px : float
        Its fixed width in layout pixels: a chart's labels and bars.
    inset : float
        Layout pixels of ``chart_px`` left of its axes, for the labels the axes hang there.
    phase : {"extract", "classify"}
    """

    name: str
    title: str
    caption: str
    draw: callable
    sides: float = 1.0
    chart_px: float = 0.0
    inset: float = 0.0
    phase: str = "extract"


def parse_slide_size(text):
    """A slide size from ``"WIDTHxHEIGHT"`` text, checked before any work.

    Parameters
    ----------
    text : str
        Such as ``"1920x1080"``.

    Returns
    -------
    (int, int)
        Width and height in pixels.

    Raises
    ------
    ValueError
        When it is not two whole numbers, a side is outside :data:`SIDE_LIMITS`, or the width to height ratio is
        outside :data:`ASPECT_LIMITS`; the message says which.
    """
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise ValueError(f"expected WIDTHxHEIGHT in pixels such as 1920x1080, got {text!r}")
    width, height = (int(part) for part in parts)
    low, high = SIDE_LIMITS
    if not (low <= width <= high and low <= height <= high):
        raise ValueError(f"each side must be {low} to {high} pixels, got {width}x{height}")
    if not ASPECT_LIMITS[0] <= width / height <= ASPECT_LIMITS[1]:
        raise ValueError(f"width / height must be 4:3 to 21:9 for the slide's layout, got {width}x{height}")
    return width, height


def points(pixels):
    """A font size in points that is ``pixels`` high on a :data:`LAYOUT_HEIGHT` slide (and in scale on others)."""
    return pixels * 72 / LAYOUT_DPI


def text_width(text, pixels, weight="normal"):
    """The width in layout pixels of ``text`` (its longest line) set at ``pixels`` in matplotlib's default font."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(size=pixels, weight=weight)  # at 72 dpi, points are pixels
    return max(text_to_path.get_text_width_height_descent(line, font, ismath=False)[0] for line in text.split("\n"))


def wrap_text(text, width, pixels=TEXT_PX, max_lines=None, weight="normal"):
    """Break ``text`` into lines no wider than ``width`` layout pixels, at spaces, or inside a word too long for one.

    Parameters
    ----------
    text : str
    width : float
    pixels : float
        The font size.
    max_lines : int, optional
        Lines beyond it are dropped and the last kept one ends in an ellipsis.
    weight : {"normal", "bold"}

    Returns
    -------
    str
        The lines, joined by newlines.
    """
    lines = []
    for word in (piece for word in text.split() for piece in _pieces(word, width, pixels, weight)):
        if lines and text_width(f"{lines[-1]} {word}", pixels, weight) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = f"{lines[-1].rstrip('.,;:')}…"
    return "\n".join(lines)


def _pieces(word, width, pixels, weight):
    """``word`` cut into pieces no wider than ``width``: a file name can be longer than a line."""
    if text_width(word, pixels, weight) <= width:
        return [word]
    pieces = [""]
    for char in word:
        if pieces[-1] and text_width(pieces[-1] + char, pixels, weight) > width:
            pieces.append("")
        pieces[-1] += char
    return pieces


def slide_faces(n_faces, per_slide=FACES_PER_SLIDE):
    """Which faces go on which slide: the largest (the first) on the first, at most :data:`MAX_SLIDES` slides.

    Parameters
    ----------
    n_faces : int
    per_slide : int

    Returns
    -------
    list of range
        Face indices per slide; one empty range when there is no face, so the photo still gets its slide.
    """
    shown = min(n_faces, per_slide * MAX_SLIDES)
    return [range(start, min(start + per_slide, shown)) for start in range(0, shown, per_slide)] or [range(0)]


def faces_per_slide(n_classes, local):
    """How many face rows fit on a slide, up to :data:`FACES_PER_SLIDE`: a row needs a text line per class.

    Parameters
    ----------
    n_classes : int
        The model's classes, one labelled bar each.
    local : bool
        Whether each face also gets a line of its nearest training faces.

    Returns
    -------
    int
        At least 1.
    """
    top, bottom = _rows_span()
    per_face = n_classes * TEXT_PX * LINE + GAP + (NEIGHBOUR_LINE_PX + GAP if local else 0)
    return int(np.clip((bottom - top + GAP) // per_face, 1, FACES_PER_SLIDE))


def _rows_span():
    """Where the face rows may start and must end, in layout pixels: under the headings, above the captions."""
    rows_y = HEADINGS_Y + HEADING_PX * LINE + GAP / 2 + PANEL_TITLE_PX * LINE
    return rows_y, LAYOUT_HEIGHT - MARGIN - CAPTION_LINES * TEXT_PX * LINE - GAP


def slide_paths(out, n_slides):
    """The file of each slide: ``out`` itself, then ``<stem>-2<suffix>``, ``<stem>-3<suffix>``... beside it."""
    out = Path(out)
    return [out] + [out.with_name(f"{out.stem}-{number}{out.suffix}") for number in range(2, n_slides + 1)]


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


def face_panels(recognizer, cascade=None, faces=()):
    """The panels of one face's row: the face, the features the model computes, its probabilities.

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    cascade : fer_classic.detect.viola_jones.Cascade, optional
        The from-scratch cascade whose first Haar features the face panel draws.
    faces : list of dict
        The :func:`~fer_classic.phases.run_phases` faces of the slide: the geometry chart is as wide as their
        measures' names.

    Returns
    -------
    list of Panel
        The images first, then the charts, then the probabilities.
    """
    from .extract.transformers import HOGFeatures, LandmarkFeatures, LBPFeatures

    model = recognizer.model
    pipelines = feature_pipelines(model)
    extractors = {name: steps.named_steps["extract"] for name, steps in pipelines.items()}
    networks = {"the CNN": first_layer_maps(model)}
    haar = f"; red: the from-scratch cascade's first {N_HAAR_FEATURES} Haar tests" if cascade is not None else ""
    panels = [Panel("face", "face", f"face: grey, 48 x 48 as in FER2013{haar}.", partial(_draw_face, cascade))]
    measures = any(isinstance(e, LandmarkFeatures) for e in extractors.values())
    if any(_needs_landmarks(e) for e in extractors.values()):
        use = "their distances and angles are features" if measures else "used only for that"
        panels.append(Panel("landmarks", "landmarks", f"landmarks: they put the eyes level; {use}.",
                            _draw_landmarks))
    for name, extractor in extractors.items():
        if isinstance(extractor, HOGFeatures):
            panels.append(_hog_panel(extractor))
        elif isinstance(extractor, LBPFeatures):
            panels.append(Panel("lbp", "LBP", "LBP: a texture code per pixel, counted per cell.",
                                partial(_draw_lbp, extractor)))
        elif hasattr(extractor, "patch_sizes"):
            encoding = "a Fisher vector" if name == "sift-fisher" else "a bag of words"
            panels.append(Panel("sift", "SIFT", f"SIFT: gradient descriptors at the dots, in {encoding}.",
                                partial(_draw_sift, extractor)))
        elif isinstance(extractor, LandmarkFeatures):
            panels.append(_geometry_panel(_standardisation(pipelines[name]), faces))
        elif hasattr(extractor, "network"):
            from .cnn.embeddings import network_file

            networks[f"the {extractor.network} network"] = partial(first_convolution_maps, network_file(
                extractor.network))
    for owner, maps in networks.items():
        if maps is not None:
            panels.append(Panel("feature maps", "first layer", f"first layer: no hand-made features; the "
                                f"{N_FEATURE_MAPS} learned filters of {owner} that respond most.",
                                partial(_draw_feature_maps, maps), sides=2))
    panels.sort(key=lambda panel: panel.chart_px > 0)  # the pictures first, then the charts
    return panels + [_probabilities_panel(recognizer)]


def _hog_panel(extractor):
    cell = max(extractor.cell_sizes)
    others = [size for size in extractor.cell_sizes if size != cell]
    also = f" (and {', '.join(map(str, others))} px)" if others else ""
    return Panel("hog", "HOG", f"HOG: edge directions per {cell} px cell{also}.",
                 partial(_draw_hog, extractor))


def _geometry_panel(standardisation, faces):
    if standardisation is None:
        caption = "geometry: the largest landmark measures (raw: the model does not standardise them)."
    else:
        caption = "geometry: the measures least like the average face, in SDs."
    labels = [_geometry_label(*named) for face in faces for named in zip(*top_geometric(face["geometric"],
                                                                                        standardisation))]
    width = min(max((text_width(label, TEXT_PX) for label in labels), default=GEOMETRY_PX), GEOMETRY_PX)
    return Panel("geometry", "geometry", caption, partial(_draw_geometry, standardisation), sides=0, chart_px=width)


def _geometry_label(name, value):
    return f"{name}  {value:+.1f}"


def _probabilities_panel(recognizer):
    classes = recognizer.classes
    kind = "emotion" if tuple(classes) == EMOTIONS else "class"
    classifier = recognizer.info.classifier if recognizer.info is not None else type(recognizer.model).__name__
    if getattr(recognizer.model, "precision", None):     # trained by Keras, run here by LiteRT
        classifier += f", run by LiteRT in {recognizer.model.precision}"
    labels = max(text_width(name, TEXT_PX) for name in classes) + GAP / 2
    return Panel("probabilities", "probability", f"{classifier}: a probability per {kind}; the longest bar, in "
                 "bold, is the answer.", _draw_probabilities, sides=0, chart_px=labels + BAR_PX + VALUE_PX,
                 inset=labels, phase="classify")


def first_layer_maps(model):
    """How to get a CNN's first-layer feature maps, or None for a model without a network of its own.

    A network LiteRT runs gives them through LiteRT
    (:func:`~fer_classic.cnn.litert.first_convolution_maps`), with no Keras;
    a Keras network (the runtime tensorflow) through Keras, unless its first
    convolution is nested in a Keras application, out of reach.

    Returns
    -------
    callable or None
        ``maps(faces)``: faces uint8 (n, 48, 48) -> float32 (n, h, w, channels).
    """
    if hasattr(model, "model_file") and str(model.model_file).endswith(".tflite"):
        return partial(first_convolution_maps, model.model_file)
    if not hasattr(model, "network_"):
        return None
    head = first_convolution(model.network_)
    if head is None:
        return None
    return lambda faces: np.asarray(head(faces[..., None].astype(np.float32), training=False))


def _standardisation(pipeline):
    """Mean and scale the geometric features were standardised with, or None."""
    scaler = pipeline.named_steps.get("map")
    return (scaler.mean_, scaler.scale_) if hasattr(scaler, "scale_") else None


def _image(axis, image, **options):
    axis.imshow(image, **{"cmap": "gray", "vmin": 0, "vmax": 255, **options})
    axis.set_xticks([])
    axis.set_yticks([])


def _badge(axis, x, y, number, color, **options):
    """The face's number on a coloured label, its top-left corner at (x, y) in ``axis``'s coordinates."""
    axis.text(x, y, str(number), color=DARK, fontsize=points(TEXT_PX), fontweight="bold", va="top", ha="left",
              bbox={"facecolor": color, "edgecolor": "none", "pad": 2}, **options)


def _draw_face(cascade, axis, face):
    _image(axis, face["crop"])
    _badge(axis, 0.03, 0.97, face["number"], SHOWN_BOX, transform=axis.transAxes)
    if face["cascade_box"] is None:
        return
    from matplotlib.patches import Rectangle

    from .detect.viola_jones.haar import FEATURE_KINDS

    # Window coordinates -> image -> crop: the features lie where the cascade's window saw the face.
    x0, y0, w0, h0 = face["cascade_box"]
    fx, fy, fw, fh = face["box"]
    height, width = cascade.window_shape
    sx, sy = w0 / width * face["crop"].shape[1] / fw, h0 / height * face["crop"].shape[0] / fh
    ox, oy = (x0 - fx) * face["crop"].shape[1] / fw - 0.5, (y0 - fy) * face["crop"].shape[0] / fh - 0.5
    features = cascade.stages[0].features
    for kind, (x, y, w, h) in list(zip(features.kinds, features.boxes))[:N_HAAR_FEATURES]:
        pattern = FEATURE_KINDS[kind]
        cell_h, cell_w = h / pattern.shape[0], w / pattern.shape[1]
        for (row, col), weight in np.ndenumerate(pattern):
            axis.add_patch(Rectangle((ox + (x + col * cell_w) * sx, oy + (y + row * cell_h) * sy), cell_w * sx,
                                     cell_h * sy, alpha=0.35, color="white" if weight > 0 else "black"))
        axis.add_patch(Rectangle((ox + x * sx, oy + y * sy), w * sx, h * sy, fill=False, color="red", lw=2))
    axis.set_xlim(-0.5, face["crop"].shape[1] - 0.5)
    axis.set_ylim(face["crop"].shape[0] - 0.5, -0.5)


def _aligned_landmarks(face):
    landmarks = face["landmarks"][None].astype(np.float64)
    return transform_points(landmarks, alignment_matrices(face["landmarks"][None]))[0]


def _draw_landmarks(axis, face):
    _image(axis, face["aligned"])
    axis.scatter(*_aligned_landmarks(face).T, s=14, c="red")


def _draw_hog(extractor, axis, face):
    _image(axis, hog_visualisation(face["aligned" if extractor.align else "crop"], max(extractor.cell_sizes),
                                   extractor.n_bins), cmap="magma", vmin=None, vmax=None)


def _draw_lbp(extractor, axis, face):
    labels = lbp_image(face["aligned" if extractor.align else "crop"][None])[0]
    _image(axis, labels, cmap="nipy_spectral", vmin=0, vmax=N_LABELS - 1)
    rows, cols = extractor.grid
    for r in range(1, rows):
        axis.axhline(r * labels.shape[0] / rows - 0.5, color="white", lw=1.2)
    for c in range(1, cols):
        axis.axvline(c * labels.shape[1] / cols - 0.5, color="white", lw=1.2)


def _draw_sift(extractor, axis, face):
    from matplotlib.patches import Rectangle

    _image(axis, face["aligned"])
    keypoints = dense_grid(face["aligned"].shape[0], extractor.step, extractor.patch_sizes)
    centres = np.unique(keypoints[:, :2], axis=0)
    axis.scatter(*centres.T, s=10, c="cyan")
    side = min(extractor.patch_sizes)
    x, y = centres[np.argmin(np.abs(centres - face["aligned"].shape[0] / 2).sum(axis=1))]
    axis.add_patch(Rectangle((x - side / 2, y - side / 2), side, side, fill=False, color="yellow", lw=2))


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
    from matplotlib.transforms import blended_transform_factory

    names, values = top_geometric(face["geometric"], standardisation)
    # One slot per measure: its name and value on the upper half, its bar on the lower one.
    slots = np.arange(len(names))
    axis.barh(slots + 0.3, values, height=0.3, color=["tab:red" if v > 0 else "tab:blue" for v in values])
    on_left = blended_transform_factory(axis.transAxes, axis.transData)
    for slot, name, value in zip(slots, names, values):
        axis.text(0, slot + 0.1, wrap_text(_geometry_label(name, value), GEOMETRY_PX, max_lines=2), transform=on_left,
                  fontsize=points(TEXT_PX), color=DARK, va="bottom", linespacing=1.1)
    limit = max(np.abs(values).max(), 1e-9) * 1.05
    axis.set_xlim(-limit, limit)
    axis.set_ylim(len(names) - 0.5, -0.5)
    axis.vlines(np.zeros(len(slots)), slots + 0.12, slots + 0.48, color=DARK, lw=1)  # by the bars, not the names
    axis.axis("off")


def _draw_feature_maps(first_layer, axis, face):
    maps = first_layer(face["crop"][None])[0]
    strongest = maps[..., np.argsort(-maps.std(axis=(0, 1)), kind="stable")[:N_FEATURE_MAPS]]
    # Each map to 0..1 on its own, framed by one bright pixel so the tiles stay apart.
    tiles = [np.pad((m - m.min()) / max(np.ptp(m), 1e-9), 1, constant_values=1) for m in np.moveaxis(strongest, -1, 0)]
    half = len(tiles) // 2
    _image(axis, np.block([tiles[:half], tiles[half:2 * half]]), cmap="magma", vmin=0, vmax=1)


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


def _draw_probabilities(axis, face):
    classes = list(face["probabilities"])
    probabilities = np.array(list(face["probabilities"].values()))
    rows = np.arange(len(classes))
    axis.barh(rows, probabilities, color=emotion_colors_float(classes))
    axis.set_yticks(rows, classes, fontsize=points(TEXT_PX), color=DARK)
    axis.get_yticklabels()[classes.index(face["emotion"])].set_fontweight("bold")
    for row, p in zip(rows, probabilities):
        axis.text(p + 0.02, row, f"{p:.0%}", va="center", fontsize=points(TEXT_PX), color=DARK)
    axis.set_xlim(0, (BAR_PX + VALUE_PX) / BAR_PX)  # "100%" stays inside, off the slide's edge
    axis.set_ylim(len(classes) - 0.5, -0.5)
    axis.set_xticks([])
    axis.tick_params(axis="y", length=0)
    for side in ("top", "right", "bottom"):
        axis.spines[side].set_visible(False)


def training_faces():
    """FER2013's training faces from the user's own copy, found as :func:`fer_classic.data.find_fer2013` does.

    Returns
    -------
    faces : ndarray of uint8, shape (n, 48, 48), or None
        The Training split in file order; None when there is no usable copy.
    note : str or None
        Why there are no faces.
    """
    from .data import DataFormatError, load_fer2013

    try:
        return load_fer2013(ferplus=False)["Training"].faces, None
    except FileNotFoundError:
        return None, FER2013_MISSING
    except DataFormatError as error:
        return None, f"FER2013 unreadable: {error}"


def _draw_neighbours(training, classes, axis, face):
    """One face's nearest training faces on ``axis``, in layout pixels: thumbnails and labels, or labels only.

    ``training`` is what :func:`training_faces` returns; the neighbours are ``face["neighbours"]``, one entry of
    a model's ``nearest_training_faces``. How the model decided is said on top, under the title; why there are
    no thumbnails, beside the labels.
    """
    faces, note = training
    neighbours = face["neighbours"]
    rows, labels = np.asarray(neighbours["rows"]), np.asarray(neighbours["labels"])
    if faces is not None and rows.size and rows.max() >= len(faces):
        faces, note = None, f"Your FER2013 has only {len(faces)} training faces, so only their labels."
    width = axis.get_position().width * axis.figure.get_figwidth() * LAYOUT_DPI
    title = f"Local learning: the {len(labels)} training faces nearest to face {face['number']}"
    axis.text(0, 0, title, fontsize=points(TEXT_PX), fontweight="bold", color=DARK, va="top")
    axis.text(0, TEXT_PX * LINE, wrap_text(neighbours["decision"], width, max_lines=NEIGHBOUR_TEXT_LINES - 1),
              fontsize=points(TEXT_PX), color=DARK, va="top", linespacing=1.1)
    top = NEIGHBOUR_TEXT_LINES * TEXT_PX * LINE
    if faces is None:
        end = _draw_label_tiles(axis, labels, classes, top)
        axis.text(end + GAP, top, wrap_text(note, width - end - GAP, max_lines=3), fontsize=points(TEXT_PX),
                  color=DARK, va="top", linespacing=1.1)
    else:
        _draw_thumbnails(axis, faces[rows], labels, classes, top)
    axis.set_xlim(0, width)
    axis.set_ylim(NEIGHBOUR_LINE_PX, 0)
    axis.set_aspect("auto")
    axis.axis("off")


def _neighbour_cell(classes):
    """The width of a neighbour's cell: its thumbnail or its label, whichever is wider."""
    return max(THUMB_PX, max(text_width(name, TEXT_PX) for name in classes)) + GAP / 2


def _draw_thumbnails(axis, thumbnails, labels, classes, top):
    """The neighbours' faces in a line from (0, ``top``), each framed in its label's colour above its label."""
    from matplotlib.patches import Rectangle

    colors = emotion_colors_float(classes)
    cell = _neighbour_cell(classes)
    for index, (thumbnail, label) in enumerate(zip(thumbnails, labels)):
        x = index * cell + (cell - THUMB_PX) / 2
        axis.imshow(thumbnail, cmap="gray", vmin=0, vmax=255, extent=(x, x + THUMB_PX, top + THUMB_PX, top))
        axis.add_patch(Rectangle((x, top), THUMB_PX, THUMB_PX, fill=False, color=colors[label], lw=3))
        axis.text(x + THUMB_PX / 2, top + THUMB_PX + 4, classes[label], fontsize=points(TEXT_PX), color=DARK,
                  ha="center", va="top")


def _draw_label_tiles(axis, labels, classes, top):
    """The neighbours' labels on tiles of their colours, two lines of them from (0, ``top``); returns where they end."""
    from matplotlib.patches import Rectangle

    colors = emotion_colors_float(classes)
    cell = _neighbour_cell(classes)
    per_line = -(-len(labels) // 2)
    height = (NEIGHBOUR_LINE_PX - top - GAP / 2) / 2
    for index, label in enumerate(labels):
        x, y = index % per_line * cell, top + index // per_line * (height + GAP / 2)
        axis.add_patch(Rectangle((x, y), cell - GAP / 2, height, color=colors[label], alpha=0.35))
        axis.add_patch(Rectangle((x, y), cell - GAP / 2, height, fill=False, color=colors[label], lw=3))
        axis.text(x + (cell - GAP / 2) / 2, y + height / 2, classes[label], fontsize=points(TEXT_PX), color=DARK,
                  ha="center", va="center")
    return per_line * cell


def _draw_overview(axis, gray, faces, shown):
    """The photo with every face boxed: the slide's faces solid and numbered, the others dashed."""
    from matplotlib.patches import Rectangle

    _image(axis, gray)
    axis.set_anchor("NW")
    line = max(2.0, max(gray.shape) / 400)
    for index, face in enumerate(faces):
        x, y, w, h = face["box"]
        on_slide = index in shown
        axis.add_patch(Rectangle((x, y), w, h, fill=False, color=SHOWN_BOX if on_slide else OTHER_BOX, lw=line,
                                 ls="-" if on_slide else "--"))
        if on_slide:
            _badge(axis, x + line, y + line, index + 1, SHOWN_BOX)


def detection_caption(detector, n_faces, pages, slide, paths):
    """What the detector found, and which faces this slide draws and where the others are.

    Parameters
    ----------
    detector : object
    n_faces : int
    pages : list of range
        From :func:`slide_faces`.
    slide : int
    paths : list of Path
        From :func:`slide_paths`.

    Returns
    -------
    str
    """
    found = f"{n_faces} face{'s' if n_faces != 1 else ''}" if n_faces else "no face"
    name = DETECTORS.get(type(detector), type(detector).__name__)
    said = f"{name[0].upper()}{name[1:]} found {found}."
    if not n_faces:
        return f"{said} There is nothing to extract or classify."
    shown = pages[slide]
    here = f"Face {shown[0] + 1} is" if len(shown) == 1 else f"Faces {shown[0] + 1}-{shown[-1] + 1} are"
    said = f"{said} {here} drawn here"
    others = [path.name for number, path in enumerate(paths) if number != slide]
    if others:
        said += f"; +{n_faces - len(shown)} more faces: see {others[0]}"
        said += f" to {others[-1]}" if len(others) > 1 else ""
    not_drawn = n_faces - sum(len(page) for page in pages)
    return f"{said}{f' ({not_drawn} of them not drawn)' if not_drawn else ''}."


def _draw_timings(axis, timings, extracts):
    phases = ("detect", "extract", "classify") if extracts else ("detect", "classify")
    milliseconds = np.array([timings[p] * 1000 for p in phases])
    rows = np.arange(len(phases))
    axis.barh(rows, milliseconds, color=[PHASE_COLORS[p] for p in phases])
    axis.set_yticks(rows, phases, fontsize=points(TEXT_PX), color=DARK)
    for row, ms in zip(rows, milliseconds):
        axis.text(ms + milliseconds.max() * 0.03, row, f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms",
                  va="center", fontsize=points(TEXT_PX), color=DARK)
    axis.set_xlim(0, milliseconds.max() * 1.5 or 1)
    axis.set_ylim(len(phases) - 0.5, -0.5)
    axis.set_xticks([])
    axis.tick_params(axis="y", length=0)
    for side in ("top", "right", "bottom"):
        axis.spines[side].set_visible(False)
    return "" if extracts else "The network extracts and classifies in one pass."


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


@dataclass(frozen=True)
class Layout:
    """Where everything goes on a slide (see :func:`slide_layout`), in layout pixels from its top left.

    Boxes are ``(x, y, width, height)``; spans are ``(x, width)``.

    Attributes
    ----------
    photo, timings : tuple
        Boxes of the photo and of the time chart under it, its title included.
    cells : list of tuple
        Per panel, its box in a row, ``y`` from the row's top; an image's includes its title's room above it when
        it is not on the row's first line.
    phases : dict
        Per phase (``detect``, ``extract``, ``classify``), the span of its heading and its caption.
    rows : list of float
        Per face, the top of its row.
    row_height : float
    neighbours : list of tuple
        Per face, the box of its neighbour line under its row, when the model learns locally.
    captions_y : float
        Where the captions start.
    """

    photo: tuple
    timings: tuple
    cells: list
    phases: dict
    rows: list
    row_height: float
    neighbours: list
    captions_y: float


def gallery_lines(sides, n_lines):
    """Pack images of the given widths (in image sides), in order, into at most ``n_lines`` lines of even width.

    Parameters
    ----------
    sides : list of float
    n_lines : int

    Returns
    -------
    places : list of (int, float, int)
        Per image: its line, the sides and the gaps before it on that line.
    line_sides : float
        The widest line, in sides.
    line_gaps : int
        The most gaps between images on a line.
    """
    per_line = max(max(sides), -(-sum(sides) // n_lines))
    places, line, used, count = [], 0, 0.0, 0
    ends = {}  # per line: its width in sides and its images
    for width in sides:
        if used and used + width > per_line:
            line, used, count = line + 1, 0.0, 0
        places.append((line, used, count))
        used, count = used + width, count + 1
        ends[line] = (used, count)
    return places, max(used for used, _ in ends.values()), max(count for _, count in ends.values()) - 1


def slide_layout(width, panels, n_rows, local, photo_aspect=1.0):
    """Lay a slide out: the photo and the time chart on the left, then the panels, a row per face.

    A row holds the image panels as a gallery, on as many lines (up to 3) as makes them largest, then the charts.

    Parameters
    ----------
    width : float
        The slide's width in layout pixels (its height is :data:`LAYOUT_HEIGHT`).
    panels : list of Panel
        The images, then the charts; the extraction panels, then the classification ones.
    n_rows : int
        Face rows on the slide, at least 1.
    local : bool
        Whether each row has a neighbour line under it.
    photo_aspect : float
        The photo's height over its width.

    Returns
    -------
    Layout
        Everything within the slide's margins.
    """
    title_px = PANEL_TITLE_PX * LINE
    rows_y, rows_end = _rows_span()
    captions_y = rows_end + GAP
    extra = NEIGHBOUR_LINE_PX + GAP if local else 0
    row_height = min(MAX_ROW_PX, (rows_end - rows_y - (n_rows - 1) * GAP) / n_rows - extra)
    images = [panel for panel in panels if not panel.chart_px]
    charts = [panel for panel in panels if panel.chart_px]
    inner = width - 2 * MARGIN - PHASE_GAP
    fixed = sum(panel.chart_px for panel in charts) + (len(charts) - 1) * GAP + PHASE_GAP

    def side_for(n_lines):
        places, line_sides, line_gaps = gallery_lines([panel.sides for panel in images], n_lines)
        lines = places[-1][0] + 1
        high = (row_height - (lines - 1) * (GAP + title_px)) / lines
        wide = (inner - min(MIN_PHOTO_PX, MIN_PHOTO_SHARE * inner) - fixed - line_gaps * GAP) / line_sides
        side = min(high, wide, MAX_SIDE_PX)
        return side, places, line_sides * side + line_gaps * GAP

    side, places, gallery = max((side_for(n_lines) for n_lines in (1, 2, 3)), key=lambda option: option[0])
    photo_width = min(inner - fixed - gallery, MAX_PHOTO_SHARE * inner)
    left = MARGIN + photo_width + PHASE_GAP + (inner - fixed - gallery - photo_width) / 2
    cells = [(left + used * side + gaps * GAP, line * (side + GAP + title_px), panel.sides * side, side)
             for panel, (line, used, gaps) in zip(images, places)]
    x, previous = left + gallery + GAP, images[-1].phase
    for panel in charts:
        x += PHASE_GAP - GAP if panel.phase != previous else 0
        cells.append((x, 0, panel.chart_px, row_height))
        x, previous = x + panel.chart_px + GAP, panel.phase
    phases = {}
    for panel, (x, _, w, _) in zip(images + charts, cells):
        start = phases.get(panel.phase, (x,))[0]
        phases[panel.phase] = (start, x + w - start)
    rows = [rows_y + row * (row_height + extra + GAP) for row in range(n_rows)]
    right = phases["extract"][0]
    neighbours = [(right, y + row_height + GAP, width - MARGIN - right, NEIGHBOUR_LINE_PX) for y in rows] if local \
        else []
    photo_height = min(photo_width * photo_aspect, captions_y - 2 * GAP - TIMING_PX - (rows_y - title_px))
    timings_y = rows_y - title_px + photo_height + GAP
    return Layout(photo=(MARGIN, rows_y - title_px, photo_width, photo_height),
                  timings=(MARGIN, timings_y, photo_width, TIMING_PX), cells=cells,
                  phases={"detect": (MARGIN, photo_width), **phases}, rows=rows, row_height=row_height,
                  neighbours=neighbours, captions_y=captions_y)


class _Slide:
    """A figure of ``size`` pixels whose axes and texts are placed in layout pixels from its top left."""

    def __init__(self, width, size):
        from matplotlib.figure import Figure

        self.width = width
        dpi = size[1] / LAYOUT_HEIGHT * LAYOUT_DPI
        self.figure = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)

    def axes(self, box, name):
        x, y, w, h = box
        axis = self.figure.add_axes((x / self.width, 1 - (y + h) / LAYOUT_HEIGHT, w / self.width, h / LAYOUT_HEIGHT))
        axis.set_label(name)
        return axis

    def text(self, x, y, text, pixels, **options):
        self.figure.text(x / self.width, 1 - y / LAYOUT_HEIGHT, text, fontsize=points(pixels), color=DARK, va="top",
                         **options)

    def rule(self, x, y, width, color=MUTED):
        from matplotlib.lines import Line2D

        self.figure.add_artist(Line2D([x / self.width, (x + width) / self.width], [1 - y / LAYOUT_HEIGHT] * 2,
                                      color=color, lw=1.5))

    def caption(self, axis, box, span, top, text):
        """``text`` as ``axis``'s x label, wrapped to the ``span`` (x, width) it starts at, its top at ``top``."""
        x, y, w, h = box
        axis.set_xlabel(wrap_text(text, span[1], max_lines=CAPTION_LINES), fontsize=points(TEXT_PX), color=DARK,
                        ha="left", va="top", linespacing=1.15)
        axis.xaxis.set_label_coords((span[0] - x) / w, (y + h - top) / h)


def _learns_locally(recognizer):
    return getattr(recognizer.model, "nearest_training_faces", None) is not None


def _pages(recognizer, n_faces):
    return slide_faces(n_faces, faces_per_slide(len(recognizer.classes), _learns_locally(recognizer)))


def build_figure(recognizer, result, cascade=None, size=SLIDE_SIZE, slide=0, training=None, out="explain.png"):
    """Lay out one slide of an analysed image: the photo and the time chart, then a row per face of the slide.

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    result : dict
        From :func:`fer_classic.phases.run_phases`.
    cascade : fer_classic.detect.viola_jones.Cascade, optional
        The from-scratch cascade; its first Haar features are drawn on each face it finds too.
    size : (int, int)
        The slide in pixels, within :func:`parse_slide_size`'s limits.
    slide : int
        Which slide, from 0: its faces are those :func:`slide_faces` gives it.
    training : tuple, optional
        What :func:`training_faces` returns, for a model that learns locally; looked up when not given.
    out : str or Path
        The first slide's file: the slides name each other.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot: nothing to close.
    """
    faces = result["faces"]
    pages = _pages(recognizer, len(faces))
    shown = [{**faces[index], "number": index + 1} for index in pages[slide]]
    found = cascade_boxes(result["gray"], shown, recognizer.detector, cascade)
    shown = [{**face, "cascade_box": box} for face, box in zip(shown, found)]
    local = _learns_locally(recognizer) and bool(shown)
    if local:
        training = training_faces() if training is None else training
        nearest = recognizer.model.nearest_training_faces(np.stack([face["crop"] for face in shown]), k=N_NEIGHBOURS)
        shown = [{**face, "neighbours": neighbours} for face, neighbours in zip(shown, nearest)]
    panels = face_panels(recognizer, cascade, shown)
    width = LAYOUT_HEIGHT * size[0] / size[1]
    layout = slide_layout(width, panels, max(len(shown), 1), local, np.divide(*result["gray"].shape))
    page = _Slide(width, size)
    title = _model_title(recognizer) + (f" (slide {slide + 1} of {len(pages)})" if len(pages) > 1 else "")
    page.text(width / 2, MARGIN, wrap_text(title, width - 2 * MARGIN, TITLE_PX, max_lines=1, weight="bold"),
              TITLE_PX, ha="center", fontweight="bold")
    for phase, (x, span) in layout.phases.items():
        page.text(x, HEADINGS_Y, PHASE_HEADINGS[phase], HEADING_PX, fontweight="bold")
        page.rule(x, HEADINGS_Y + HEADING_PX * LINE, span)
    caption = detection_caption(recognizer.detector, len(faces), pages, slide, slide_paths(out, len(pages)))
    _detection_column(page, layout, result, pages[slide], caption, bool(feature_pipelines(recognizer.model)))
    right = layout.phases["extract"][0]
    for row, face in enumerate(shown):
        if row:  # a faint line between faces, so each row reads as one face
            page.rule(right, layout.rows[row] - GAP / 2, width - MARGIN - right, color=RULE_BETWEEN_FACES)
        _face_row(page, layout, panels, row, face, last=row == len(shown) - 1)
        if local:
            _draw_neighbours(training, list(recognizer.classes), page.axes(layout.neighbours[row], "neighbours"), face)
    return page.figure


def _detection_column(page, layout, result, shown, caption, extracts):
    """The photo, the time chart under it, and the detection phase's caption."""
    _draw_overview(page.axes(layout.photo, "overview"), result["gray"], result["faces"], shown)
    x, y, w, h = layout.timings
    page.text(x, y, "time per phase, all faces", PANEL_TITLE_PX)
    labels = max(text_width(phase, TEXT_PX) for phase in PHASE_COLORS) + GAP / 2
    box = (x + labels, y + PANEL_TITLE_PX * LINE, w - labels, h - PANEL_TITLE_PX * LINE)
    timing = page.axes(box, "timings")
    said = _draw_timings(timing, result["timings"], extracts)
    page.caption(timing, box, layout.phases["detect"], layout.captions_y, f"{caption} {said}")


def _face_row(page, layout, panels, row, face, last):
    """One face's panels; the first row names them, the last explains each phase under them."""
    for panel, (x, dy, w, h) in zip(panels, layout.cells):
        y = layout.rows[row] + dy
        box = (x + panel.inset, y, w - panel.inset, h)
        axis = page.axes(box, panel.name)
        panel.draw(axis, face)
        if row == 0:
            page.text(x + w / 2, y - PANEL_TITLE_PX * LINE, panel.title, PANEL_TITLE_PX, ha="center")
        if last and panel is next(p for p in panels if p.phase == panel.phase):
            text = " ".join(p.caption for p in panels if p.phase == panel.phase)
            local = LOCAL_CAPTION if panel.phase == "classify" and "neighbours" in face else ""
            page.caption(axis, box, layout.phases[panel.phase], layout.captions_y, text + local)


def _model_title(recognizer):
    info = recognizer.info
    if info is None:
        return f"How the model {type(recognizer.model).__name__} reads this image"
    return f"How {info.file.rsplit('.', 1)[0]} ({info.method}) reads this image"


def check_slide_size(size):
    """Raise ValueError unless ``size`` is a (width, height) :func:`parse_slide_size` would give."""
    parse_slide_size(f"{size[0]}x{size[1]}")


def explain_figure(recognizer, image, out, color_order="bgr", cascade=None, size=SLIDE_SIZE):
    """Run the three phases on ``image`` and save the slides that show them (see the module's description).

    Parameters
    ----------
    recognizer : fer_classic.EmotionRecognizer
    image : ndarray
        Any image :func:`fer_classic.imageio.to_gray_uint8` accepts.
    out : str or Path
        The first slide, in the format its suffix names (PNG...), whole or not at all; the others beside it, named
        by :func:`slide_paths`.
    color_order : {"bgr", "rgb"}
    cascade : fer_classic.detect.viola_jones.Cascade, optional
        The from-scratch cascade; its first Haar features are drawn on each face it finds too.
    size : (int, int)
        Each slide's width and height in pixels.

    Returns
    -------
    dict
        What :func:`fer_classic.phases.run_phases` found, and ``slides``: the files written, the first first.

    Raises
    ------
    ValueError
        When ``size`` is outside :func:`parse_slide_size`'s limits; nothing is run.
    fer_classic.atomic.OutputError
        When a slide cannot be written; it is then left as it was.
    """
    check_slide_size(size)
    warm_up(recognizer)  # so the times shown are per image, not the landmark predictor's load
    result = run_phases(recognizer, image, color_order)
    pages = _pages(recognizer, len(result["faces"]))
    paths = slide_paths(out, len(pages))
    local = _learns_locally(recognizer) and result["faces"]
    training = training_faces() if local else None  # loaded once for all the slides
    for slide, path in enumerate(paths):
        figure = build_figure(recognizer, result, cascade, size, slide, training, out)
        save_figure(figure, path, dpi=figure.dpi)
    return {**result, "slides": paths}
