"""Run an extractor over many faces: in parallel chunks, cached on disk.

Extraction is the slow part of training, and the same faces are extracted again
and again while classifiers are tuned. Results are therefore stored under
``$FER_CLASSIC_CACHE`` (default ``~/.cache/fer_classic``), keyed by a hash of
the faces and of the extractor's name and parameters. Small batches (live
images, video) skip the disk and use a small in-memory memo instead, so that
several extractors sharing landmarks fit them once.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ..atomic import replacing

# Bump when an extractor's output changes, so stale cache entries are not reused.
CACHE_VERSION = 1
MIN_DISK_BATCH = 512
_MEMO = OrderedDict()
_MEMO_SIZE = 8
_ENABLED = True
_PROGRESS = False  # progress bars are for commands: a library call prints nothing unless asked


def show_progress(enabled):
    """Show (True) or hide (False, the default) progress bars of long extractions in this process."""
    global _PROGRESS
    _PROGRESS = bool(enabled)


@contextmanager
def caching(enabled):
    """Switch the disk cache on or off inside a ``with`` block; timings need it off.

    Off, nothing is read from or written to disk, and the memo starts empty and
    is dropped when the block ends: extractors still share one landmark fit per
    batch, as in live use, but nothing computed before the block is reused. A
    timing therefore runs each timed call in a block of its own.
    """
    global _ENABLED, _MEMO
    previous, saved_memo = _ENABLED, _MEMO
    _ENABLED = enabled
    if not enabled:
        _MEMO = OrderedDict()
    try:
        yield
    finally:
        _ENABLED, _MEMO = previous, saved_memo


def cache_dir():
    """Folder of the feature cache: ``$FER_CLASSIC_CACHE`` or ``~/.cache/fer_classic``."""
    return Path(os.environ.get("FER_CLASSIC_CACHE") or Path.home() / ".cache" / "fer_classic")


def cache_key(name, params, faces):
    """Hex key for ``faces`` (an array) run through extractor ``name`` with ``params``."""
    faces = np.ascontiguousarray(faces)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{CACHE_VERSION}|{name}|{sorted(params.items())}|{faces.dtype}|{faces.shape}".encode())
    digest.update(faces.data)
    return digest.hexdigest()


def map_chunks(function, arrays, n_jobs=1, chunk_size=256, desc=None):
    """Apply ``function`` to aligned chunks of ``arrays`` and concatenate the results.

    Parameters
    ----------
    function : callable
        Takes one chunk of each array, returns an array with one row per item.
        Must be picklable (a module-level function or a ``functools.partial``).
    arrays : sequence of ndarray
        Arrays of equal length, split together.
    n_jobs : int
        joblib worker processes; 1 runs in this process.
    chunk_size : int
    desc : str, optional
        Progress-bar label; no bar when None, or unless :func:`show_progress` switched bars on.

    Returns
    -------
    ndarray
    """
    n = len(arrays[0])
    starts = range(0, n, chunk_size)
    chunks = [[a[s:s + chunk_size] for a in arrays] for s in starts]
    show = _PROGRESS and desc is not None and n >= MIN_DISK_BATCH
    if n_jobs == 1 or len(chunks) == 1:
        results = [function(*chunk) for chunk in tqdm(chunks, desc=desc, unit="chunk", disable=not show)]
    else:
        jobs = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(function)(*chunk) for chunk in chunks)
        results = list(tqdm(jobs, total=len(chunks), desc=desc, unit="chunk", disable=not show))
    return np.concatenate(results) if results else function(*[a[:0] for a in arrays])


def cached_map(name, params, function, arrays, n_jobs=1, desc=None):
    """:func:`map_chunks`, with results cached by the first array's content.

    Batches of at least ``MIN_DISK_BATCH`` items are cached on disk, smaller
    ones (and every batch while :func:`caching` is off) in a memo of the last
    few results.

    The first array must determine the others (e.g. faces, then landmarks fitted
    to them), since only it and ``params`` form the key. A result read back
    from disk is a read-only memory map.
    """
    key = cache_key(name, params, arrays[0])
    if not _ENABLED or len(arrays[0]) < MIN_DISK_BATCH:
        if key not in _MEMO:
            _MEMO[key] = map_chunks(function, arrays, n_jobs=n_jobs if len(arrays[0]) >= MIN_DISK_BATCH else 1)
            while len(_MEMO) > _MEMO_SIZE:
                _MEMO.popitem(last=False)
        return _MEMO[key]
    path = cache_dir() / name / f"{key}.npy"
    if path.is_file():
        # Mapped rather than read: filling gigabytes of fresh memory costs about 2 s per GB in page faults on these
        # virtual machines (8.5 s for the Fisher vectors of the mirrored Training split, 0.4 s mapped).
        return np.load(path, mmap_mode="r")
    result = map_chunks(function, arrays, n_jobs=n_jobs, desc=desc)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as stream:     # an interrupted run leaves no half file
        np.save(stream, result)
    return result
