"""Drawing results on frames: a box per face, its label, and seven probability bars.

What the CLI saves (``predict --out``, ``video --out``) and what the GUI
shows come from :func:`draw_faces`, so a saved image looks like the screen:
percentages, full emotion names, and text sized to the image rather than
fixed in pixels.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from .faces import EMOTIONS
from .imageio import to_bgr_uint8, write_image

# One colour per emotion, in EMOTIONS order, as RGB in 0..255 (matplotlib's tab10 hues).
EMOTION_COLORS = ((214, 39, 40), (140, 86, 75), (148, 103, 189), (255, 187, 34), (31, 119, 180),
                  (44, 160, 44), (127, 127, 127))
FONT = cv2.FONT_HERSHEY_SIMPLEX
# Text height as a share of the image's shorter side, within pixel bounds: legible on a 640x480 frame and a 4k photo.
TEXT_SHARE, MIN_TEXT_PX, MAX_TEXT_PX = 0.028, 11, 64
CLEAR_SEARCH = 40                       # free label spots tried for one that covers no other face


def _bgr(rgb):
    return tuple(int(c) for c in rgb[::-1])


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
        ({emotion: float}) and optionally ``face_id``.
    bars : bool
        Draw the seven bars beside each box (beside the ``selected`` one only, when given).
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
    charts = [(i, _bars_layout(canvas.shape, boxes[i], boxes[:i] + boxes[i + 1:], pad * 2, scale * 0.8, thickness))
              for i in order if bars and selected in (None, i)]
    spots = place_labels([faces[i]["box"] for i in order], sizes, (canvas.shape[1], canvas.shape[0]),
                         taken=[layout[0] for _, layout in charts])
    colors = [_bgr(EMOTION_COLORS[EMOTIONS.index(face["emotion"])]) for face in faces]
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


def _bars_layout(shape, box, others, gap, scale, thickness):
    """Where the seven bars of a face go: right of its box, left, below or above, the first that fits in the
    picture and covers no other face (else the first that fits, else the left).

    Returns the rectangle (x, y, w, h) they cover, the bar length, the row height and the spacing.
    """
    (length, row_h), _ = cv2.getTextSize("surprise 100%", FONT, scale, thickness)
    spacing = max(2, row_h // 3)
    x, y, w, h = (int(v) for v in box)
    height = len(EMOTIONS) * (row_h + spacing)
    sides = [(x + w + gap, y), (x - gap - length, y), (x, y + h + gap), (x, y - gap - height)]
    sides = [(left, top, length, height) for left, top in sides]
    fitting = [side for side in sides if 0 <= side[0] and side[0] + length <= shape[1]
               and 0 <= side[1] and side[1] + height <= shape[0]]
    clear = [side for side in fitting if not any(_intersects(side, other) for other in others)]
    left, top, _, _ = (clear or fitting or [(max(0, x - gap - length), y, length, height)])[0]
    return (left, top, length, height), length, row_h, spacing


def _draw_bars(canvas, probabilities, layout, scale, thickness):
    (left, top, _, _), length, row_h, spacing = layout
    for i, emotion in enumerate(EMOTIONS):
        row = top + i * (row_h + spacing)
        probability = float(probabilities[emotion])
        filled = int(round(length * probability))
        cv2.rectangle(canvas, (left, row), (left + length, row + row_h + spacing // 2), (40, 40, 40), -1)
        if filled:
            cv2.rectangle(canvas, (left, row), (left + filled, row + row_h + spacing // 2),
                          _bgr(EMOTION_COLORS[i]), -1)
        cv2.putText(canvas, f"{emotion} {probability:.0%}", (left + 2, row + row_h), FONT, scale, (255, 255, 255),
                    thickness, cv2.LINE_AA)


def write_annotated(path, image, faces):
    """Draw ``faces`` on ``image`` (:func:`draw_faces`) and write it to ``path`` atomically; returns ``path``."""
    write_image(path, draw_faces(image, faces))
    return path


def emotion_colors_float():
    """:data:`EMOTION_COLORS` as RGB floats in 0..1, for matplotlib."""
    return [tuple(np.asarray(c) / 255) for c in EMOTION_COLORS]
