"""Labelled test scenes for face detectors: FER2013 faces pasted at known places into face-free photos.

A detector is scored by how many of the known faces it finds (recall) and
how many boxes it reports that are no face (false positives). Real photos
with every face labelled are scarce, so scenes are made: face-free
backgrounds (:data:`~fer_classic.detect.viola_jones.BENCHMARK_BACKGROUNDS`,
never trained on), every other one mirrored, with 48x48 FER2013 faces resized
and pasted at random places that do not overlap.

Making a scene is split in two so that a scene can be written down and
rebuilt exactly: :func:`plan_scenes` draws the places and the faces (a small
record of numbers), :func:`build_scene` pastes them. A benchmark can commit
the plans (as ``benchmarks/detection_set.json`` does) and rebuild identical
pixels from FER2013 later.

A detection finds a face when their intersection over union is at least
:data:`IOU_MATCH`; each face is found at most once, and every detection that
finds no face is a false positive (:func:`match`).
"""

from __future__ import annotations

import cv2
import numpy as np

from .boxes import box_iou
from .viola_jones.training import BENCHMARK_BACKGROUNDS, background_image

IOU_MATCH = 0.3


def _background(name, mirrored, size):
    scene = background_image(name)
    if size is not None:
        scene = cv2.resize(scene, tuple(size), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(scene[:, ::-1]) if mirrored else scene.copy()


def plan_scenes(n_faces_available, backgrounds=BENCHMARK_BACKGROUNDS, scenes_per_background=4, n_faces=5,
                sizes=(60, 120), seed=0, size=None):
    """Draw where each scene's faces go and which faces they are.

    Parameters
    ----------
    n_faces_available : int
        Faces to draw from (each is used at most once), e.g. the length of
        FER2013's ``PrivateTest``.
    backgrounds : sequence of str
        Names for :func:`~fer_classic.detect.viola_jones.background_image`.
    scenes_per_background : int
        Scenes per background; every other one is mirrored.
    n_faces : int
        Faces per scene, placed without overlapping.
    sizes : (int, int)
        Smallest and largest side of a pasted face, in pixels.
    seed : int
    size : (int, int), optional
        ``(width, height)`` the background is resized to first; None keeps
        its own size.

    Returns
    -------
    list of dict
        Per scene: ``name``, ``background``, ``mirrored`` (bool), ``size``
        (or None), ``faces`` (indices into the faces, ``n_faces`` ints) and
        ``boxes`` (``n_faces`` lists ``[x, y, w, h]``).
    """
    if n_faces * len(backgrounds) * scenes_per_background > n_faces_available:
        raise ValueError(f"{n_faces_available} faces are too few for {len(backgrounds) * scenes_per_background} "
                         f"scenes of {n_faces}")
    rng = np.random.default_rng(seed)
    chosen = iter(rng.permutation(n_faces_available).tolist())
    plans = []
    for name in backgrounds:
        for variant in range(scenes_per_background):
            mirrored = bool(variant % 2)
            height, width = _background(name, mirrored, size).shape
            boxes = []
            while len(boxes) < n_faces:
                side = int(rng.integers(sizes[0], sizes[1] + 1))
                box = [int(rng.integers(0, width - side)), int(rng.integers(0, height - side)), side, side]
                if not boxes or box_iou(box, boxes).max() == 0:
                    boxes.append(box)
            plans.append({"name": f"{name}-{variant}{'-mirrored' if mirrored else ''}", "background": name,
                          "mirrored": mirrored, "size": None if size is None else list(size),
                          "faces": [next(chosen) for _ in boxes], "boxes": boxes})
    return plans


def build_scene(plan, faces):
    """Paste a plan's faces into its background.

    Parameters
    ----------
    plan : dict
        One item of :func:`plan_scenes`.
    faces : ndarray of uint8, shape (n, 48, 48)
        The faces the plan's indices point into.

    Returns
    -------
    name : str
    scene : ndarray of uint8, shape (h, w)
        Grayscale.
    boxes : ndarray of int64, shape (n_faces, 4)
        The faces' boxes (x, y, w, h).
    """
    scene = _background(plan["background"], plan["mirrored"], plan.get("size"))
    for index, (x, y, w, h) in zip(plan["faces"], plan["boxes"]):
        scene[y:y + h, x:x + w] = cv2.resize(faces[index], (w, h), interpolation=cv2.INTER_LINEAR)
    return plan["name"], scene, np.array(plan["boxes"], dtype=np.int64).reshape(-1, 4)


def make_scenes(faces, backgrounds=BENCHMARK_BACKGROUNDS, scenes_per_background=4, n_faces=5, sizes=(60, 120), seed=0,
                size=None):
    """Plan and build scenes in one call; see :func:`plan_scenes` for the parameters.

    Returns
    -------
    list of (str, ndarray of uint8 (h, w), ndarray of int64 (n_faces, 4))
        Name, grayscale scene and face boxes (x, y, w, h).
    """
    plans = plan_scenes(len(faces), backgrounds, scenes_per_background, n_faces, sizes, seed, size)
    return [build_scene(plan, faces) for plan in plans]


def match(detections, truth, iou_match=IOU_MATCH):
    """Which faces the detections find, and how many detections find none.

    Each detection, in order, takes the unfound face it overlaps most, if
    their intersection over union reaches ``iou_match``.

    Parameters
    ----------
    detections : array_like, shape (n, 4)
    truth : array_like, shape (m, 4)
        Boxes (x, y, w, h).
    iou_match : float

    Returns
    -------
    found : ndarray of bool, shape (m,)
    false_positives : int
    """
    truth = np.asarray(truth, dtype=np.int64).reshape(-1, 4)
    found, false_positives = np.zeros(len(truth), dtype=bool), 0
    for box in np.asarray(detections).reshape(-1, 4):
        overlaps = np.where(found, 0.0, box_iou(box, truth)[0])
        if len(truth) and overlaps.max() >= iou_match:
            found[overlaps.argmax()] = True
        else:
            false_positives += 1
    return found, false_positives
