"""Batch: classify every image below a folder (or matching a glob) into one CSV, in parallel.

Files are split into chunks, and each chunk runs in a worker through joblib:
local processes by default, or a Dask distributed cluster with
``backend="dask"``. Both take the same code path. A worker loads the model the
first time it needs it and keeps it, so each worker loads it once, not each
task. Rows are written as chunks finish, so memory stays flat however large the
folder, and ``resume`` skips the files an earlier run already wrote. Folders
are searched as ``predict`` searches them (:func:`fer_classic.paths.find_images`).
The CSV has a probability column per class of the model, in its order
(:func:`batch_columns`): FER2013's seven emotions for the shipped models.

Start a cluster with ``dask scheduler`` on one machine and ``dask worker
tcp://SCHEDULER:8786`` on each of the others, then pass
``--backend dask --scheduler tcp://SCHEDULER:8786``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from pathlib import Path

from joblib import Parallel, delayed, parallel_config

from .faces import EMOTIONS
from .atomic import check_writable
from .paths import IMAGE_SUFFIXES, check_outputs, display_path, find_images, path_key, printable
from .reading import open_regular

_FACE_COLUMNS = ["file", "face", "x", "y", "w", "h", "emotion"]
_RECOGNIZERS = {}


def batch_columns(classes):
    """The CSV's columns for a model of ``classes``: the face, a probability per class in their order, ``error``."""
    return [*_FACE_COLUMNS, *classes, "error"]


BATCH_COLUMNS = batch_columns(EMOTIONS)         # a FER2013 model's


def _recognizer(model, detector_options, trust):
    """The recognizer for ``model``, loaded once per worker process."""
    from .detect.registry import build_detector
    from .pipeline import EmotionRecognizer

    key = (str(model), tuple(sorted(detector_options.items())), trust)
    if key not in _RECOGNIZERS:
        _RECOGNIZERS[key] = EmotionRecognizer.load(model, detector=build_detector(**detector_options), trust=trust)
    return _RECOGNIZERS[key]


def model_columns(model, detector_options, trust):
    """The CSV's columns (:func:`batch_columns`) for ``model``'s classes, loading it as :func:`classify_chunk` does."""
    return batch_columns(_recognizer(model, detector_options or {}, trust).classes)


def classify_chunk(paths, model="classic", detector_options=None, trust=False):
    """The :func:`batch_columns` rows of ``paths``: one per face, or one for a file with no face or an error.

    ``detector_options`` are :func:`fer_classic.detect.registry.build_detector`'s.
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


def finished_rows(out, columns=BATCH_COLUMNS):
    """The rows of an earlier output CSV that can be trusted, for ``resume``.

    Only whole rows count: a last line without its line break was cut off
    and is dropped. The rows of the last file listed are dropped too, and
    that one file is classified again: a run stopped hard (``kill -9``, a
    power cut) may have written some of its faces and not the others, and a
    cut that falls exactly on a line break cannot be seen.

    Parameters
    ----------
    out : str or Path
        A CSV written by :func:`run_batch`; missing or empty means nothing is done.
    columns : list of str
        The columns it must have: the :func:`batch_columns` of the model that goes on.

    Returns
    -------
    list of dict
        Keyed by ``columns``.

    Raises
    ------
    ValueError
        When the CSV's header is not ``columns``: a CSV of a model with other classes, or not a batch CSV.
    OSError
        When it cannot be read, or is not a regular file.
    """
    try:
        with open_regular(out) as stream:
            content = stream.read()
    except FileNotFoundError:
        return []
    foreign = f"{display_path(out)} is not a batch CSV"
    try:
        text = content.decode("utf-8")      # run_batch writes names as display_path text: always UTF-8
    except UnicodeDecodeError:
        raise ValueError(f"{foreign}: it is not UTF-8 text; --resume continues only its own CSV") from None
    whole = text[:text.rfind("\n") + 1]                   # up to the last line break; "" if no line is whole
    if not whole:
        return []
    table = list(csv.reader(io.StringIO(whole)))
    header = table[0]
    classes = slice(len(_FACE_COLUMNS), -1)
    if header != columns and header[:classes.start] == _FACE_COLUMNS and header[-1:] == ["error"]:
        raise ValueError(f"{display_path(out)} holds the classes {printable(','.join(header[classes])[:120])}, not "
                         f"the model's {','.join(columns[classes])}; --resume continues a CSV with the model that "
                         "wrote it")
    if header != columns:
        raise ValueError(f"{foreign}: its columns are {printable(','.join(header)[:120])}, not "
                         f"{','.join(columns)}; --resume continues only its own CSV")
    rows = [dict(zip(header, row)) for row in table[1:] if len(row) == len(header)]
    last = rows[-1]["file"] if rows else None
    return [row for row in rows if row["file"] != last]


def partial_path(out):
    """Where a run writes its rows before they replace ``out``: a hidden file beside it."""
    out = Path(out)
    return out.with_name(f".{out.name}.partial")


def _csv_text(rows, columns):
    """Rows as CSV text, so a chunk goes to the file in one write: an interruption never splits a row."""
    buffer = io.StringIO()
    csv.DictWriter(buffer, columns).writerows(rows)
    return buffer.getvalue()


@contextlib.contextmanager
def _backend(backend, scheduler, n_jobs, connect_timeout):
    if backend == "loky":
        yield
        return
    if backend != "dask":
        raise ValueError(f"backend must be 'loky' or 'dask', got {backend!r}")
    try:
        from distributed import Client
    except ImportError:
        raise RuntimeError("the dask backend needs 'pip install \"dask[distributed]\"'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout=connect_timeout)
        except (OSError, ValueError) as error:
            raise RuntimeError(f"cannot reach the Dask scheduler at {scheduler} ({error})") from None
    else:
        client = Client(n_workers=n_jobs, threads_per_worker=1, processes=True, dashboard_address=None)
    with client, parallel_config(backend="dask"):
        yield client


def run_batch(pattern, out, model="classic", detector_options=None, n_jobs=2, backend="loky", scheduler=None,
              resume=False, chunk_size=16, progress=True, trust=False, connect_timeout=5):
    """Classify every image matched by ``pattern`` into the CSV ``out``.

    The inputs, ``out``, the model and the backend are all checked before
    anything is written, so a run that cannot start leaves ``out`` as it was.
    Rows go chunk by chunk, each chunk in one write, to a hidden partial file
    beside ``out`` (:func:`partial_path`), which replaces ``out`` when the run
    ends or Ctrl+C stops it. A run stopped hard leaves ``out`` untouched and
    the partial file, which ``resume`` continues.

    Parameters
    ----------
    pattern : str or Path
        A folder (searched recursively, as ``predict`` does) or a glob such as
        ``"photos/**/*.jpg"``: see :func:`fer_classic.paths.find_images`.
    out : str or Path
        CSV with the model's :func:`batch_columns`: one row per face; a file without faces
        gets one row with ``face`` 0, a bad file (or a folder that cannot be
        searched) one row with its ``error``.
    model : str
        Model name or path, see :meth:`fer_classic.EmotionRecognizer.load`.
    detector_options : dict, optional
        Keyword arguments of :func:`fer_classic.detect.registry.build_detector`.
    n_jobs : int
        Local worker processes (``loky``); with ``dask``, tasks in flight.
    backend : {"loky", "dask"}
    scheduler : str, optional
        Dask scheduler address; when None, a local cluster of ``n_jobs``
        single-threaded worker processes is started.
    resume : bool
        Keep the trusted rows of the partial file, or else of ``out`` (see
        :func:`finished_rows`), and skip their files, compared by resolved path.
    chunk_size : int
        Files per task.
    progress : bool
    trust : bool
        Unpickle a model file that is neither shipped nor the user's own.
    connect_timeout : float
        Seconds to wait for ``scheduler``.

    Returns
    -------
    dict
        ``files`` (processed now), ``skipped``, ``faces``, ``errors`` and
        ``interrupted`` (Ctrl+C stopped the run).

    Raises
    ------
    ValueError
        When nothing matches ``pattern``, ``out`` is a folder or one of the
        images, or (with ``resume``) a CSV of other columns than the model's.
    OSError
        When ``out`` cannot be written (its folder is missing, it is a device...).
    RuntimeError
        When the Dask scheduler cannot be reached.
    """
    from tqdm.auto import tqdm

    if n_jobs < 1 or chunk_size < 1:
        raise ValueError(f"n_jobs and chunk_size must be >= 1, got {n_jobs} and {chunk_size}")
    found = list(find_images([pattern]))
    if not any(os.path.lexists(path) for path, _ in found):
        raise ValueError(f"{display_path(pattern)}: no such file or folder, or no image in it (a folder is searched "
                         f"for {', '.join(IMAGE_SUFFIXES)}; a glob must match something)")
    check_outputs([path for path, _ in found], {"--out": out})
    check_writable(out)
    columns = model_columns(model, detector_options, trust)     # a bad model fails here, before any file is written
    partial = partial_path(out)
    # A partial CSV is newer than --out: it is what a run stopped hard had done.
    kept = finished_rows(partial if partial.exists() else out, columns) if resume else []
    done = {path_key(row["file"]) for row in kept}
    todo = [(path, error) for path, error in found if path_key(path) not in done]
    unreadable = [{"file": display_path(path), "error": printable(error)} for path, error in todo if error is not None]
    files = [path for path, error in todo if error is None]
    counts = {"files": len(todo), "skipped": len(found) - len(todo), "faces": 0, "errors": len(unreadable),
              "interrupted": False}
    chunks = [files[i:i + chunk_size] for i in range(0, len(files), chunk_size)]
    with _backend(backend, scheduler, n_jobs, connect_timeout):
        with open(partial, "w", newline="", encoding="utf-8") as handle, \
                tqdm(total=len(files), unit="file", disable=not progress) as bar:
            csv.writer(handle).writerow(columns)
            handle.write(_csv_text(kept + unreadable, columns))
            handle.flush()
            tasks = (delayed(classify_chunk)(chunk, model, detector_options, trust) for chunk in chunks)
            results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
            try:
                for chunk, rows in zip(chunks, results):
                    handle.write(_csv_text(rows, columns))
                    handle.flush()
                    counts["faces"] += sum(1 for r in rows if r.get("face"))
                    counts["errors"] += sum(1 for r in rows if r.get("error"))
                    bar.update(len(chunk))
            except KeyboardInterrupt:
                counts["interrupted"] = True        # the rows written so far are whole: --resume goes on
                counts["files"] = bar.n + len(unreadable)
            finally:
                results.close()                     # stops the workers
            os.fsync(handle.fileno())
        os.replace(partial, out)
    return counts
