"""Writing output files whole or not at all.

Every file the project writes (CSV, JSON, images, video, plots, models) goes
through :func:`replacing`: the content is written to a hidden temporary file
beside the destination, flushed to disk, then renamed onto it. An interrupted
or failed write leaves the old file as it was, and a full disk is an error,
never a silently empty file. Only a regular file (or a new name) is ever
replaced: ``/dev/full`` or a FIFO given as an output is refused before
anything is written.

Nothing is ever written through a name someone else could have prepared: a
partial file is created exclusively (``O_CREAT | O_EXCL | O_NOFOLLOW``: a
symlink or file planted at its name makes the write fail instead of landing
elsewhere), and its permissions are set on the open descriptor. A writer that
keeps an output open for long (``batch``) holds an :class:`OutputLock`, so a
second writer to the same output is refused with the first one's pid.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path

from .paths import printable, show_name

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
    name = show_name(path)
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(f"{name}: cannot write: its folder {show_name(folder)} does not exist")
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


def create_exclusive(path, mode="wb", **open_options):
    """Create ``path`` as a new file and open it for writing; never through a symlink, never over a file.

    Parameters
    ----------
    path : str or Path
    mode : {"wb", "w"}
    **open_options
        Passed to :func:`open` (``encoding``, ``newline``).

    Raises
    ------
    OutputError
        Naming the file, when anything (a file, a symlink, a folder) is already at ``path``, or it cannot be created.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        handle = os.open(path, flags, 0o666)    # the umask applies, as for a plain open()
    except FileExistsError:
        raise OutputError(f"{show_name(path)}: cannot create: something is already at that name "
                          "(a file or a link another process made?)") from None
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        return open(handle, mode, **open_options)
    except BaseException:
        os.close(handle)
        raise


def lock_path(path):
    """The lock file :class:`OutputLock` uses for ``path``: a hidden file beside it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


class OutputLock:
    """An advisory lock (``fcntl.flock``) on a hidden file beside an output, holding the writer's pid.

    A second writer to the same output is refused at once, with the pid of the
    one at work. The lock file is opened without following symlinks, and removed
    on :meth:`release`; a lock file left by a process that died holds no lock
    and is taken over. Use it as a context manager.

    Parameters
    ----------
    path : str or Path
        The output.

    Raises
    ------
    OutputError
        Naming the output and the other process's pid, when another process holds the lock.
    """

    def __init__(self, path):
        self.path, self.lock = Path(path), lock_path(path)
        self._handle = None
        for _ in range(10):     # the holder may remove the file between our open and our flock: open it again
            handle = self._open()
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.pread(handle, 32, 0).decode("ascii", "replace").strip() or "unknown"
                os.close(handle)
                raise OutputError(f"{show_name(self.path)}: another process (pid {printable(owner)}) is writing "
                                  f"it; wait for it to end, or name another output") from None
            except BaseException:
                os.close(handle)
                raise
            try:
                still_there = os.stat(self.lock, follow_symlinks=False)
            except FileNotFoundError:
                still_there = None
            mine = os.fstat(handle)
            if still_there is not None and (still_there.st_dev, still_there.st_ino) == (mine.st_dev, mine.st_ino):
                os.ftruncate(handle, 0)
                os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
                self._handle = handle
                return
            os.close(handle)
        raise OutputError(f"{show_name(self.path)}: cannot lock {show_name(self.lock)}: it keeps changing")

    def _open(self):
        try:
            handle = os.open(self.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644)
        except OSError as error:
            reason = "a symbolic link is at its name" if error.errno == errno.ELOOP else error.strerror or error
            raise OutputError(f"{show_name(self.path)}: cannot lock {show_name(self.lock)} ({reason})") from None
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            os.close(handle)
            raise OutputError(f"{show_name(self.path)}: cannot lock {show_name(self.lock)}: not a regular file")
        return handle

    def release(self):
        """Remove the lock file and let go of the lock; a second call does nothing."""
        if self._handle is None:
            return
        with suppress(OSError):
            os.unlink(self.lock)        # while still held: a process waiting on this file then retries
        os.close(self._handle)
        self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.release()


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
    lock : bool
        Hold an :class:`OutputLock` on ``path`` until :meth:`close`: a second writer is refused.
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

    def __init__(self, path, mode="wb", lock=False, **open_options):
        self.path = Path(path)
        check_writable(self.path)
        self._lock = OutputLock(self.path) if lock else None
        try:
            # mkstemp creates the file with O_EXCL and O_NOFOLLOW, under a name nobody can guess beforehand.
            handle, self.temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                                      suffix=".partial")
        except OSError as error:
            self._unlock()
            raise _write_error(self.path, error) from None
        self.stream = open(handle, mode, **open_options)

    def _unlock(self):
        if self._lock is not None:
            self._lock.release()

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
                os.fchmod(self.stream.fileno(), 0o666 & ~_UMASK)    # on the descriptor: a name can be swapped
                os.fsync(self.stream.fileno())
                self.stream.close()
                os.replace(self.temporary, self.path)
        except OSError as error:
            raise _write_error(self.path, error) from None
        finally:
            with suppress(OSError):     # a discarded file's last buffered bytes may not fit either
                self.stream.close()
            if os.path.lexists(self.temporary):
                os.unlink(self.temporary)
            self._unlock()


def _write_error(path, error):
    return OutputError(f"{show_name(path)}: cannot write ({error.strerror or error})")


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
