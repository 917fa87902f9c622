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


_ALL_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text, lines=True):
    """``text`` with control characters escaped (``\\x1b``...): a message quoting a file cannot drive the terminal.

    Line breaks and tabs are kept, unless ``lines`` is False: a file name is
    printed with :func:`show_name`, so a newline in it cannot fake a line of output.
    """
    pattern = _CONTROL_CHARACTERS if lines else _ALL_CONTROL_CHARACTERS
    return pattern.sub(lambda match: f"\\x{ord(match.group()):02x}", str(text))


def show_name(path):
    """A file name for a message: :func:`display_path` text with every control character escaped (``\\n`` too)."""
    return printable(display_path(path), lines=False)


# A spreadsheet runs a cell that starts with one of these as a formula; OWASP's advice is a leading quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell that no spreadsheet runs as a formula: text starting with ``= + - @``, a tab or a CR gets a ``'``.

    Text starting with ``'`` gets one more, so :func:`csv_value` gives back
    exactly what was written. Numbers are kept as they are.
    """
    if isinstance(value, str) and value.startswith((*_FORMULA_STARTS, "'")):
        return "'" + value
    return value


def csv_value(cell):
    """The text :func:`csv_cell` was given: one leading ``'`` removed."""
    return cell[1:] if cell.startswith("'") else cell


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
            raise ValueError(f"{option} {show_name(path)} is a folder; name a file to write")
        key = path_key(path)
        if key in read:
            raise ValueError(f"{option} {show_name(path)} is an input of this run: it would be overwritten")
        if key in written:
            raise ValueError(f"{option} and {written[key]} name the same file {show_name(path)}")
        written[key] = option


def check_outside(out, data, option="--out", data_option="--data"):
    """Refuse an output that is the data read, or lies inside its folder, before any work.

    Parameters
    ----------
    out, data : str or Path or None
        Nothing is checked when either is None.

    Raises
    ------
    ValueError
        Naming both options.
    """
    if out is None or data is None:
        return
    written, read = Path(os.path.realpath(out)), Path(os.path.realpath(data))
    if written == read:
        raise ValueError(f"{option} {show_name(out)} is {data_option} itself: it would be overwritten")
    if Path(data).is_dir() and read in written.parents:
        raise ValueError(f"{option} {show_name(out)} is inside {data_option} {show_name(data)}: name a file "
                         "outside the data")


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
        ``target(path) -> Path``: the file to write for an input image. An
        image gets ``<stem>.annotated.png``; when several inputs share a stem
        (``a.jpg``, ``a.png``), each gets its whole name instead
        (``a.jpg.annotated.png``), and ``-2``, ``-3``... if still shared.

    Raises
    ------
    ValueError
        Naming ``option``, when a file is asked for several images or the
        folder is a file, or when an annotated image would overwrite one of
        the inputs (``predict DIR --out DIR`` with ``x.png`` and ``x.annotated.png`` in it).
    """
    out = Path(out)
    if out.suffix.lower() in IMAGE_SUFFIXES and not out.is_dir():
        if out.suffix.lower() not in WRITABLE_IMAGE_SUFFIXES:
            raise ValueError(f"{option} {show_name(out)}: cannot write {out.suffix}; "
                             f"use one of {', '.join(WRITABLE_IMAGE_SUFFIXES)}")
        if len(inputs) != 1 or not Path(inputs[0]).is_file():
            raise ValueError(f"{option} {show_name(out)} is one image, for one input image; "
                             "name a folder to annotate several")
        check_outputs(inputs, {option: out})
        return lambda path: out
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option} {show_name(out)} is a file; name a folder (or an image file for one image)")
    if not out.exists() and out.suffix:
        raise ValueError(f"{option} {show_name(out)}: {out.suffix} is not an image format; name an image file "
                         f"({', '.join(WRITABLE_IMAGE_SUFFIXES)}) or a folder")
    images = [path for path, error in find_images(inputs) if error is None]
    read = {path_key(path): path for path in images}
    stems = {}
    for path in images:
        stems[path.stem] = stems.get(path.stem, 0) + 1
    plan, taken = {}, set()
    for path in images:
        base = path.stem if stems[path.stem] == 1 else path.name
        name, count = f"{base}.annotated.png", 1
        while name in taken:
            count += 1
            name = f"{base}-{count}.annotated.png"
        taken.add(name)
        target = out / name
        if path_key(target) in read:
            raise ValueError(f"{option} {show_name(out)}: the annotated image of {show_name(path)} would overwrite "
                             f"the input {show_name(read[path_key(target)])}; name another folder")
        plan.setdefault(path_key(path), target)

    def target(path):
        out.mkdir(parents=True, exist_ok=True)
        planned = plan.get(path_key(path))
        return planned if planned is not None else out / f"{Path(path).name}.annotated.png"

    return target
