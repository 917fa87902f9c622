"""Run an extractor over many faces: in parallel chunks, cached on disk.

Extraction is the slow part of training, and the same faces are extracted again
and again while classifiers are tuned. Results are therefore stored under
``$FER_CLASSIC_CACHE`` (default ``~/.cache/fer_classic``), keyed by a hash of
the faces and of the extractor's name and parameters. Small batches (live
images, video) skip the disk and use a small in-memory memo instead, so that
several extractors sharing landmarks fit them once.

Each entry is a ``.npy`` file followed by a 20-byte trailer: a marker, the
size of the ``.npy`` part and its CRC-32 (:func:`write_entry`). An entry is
mapped only after its size and checksum are checked (:func:`read_entry`), so a
truncated file, or one rewritten with other values of the same shape, is never
used: it is extracted again, with one :class:`FeatureCacheWarning` naming the
file. The check guards against damage, not against an adversary, so it uses
zlib's CRC-32, as zip and PNG do: 3.99 GB/s on this project's 2-core machine,
against 0.92 GB/s for blake2b, which took 7.5 s of a re-training of ``fused``
and its scoring (``experiments/2026-12-07-retrain-profile``). Checking reads
the whole entry once; the pages it reads are the ones the memory map then
uses. The trailer leaves the file a valid ``.npy`` for ``np.load``.

What is learned from cached features can be cached too (:func:`cached_fit`):
a vocabulary or a PCA basis, keyed by the rows it was fitted on and its
parameters, as scikit-learn's ``Pipeline(memory=...)`` caches fitted
transformers, but without pickles; and so can what is computed from a whole
entry, such as its projection onto that basis (:func:`cached_transform`).
"""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import struct
import zlib
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from ..atomic import replacing
from ..reading import DamagedFileWarning, notice, open_regular

# Bump when an extractor's output or the entries' format changes, so stale cache entries are not reused.
# 2: entries end in a checksum trailer; 3: a CRC-32 instead of blake2b.
CACHE_VERSION = 3
MIN_DISK_BATCH = 512
FIT_SUFFIX = ".fit"     # the folders of :func:`cached_fit`'s entries end in it; the others hold features
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


class FeatureCacheWarning(DamagedFileWarning):
    """A feature-cache entry that was damaged (truncated, rewritten, unreadable) and was extracted again."""


class DamagedEntry(ValueError):
    """A cache entry that fails its checks; the message says how, without the file's name."""


_TRAILER = struct.Struct("<8sQI")     # marker, size of the .npy part, its CRC-32
_MARKER = b"FERCRC32"


class _Checksumming:
    """A write-only stream that checksums and counts what goes through it to ``stream``."""

    def __init__(self, stream):
        self.stream, self.size, self.crc = stream, 0, 0

    def write(self, data):
        data = memoryview(data).cast("B")
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        return self.stream.write(data)


def write_entry(path, array):
    """Write ``array`` to ``path`` as a ``.npy`` followed by its checksum trailer, whole or not at all."""
    with replacing(path) as stream:     # an interrupted run leaves no half file
        checksumming = _Checksumming(stream)
        np.save(checksumming, np.asarray(array), allow_pickle=False)
        stream.write(_TRAILER.pack(_MARKER, checksumming.size, checksumming.crc))


class CacheEntry(np.memmap):
    """A checked cache entry as :func:`read_entry` maps it.

    ``identity`` names its content (file name, size and checksum), so that what
    is computed from the whole entry can be cached in turn
    (:func:`cached_transform`). Slices, views and copies of it have none.
    """

    identity = None

    def __array_finalize__(self, obj):
        super().__array_finalize__(obj)
        self.identity = None


def read_entry(path):
    """The array of a cache entry written by :func:`write_entry`, as a read-only memory map, once checked.

    Returns a :class:`CacheEntry`, a ``numpy.memmap``.

    Raises
    ------
    DamagedEntry
        When the file is shorter or longer than its trailer says, its bytes
        do not match its checksum, or its ``.npy`` header is unreadable.
    OSError
        When it cannot be opened.
    """
    with open_regular(path) as stream:
        total = os.fstat(stream.fileno()).st_size
        if total < _TRAILER.size:
            raise DamagedEntry(f"{total} bytes, too short to hold its checksum")
        stream.seek(total - _TRAILER.size)
        marker, size, crc = _TRAILER.unpack(stream.read(_TRAILER.size))
        if marker != _MARKER:
            raise DamagedEntry("no checksum at its end: truncated, or written by an older version")
        if size != total - _TRAILER.size:
            raise DamagedEntry(f"{total - _TRAILER.size} bytes of data, its checksum says {size}")
        stream.seek(0)
        actual, remaining, buffer = 0, size, memoryview(bytearray(1 << 22))
        while remaining:
            read = stream.readinto(buffer[:min(remaining, len(buffer))])
            if not read:
                raise DamagedEntry("shorter than it was a moment ago")
            actual = zlib.crc32(buffer[:read], actual)
            remaining -= read
        if actual != crc:
            raise DamagedEntry("its content does not match its checksum (changed since it was written)")
        stream.seek(0)
        try:
            version = np.lib.format.read_magic(stream)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f".npy format version {version}")
            shape, fortran_order, dtype = read_header(stream)
        except (ValueError, SyntaxError, EOFError, OverflowError) as error:
            raise DamagedEntry(f"an unreadable .npy header ({error})") from None
        offset = stream.tell()
        if dtype.hasobject or offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != size:
            raise DamagedEntry("its .npy header does not match its size")
        order = "F" if fortran_order else "C"
        if size == offset:       # nothing to map
            return np.zeros(shape, dtype, order=order)
        # Mapped rather than read: filling gigabytes of fresh memory costs about 2 s per GB in page faults on these
        # virtual machines (8.5 s for the Fisher vectors of the mirrored Training split, 0.4 s mapped). Opened again
        # by name, as joblib sends a map to its workers by file name, and checked to be the file that was hashed.
        nonblocking = lambda name, flags: os.open(name, flags | os.O_NONBLOCK)   # noqa: E731  a FIFO swapped in
        with open(path, "rb", opener=nonblocking) as mapped:
            if not os.path.samestat(os.fstat(mapped.fileno()), os.fstat(stream.fileno())):
                raise DamagedEntry("replaced while it was being checked")
            entry = np.memmap(mapped, dtype=dtype, mode="r", shape=shape, order=order, offset=offset).view(CacheEntry)
            entry.identity = f"{Path(path).name}|{size}|{crc:08x}"
            return entry


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
    from disk is a read-only memory map, checked first (:func:`read_entry`):
    a damaged entry is extracted again and replaced, with one
    :class:`FeatureCacheWarning` naming it.
    """
    key = cache_key(name, params, arrays[0])
    if not _ENABLED or len(arrays[0]) < MIN_DISK_BATCH:
        if key not in _MEMO:
            _MEMO[key] = map_chunks(function, arrays, n_jobs=n_jobs if len(arrays[0]) >= MIN_DISK_BATCH else 1)
            while len(_MEMO) > _MEMO_SIZE:
                _MEMO.popitem(last=False)
        return _MEMO[key]
    def read(path):
        cached = read_entry(path)
        if cached.shape[:1] != (len(arrays[0]),):
            raise DamagedEntry(f"shape {cached.shape}, expected {len(arrays[0])} rows")
        return cached

    return _stored(cache_dir() / name / f"{key}.npy", read, write_entry,
                   lambda: map_chunks(function, arrays, n_jobs=n_jobs, desc=desc),
                   "damaged feature cache entry, extracted again and replaced")


def _stored(path, read, write, compute, damaged):
    """``read(path)`` if the entry reads back, else ``compute()``, written there by ``write(path, result)``.

    An entry that fails to read (:class:`DamagedEntry`, or another error
    reading it) is replaced, with one :class:`FeatureCacheWarning` that says
    ``damaged``, names the file and says why.
    """
    damage = None
    if path.exists() or path.is_symlink():
        try:
            return read(path)
        except (ValueError, OverflowError, OSError, EOFError, KeyError) as error:    # DamagedEntry is a ValueError
            damage = getattr(error, "strerror", None) or str(error)
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    write(path, result)
    if damage:
        notice(path, f"{damaged}: {damage}", FeatureCacheWarning)
    return result


def forget_pages(array):
    """Drop from this process's memory the pages of ``array``'s file mapping that it has read (no-op otherwise).

    A cache entry is a memory map: every page read stays resident, counted in
    the process's memory, until the map is closed. Code that reads an entry
    once, chunk by chunk, calls this after each chunk so that gigabytes of
    features take a chunk's memory. The kernel keeps the pages in its page
    cache, so reading them again costs a minor fault, not a disk read.
    """
    mapping = getattr(array, "_mmap", None)      # np.memmap's, shared by its slices
    if isinstance(mapping, mmap.mmap) and hasattr(mapping, "madvise"):
        mapping.madvise(mmap.MADV_DONTNEED)


def cached_fit(name, params, fit, X, rows=None):
    """What ``fit`` learns from rows ``rows`` of ``X``, cached on disk by their content and ``params``.

    Parameters
    ----------
    name : str
        The estimator's, e.g. its class name: entries go to the cache's folder ``<name>.fit``.
    params : dict
        Everything besides the rows that the result depends on.
    fit : callable
        ``fit(sample)`` -> dict of ndarrays (numbers or strings, no objects),
        ``sample`` being a copy of ``X[rows]`` that ``fit`` may overwrite.
    X : ndarray, shape (n, ...)
        A whole cache entry (:class:`CacheEntry`) is known by its identity and
        ``rows``; other arrays by the rows' content, hashed in chunks. The rows
        are copied only when ``fit`` runs.
    rows : ndarray of int, optional
        Default: every row.

    Returns
    -------
    dict of ndarray
        Read back from an ``.npz`` held in a checked entry (:func:`read_entry`),
        or just computed. Fits on fewer than ``MIN_DISK_BATCH`` rows, or while
        :func:`caching` is off, are not stored.
    """
    rows = np.arange(len(X)) if rows is None else np.asarray(rows)
    if not _ENABLED or len(rows) < MIN_DISK_BATCH:
        return fit(X[rows])
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{CACHE_VERSION}|{name}|{sorted(params.items())}|{X.dtype}|{X.shape[1:]}|{len(rows)}".encode())
    identity = getattr(X, "identity", None)
    if identity is not None:        # a whole, checked entry: its name and checksum stand for its content
        digest.update(f"|{identity}|".encode())
        digest.update(rows.astype(np.int64).tobytes())
    else:
        for _, chunk in _row_chunks(X, rows):
            digest.update(np.ascontiguousarray(chunk).data)

    def read(path):
        with np.load(io.BytesIO(read_entry(path).tobytes()), allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}

    def compute():
        sample = np.empty((len(rows), *X.shape[1:]), X.dtype)
        for start, chunk in _row_chunks(X, rows):
            sample[start:start + len(chunk)] = chunk
        learned = fit(sample)
        if any(np.asarray(value).dtype.hasobject for value in learned.values()):     # would need a pickle to store
            raise TypeError(f"{name}: a cached fit must return numbers and strings, got {sorted(learned)}")
        return learned

    def write(path, learned):
        packed = io.BytesIO()
        np.savez(packed, **learned)
        write_entry(path, np.frombuffer(packed.getbuffer(), dtype=np.uint8))

    return _stored(cache_dir() / f"{name}{FIT_SUFFIX}" / f"{digest.hexdigest()}.npy", read, write, compute,
                   "damaged cache entry of a fit, fitted again and replaced")


def _row_chunks(X, rows, chunk_rows=4096):
    """``X[rows]`` as (start, copy) chunks, each chunk's pages of a memory map dropped once it is copied."""
    for start in range(0, len(rows), chunk_rows):
        chunk = X[rows[start:start + chunk_rows]]
        forget_pages(X)
        yield start, chunk


def cached_transform(name, params, transform, X):
    """``transform(X)``, cached on disk when ``X`` is a whole cache entry (:class:`CacheEntry`).

    The key is the entry's identity and ``params``, which must name everything
    else the result depends on (e.g. a digest of a fitted basis). Entries go to
    ``<name>.fit/transforms``, beside the fits they depend on. Any other ``X``
    (an array computed in memory, a slice of an entry), and every ``X`` while
    :func:`caching` is off, is transformed each time.
    """
    identity = getattr(X, "identity", None)
    if identity is None or not _ENABLED:
        return transform(X)
    digest = hashlib.blake2b(f"{CACHE_VERSION}|{name}|{sorted(params.items())}|{identity}".encode(), digest_size=16)
    return _stored(cache_dir() / f"{name}{FIT_SUFFIX}" / "transforms" / f"{digest.hexdigest()}.npy", read_entry,
                   write_entry, lambda: transform(X), "damaged cache entry of a transform, computed again and replaced")
