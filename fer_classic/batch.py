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
import errno
import io
import json
import os
import stat
from pathlib import Path

from joblib import Parallel, delayed, parallel_config

from .faces import EMOTIONS
from .model_files import DEFAULT_MODEL
from .atomic import OutputLock, check_writable, create_exclusive, lock_path, write_text
from .paths import (IMAGE_SUFFIXES, check_outputs, csv_cell, csv_value, display_path, find_images, path_key,
                    printable, show_name)
from .reading import open_regular
from .workers import DEFAULT_JOBS

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


def classify_chunk(paths, model=DEFAULT_MODEL, detector_options=None, trust=False):
    """The :func:`batch_columns` rows of ``paths``: one per face, or one for a file with no face or an error.

    ``detector_options`` are :func:`fer_classic.detect.registry.build_detector`'s.
    """
    from .workers import die_with_parent

    die_with_parent()       # a worker ends with the batch that started it, even after kill -9; in-process: nothing
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


def _read_bytes(path, follow_links=True):
    """The bytes of a regular file, or None when missing; ``follow_links`` False refuses a symlink at ``path``."""
    if follow_links:
        try:
            with open_regular(path) as stream:
                return stream.read()
        except FileNotFoundError:
            return None
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ValueError(f"{show_name(path)} is a symbolic link, not a file batch wrote: --resume reads only "
                             "its own partial file; remove the link") from None
        raise
    with os.fdopen(handle, "rb") as stream:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise ValueError(f"{show_name(path)} is not a regular file: --resume reads only its own partial file")
        return stream.read()


def _whole_records(text):
    """The CSV records of ``text`` that end with their line break; a newline inside a quoted name is no break."""
    records = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            records.append(record)
    except csv.Error:                       # the text ends inside a quoted cell: that record was cut
        return records
    if records and not text.endswith("\n"):
        records.pop()                       # cut off before its line break
    return records


def finished_rows(out, columns=BATCH_COLUMNS, follow_links=True):
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
    follow_links : bool
        False refuses a symlink at ``out`` (batch's own partial file is never one).

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
    content = _read_bytes(out, follow_links)
    if content is None:
        return []
    foreign = f"{show_name(out)} is not a batch CSV"
    try:
        text = content.decode("utf-8")      # run_batch writes names as display_path text: always UTF-8
    except UnicodeDecodeError:
        raise ValueError(f"{foreign}: it is not UTF-8 text; --resume continues only its own CSV") from None
    table = [[csv_value(cell) for cell in record] for record in _whole_records(text)]
    if not table:
        return []
    header = table[0]
    classes = slice(len(_FACE_COLUMNS), -1)
    if header != columns and header[:classes.start] == _FACE_COLUMNS and header[-1:] == ["error"]:
        raise ValueError(f"{show_name(out)} holds the classes {printable(','.join(header[classes])[:120])}, not "
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


def record_path(out):
    """Where a run records how ``out`` was made (model, detector options, classes), for ``resume``: ``<out>.json``."""
    out = Path(out)
    return out.with_name(f"{out.name}.json")


_OPTIONS = {"name": "--detector", "scale_factor": "--scale-factor", "min_neighbors": "--min-neighbors",
            "min_size": "--min-size"}


def _record(model, detector_options, columns):
    """How a run makes its rows; an option left at its default is left out, however it was left out."""
    from .detect.registry import PHOTO_DETECTOR

    detector = {key: value for key, value in sorted((detector_options or {}).items()) if value is not None}
    if detector.get("name") == PHOTO_DETECTOR:
        del detector["name"]
    return {"model": str(model), "detector": detector, "classes": list(columns[len(_FACE_COLUMNS):-1])}


def _checked_record(content):
    """A run's record from the bytes of its :func:`record_path`, checked against the schema :func:`_record` writes.

    Raises
    ------
    ValueError
        Saying what is wrong, in one line, without the file's name: not UTF-8, not JSON (or nested past the
        recursion limit), not an object, or a field of the wrong type.
    """
    try:
        then = json.loads(content.decode("utf-8"))
    except (ValueError, RecursionError) as error:   # UnicodeDecodeError, JSONDecodeError; [[[[... a million deep
        raise ValueError(f"not UTF-8 JSON: {type(error).__name__}: {' '.join(str(error).split())[:120]}") from None
    if not isinstance(then, dict):
        raise ValueError("not a JSON object")
    if not isinstance(then.get("model"), str):
        raise ValueError("its model should be a string")
    detector = then.get("detector")
    if not isinstance(detector, dict) or not all(
            isinstance(value, (str, int, float, list)) and not isinstance(value, bool) for value in detector.values()):
        raise ValueError("its detector should be an object of options")
    classes = then.get("classes", [])
    if not isinstance(classes, list) or not all(isinstance(name, str) for name in classes):
        raise ValueError("its classes should be a list of names")
    return then


def check_record(out, record):
    """Refuse to resume ``out`` when its :func:`record_path` says another model or detector option made it.

    A CSV without a record (written before records were kept) is checked by its columns only.

    Raises
    ------
    ValueError
        One line, naming the option that differs, its value then and now.
    """
    path = record_path(out)
    content = _read_bytes(path)
    if content is None:
        return
    try:
        then = _checked_record(content)
    except ValueError as error:
        raise ValueError(f"{show_name(path)} is not the record of a batch run ({error}); --resume cannot tell how "
                         f"{show_name(out)} was made: remove the record to continue by the columns alone, or "
                         "start again without --resume") from None

    def shown(value):
        return "the default" if value is None else printable(value, lines=False)

    differ = []
    if then["model"] != record["model"]:
        differ.append(("--model", then["model"], record["model"]))
    for key in sorted(set(then["detector"]) | set(record["detector"])):
        before, now = then["detector"].get(key), record["detector"].get(key)
        if before != now:
            differ.append((_OPTIONS.get(key, f"detector option {key}"), before, now))
    if differ:
        option, before, now = differ[0]
        raise ValueError(f"--resume: {show_name(out)} was written with {option} {shown(before)}, not {shown(now)}; "
                         "resume with the same options, or start again without --resume")


def _csv_text(rows, columns):
    """Rows as CSV text, so a chunk goes to the file in one write: an interruption never splits a row.

    Text cells that a spreadsheet would run as a formula get a leading ``'`` (:func:`fer_classic.paths.csv_cell`).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([csv_cell(row.get(column, "")) for column in columns] for row in rows)
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


def run_batch(pattern, out, model=DEFAULT_MODEL, detector_options=None, n_jobs=DEFAULT_JOBS, backend="loky", scheduler=None,
              resume=False, chunk_size=16, progress=True, trust=False, connect_timeout=5):
    """Classify every image matched by ``pattern`` into the CSV ``out``.

    The inputs, ``out``, the model and the backend are all checked before
    anything is written, so a run that cannot start leaves ``out`` as it was.
    Rows go chunk by chunk, each chunk in one write, to a hidden partial file
    beside ``out`` (:func:`partial_path`), created exclusively (never through a
    link planted at its name), which replaces ``out`` when the run ends or
    Ctrl+C stops it. A run stopped hard leaves ``out`` untouched and the
    partial file, which ``resume`` continues. The model and the detector
    options are recorded in ``<out>.json`` (:func:`record_path`), and
    ``resume`` refuses to go on with others. While it runs, ``out`` is locked
    (:class:`fer_classic.atomic.OutputLock`): a second run on it is refused.
    Text cells that a spreadsheet would take for a formula (``= + - @``, tab,
    CR) start with a ``'``.

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
        images, or (with ``resume``) a CSV of other columns than the model's
        or recorded with other options.
    OSError
        When ``out`` cannot be written (its folder is missing, it is a device,
        another process is writing it...).
    RuntimeError
        When the Dask scheduler cannot be reached.
    """
    if n_jobs < 1 or chunk_size < 1:
        raise ValueError(f"n_jobs and chunk_size must be >= 1, got {n_jobs} and {chunk_size}")
    found = list(find_images([pattern]))
    if not any(os.path.lexists(path) for path, _ in found):
        raise ValueError(f"{show_name(pattern)}: no such file or folder, or no image in it (a folder is searched "
                         f"for {', '.join(IMAGE_SUFFIXES)}; a glob must match something)")
    partial, record_file = partial_path(out), record_path(out)
    check_outputs([path for path, _ in found], {"--out": out, "--out's record": record_file,
                                                "--out's partial file": partial, "--out's lock": lock_path(out)})
    check_writable(out)
    check_writable(record_file)
    columns = model_columns(model, detector_options, trust)     # a bad model fails here, before any file is written
    record = _record(model, detector_options, columns)
    with OutputLock(out):           # a second run on the same --out is refused, naming this one's pid
        if resume:
            check_record(out, record)
            # A partial CSV is newer than --out: it is what a run stopped hard had done. It is batch's own file:
            # a symlink planted at its name is refused, never read through.
            kept = (finished_rows(partial, columns, follow_links=False) if os.path.lexists(partial)
                    else finished_rows(out, columns))
        else:
            kept = []
        return _run(found, kept, out, record, columns, model, detector_options, trust, n_jobs, backend, scheduler,
                    chunk_size, progress, connect_timeout)


def _run(found, kept, out, record, columns, model, detector_options, trust, n_jobs, backend, scheduler,
         chunk_size, progress, connect_timeout):
    """:func:`run_batch` once everything is checked and ``out`` is locked."""
    from tqdm.auto import tqdm

    partial = partial_path(out)

    done = {path_key(row["file"]) for row in kept}
    todo = [(path, error) for path, error in found if path_key(path) not in done]
    unreadable = [{"file": display_path(path), "error": printable(error)} for path, error in todo if error is not None]
    files = [path for path, error in todo if error is None]
    counts = {"files": len(todo), "skipped": len(found) - len(todo), "faces": 0, "errors": len(unreadable),
              "interrupted": False}
    chunks = [files[i:i + chunk_size] for i in range(0, len(files), chunk_size)]
    with _backend(backend, scheduler, n_jobs, connect_timeout):
        write_text(record_path(out), json.dumps(record, indent=2) + "\n")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)      # whatever is at the name (a link too) goes; ours is created exclusively
        with create_exclusive(partial, "w", newline="", encoding="utf-8") as handle, \
                tqdm(total=len(files), unit="file", disable=not progress) as bar:
            csv.writer(handle).writerow([csv_cell(column) for column in columns])
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
