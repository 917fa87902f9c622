"""Drawing results on frames: a box per face, its label, and a probability bar per class.

What the CLI saves (``predict --out``, ``video --out``) and what the GUI
shows come from :func:`draw_faces`, so a saved image looks like the screen:
percentages, full class names, and text sized to the image rather than
fixed in pixels. Every front end colours a class as :func:`class_colors`
says: FER2013's seven emotions always in their own colours, a model's other
classes in colours of their own.
"""

from __future__ import annotations

import colorsys
import itertools

import cv2
import numpy as np

from .faces import EMOTIONS
from .imageio import to_bgr_uint8, write_image

# One colour per emotion, in EMOTIONS order, as RGB in 0..255 (matplotlib's tab10 hues).
EMOTION_COLORS = ((214, 39, 40), (140, 86, 75), (148, 103, 189), (255, 187, 34), (31, 119, 180),
                  (44, 160, 44), (127, 127, 127))
# For other class names, in the order they come: tab10's hues no emotion has, then tab20's light tints.
OTHER_COLORS = ((255, 127, 14), (227, 119, 194), (188, 189, 34), (23, 190, 207), (174, 199, 232), (152, 223, 138),
                (255, 152, 150), (197, 176, 213), (196, 156, 148), (247, 182, 210), (219, 219, 141), (158, 218, 229))
# Other names of the seven emotions that models trained on other data sets use: they get the emotion's colour.
SYNONYMS = {"anger": "angry", "disgusted": "disgust", "fearful": "fear", "afraid": "fear", "happiness": "happy",
            "joy": "happy", "sadness": "sad", "surprised": "surprise"}
FONT = cv2.FONT_HERSHEY_SIMPLEX
# Text height as a share of the image's shorter side, within pixel bounds: legible on a 640x480 frame and a 4k photo.
TEXT_SHARE, MIN_TEXT_PX, MAX_TEXT_PX = 0.028, 11, 64
CLEAR_SEARCH = 40                       # free label spots tried for one that covers no other face


def _bgr(rgb):
    return tuple(int(c) for c in rgb[::-1])


def class_colors(classes):
    """One colour per class, as RGB in 0..255, in the order of ``classes``.

    An emotion of :data:`~fer_classic.faces.EMOTIONS` (or one of its
    :data:`SYNONYMS`, in any case) keeps its colour of :data:`EMOTION_COLORS`,
    so FER2013's models look as they always did; every other class takes the
    next of :data:`OTHER_COLORS`, then evenly spread hues once they run out.
    The colours depend only on the names and their order, so a model's classes
    look the same in every front end.

    Parameters
    ----------
    classes : iterable of str
        A model's class names (a face's ``probabilities`` dict gives them too).

    Returns
    -------
    list of tuple of int
    """
    colors, taken, others = [], set(), 0
    for name in classes:
        emotion = SYNONYMS.get(name.lower(), name.lower())
        if emotion in EMOTIONS and emotion not in taken:       # "happy" and "joy" side by side: the second differs
            taken.add(emotion)
            colors.append(EMOTION_COLORS[EMOTIONS.index(emotion)])
            continue
        colors.append(OTHER_COLORS[others] if others < len(OTHER_COLORS) else _spread_color(others))
        others += 1
    return colors


def _spread_color(index):
    # Golden-ratio steps around the hue circle: each new hue lands in the widest gap the earlier ones left.
    hue = (index * 0.618034) % 1.0
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(hue, 0.55, 0.9))


def class_color(name, classes):
    """The colour of class ``name`` among ``classes`` (:func:`class_colors`), as RGB in 0..255.

    For a face, ``class_color(face["emotion"], face["probabilities"])``.
    """
    classes = list(classes)
    return class_colors(classes)[classes.index(name)]


def text_scale(shape):
    """OpenCV font scale and line thickness that make text about :data:`TEXT_SHARE` of the shorter side tall."""
    pixels = float(np.clip(min(shape[:2]) * TEXT_SHARE, MIN_TEXT_PX, MAX_TEXT_PX))
    scale = pixels / cv2.getTextSize("Hg", FONT, 1.0, 1)[0][1]
    return scale, max(1, int(round(pixels / 12)))


def face_label(face):
    """``"happy 87%"``, or ``"#2 happy 87%"`` for a tracked face."""
    label = f"{face['emotion']} {face['probabilities'][face['emotion']]:.0%}"
    return label if face.get("face_id") is None else f"#{face['face_id']} {label}"


def place_labels(boxes, sizes, bounds, taken=()):
    """Where to put each face's label: next to its box, and never over another label.

    Labels are placed in order, so give the face that matters most first. Each
    takes the free spot nearest to the place above its box, preferring spots
    that cover no other face: above, inside the top edge, below, then further
    up, down and sideways in half-label steps. A label with no free spot left
    (more labels than the picture has room for) goes above its box.

    Parameters
    ----------
    boxes : sequence of (x, y, w, h)
        The faces, in the picture's pixels.
    sizes : sequence of (width, height)
        Each label's size, in the same pixels.
    bounds : (width, height)
        The picture; labels stay inside it where they fit.
    taken : sequence of (x, y, w, h), optional
        Rectangles already drawn on, which labels must not cover either.

    Returns
    -------
    list of tuple of float
        One rectangle (x, y, w, h) per label.
    """
    boxes = [tuple(float(v) for v in box) for box in boxes]
    placed = [tuple(rectangle) for rectangle in taken]
    for index, (box, size) in enumerate(zip(boxes, sizes)):
        others = boxes[:index] + boxes[index + 1:]
        above = next(_label_spots(box, size, bounds))
        free = (spot for spot in _label_spots(box, size, bounds)
                if not any(_intersects(spot, label) for label in placed))
        first = chosen = next(free, above)
        # A spot that also leaves the other faces uncovered, if one is near: a few steps further at most.
        for spot in itertools.islice(itertools.chain([first], free), CLEAR_SEARCH):
            if not any(_intersects(spot, other) for other in others):
                chosen = spot
                break
        placed.append(chosen)
    return placed[len(taken):]


def _label_spots(box, size, bounds):
    """Candidate rectangles (x, y, w, h) for a label of ``size`` near ``box``, nearest to "above the box" first."""
    x, y, w, h = box
    label_w, label_h = (float(v) for v in size)
    width, height = bounds

    def inside(value, length, limit):
        return min(max(value, 0.0), max(limit - length, 0.0))

    left, top = inside(x, label_w, width), y - label_h
    # Above, inside the top edge, below: usually one is free, and the wider search below is never made.
    near = [(left, inside(spot_y, label_h, height), label_w, label_h) for spot_y in (top, y, y + h)]
    yield from near
    lefts = {inside(left + k * label_w / 2, label_w, width) for k in range(-6, 7)}
    steps = int(height // (label_h / 2)) + 2
    tops = {inside(top + k * label_h / 2, label_h, height) for k in range(-steps, steps + 1)}
    spots = [(spot_x, spot_y, label_w, label_h) for spot_x in lefts for spot_y in tops]
    yield from sorted(spots, key=lambda s: (abs(s[0] - near[0][0]) + abs(s[1] - near[0][1]), s[1], s[0]))


def _intersects(a, b):
    """Whether rectangles (x, y, w, h) overlap (touching edges do not)."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def draw_faces(frame, faces, bars=True, selected=None):
    """Draw each face's box, label and probability bars on a copy of ``frame``.

    Labels never cover each other (:func:`place_labels`), so a crowd stays readable.

    Parameters
    ----------
    frame : ndarray, shape (h, w, 3) BGR, (h, w, 4) BGRA or (h, w) gray
        Any bit depth; drawn on as 8-bit BGR.
    faces : list of dict
        Each with ``box`` (x, y, w, h), ``emotion``, ``probabilities``
        ({class: float}, in the model's class order) and optionally ``face_id``.
    bars : bool
        Draw a bar per class beside each box (beside the ``selected`` one only, when given).
    selected : int, optional
        The face in focus (the GUI's selected face): its label is placed
        first, and only it gets bars.

    Returns
    -------
    ndarray of uint8, shape (h, w, 3)
        BGR.
    """
    canvas = to_bgr_uint8(frame)
    canvas = canvas.copy() if canvas is frame else canvas
    scale, thickness = text_scale(canvas.shape)
    order = sorted(range(len(faces)), key=lambda i: i != selected)
    labels = [face_label(faces[i]) for i in order]
    metrics = [cv2.getTextSize(label, FONT, scale, thickness) for label in labels]
    pad = max(2, metrics[0][0][1] // 4) if metrics else 2
    sizes = [(text_w + 2 * pad, text_h + baseline + 2 * pad) for (text_w, text_h), baseline in metrics]
    boxes = [face["box"] for face in faces]
    charts = [(i, _bars_layout(canvas.shape, boxes[i], boxes[:i] + boxes[i + 1:], faces[i]["probabilities"], pad * 2,
                               scale * 0.8, thickness))
              for i in order if bars and selected in (None, i)]
    spots = place_labels([faces[i]["box"] for i in order], sizes, (canvas.shape[1], canvas.shape[0]),
                         taken=[layout[0] for _, layout in charts])
    colors = [_bgr(class_color(face["emotion"], face["probabilities"])) for face in faces]
    for face, color in zip(faces, colors):              # every box before any label: none covers a label
        x, y, w, h = (int(v) for v in face["box"])
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, max(2, thickness + 1))
    for i, label, ((_, text_h), _), spot in zip(order, labels, metrics, spots):
        left, top, label_w, label_h = (int(round(v)) for v in spot)
        cv2.rectangle(canvas, (left, top), (left + label_w, top + label_h), colors[i], -1)
        cv2.putText(canvas, label, (left + pad, top + pad + text_h), FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    for i, layout in charts:
        _draw_bars(canvas, faces[i]["probabilities"], layout, scale * 0.8, thickness)
    return canvas


def _bars_layout(shape, box, others, classes, gap, scale, thickness):
    """Where the bars of a face go, one per class: right of its box, left, below or above, the first that fits
    in the picture and covers no other face (else the first that fits, else the left).

    Returns the rectangle (x, y, w, h) they cover, the bar length, the row height and the spacing.
    """
    # As long as the longest label, "surprise 100%" for FER2013's classes.
    sizes = [cv2.getTextSize(f"{name} 100%", FONT, scale, thickness)[0] for name in classes]
    length, row_h = max(width for width, _ in sizes), max(height for _, height in sizes)
    spacing = max(2, row_h // 3)
    x, y, w, h = (int(v) for v in box)
    height = len(sizes) * (row_h + spacing)
    sides = [(x + w + gap, y), (x - gap - length, y), (x, y + h + gap), (x, y - gap - height)]
    sides = [(left, top, length, height) for left, top in sides]
    fitting = [side for side in sides if 0 <= side[0] and side[0] + length <= shape[1]
               and 0 <= side[1] and side[1] + height <= shape[0]]
    clear = [side for side in fitting if not any(_intersects(side, other) for other in others)]
    left, top, _, _ = (clear or fitting or [(max(0, x - gap - length), y, length, height)])[0]
    return (left, top, length, height), length, row_h, spacing


def _draw_bars(canvas, probabilities, layout, scale, thickness):
    (left, top, _, _), length, row_h, spacing = layout
    for i, ((name, value), color) in enumerate(zip(probabilities.items(), class_colors(probabilities))):
        row = top + i * (row_h + spacing)
        probability = float(value)
        filled = int(round(length * probability))
        cv2.rectangle(canvas, (left, row), (left + length, row + row_h + spacing // 2), (40, 40, 40), -1)
        if filled:
            cv2.rectangle(canvas, (left, row), (left + filled, row + row_h + spacing // 2), _bgr(color), -1)
        cv2.putText(canvas, f"{name} {probability:.0%}", (left + 2, row + row_h), FONT, scale, (255, 255, 255),
                    thickness, cv2.LINE_AA)


def write_annotated(path, image, faces):
    """Draw ``faces`` on ``image`` (:func:`draw_faces`) and write it to ``path`` atomically; returns ``path``."""
    write_image(path, draw_faces(image, faces))
    return path


def emotion_colors_float(classes=EMOTIONS):
    """:func:`class_colors` as RGB floats in 0..1, for matplotlib: :data:`EMOTION_COLORS` for FER2013's classes."""
    return [tuple(np.asarray(c) / 255) for c in class_colors(classes)]
