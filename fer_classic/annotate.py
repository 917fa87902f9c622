"""Drawing results on frames: a box per face, its label, and seven probability bars.

What the CLI saves (``predict --out``, ``video --out``) and what the GUI
shows come from :func:`draw_faces`, so a saved image looks like the screen:
percentages, full emotion names, and text sized to the image rather than
fixed in pixels.
"""

from __future__ import annotations

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


def draw_faces(frame, faces, bars=True):
    """Draw each face's box, label and probability bars on a copy of ``frame``.

    Parameters
    ----------
    frame : ndarray, shape (h, w, 3) BGR, (h, w, 4) BGRA or (h, w) gray
        Any bit depth; drawn on as 8-bit BGR.
    faces : list of dict
        Each with ``box`` (x, y, w, h), ``emotion``, ``probabilities``
        ({emotion: float}) and optionally ``face_id``.
    bars : bool
        Draw the seven bars beside each box.

    Returns
    -------
    ndarray of uint8, shape (h, w, 3)
        BGR.
    """
    canvas = to_bgr_uint8(frame)
    canvas = canvas.copy() if canvas is frame else canvas
    scale, thickness = text_scale(canvas.shape)
    for face in faces:
        x, y, w, h = (int(v) for v in face["box"])
        color = _bgr(EMOTION_COLORS[EMOTIONS.index(face["emotion"])])
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, max(2, thickness + 1))
        label = face_label(face)
        (text_w, text_h), baseline = cv2.getTextSize(label, FONT, scale, thickness)
        pad = max(2, text_h // 4)
        top = max(y - text_h - baseline - 2 * pad, 0)
        cv2.rectangle(canvas, (x, top), (x + text_w + 2 * pad, top + text_h + baseline + 2 * pad), color, -1)
        cv2.putText(canvas, label, (x + pad, top + pad + text_h), FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA)
        if bars:
            _draw_bars(canvas, face["probabilities"], x + w + pad * 2, y, scale * 0.8, thickness)
    return canvas


def _draw_bars(canvas, probabilities, left, top, scale, thickness):
    (name_w, row_h), _ = cv2.getTextSize("surprise 100%", FONT, scale, thickness)
    length, gap = name_w, max(2, row_h // 3)
    for i, emotion in enumerate(EMOTIONS):
        row = top + i * (row_h + gap)
        probability = float(probabilities[emotion])
        filled = int(round(length * probability))
        cv2.rectangle(canvas, (left, row), (left + length, row + row_h + gap // 2), (40, 40, 40), -1)
        if filled:
            cv2.rectangle(canvas, (left, row), (left + filled, row + row_h + gap // 2), _bgr(EMOTION_COLORS[i]), -1)
        cv2.putText(canvas, f"{emotion} {probability:.0%}", (left + 2, row + row_h), FONT, scale, (255, 255, 255),
                    thickness, cv2.LINE_AA)


def write_annotated(path, image, faces):
    """Draw ``faces`` on ``image`` (:func:`draw_faces`) and write it to ``path`` atomically; returns ``path``."""
    write_image(path, draw_faces(image, faces))
    return path


def emotion_colors_float():
    """:data:`EMOTION_COLORS` as RGB floats in 0..1, for matplotlib."""
    return [tuple(np.asarray(c) / 255) for c in EMOTION_COLORS]
