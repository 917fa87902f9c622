"""File names: finding the images to read, naming files in output, and keeping outputs off inputs.

Every front end (``predict``, ``batch``, the GUI) finds images with
:func:`find_images`, so a folder means the same files everywhere. Names go into
messages, CSVs and JSON through :func:`display_path`, so a file name that is
not valid UTF-8 is still printable, and messages pass through
:func:`printable`. :func:`check_outputs` runs before any work: an output that
would overwrite an input, another output or a folder is refused while nothing
has been touched yet.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".gif")
WRITABLE_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")  # OpenCV writes no GIF


def display_path(path):
    """A path as printable text: bytes that are not UTF-8 are shown as escapes, e.g. ``caf\\xe9.jpg``.

    Linux file names are bytes. Python keeps undecodable ones as lone
    surrogates, which cannot be written to a UTF-8 terminal, CSV or JSON.
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text):
    """``text`` with control characters escaped (``\\x1b``...): a message quoting a file cannot drive the terminal.

    Line breaks and tabs are kept.
    """
    return _CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", str(text))


def path_key(path):
    """What identifies a file across runs: its resolved absolute path, as :func:`display_path` text.

    A symlink loop resolves as far as it can instead of failing, so it stays one file's error.
    """
    return display_path(os.path.realpath(path))


def _hidden(path, root):
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _walk(root):
    """Images below a folder, sorted, hidden ones skipped; an unreadable sub-folder as an error."""
    found, errors = [], []

    def unreadable(error):
        folder = Path(error.filename)
        errors.append((folder, f"{display_path(folder)}: cannot read folder ({error.strerror or error})"))

    for folder, subfolders, files in os.walk(root, onerror=unreadable):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [(Path(folder) / name, None) for name in files
                  if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES]
    return sorted(found + errors, key=lambda item: os.fsencode(item[0]))


def find_images(paths):
    """The images named by files, folders and glob patterns, each with the reason it cannot be read, if any.

    Parameters
    ----------
    paths : iterable of str or Path
        A file is taken as given, whatever its suffix (a missing one too: it
        is reported when read, as are FIFOs, devices and symlink loops). A folder is searched recursively for files
        with an :data:`IMAGE_SUFFIXES` suffix, skipping hidden files and
        folders. A path that does not exist but holds ``*``, ``?`` or ``[``
        is a glob pattern (``**`` recurses); it matches files of any suffix.

    Yields
    ------
    path : Path
    error : str or None
        Why a folder could not be searched (e.g. ``"photos/private: cannot
        read folder (Permission denied)"``); None for a file to read.
    """
    for path in map(Path, paths):
        if path.is_dir():
            yield from _walk(path)
        elif not path.exists() and glob.has_magic(str(path)):
            # Folders are skipped, but not FIFOs, broken links or symlink loops: those become the file's error.
            yield from ((Path(p), None) for p in sorted(glob.glob(str(path), recursive=True)) if not os.path.isdir(p))
        else:
            yield path, None


def check_outputs(inputs, outputs):
    """Refuse outputs that are folders, inputs, or each other, before any work starts.

    Parameters
    ----------
    inputs : iterable of str or Path
        Files the run reads.
    outputs : dict of {str: str or Path or None}
        Files the run writes, by the option that names them (``"--out"``);
        None for an output not asked for.

    Raises
    ------
    ValueError
        Naming the option and the file.
    """
    read = {path_key(path): path for path in inputs}
    written = {}
    for option, path in outputs.items():
        if path is None:
            continue
        if Path(path).is_dir():
            raise ValueError(f"{option} {display_path(path)} is a folder; name a file to write")
        key = path_key(path)
        if key in read:
            raise ValueError(f"{option} {display_path(path)} is an input of this run: it would be overwritten")
        if key in written:
            raise ValueError(f"{option} and {written[key]} name the same file {display_path(path)}")
        written[key] = option


def annotated_outputs(out, inputs, option="out"):
    """Plan where ``predict --out`` writes each annotated image, before any work.

    Parameters
    ----------
    out : str or Path
        An image file (its suffix is a :data:`WRITABLE_IMAGE_SUFFIXES` one)
        when ``inputs`` is a single image file; otherwise a folder, created
        if missing (a new one has no suffix), that receives
        ``<name>.annotated.png`` per image.
    inputs : list of str
        The paths given to ``predict``.
    option : str
        How messages name ``out``.

    Returns
    -------
    callable
        ``target(path) -> Path``: the file to write for an input image;
        names that two inputs share get ``-2``, ``-3``... appended.

    Raises
    ------
    ValueError
        Naming ``option``, when a file is asked for several images or the
        folder is a file.
    """
    out = Path(out)
    if out.suffix.lower() in IMAGE_SUFFIXES and not out.is_dir():
        if out.suffix.lower() not in WRITABLE_IMAGE_SUFFIXES:
            raise ValueError(f"{option} {display_path(out)}: cannot write {out.suffix}; "
                             f"use one of {', '.join(WRITABLE_IMAGE_SUFFIXES)}")
        if len(inputs) != 1 or not Path(inputs[0]).is_file():
            raise ValueError(f"{option} {display_path(out)} is one image, for one input image; "
                             "name a folder to annotate several")
        check_outputs(inputs, {option: out})
        return lambda path: out
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option} {display_path(out)} is a file; name a folder (or an image file for one image)")
    if not out.exists() and out.suffix:
        raise ValueError(f"{option} {display_path(out)}: {out.suffix} is not an image format; name an image file "
                         f"({', '.join(WRITABLE_IMAGE_SUFFIXES)}) or a folder")
    taken = {}

    def target(path):
        stem = Path(path).stem
        count = taken[stem] = taken.get(stem, 0) + 1
        out.mkdir(parents=True, exist_ok=True)
        return out / f"{stem}{'' if count == 1 else f'-{count}'}.annotated.png"

    return target
