"""Writing output files whole or not at all.

Every file the project writes (CSV, JSON, images, video, plots, models) goes
through :func:`replacing`: the content is written to a hidden temporary file
beside the destination, flushed to disk, then renamed onto it. An interrupted
or failed write leaves the old file as it was, and a full disk is an error,
never a silently empty file. Only a regular file (or a new name) is ever
replaced: ``/dev/full`` or a FIFO given as an output is refused before
anything is written.
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path

from .paths import display_path

# mkstemp creates 0600 files; an output gets the permissions a plain open() would give it. Read once, at import:
# os.umask can only be read by setting it, which is not safe while other threads create files.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class OutputError(OSError):
    """An output that cannot be written; the message names the file and says why."""


def check_writable(path):
    """Refuse, before any work, an output that is not a regular file or whose folder does not exist.

    Parameters
    ----------
    path : str or Path

    Raises
    ------
    OutputError
        Naming the file: its folder is missing or not a folder, or the path is a folder, a device, a FIFO...
    """
    path = Path(path)
    name = display_path(path)
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{name}: cannot write: its folder {display_path(folder)} does not exist")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise OutputError(f"{name}: cannot write ({error.strerror or error})") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{name}: cannot write: it is a folder")
    if not stat.S_ISREG(mode):
        raise OutputError(f"{name}: cannot write: not a regular file (a device, FIFO or socket)")


class PartialFile:
    """An output file open under a hidden temporary name beside ``path``, given that name by :meth:`close`.

    For writers that stay open across calls (a video's per-frame CSV);
    :func:`replacing` wraps it for a block of code.

    Parameters
    ----------
    path : str or Path
        The destination; a regular file or a new name in an existing folder.
    mode : {"wb", "w"}
        Binary or text.
    **open_options
        Passed to :func:`open` (``encoding``, ``newline``).

    Attributes
    ----------
    stream : file object
        Write the content to it.

    Raises
    ------
    OutputError
        Naming the file, when it cannot be written (missing folder, not a regular file...).
    """

    def __init__(self, path, mode="wb", **open_options):
        self.path = Path(path)
        check_writable(self.path)
        try:
            handle, self.temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                                      suffix=".partial")
        except OSError as error:
            raise _write_error(self.path, error) from None
        self.stream = open(handle, mode, **open_options)

    def close(self, keep=True):
        """Flush the content to disk and rename it onto ``path``; with ``keep`` False, remove it.

        Raises
        ------
        OutputError
            When the content cannot be written (a full disk...); ``path`` is then left as it was.
        """
        try:
            if keep:
                self.stream.flush()
                os.fsync(self.stream.fileno())
                self.stream.close()
                os.chmod(self.temporary, 0o666 & ~_UMASK)
                os.replace(self.temporary, self.path)
        except OSError as error:
            raise _write_error(self.path, error) from None
        finally:
            with suppress(OSError):     # a discarded file's last buffered bytes may not fit either
                self.stream.close()
            if os.path.exists(self.temporary):
                os.unlink(self.temporary)


def _write_error(path, error):
    return OutputError(f"{display_path(path)}: cannot write ({error.strerror or error})")


@contextmanager
def replacing(path, mode="wb", **open_options):
    """Open a temporary file beside ``path`` that replaces it only if the block finishes without error.

    Parameters
    ----------
    path, mode, **open_options
        As :class:`PartialFile`.

    Yields
    ------
    file object
        Write the whole content to it.

    Raises
    ------
    OutputError
        Naming the file, when it cannot be written (missing folder, full disk, not a regular file...).
    """
    partial = PartialFile(path, mode, **open_options)
    try:
        yield partial.stream
    except BaseException as error:
        partial.close(keep=False)
        if isinstance(error, OSError) and not isinstance(error, OutputError):
            raise _write_error(partial.path, error) from None      # a full disk while writing
        raise
    partial.close()


def write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` whole or not at all; see :func:`replacing`."""
    with replacing(path) as stream:
        stream.write(data)


def write_text(path, text):
    """Write ``text`` as UTF-8 to ``path`` whole or not at all; see :func:`replacing`."""
    with replacing(path, "w", encoding="utf-8", newline="") as stream:
        stream.write(text)


def save_figure(figure, path, **savefig_options):
    """Save a Matplotlib figure whole or not at all, in the format its suffix names.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    path : str or Path
    **savefig_options
        Passed to :meth:`~matplotlib.figure.Figure.savefig` (``dpi``...).
    """
    path = Path(path)
    file_format = path.suffix.lstrip(".").lower() or "png"
    with replacing(path) as stream:
        figure.savefig(stream, format=file_format, **savefig_options)
