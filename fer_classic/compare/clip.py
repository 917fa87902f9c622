"""A synthetic test clip: FER2013 faces pasted on a 640x480 photo, drifting, for the video benchmark."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data as skdata

from ..video.synthetic import write_drifting_clip

FRAME_SIZE = (640, 480)
FACE_SIDE = 160


def detectable_faces(faces, n, detector):
    """The first ``n`` faces that ``detector`` finds once enlarged on a plain background.

    The video benchmark passes the detector the video pipeline uses, so the
    clip measures the pipeline, not faces that its detector cannot see.
    """
    chosen = []
    for face in faces:
        canvas = np.full((FACE_SIDE + 80, FACE_SIDE + 80), 128, np.uint8)
        canvas[40:40 + FACE_SIDE, 40:40 + FACE_SIDE] = cv2.resize(face, (FACE_SIDE, FACE_SIDE))
        if len(detector.detect(canvas)):
            chosen.append(face)
            if len(chosen) == n:
                break
    if len(chosen) < n:
        raise ValueError(f"only {len(chosen)} of the given faces are detectable; need {n}")
    return chosen


def write_synthetic_clip(path, faces, n_frames=90, fps=30):
    """Write a 640x480 clip: one face at a time (changing every third of the clip) drifting over skimage's coffee.

    Parameters
    ----------
    path : str or Path
        ``.mp4`` (mp4v) or ``.avi`` (MJPG) to write.
    faces : sequence of ndarray of uint8, shape (48, 48)
        FER2013 faces; see :func:`detectable_faces`.

    Returns
    -------
    str
        A description for the report.
    """
    background = cv2.resize(cv2.cvtColor(skdata.coffee(), cv2.COLOR_RGB2BGR), FRAME_SIZE)
    enlarged = [cv2.cvtColor(cv2.resize(face, (FACE_SIDE, FACE_SIDE)), cv2.COLOR_GRAY2BGR) for face in faces]
    write_drifting_clip(path, enlarged, background, n_frames, fps, top=160,
                        left=lambda i: 240 + int(160 * np.sin(i / 15)))
    return (f"synthetic 640x480, {n_frames} frames: {len(faces)} FER2013 PrivateTest faces in turn, "
            f"{FACE_SIDE} px, drifting over skimage's coffee")
