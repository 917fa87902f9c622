"""The ``fer-classic`` command line and the front ends it alone uses: batch CSVs and the teaching figure.

:mod:`.main` parses the commands, :mod:`.batch` classifies folders into one
CSV, :mod:`.explain` draws the three phases on a photo. They hold no logic
of the phases: each command calls the pipeline, the store or the comparison.

Ctrl+C ends the command at any moment, its start-up included (the imports
below take seconds), with one line and exit status 130, never a traceback.
"""

import os
import signal
import sys

INTERRUPTED = 130           # the exit status of a command stopped by Ctrl+C (128 + SIGINT)


def _launched_as_command():
    # The `fer-classic` script or `python -m fer_classic`: the process is ours, its signals too.
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return getattr(spec, "name", None) == "fer_classic.__main__" or script == "fer-classic"


def interrupted(*_):
    """Say "interrupted" in one line and leave with status 130 at once: for a Ctrl+C where no ``except`` can
    catch it (while Python starts up or shuts down)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or broken stream: nothing more to say there
            pass
    try:
        os.write(2, b"fer-classic: interrupted\n")
    except OSError:
        pass
    os._exit(INTERRUPTED)


try:
    from .main import main as _run
except KeyboardInterrupt:
    if not _launched_as_command():
        raise
    interrupted()


def main(argv=None):
    """Entry point of ``fer-classic``; returns the exit status (130 after Ctrl+C, at any moment)."""
    try:
        return _run(argv)
    except KeyboardInterrupt:                # one that arrived outside the commands' own handling
        print("fer-classic: interrupted", file=sys.stderr)
        return INTERRUPTED
    finally:
        if argv is None and _launched_as_command():
            # Python's shutdown (the workers' and the resource tracker's clean-up) cannot catch a late Ctrl+C.
            signal.signal(signal.SIGINT, interrupted)


__all__ = ["main"]
