"""Peak memory of a piece of work: this process and the worker processes it starts, sampled as it runs.

``resource.getrusage`` reports a process's peak since it started, so in a
comparison that trains one method after another every method would inherit
the largest peak before it, and it misses joblib's worker processes, which
fit the grid points. :class:`PeakMemory` instead samples the resident memory
of this process and all its descendants (Linux ``/proc``) every few
milliseconds while its ``with`` block runs, and keeps the largest sum.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes(pid):
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE_BYTES
    except (OSError, IndexError, ValueError):  # the process ended between listing and reading
        return 0


def _children(pid):
    found = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for thread in threads:
        try:
            found += [int(child) for child in Path(f"/proc/{pid}/task/{thread}/children").read_text().split()]
        except OSError:
            continue
    return found


def tree_resident_bytes(pid=None):
    """Resident memory of process ``pid`` (default this one) and all its descendants, in bytes."""
    pending, total = [pid or os.getpid()], 0
    while pending:
        current = pending.pop()
        total += _resident_bytes(current)
        pending += _children(current)
    return total


class PeakMemory:
    """``with PeakMemory() as peak: ...`` then ``peak.mb``: the largest resident memory of the process tree.

    ``mb`` is None where ``/proc`` is not available (not Linux).

    Parameters
    ----------
    interval : float
        Seconds between samples; a peak shorter than this can be missed.
    """

    def __init__(self, interval=0.02):
        self.interval = interval
        self.mb = None

    def __enter__(self):
        self._peak = 0
        self._done = threading.Event()
        self._thread = None
        if os.path.exists(f"/proc/{os.getpid()}/statm"):
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def sample(self):
        """Take a sample now (a caller that knows when its peak is, e.g. a test, need not wait for the next one)."""
        self._peak = max(self._peak, tree_resident_bytes())

    def _sample(self):
        while True:
            self.sample()
            if self._done.wait(self.interval):
                return

    def __exit__(self, *exc):
        if self._thread is not None:
            self._done.set()
            self._thread.join()
            self.mb = round(self._peak / 2**20)
        return False
