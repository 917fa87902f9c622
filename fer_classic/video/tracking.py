"""Following faces across frames: IoU identities and smoothed probabilities."""

from __future__ import annotations

import numpy as np

from ..detect import box_iou


class IouTracker:
    """Give each box the identity of the track it overlaps most.

    Matching is greedy, best IoU first. A box matching no track starts a new
    one; a track unseen for more than ``max_missing`` processed frames ends.

    Parameters
    ----------
    min_iou : float
        Least overlap that continues a track.
    max_missing : int
    """

    def __init__(self, min_iou=0.3, max_missing=10):
        self.min_iou = min_iou
        self.max_missing = max_missing
        self.tracks = {}            # id -> (last box, frames missing)
        self.next_id = 1

    def update(self, boxes):
        """Identities for ``boxes`` (n, 4), in order; returns a list of n ints."""
        boxes = np.asarray(boxes).reshape(-1, 4)
        track_ids = list(self.tracks)
        ids = [None] * len(boxes)
        if track_ids and len(boxes):
            overlaps = box_iou(boxes, [self.tracks[t][0] for t in track_ids])
            for flat in np.argsort(-overlaps, axis=None):
                row, column = divmod(int(flat), len(track_ids))
                if overlaps[row, column] < self.min_iou:
                    break
                if ids[row] is None and track_ids[column] not in ids:
                    ids[row] = track_ids[column]
        for row, box in enumerate(boxes):
            if ids[row] is None:
                ids[row] = self.next_id
                self.next_id += 1
            self.tracks[ids[row]] = (box, 0)
        for track in set(track_ids) - set(ids):
            box, missing = self.tracks[track]
            if missing + 1 > self.max_missing:
                del self.tracks[track]
            else:
                self.tracks[track] = (box, missing + 1)
        return ids


# Weight of the past in the moving average of a face's probabilities across frames: the CLI's and the GUI's default.
SMOOTHING = 0.5


class EmaSmoother:
    """Exponential moving average of each face's probabilities over time.

    ``smoothed = (1 - smoothing) * new + smoothing * previous``; 0 switches it off.
    """

    def __init__(self, smoothing=SMOOTHING):
        if not 0 <= smoothing < 1:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        self.smoothing = smoothing
        self.state = {}

    def update(self, face_id, probabilities):
        probabilities = np.asarray(probabilities, dtype=np.float64)
        previous = self.state.get(face_id)
        smoothed = (probabilities if previous is None
                    else (1 - self.smoothing) * probabilities + self.smoothing * previous)
        self.state[face_id] = smoothed
        return smoothed


class FaceTracks:
    """Identities and smoothed probabilities of the faces of one stream.

    Parameters
    ----------
    smoothing : float
        See :class:`EmaSmoother`; 0 switches smoothing off.
    """

    def __init__(self, smoothing=SMOOTHING):
        self.tracker = IouTracker()
        self.smoother = EmaSmoother(smoothing)

    def set_smoothing(self, smoothing):
        """Restart the averages with a new strength; identities are kept."""
        if smoothing != self.smoother.smoothing:
            self.smoother = EmaSmoother(smoothing)

    def follow(self, faces):
        """Give each face (dicts from ``analyze``) its track's ``face_id``; smooth its probabilities in place.

        The probabilities keep their classes and order: the recognizer's, which one stream must not change.
        """
        for face, face_id in zip(faces, self.tracker.update([f["box"] for f in faces])):
            classes = list(face["probabilities"])
            smoothed = self.smoother.update(face_id, list(face["probabilities"].values()))
            face.update(face_id=face_id, emotion=classes[int(smoothed.argmax())],
                        probabilities=dict(zip(classes, smoothed.tolist())))
        return faces
