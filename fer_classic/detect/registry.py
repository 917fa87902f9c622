"""Every face detector by name, with its defaults: the one place a detector name gets its meaning.

The API (:class:`~fer_classic.pipeline.EmotionRecognizer`), the CLI, the
GUI, batch jobs, the comparison and the benchmarks all build their detector
with :func:`build_detector`, and take their defaults from here: the photo
default (:data:`PHOTO_DETECTOR`), the video default (:data:`VIDEO_DETECTOR`)
and each detector's own pyramid step and neighbour count. The settings every detector shares (pyramid step,
neighbour count, smallest face, video's frame scale and refresh) live in :mod:`.defaults`, where the detector
classes take their own defaults from too; this module re-exports them.
"""

from __future__ import annotations

from ..model_files import ModelError, shipped_models_dir
from .defaults import (DETECT_SCALE, MIN_NEIGHBORS, MIN_SIZE, REFRESH, SCALE_FACTOR,
                       VIOLA_JONES_SCALE_FACTOR)
from .dlib_cnn import DlibCnnDetector
from .dlib_hog import DlibHogDetector
from .haar import CASCADES, HaarCascadeDetector
from .merged import MergedDetector
from .profile import ProfileDetector
from .scaled import DownscaledDetector
from .tracking import RegionTrackingDetector
from .verified import VerifiedDetector
from .whole_image import WholeImageDetector

VERIFIED = "verified"
FRONTAL_PROFILE = "frontal-profile"
DLIB_HOG = "dlib-hog"
DLIB_CNN = "dlib-cnn"
VIOLA_JONES = "viola-jones"
WHOLE_IMAGE = "whole-image"
# Every face finder by name; README "Detection" measures each on the committed labelled set.
FACE_FINDERS = (VERIFIED, *CASCADES, FRONTAL_PROFILE, DLIB_HOG, DLIB_CNN, VIOLA_JONES)
# What --detector accepts: the face finders, and no detection at all for images that are face crops.
DETECTORS = (*FACE_FINDERS, WHOLE_IMAGE)
# The most accurate detector within about 100 ms on a 640x480 photo on one core, and a fast one for video
# (benchmarks/detectors.py measures them all).
PHOTO_DETECTOR = VERIFIED
VIDEO_DETECTOR = DLIB_HOG
# Haar detections a face needs (else defaults.MIN_NEIGHBORS): the verified detector's cascade only proposes, so it
# is permissive.
DEFAULT_MIN_NEIGHBORS = {VERIFIED: 2}
# Pyramid step (else defaults.SCALE_FACTOR): a coarser step keeps the verified detector near 80 ms per 640x480 frame
# instead of 135, for one face fewer found on the detection set; the from-scratch cascade keeps the step it was
# tuned at.
DEFAULT_SCALE_FACTOR = {VERIFIED: 1.2, VIOLA_JONES: VIOLA_JONES_SCALE_FACTOR}
# dlib's detectors see faces of about 80 px and more; a smaller min_size doubles the image first. Their image
# pyramid shrinks by 5/6 a level.
DLIB_WINDOW = 80
DLIB_PYRAMID_STEP = 6 / 5
# In video, the region around a known face is zoomed so the face is about this wide before detection. The video
# detector halves it and dlib doubles it again, so the face meets dlib's 80-px window with room to shrink. On the
# comparison's clip, in runs alternating with and without it, detection took 6.5-6.8 ms a frame against 7.6-8.3, and
# found a face in 69 of 90 frames against 70 (the whole pipeline: benchmarks/results/2026-12-02-21174b9-video).
TRACKED_FACE_SIDE = 100
# Pyramid steps a cascade accepts: closer to 1 the pyramid grows without bound (OpenCV fails or allocates tens of
# GB at 1.00001), and past 4 it skips most face sizes.
SCALE_FACTOR_RANGE = (1.01, 4.0)
# Frame scales for video detection: below 0.05 a 640x480 frame has fewer pixels than one face.
DETECT_SCALE_RANGE = (0.05, 1.0)
VIOLA_JONES_FILE = "viola_jones_cascade.npz"


def shipped_cascade():
    """The from-scratch Viola-Jones cascade that ships with the package, or None if it is absent."""
    from .viola_jones import load_cascade

    path = shipped_models_dir() / VIOLA_JONES_FILE
    return load_cascade(path) if path.is_file() else None


def build_detector(name=None, scale_factor=None, min_neighbors=None, min_size=None, video=False,
                   detect_scale=None, refresh=None):
    """A face detector by name, checked.

    Parameters
    ----------
    name : str, optional
        One of :data:`DETECTORS` (default :data:`PHOTO_DETECTOR`, or
        :data:`VIDEO_DETECTOR` with ``video``):

        - ``"verified"``: the frontal Haar cascade's candidates, each
          confirmed by dlib's HOG detector on a zoomed crop;
        - ``"frontal-default"``, ``"frontal-alt2"``: OpenCV's frontal Haar cascades;
        - ``"profile"``: OpenCV's profile cascade on the image and its mirror;
        - ``"frontal-profile"``: the frontal and profile cascades, duplicates merged;
        - ``"dlib-hog"``, ``"dlib-cnn"``: dlib's HOG and CNN detectors;
        - ``"viola-jones"``: this project's from-scratch cascade;
        - ``"whole-image"``: no detection, each image is one face (for
          images that are face crops already).
    scale_factor : float, optional
        Step between pyramid scales (in :data:`SCALE_FACTOR_RANGE`), for the cascades; default
        :data:`DEFAULT_SCALE_FACTOR`, else :data:`~.defaults.SCALE_FACTOR`.
    min_neighbors : int, optional
        Raw detections needed to keep a face (>= 0), for the cascades;
        default :data:`DEFAULT_MIN_NEIGHBORS`, else :data:`~.defaults.MIN_NEIGHBORS`.
    min_size : int, optional
        Smallest face side in pixels (> 0; default :data:`~.defaults.MIN_SIZE`). dlib's
        detectors upsample the image once when it is below :data:`DLIB_WINDOW`.
    video : bool
        Wrap it for video: detection on a frame scaled by ``detect_scale``,
        full scans every ``refresh`` frames, and in between a search of the
        region around each known face, zoomed so the face is about
        :data:`TRACKED_FACE_SIDE` pixels wide.
    detect_scale : float, optional
        In :data:`DETECT_SCALE_RANGE`; default :data:`~.defaults.DETECT_SCALE`.
    refresh : int, optional
        >= 1; default :data:`~.defaults.REFRESH`.

    Returns
    -------
    object with ``detect(image) -> (n, 4) boxes``
    """
    name = name or (VIDEO_DETECTOR if video else PHOTO_DETECTOR)
    scale_factor = DEFAULT_SCALE_FACTOR.get(name, SCALE_FACTOR) if scale_factor is None else scale_factor
    min_neighbors = DEFAULT_MIN_NEIGHBORS.get(name, MIN_NEIGHBORS) if min_neighbors is None else min_neighbors
    min_size = MIN_SIZE if min_size is None else min_size
    detect_scale = DETECT_SCALE if detect_scale is None else detect_scale
    refresh = REFRESH if refresh is None else refresh
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose from {', '.join(DETECTORS)}")
    _check_within("scale factor", scale_factor, SCALE_FACTOR_RANGE)
    if min_neighbors < 0:
        raise ValueError(f"min neighbors must be 0 or more, got {min_neighbors}")
    if min_size <= 0:
        raise ValueError(f"min size must be positive, got {min_size}")
    _check_within("detect scale", detect_scale, DETECT_SCALE_RANGE)
    if refresh < 1:
        raise ValueError(f"refresh must be 1 or more, got {refresh}")
    detector = _detector(name, scale_factor, min_neighbors, (min_size, min_size))
    if video and name != WHOLE_IMAGE:
        pyramid_step = DLIB_PYRAMID_STEP if name in (DLIB_HOG, DLIB_CNN) else scale_factor
        detector = RegionTrackingDetector(DownscaledDetector(detector, detect_scale), refresh=refresh,
                                          face_side=TRACKED_FACE_SIDE, pyramid_step=pyramid_step)
    return detector



def _check_within(what, value, bounds):
    low, high = bounds
    if not low <= value <= high:  # NaN fails it too
        raise ValueError(f"{what} must be in [{low}, {high}], got {value}")


def _detector(name, scale_factor, min_neighbors, min_size):
    upsample = int(min_size[0] < DLIB_WINDOW)
    if name == WHOLE_IMAGE:
        return WholeImageDetector()
    if name == VERIFIED:
        return VerifiedDetector(HaarCascadeDetector("frontal-default", scale_factor, min_neighbors, min_size))
    if name == "profile":
        return ProfileDetector(scale_factor, min_neighbors, min_size)
    if name == FRONTAL_PROFILE:
        return MergedDetector([HaarCascadeDetector("frontal-default", scale_factor, min_neighbors, min_size),
                               ProfileDetector(scale_factor, min_neighbors, min_size)])
    if name == DLIB_HOG:
        return DlibHogDetector(upsample, min_size=min_size)
    if name == DLIB_CNN:
        return DlibCnnDetector(upsample, min_size=min_size)
    if name == VIOLA_JONES:
        from .viola_jones import ViolaJonesDetector

        cascade = shipped_cascade()
        if cascade is None:
            raise ModelError(f"the Viola-Jones cascade is not installed ({VIOLA_JONES_FILE}); "
                             "train one with `fer-classic train-detector`")
        return ViolaJonesDetector(cascade, scale_factor, min_neighbors, min_size)
    return HaarCascadeDetector(name, scale_factor, min_neighbors, min_size)
