"""Drawing results on frames: a box per face, its label, and seven probability bars."""

from __future__ import annotations

import cv2
import numpy as np

from .faces import EMOTIONS

# One colour per emotion, in EMOTIONS order, as RGB in 0..255 (matplotlib's tab10 hues).
EMOTION_COLORS = ((214, 39, 40), (140, 86, 75), (148, 103, 189), (255, 187, 34), (31, 119, 180),
                  (44, 160, 44), (127, 127, 127))


def _bgr(rgb):
    return tuple(int(c) for c in rgb[::-1])


def draw_faces(frame, faces, bars=True):
    """Draw each face's box, label and probability bars on a copy of ``frame``.

    Parameters
    ----------
    frame : ndarray of uint8, shape (h, w, 3) BGR or (h, w) gray
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
    canvas = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame.copy()
    for face in faces:
        x, y, w, h = face["box"]
        color = _bgr(EMOTION_COLORS[EMOTIONS.index(face["emotion"])])
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, 2)
        label = f"{face['emotion']} {face['probabilities'][face['emotion']]:.2f}"
        if face.get("face_id") is not None:
            label = f"#{face['face_id']} {label}"
        (text_w, text_h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        top = max(y - text_h - 6, 0)
        cv2.rectangle(canvas, (x, top), (x + text_w + 4, top + text_h + 6), color, -1)
        cv2.putText(canvas, label, (x + 2, top + text_h + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)
        if bars:
            _draw_bars(canvas, face["probabilities"], x + w + 4, y)
    return canvas


def _draw_bars(canvas, probabilities, left, top, length=60, thickness=9):
    for i, emotion in enumerate(EMOTIONS):
        row = top + i * (thickness + 3)
        filled = int(round(length * float(probabilities[emotion])))
        cv2.rectangle(canvas, (left, row), (left + length, row + thickness), (60, 60, 60), 1)
        if filled:
            cv2.rectangle(canvas, (left, row), (left + filled, row + thickness), _bgr(EMOTION_COLORS[i]), -1)
        cv2.putText(canvas, emotion[:3], (left + length + 3, row + thickness - 1), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    (255, 255, 255), 1, cv2.LINE_AA)


def emotion_colors_float():
    """:data:`EMOTION_COLORS` as RGB floats in 0..1, for matplotlib."""
    return [tuple(np.asarray(c) / 255) for c in EMOTION_COLORS]
