"""Third-party chatter kept off the terminal at the boundary, the command line and the desktop app.

:func:`fer_classic.quiet_libraries` sets :data:`QUIET_ENV` (unless
``--verbose``), which worker processes inherit; the code that calls into a
library writing straight to file descriptor 2 (libpng inside OpenCV, LiteRT's
delegate) then wraps the call in :func:`captured_stderr`. As a library,
fer_classic leaves stderr alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

QUIET_ENV = "FER_CLASSIC_QUIET"


def asked_verbose():
    """True when ``--verbose`` (or ``FER_CLASSIC_QUIET=0``) asked for every notice."""
    return os.environ.get(QUIET_ENV) == "0"


def is_quiet():
    """True when the libraries' notices are to be kept off stderr (the commands and the app, without --verbose)."""
    return os.environ.get(QUIET_ENV) == "1"


@contextlib.contextmanager
def captured_stderr(active=None):
    """Catch what C code writes to file descriptor 2 meanwhile, instead of letting it reach the terminal.

    Parameters
    ----------
    active : bool, optional
        Default :func:`is_quiet`; when False, nothing is caught.

    Yields
    ------
    list of str
        Receives the text written, stripped, once the block ends (empty when nothing was, or not active).
    """
    caught = []
    if not (is_quiet() if active is None else active):
        yield caught
        return
    try:
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    try:
        saved = os.dup(2)
    except OSError:                         # no stderr at all: nothing to keep it from
        yield caught
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield caught
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read(4096).decode("utf-8", "replace").strip()
            if text:
                caught.append(text)
