"""Reading input files safely: regular files only, and archives recognised before they are parsed.

Every input file (images, data, models, a CSV to resume) is opened with
:func:`open_regular`, so a FIFO, a device or a symlink loop fails at once as
that file's error instead of blocking the run for ever. :func:`load_npz`
tells a file that is not an ``.npz`` archive at all from a damaged one, in
words, instead of NumPy's advice about pickles, and turns whatever a damaged
archive raises inside ``zipfile``, ``zlib`` or NumPy into one ``ValueError``
naming the file. :func:`notice` reports a damaged file that was worked around
(a feature-cache entry extracted again, a registry entry skipped) in one line.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import sys
import warnings

import numpy as np

from .paths import display_path, show_name
from .quiet import is_quiet

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")    # a .npz is a zip archive; the second is an empty one


def _file_kind(mode):
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"


def open_regular(path):
    """Open a regular file for reading in binary mode, refusing anything else without blocking.

    Opened with ``O_NONBLOCK`` and checked with ``fstat`` on the open
    descriptor, so a FIFO with no writer fails at once (it would block a plain
    ``open`` for ever) and nothing can be swapped in between the check and the
    read.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    io.BufferedReader

    Raises
    ------
    OSError
        With ``strerror`` saying why: missing, permission, a symlink loop, or
        "not a regular file: a FIFO"...
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"not a regular file: {_file_kind(mode)}", str(path))
        flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
        fcntl.fcntl(descriptor, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def check_regular(path):
    """Raise :func:`open_regular`'s OSError unless ``path`` is a readable regular file (for readers taking a name)."""
    open_regular(path).close()


def load_npz(path):
    """All arrays of an ``.npz`` archive, read without unpickling anything.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of {str: ndarray}

    Raises
    ------
    OSError
        When the file cannot be opened (see :func:`open_regular`).
    ValueError
        Naming the file, when it is not an ``.npz`` archive or is damaged.
    """
    name = display_path(path)
    with open_regular(path) as stream:
        if stream.read(4) not in _ZIP_MAGIC:
            raise ValueError(f"{name}: not an .npz archive (it does not start as a zip file does)")
        stream.seek(0)
        try:
            with np.load(stream, allow_pickle=False) as archive:
                return {key: archive[key] for key in archive.files}
        except Exception as error:  # noqa: BLE001  zipfile.BadZipFile, zlib.error, EOFError, tokenize.TokenError...
            # A damaged archive fails wherever its damage is met: the zip directory, a member's compressed stream,
            # an array's header (parsed as a Python literal) or its data.
            raise ValueError(f"{name}: a damaged .npz archive ({type(error).__name__}: {_one_line(error)})") from None


def _one_line(error):
    """An exception's text on one line, shortened: some quote the bytes they choked on."""
    text = " ".join(str(error).split())
    return text if len(text) <= 200 else text[:199] + "…"


_NOTICES = {}       # warnings' registry for :func:`notice`: one line per distinct notice and process
_SAID = set()       # the notices a command printed itself


class DamagedFileWarning(UserWarning):
    """A damaged file that was worked around; its subclasses say which kind (feature cache, model registry).

    A front end that silences Python's warnings should keep these: each is
    one line the user needs (``warnings.filterwarnings("default", category=DamagedFileWarning)``).
    """


def notice(path, message, category=DamagedFileWarning):
    """Report a damaged file that was worked around, in one line that starts with the file's name.

    Issued through :mod:`warnings`, so a caller can filter it by ``category``
    or turn it into an error; shown once per process for the same text. The
    warning's location is the file itself (line 0), so Python prints no line
    of source under it. In a command, which keeps Python's warnings (the
    libraries' chatter) off stderr unless ``--verbose``
    (:func:`fer_classic.quiet.is_quiet`), it is printed instead, once:
    ``fer-classic: warning: <file>: <message>``, one line.

    Parameters
    ----------
    path : str or Path
        The damaged file.
    message : str
        What was wrong and what was done, without the file's name.
    category : type
        A :class:`DamagedFileWarning` subclass.
    """
    if is_quiet():
        line = f"fer-classic: warning: {show_name(path)}: {message}"
        if line not in _SAID:
            _SAID.add(line)
            print(line, file=sys.stderr)
        return
    warnings.warn_explicit(message, category, filename=display_path(path), lineno=0, module="fer_classic",
                           registry=_NOTICES)
