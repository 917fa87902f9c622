"""Your own labelled faces: a folder of class folders, or a CSV, read into 48x48 faces with their labels and persons.

Two layouts are read:

* a **folder** with one subfolder per class, whose name is the class name
  (``my_faces/smile/ann_01.jpg``, ``my_faces/frown/bob_07.png``): any names,
  two classes or more;
* a **CSV** with a header and the columns ``path,label`` and optionally
  ``group`` (the person), paths relative to the CSV's folder.

Each photo goes through phase 1: the largest face the detector finds is cut
out and resized to 48x48, as FER2013 is cut (``whole-image`` takes crops as
they are). A file that cannot be read, or holds no face, is skipped and
reported; everything else about the data (one class, an empty folder, a
missing file in a CSV, two folders whose names differ only in case) is an
error that names the file, folder or row. Files are read one at a time and
only the 48x48 crops are kept, so a folder of tens of thousands of photos
fits in a few tens of megabytes.

Persons matter for an honest score: frames of one person in both the
training and the test fold make a classifier look better than it is on a
new person. :func:`groups_from_names` takes the person from each file name.

Class names are compared after :func:`class_key` (case, spaces, ``_`` and
``-`` ignored), and matched to FER2013's emotions through the usual synonyms
(:data:`EMOTION_SYNONYMS`) when a model is scored on a folder.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .faces import EMOTIONS, FACE_SIZE
from .paths import IMAGE_SUFFIXES, display_path, find_images, printable
from .reading import open_regular

CSV_COLUMNS = ("path", "label", "group")

# Names data sets and people give FER2013's seven emotions, including the two-letter codes of JAFFE and KDEF.
EMOTION_SYNONYMS = {
    "angry": ("anger", "angry", "mad", "an"),
    "disgust": ("disgust", "disgusted", "disgusting", "di"),
    "fear": ("fear", "fearful", "afraid", "scared", "fe", "af"),
    "happy": ("happy", "happiness", "joy", "joyful", "ha"),
    "sad": ("sad", "sadness", "sorrow", "unhappy", "sa"),
    "surprise": ("surprise", "surprised", "su"),
    "neutral": ("neutral", "neutrality", "ne"),
}


class LabelledDataError(ValueError):
    """Labelled data that cannot be used as it is; the message names the file, folder or row."""


def class_key(name):
    """A class name compared without case, spaces, ``_`` or ``-``: ``"Happy_Face"`` and ``"happy face"`` are one."""
    return re.sub(r"[\s_\-]+", "", str(name)).casefold()


_EMOTION_BY_KEY = {class_key(synonym): emotion for emotion, synonyms in EMOTION_SYNONYMS.items()
                   for synonym in synonyms}


def canonical_class(name):
    """The FER2013 emotion a class name stands for (``"Sadness"`` -> ``"sad"``), else its :func:`class_key`."""
    key = class_key(name)
    return _EMOTION_BY_KEY.get(key, key)


@dataclass
class LabelledImages:
    """Labelled image files, not yet read.

    Attributes
    ----------
    paths : list of Path
    labels : list of str
        The class of each file, as the folder or CSV names it.
    groups : list of str or None
        The person of each file, when the CSV gives one.
    source : Path
        The folder or CSV.
    classes : tuple of str
        Every class, in the order of the folders (sorted) or of first appearance in the CSV.
    """

    paths: list
    labels: list
    groups: list | None
    source: Path
    classes: tuple


@dataclass
class LabelledFaces:
    """48x48 faces with their labels, ready for phases 2 and 3.

    Attributes
    ----------
    faces : ndarray of uint8, shape (n, 48, 48)
    labels : ndarray of str, shape (n,)
    groups : ndarray of str, shape (n,), or None
        The person of each face, when known.
    paths : list of Path
        The file each face comes from.
    skipped : list of dict
        ``{"path": str, "reason": str}`` per file left out.
    source : Path
    """

    faces: np.ndarray
    labels: np.ndarray
    groups: np.ndarray | None
    paths: list
    skipped: list = field(default_factory=list)
    source: Path | None = None

    def __len__(self):
        return len(self.labels)

    @property
    def classes(self):
        """The classes present, sorted, as an array of str."""
        return np.unique(self.labels)


def is_labelled_source(path):
    """True for a folder of class folders or a CSV with ``path`` and ``label`` columns; False for FER2013's files.

    FER2013's own image layout (``train/`` and ``test/``) and its ``.npz``/``.csv`` are not labelled sources here:
    :func:`fer_classic.data.load_fer2013` reads them.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "train").is_dir() and (path / "test").is_dir():
            return False
        if any((path / name).is_file() for name in ("fer2013.npz", "fer2013.csv")):
            return False
        return True
    if path.suffix.lower() == ".csv" and path.is_file():
        return {"path", "label"} <= set(_csv_header(path))
    return False


def _csv_header(path):
    with io.TextIOWrapper(open_regular(path), encoding="utf-8", errors="replace", newline="") as handle:
        return [column.strip() for column in next(csv.reader(handle), [])]


def find_labelled_images(source):
    """List a labelled folder or CSV without reading any image.

    Parameters
    ----------
    source : str or Path
        A folder of class folders, or a CSV with ``path,label[,group]``.

    Returns
    -------
    LabelledImages

    Raises
    ------
    LabelledDataError
        Fewer than two classes, an empty class or folder, class names that
        collide once compared by :func:`class_key`, or a CSV with unknown
        columns, empty labels or missing files.
    FileNotFoundError
        When ``source`` does not exist.
    """
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{display_path(source)}: no such file or folder")
    images = _read_csv(source) if source.is_file() else _read_folder(source)
    _check_class_names(images)
    return images


def _read_folder(root):
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise LabelledDataError(f"{display_path(root)}: no class folders (expected one subfolder per class, "
                                "named after it, holding its images)")
    paths, labels = [], []
    for class_dir in class_dirs:
        found = [path for path, error in find_images([class_dir]) if error is None]
        if not found:
            raise LabelledDataError(f"{display_path(class_dir)}: no image (looked for {', '.join(IMAGE_SUFFIXES)})")
        paths += found
        labels += [class_dir.name] * len(found)
    return LabelledImages(paths, labels, None, root, tuple(d.name for d in class_dirs))


def _read_csv(path):
    with io.TextIOWrapper(open_regular(path), encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.reader(handle)
        header = [column.strip() for column in next(reader, [])]
        unknown = [column for column in header if column not in CSV_COLUMNS]
        if unknown or "path" not in header or "label" not in header:
            raise LabelledDataError(f"{display_path(path)}, row 1: expected the columns path,label[,group], "
                                    f"got {printable(','.join(header)) or 'nothing'}")
        column = {name: header.index(name) for name in header}
        paths, labels, groups = [], [], []
        for row_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise LabelledDataError(f"{display_path(path)}, row {row_number}: {len(row)} cells, "
                                        f"expected {len(header)}")
            cells = {name: row[i].strip() for name, i in column.items()}
            for name in cells:
                if not cells[name]:
                    raise LabelledDataError(f"{display_path(path)}, row {row_number}: empty {name}")
            image = path.parent / cells["path"]
            if not image.is_file():
                raise LabelledDataError(f"{display_path(path)}, row {row_number}: no such file "
                                        f"{display_path(image)}")
            paths.append(image)
            labels.append(cells["label"])
            groups.append(cells.get("group"))
    if not paths:
        raise LabelledDataError(f"{display_path(path)}: header only, no rows")
    return LabelledImages(paths, labels, groups if "group" in column else None, path,
                          tuple(dict.fromkeys(labels)))


def _check_class_names(images):
    by_key = {}
    for name in images.classes:
        other = by_key.setdefault(class_key(name), name)
        if other != name:
            raise LabelledDataError(f"{display_path(images.source)}: classes {other!r} and {name!r} are the same "
                                    "class once case, spaces, '_' and '-' are ignored; rename one")
    if len(images.classes) < 2:
        raise LabelledDataError(f"{display_path(images.source)}: {len(images.classes)} class "
                                f"({', '.join(map(repr, images.classes))}); a classifier needs two or more")


def groups_from_names(paths, pattern):
    """The person of each file: the first capture group of ``pattern`` searched in its file name.

    Parameters
    ----------
    paths : sequence of Path
    pattern : str
        A regular expression with a capture group, e.g. ``"^(S\\d+)_"`` for
        ``S005_001_happy.png``.

    Returns
    -------
    list of str

    Raises
    ------
    LabelledDataError
        When the pattern is not a valid regular expression, has no capture
        group, or does not match a file name (the first such file is named).
    """
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise LabelledDataError(f"--groups: not a regular expression ({error})") from None
    if regex.groups < 1:
        raise LabelledDataError(f"--groups: {pattern!r} has no capture group: put the person's part of the "
                                "file name in parentheses, e.g. '^([a-z]+)_'")
    groups = []
    for path in paths:
        match = regex.search(Path(path).name)
        if match is None or not match.group(1):
            matched = len(groups)
            raise LabelledDataError(f"--groups: {pattern!r} finds no person in {display_path(path)}"
                                    + (f" ({matched} files before it matched)" if matched else
                                       " (it matches no file)"))
        groups.append(match.group(1))
    return groups


def read_faces(images, detector, progress=None):
    """Read each image, find its largest face and cut it to 48x48, one file at a time.

    Parameters
    ----------
    images : LabelledImages
    detector : object with ``detect(gray) -> (n, 4) boxes``
        ``whole-image`` for images that are face crops already.
    progress : callable, optional
        Wraps the iterable of files (e.g. ``tqdm``) to show progress.

    Returns
    -------
    LabelledFaces
        Files that cannot be read, or hold no face, are in ``skipped``.
    """
    import cv2

    from .imageio import ImageError, read_image, to_gray_uint8
    from .pipeline import crop_faces

    faces, kept, skipped = [], [], []
    items = list(enumerate(images.paths))
    for index, path in (progress(items) if progress else items):
        try:
            gray = to_gray_uint8(read_image(path))
            boxes = np.asarray(detector.detect(gray)).reshape(-1, 4)
        except ImageError as error:
            skipped.append({"path": display_path(path), "reason": _reason(error, path)})
            continue
        except (cv2.error, ValueError, MemoryError) as error:
            skipped.append({"path": display_path(path), "reason": f"cannot analyse ({type(error).__name__})"})
            continue
        if not len(boxes):
            skipped.append({"path": display_path(path), "reason": "no face found"})
            continue
        largest = boxes[np.argmax(boxes[:, 2] * boxes[:, 3])]
        faces.append(crop_faces(gray, largest[None])[0])
        kept.append(index)
    labels = np.array([images.labels[i] for i in kept], dtype=str)
    groups = np.array([images.groups[i] for i in kept], dtype=str) if images.groups is not None else None
    stack = np.stack(faces) if faces else np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
    return LabelledFaces(stack, labels, groups, [images.paths[i] for i in kept], skipped, images.source)


def _reason(error, path):
    """An image error's message without the file name it starts with (the skipped list names the file)."""
    text = str(error)
    prefix = f"{display_path(path)}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def match_classes(data_classes, model_classes):
    """Pair a data set's classes with a model's, by name and synonym.

    Parameters
    ----------
    data_classes : sequence of str
        The classes of the labelled data.
    model_classes : sequence of str
        The model's classes (FER2013's seven for the shipped models).

    Returns
    -------
    dict
        ``{data class: index into model_classes}`` for the classes the
        model knows; the others are left out.
    """
    model_index = {canonical_class(name): i for i, name in enumerate(model_classes)}
    return {name: model_index[canonical_class(name)] for name in data_classes
            if canonical_class(name) in model_index}

