"""Worker processes die with the process that started them.

A batch's loky workers each hold a model (about 270 MB); when their parent is
killed (``kill -9``, the OOM killer) nothing tells them to stop, and they
lingered for minutes. :func:`die_with_parent`, called once in each worker,
asks the kernel to kill the worker as its parent dies (Linux's
``prctl(PR_SET_PDEATHSIG)``), or elsewhere starts a watchdog thread that
polls the parent's pid.

It also holds :data:`DEFAULT_JOBS`, the one default worker count: training, batch jobs, the comparison, the CLI's
``--jobs`` and the benchmarks take it from here (so this module stays light: the standard library only).
"""

from __future__ import annotations

import os
import signal
import threading

# Worker processes (or threads) by default: two, the cores of the machines the records in benchmarks/results were
# measured on. Each worker holds its own model or feature block, so more only help with cores and memory to spare.
DEFAULT_JOBS = 2

_PR_SET_PDEATHSIG = 1
_WATCH_SECONDS = 0.5
_armed = set()          # the pids of the processes armed already: a forked child arms again


def die_with_parent():
    """In a worker process, arrange to die when the parent process dies; in the main process, do nothing.

    Call it first thing in a worker: a pool's initializer, or the task
    function (calling it again is free). A worker is a process started by
    :mod:`multiprocessing` or loky (``multiprocessing.parent_process()`` is
    set), so the same task function can also run in the main process.
    Linux sends the signal when the *thread* that started the worker ends:
    start workers from a thread that outlives them (batch's loky workers
    come from the main thread, or from the executor's manager thread).

    Returns
    -------
    bool
        True when this process is a worker and is now bound to its parent.
    """
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None:
        return False
    if os.getpid() in _armed:
        return True
    _armed.add(os.getpid())
    parent_pid = parent.pid
    if not _kernel_kills_orphan():
        thread = threading.Thread(target=_watch, args=(parent_pid,), name="die-with-parent", daemon=True)
        thread.start()
    if os.getppid() != parent_pid:          # the parent died before the request took effect
        os._exit(1)
    return True


def _kernel_kills_orphan():
    if not hasattr(os, "sched_getaffinity") or not os.uname().sysname == "Linux":
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid):
    import time

    while os.getppid() == parent_pid:
        time.sleep(_WATCH_SECONDS)
    os._exit(1)
