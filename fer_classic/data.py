"""FER2013 loading: the ``.npz`` copy, Kaggle's ``fer2013.csv`` and the image-folder layout.

FER2013 (Goodfellow et al., 2013) holds 35,887 grayscale faces of 48x48 pixels,
each labelled with one of seven emotions. The rows are split three ways:

============  ======  ==========================================
split         rows    role in this project
============  ======  ==========================================
Training      28,709  fitting
PublicTest     3,589  validation (choosing hyper-parameters)
PrivateTest    3,589  the final test, reported once
============  ======  ==========================================

FER+ (Barsoum et al., 2016) re-labelled every row with ten crowd votes; its
majority label gives a cleaner test set, exposed as ``FERPlus-PrivateTest``.

References
----------
.. [1] I. Goodfellow et al., "Challenges in Representation Learning: A report
       on three machine learning contests", ICONIP 2013.
.. [2] E. Barsoum et al., "Training Deep Networks for Facial Expression
       Recognition with Crowd-Sourced Label Distribution", ICMI 2016.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .faces import EMOTIONS, FACE_SIZE
from .reading import load_npz, open_regular

SPLITS = ("Training", "PublicTest", "PrivateTest")

DATA_HELP = (
    "FER2013 is not bundled. Download fer2013.csv from Kaggle's 'Challenges in "
    "Representation Learning: Facial Expression Recognition Challenge' "
    "(https://www.kaggle.com/c/challenges-in-representation-learning-facial-expression-recognition-challenge/data) "
    "and put it in ./data/, or set FER2013_PATH to the file or to its folder."
)
_DATA_FILES = ("fer2013.npz", "fer2013.csv")
# FER+ vote columns, mapped onto EMOTIONS; contempt, unknown and NF have no FER2013 class.
_FERPLUS_COLUMNS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
_FERPLUS_REJECT = ("contempt", "unknown", "NF")


class DataFormatError(ValueError):
    """A data file that does not follow its format; the message names the file and row."""


class UnknownSplitError(KeyError, ValueError):
    """A split the loaded data does not have: a ``KeyError`` for mappings, a ``ValueError`` for the command line."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _quote(text, limit=40):
    """``repr`` of a value from a file, shortened: a damaged file can hold a field of megabytes."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _csv_rows(reader, path, first_line=2):
    """``(line, row)`` of a ``csv.reader``, its errors (a NUL byte, a field over the size limit) naming the file."""
    line = first_line
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise DataFormatError(f"{path}, row {line}: not readable as CSV ({error})") from None
        yield line, row
        line += 1


@dataclass(frozen=True)
class Split:
    """One split of FER2013.

    Attributes
    ----------
    faces : ndarray of uint8, shape (n, 48, 48)
    labels : ndarray of int64, shape (n,)
        Indices into :data:`EMOTIONS`.
    rows : ndarray of int64, shape (n,)
        Row positions in the original CSV order (-1 where unknown).
    """

    faces: np.ndarray
    labels: np.ndarray
    rows: np.ndarray

    def __len__(self):
        return len(self.labels)


@dataclass
class FER2013:
    """The loaded data set: ``data["Training"]`` is a :class:`Split`."""

    splits: dict
    source: Path
    md5: str
    notes: list = field(default_factory=list)

    def __getitem__(self, name):
        if name not in self.splits:
            if name == "FERPlus-PrivateTest":
                raise UnknownSplitError(
                    f"{self.source}: no {name} split: it needs Microsoft's FER+ labels, fer2013new.csv "
                    f"(https://github.com/microsoft/FERPlus), beside the data file, in {self.source.parent}")
            raise UnknownSplitError(f"{self.source}: unknown split {name!r}; available: {', '.join(self.splits)}")
        return self.splits[name]


def file_md5(path, chunk_size=1 << 20):
    """MD5 of a file, or of every image below a folder, as a hex string."""
    path = Path(path)
    digest = hashlib.md5()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with open_regular(f) as handle:
            while block := handle.read(chunk_size):
                digest.update(block)
    return digest.hexdigest()


def find_fer2013(path=None):
    """Locate FER2013.

    Parameters
    ----------
    path : str or Path, optional
        A file (``.npz`` or ``.csv``), a Kaggle image folder, or a folder holding
        one of these. When None, ``$FER2013_PATH`` if it is set; else look in
        ``./data/`` and ``../shared/fer2013/``, in that order.

    Returns
    -------
    Path
        The data file, or the image folder.

    Raises
    ------
    FileNotFoundError
        When nothing is found. A path given explicitly (``path`` or
        ``$FER2013_PATH``) is the only place looked in: a misspelt one is an
        error, never a silent fall back to another copy of the data.
    """
    if path is None and os.environ.get("FER2013_PATH"):
        path = os.environ["FER2013_PATH"]
        if not Path(path).exists():
            raise FileNotFoundError(f"FER2013_PATH={path}: no such file or folder")
    if path is not None:
        candidates = [Path(path)]
    else:
        candidates = [Path("data"), Path("../shared/fer2013")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
        if candidate.is_dir():
            for name in _DATA_FILES:
                if (candidate / name).is_file():
                    return candidate / name
            if (candidate / "train").is_dir() and (candidate / "test").is_dir():
                return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"FER2013 not found (searched: {searched}). {DATA_HELP}")


def load_fer2013(path=None, ferplus=True):
    """Load FER2013 as three splits of 48x48 uint8 faces.

    Parameters
    ----------
    path : str or Path, optional
        See :func:`find_fer2013`.
    ferplus : bool
        Also add the ``FERPlus-PrivateTest`` split when ``fer2013new.csv`` lies
        beside the data file and the rows are in the original CSV order.

    Returns
    -------
    FER2013
        ``splits`` maps "Training", "PublicTest", "PrivateTest" (and maybe
        "FERPlus-PrivateTest") to :class:`Split`.

    Raises
    ------
    FileNotFoundError
        When no data is found; the message says where to get it.
    DataFormatError
        When a file is malformed; the message names the file and row.
    """
    source = find_fer2013(path)
    if source.is_dir():
        faces, labels, usage, rows = _read_image_folder(source)
    elif source.suffix == ".npz":
        faces, labels, usage = _read_npz(source)
        rows = np.arange(len(labels))
    elif source.suffix == ".csv":
        faces, labels, usage = _read_csv(source)
        rows = np.arange(len(labels))
    else:
        raise DataFormatError(f"{source}: expected a .npz file, a .csv file or an image folder")

    data = FER2013(splits={}, source=source, md5=file_md5(source))
    for code, name in enumerate(SPLITS):
        mask = usage == code
        data.splits[name] = Split(faces[mask], labels[mask].astype(np.int64), rows[mask])
    if len(data.splits["PublicTest"]) == 0:
        _carve_validation(data)
    ferplus_file = source.parent / "fer2013new.csv"
    if ferplus and not source.is_dir() and ferplus_file.is_file():
        votes_labels, dropped = load_ferplus_labels(ferplus_file, n_rows=len(labels))
        test = data.splits["PrivateTest"]
        keep = votes_labels[test.rows] >= 0
        data.splits["FERPlus-PrivateTest"] = Split(test.faces[keep], votes_labels[test.rows][keep], test.rows[keep])
        data.notes.append(
            f"FER+: {dropped} of {len(labels)} rows dropped (majority unknown, NF or contempt); "
            f"{int((~keep).sum())} of them in PrivateTest"
        )
    return data


def load_ferplus_labels(path, n_rows=None):
    """FER+ majority labels in :data:`EMOTIONS` order, aligned by row position.

    Parameters
    ----------
    path : str or Path
        Microsoft's ``fer2013new.csv``.
    n_rows : int, optional
        Expected number of rows (35,887 for the full FER2013).

    Returns
    -------
    labels : ndarray of int64, shape (n_rows,)
        The majority emotion, or -1 where the majority is contempt, unknown or
        NF (not a face). Ties go to the first column in FER+'s order.
    dropped : int
        How many rows are -1.
    """
    path = Path(path)
    with io.TextIOWrapper(open_regular(path), encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(_csv_rows(reader, path, first_line=1), (1, None))[1]
        if header is None:
            raise DataFormatError(f"{path}: empty file")
        missing = [c for c in _FERPLUS_COLUMNS + _FERPLUS_REJECT if c not in header]
        if missing:
            raise DataFormatError(f"{path}, row 1: missing FER+ columns {missing}")
        vote_columns = [c for c in header if c in _FERPLUS_COLUMNS + _FERPLUS_REJECT]
        index = [header.index(c) for c in vote_columns]
        votes = []
        for line, row in _csv_rows(reader, path):
            try:
                row_votes = [int(row[i]) for i in index]
            except (ValueError, IndexError):
                raise DataFormatError(f"{path}, row {line}: expected integer votes in columns {vote_columns}") from None
            if not all(0 <= vote <= 1000 for vote in row_votes):
                raise DataFormatError(f"{path}, row {line}: votes must lie in 0..1000")
            votes.append(row_votes)
    if n_rows is not None and len(votes) != n_rows:
        raise DataFormatError(f"{path}: {len(votes)} rows, expected {n_rows} (one per FER2013 row)")
    if not votes:
        raise DataFormatError(f"{path}: header only, no rows")
    winner = np.asarray(vote_columns)[np.argmax(np.asarray(votes), axis=1)]
    lookup = {name: i for i, name in enumerate(_FERPLUS_COLUMNS)}
    # _FERPLUS_COLUMNS is in EMOTIONS order, so a column's index is its emotion label.
    labels = np.array([lookup.get(w, -1) for w in winner], dtype=np.int64)
    return labels, int((labels < 0).sum())


def _read_npz(path):
    try:
        arrays = {k: v for k, v in load_npz(path).items() if k in ("pixels", "emotion", "usage")}
    except ValueError as error:
        raise DataFormatError(str(error)) from None
    missing = {"pixels", "emotion", "usage"} - set(arrays)
    if missing:
        raise DataFormatError(f"{path}: missing arrays {sorted(missing)}")
    pixels, emotion, usage = arrays["pixels"], arrays["emotion"], arrays["usage"]
    if pixels.dtype != np.uint8 or pixels.shape[1:] != (FACE_SIZE, FACE_SIZE):
        raise DataFormatError(f"{path}: 'pixels' must be uint8 (n, 48, 48), got {pixels.dtype} {pixels.shape}")
    _check_codes(path, emotion, len(EMOTIONS), "emotion label", first_row=0)
    _check_codes(path, usage, len(SPLITS), "usage code", first_row=0)
    if not len(pixels) == len(emotion) == len(usage):
        raise DataFormatError(f"{path}: pixels, emotion and usage differ in length")
    return pixels, emotion.astype(np.int64), usage.astype(np.int64)


def _check_codes(path, values, n_codes, what, first_row):
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise DataFormatError(f"{path}: {what}s must be a 1-D array of integers 0..{n_codes - 1}, "
                              f"got {values.dtype} of shape {values.shape}")
    bad = np.flatnonzero((values < 0) | (values >= n_codes))
    if bad.size:
        raise DataFormatError(f"{path}, row {bad[0] + first_row}: {what} {values[bad[0]]} outside 0..{n_codes - 1}")


def _read_csv(path):
    """Kaggle's ``fer2013.csv``: header ``emotion,pixels,Usage``; rows are 1-based lines."""
    n_pixels = FACE_SIZE * FACE_SIZE
    faces, labels, usage = [], [], []
    with io.TextIOWrapper(open_regular(path), encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = next(_csv_rows(reader, path, first_line=1), (1, None))[1]
        if header is None:
            raise DataFormatError(f"{path}: empty file")
        if [h.strip() for h in header] != ["emotion", "pixels", "Usage"]:
            raise DataFormatError(f"{path}, row 1: expected columns emotion,pixels,Usage, got "
                                  f"{_quote(','.join(header), 80)}")
        for line, row in _csv_rows(reader, path):
            if len(row) != 3:
                raise DataFormatError(f"{path}, row {line}: expected 3 columns, got {len(row)}")
            emotion, pixels, split = row
            if emotion.strip() not in _EMOTION_CODES:     # not int(): "²" is a digit, and 5000 digits are an error
                raise DataFormatError(f"{path}, row {line}: emotion {_quote(emotion)} outside 0..{len(EMOTIONS) - 1}")
            if split not in SPLITS:
                raise DataFormatError(f"{path}, row {line}: unknown Usage {_quote(split)}; expected one of {SPLITS}")
            values = pixels.split()
            if len(values) != n_pixels:
                raise DataFormatError(f"{path}, row {line}: {len(values)} pixels, expected {n_pixels}")
            try:
                face = np.array(values, dtype=np.int64)
            except (ValueError, OverflowError):
                raise DataFormatError(f"{path}, row {line}: pixels must be integers in 0..255") from None
            if face.min() < 0 or face.max() > 255:
                raise DataFormatError(f"{path}, row {line}: pixel values must lie in 0..255")
            faces.append(face.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE))
            labels.append(_EMOTION_CODES[emotion.strip()])
            usage.append(SPLITS.index(split))
    if not faces:
        raise DataFormatError(f"{path}: header only, no rows")
    return np.stack(faces), np.asarray(labels, dtype=np.int64), np.asarray(usage, dtype=np.int64)


_EMOTION_CODES = {str(code): code for code in range(len(EMOTIONS))}
_PREFIX = re.compile(r"^(Training|PublicTest|PrivateTest)_", re.IGNORECASE)


def _read_image_folder(root):
    """Kaggle's image layout: ``train|test/<emotion>/*.png|jpg``.

    Files named ``PublicTest_*`` or ``PrivateTest_*`` (as in the popular Kaggle
    re-upload) go to those splits; otherwise ``test/`` is PrivateTest.
    """
    from .imageio import read_image, to_gray_uint8

    faces, labels, usage, rows = [], [], [], []
    for folder, default_split in (("train", 0), ("test", 2)):
        for class_dir in sorted((root / folder).iterdir()):
            if not class_dir.is_dir():
                continue
            if class_dir.name.lower() not in EMOTIONS:
                raise DataFormatError(f"{class_dir}: folder name is not an emotion; expected one of {EMOTIONS}")
            for image_path in sorted(class_dir.iterdir()):
                if image_path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
                    continue
                face = to_gray_uint8(read_image(image_path))
                if face.shape != (FACE_SIZE, FACE_SIZE):
                    raise DataFormatError(f"{image_path}: image is {face.shape[1]}x{face.shape[0]}, expected 48x48")
                prefix = _PREFIX.match(image_path.name)
                faces.append(face)
                labels.append(EMOTIONS.index(class_dir.name.lower()))
                usage.append(SPLITS.index(prefix.group(1)) if prefix else default_split)
                rows.append(-1)
    if not faces:
        raise DataFormatError(f"{root}: no .png or .jpg images under train/<emotion>/ or test/<emotion>/")
    return np.stack(faces), np.asarray(labels), np.asarray(usage), np.asarray(rows, dtype=np.int64)


def _carve_validation(data, fraction=1 / 9, seed=0):
    """Hold out a stratified part of Training as PublicTest when the source has none."""
    train = data.splits["Training"]
    rng = np.random.default_rng(seed)
    held = np.zeros(len(train), dtype=bool)
    for label in np.unique(train.labels):
        members = np.flatnonzero(train.labels == label)
        held[rng.choice(members, size=int(round(len(members) * fraction)), replace=False)] = True
    data.splits["PublicTest"] = Split(train.faces[held], train.labels[held], train.rows[held])
    data.splits["Training"] = Split(train.faces[~held], train.labels[~held], train.rows[~held])
    note = f"{data.source}: no PublicTest rows; held out {held.sum()} Training faces (stratified, seed {seed}) instead"
    data.notes.append(note)
    warnings.warn(note, stacklevel=3)
