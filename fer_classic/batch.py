"""Batch: classify every image below a folder (or matching a glob) into one CSV, in parallel.

Files are split into chunks, and each chunk runs in a worker through joblib:
local processes by default, or a Dask distributed cluster with
``backend="dask"``. Both take the same code path. A worker loads the model the
first time it needs it and keeps it, so each worker loads it once, not each
task. Rows are written as chunks finish, so memory stays flat however large the
folder, and ``resume`` skips the files an earlier run already wrote.

Start a cluster with ``dask scheduler`` on one machine and ``dask worker
tcp://SCHEDULER:8786`` on each of the others, then pass
``--backend dask --scheduler tcp://SCHEDULER:8786``.
"""

from __future__ import annotations

import contextlib
import csv
import glob
from pathlib import Path

from joblib import Parallel, delayed, parallel_config

from .data import EMOTIONS

BATCH_COLUMNS = ["file", "face", "x", "y", "w", "h", "emotion", *EMOTIONS, "error"]
_RECOGNIZERS = {}


def find_files(pattern):
    """Every file below a folder (recursively, hidden ones excepted), or matching a glob; sorted strings."""
    root = Path(pattern)
    if root.is_dir():
        found = (p for p in root.rglob("*")
                 if p.is_file() and not any(part.startswith(".") for part in p.parts[len(root.parts):]))
    else:
        found = (Path(p) for p in glob.glob(str(pattern), recursive=True) if Path(p).is_file())
    return sorted(str(p) for p in found)


def _recognizer(model, detector_options, trust):
    """The recognizer for ``model``, loaded once per worker process."""
    from .loading import build_detector
    from .pipeline import EmotionRecognizer

    key = (str(model), tuple(sorted(detector_options.items())), trust)
    if key not in _RECOGNIZERS:
        _RECOGNIZERS[key] = EmotionRecognizer.load(model, detector=build_detector(**detector_options), trust=trust)
    return _RECOGNIZERS[key]


def classify_chunk(paths, model="classic", detector_options=None, trust=False):
    """Rows of :data:`BATCH_COLUMNS` for some files: one per face, or one for a file with no face or an error.

    ``detector_options`` are :func:`fer_classic.loading.build_detector`'s.
    """
    recognizer = _recognizer(model, detector_options or {}, trust)
    rows = []
    for result in recognizer.analyze_files(paths):
        if "error" in result:
            rows.append({"file": result["file"], "error": result["error"]})
        elif not result["faces"]:
            rows.append({"file": result["file"], "face": 0})
        for number, face in enumerate(result.get("faces", []), start=1):
            x, y, w, h = face["box"]
            rows.append({"file": result["file"], "face": number, "x": x, "y": y, "w": w, "h": h,
                         "emotion": face["emotion"],
                         **{e: f"{p:.5f}" for e, p in face["probabilities"].items()}})
    return rows


def finished_files(out):
    """Files already present in an earlier output CSV."""
    if not Path(out).is_file():
        return set()
    with open(out, newline="") as handle:
        return {row["file"] for row in csv.DictReader(handle)}


@contextlib.contextmanager
def _backend(backend, scheduler, n_jobs):
    if backend == "loky":
        yield
        return
    if backend != "dask":
        raise ValueError(f"backend must be 'loky' or 'dask', got {backend!r}")
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError("the dask backend needs 'pip install \"dask[distributed]\"'") from None
    client = Client(scheduler) if scheduler else Client(n_workers=n_jobs, threads_per_worker=1, processes=True,
                                                         dashboard_address=None)
    with client, parallel_config(backend="dask"):
        yield client


def run_batch(pattern, out, model="classic", detector_options=None, n_jobs=2, backend="loky", scheduler=None,
              resume=False, chunk_size=16, progress=True, trust=False):
    """Classify every file matched by ``pattern`` into the CSV ``out``.

    Parameters
    ----------
    pattern : str or Path
        A folder (searched recursively) or a glob such as ``"photos/**/*.jpg"``.
    out : str or Path
        CSV with :data:`BATCH_COLUMNS`: one row per face; a file without faces
        gets one row with ``face`` 0, a bad file one row with its ``error``.
    model : str
        Model name or path, see :meth:`fer_classic.EmotionRecognizer.load`.
    detector_options : dict, optional
        Keyword arguments of :func:`fer_classic.loading.build_detector`.
    n_jobs : int
        Local worker processes (``loky``); with ``dask``, tasks in flight.
    backend : {"loky", "dask"}
    scheduler : str, optional
        Dask scheduler address; when None, a local cluster of ``n_jobs``
        single-threaded worker processes is started.
    resume : bool
        Keep ``out`` and skip the files already in it.
    chunk_size : int
        Files per task.
    progress : bool
    trust : bool
        Unpickle a model file that is neither shipped nor the user's own.

    Returns
    -------
    dict
        ``files`` (processed now), ``skipped``, ``faces`` and ``errors``.
    """
    from tqdm.auto import tqdm

    files = find_files(pattern)
    done = finished_files(out) if resume else set()
    todo = [f for f in files if f not in done]
    counts = {"files": len(todo), "skipped": len(files) - len(todo), "faces": 0, "errors": 0}
    chunks = [todo[i:i + chunk_size] for i in range(0, len(todo), chunk_size)]
    append = resume and Path(out).is_file()
    with open(out, "a" if append else "w", newline="") as handle, _backend(backend, scheduler, n_jobs), \
            tqdm(total=len(todo), unit="file", disable=not progress) as bar:
        writer = csv.DictWriter(handle, BATCH_COLUMNS)
        if not append:
            writer.writeheader()
        tasks = (delayed(classify_chunk)(chunk, model, detector_options, trust) for chunk in chunks)
        for chunk, rows in zip(chunks, Parallel(n_jobs=n_jobs, return_as="generator")(tasks)):
            writer.writerows(rows)
            handle.flush()
            counts["faces"] += sum(1 for r in rows if r.get("face"))
            counts["errors"] += sum(1 for r in rows if r.get("error"))
            bar.update(len(chunk))
    return counts
