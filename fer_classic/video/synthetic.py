"""Synthetic clips: faces drifting over a background, for the tests, the benchmarks and the comparison.

The one writer of such clips is :func:`write_drifting_clip`; the tests' small clip
(``tests/conftest.py``), the video benchmark's clip (``benchmarks/video_batch.py``) and the comparison's clip
of FER2013 faces (:func:`fer_classic.compare.clip.write_synthetic_clip`) are settings of it. The face most
of them use is skimage's astronaut, at :data:`ASTRONAUT_BOX`.
"""

from __future__ import annotations

import numpy as np

from .capture import open_video_writer

# The astronaut's face in skimage.data.astronaut(), (x, y, w, h), as OpenCV's frontal-default cascade finds it.
ASTRONAUT_BOX = (177, 66, 95, 95)


def astronaut_bgr():
    """skimage's astronaut photo, 512x512, in OpenCV's BGR order."""
    from skimage import data as skdata

    return np.ascontiguousarray(skdata.astronaut()[:, :, ::-1])


def astronaut_face(side, margin, image=None):
    """The astronaut's face with ``margin`` pixels of its surroundings on every side, resized to ``side`` pixels.

    Parameters
    ----------
    side, margin : int
    image : ndarray, optional
        The astronaut photo (BGR, as :func:`astronaut_bgr` returns it) when the caller holds it already.
    """
    import cv2

    image = astronaut_bgr() if image is None else image
    x, y, w, h = ASTRONAUT_BOX
    return cv2.resize(image[y - margin:y + h + margin, x - margin:x + w + margin], (side, side))


def write_drifting_clip(path, faces, background, n_frames, fps, top, left):
    """Write a clip of ``faces`` in turn (each for an equal share of it) pasted on ``background``.

    Parameters
    ----------
    path : str or Path
        ``.avi`` (MJPG) or ``.mp4`` (mp4v) to write.
    faces : sequence of ndarray of uint8, shape (h, w, 3)
        BGR patches, all of one size; frame ``i`` shows ``faces[i * len(faces) // n_frames]``.
    background : ndarray of uint8, shape (height, width, 3)
        BGR; its size is the clip's.
    n_frames, fps : int
    top : int
        Row of the faces' top edge.
    left : callable
        Frame index -> column of the face's left edge: how it drifts.

    Returns
    -------
    int
        ``n_frames``.

    Raises
    ------
    fer_classic.video.VideoError
        When OpenCV has no encoder for ``path``'s container.
    """
    height, width = background.shape[:2]
    writer = open_video_writer(path, fps, (width, height))
    try:
        for i in range(n_frames):
            face = faces[i * len(faces) // n_frames]
            frame = background.copy()
            column = left(i)
            frame[top:top + face.shape[0], column:column + face.shape[1]] = face
            writer.write(frame)
    finally:
        writer.release()
    return n_frames
