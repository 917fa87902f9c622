"""Where a benchmark result comes from: commit, date, machine, command, data and library versions."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from ..atomic import write_text
from ..paths import display_path
from .results_index import refresh_index

CHECKOUT = Path(__file__).resolve().parents[2]  # a source checkout's root, if this is one
_VERSIONED = ("fer-classic", "numpy", "scikit-learn", "scikit-image", "opencv-contrib-python-headless",
              "dlib-bin", "joblib", "keras", "tensorflow-cpu", "tensorflow", "jax")


def library_versions():
    """Versions of Python and the libraries a model or a benchmark depends on."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _git(*args):
    if not (CHECKOUT / "setup.cfg").is_file():  # an installed package has no commit of its own
        return "unknown"
    try:
        return subprocess.run(["git", *args], cwd=CHECKOUT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# Vector extensions that decide how fast NumPy and TensorFlow run: the same "AMD EPYC" has come with and without
# AVX-512, and TensorFlow's CNN training ran about five times slower without it (2026-12-06 records).
CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16")


def _cpu_features():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return [feature for feature in CPU_FEATURES if feature in flags]
    except OSError:
        pass
    return None


def provenance(data=None):
    """A dict describing this run; ``data`` is a loaded :class:`fer_classic.data.FER2013`."""
    record = {
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"platform": platform.platform(), "cpu": _cpu_model(), "cpu_features": _cpu_features(),
                    "cores": os.cpu_count(),
                    # Other work on the machine slows every timing: record how busy it was.
                    "load_average_1min_at_start": round(os.getloadavg()[0], 2)},
        "library_versions": library_versions(),
    }
    if data is not None:
        record["data"] = {"file": data.source.name, "md5": data.md5}
    return record


def provenance_line(origin):
    """The one-line header of a record's ``results.md``: commit, date, machine and its load, data, command.

    ``origin`` is a dict from :func:`provenance`. Older records lack some fields; their clauses are left out:
    ``dirty`` (read as clean), ``machine.cpu_features`` (not recorded, or ``None`` where the flags could not be
    read), ``machine.load_average_1min_at_start`` and ``data``.
    """
    machine, data = origin["machine"], origin.get("data") or {}
    details = [f"{machine['cores']} cores"]
    if machine.get("cpu_features") is not None:
        details.append(f"{', '.join(machine['cpu_features']) or 'none'} of the listed vector extensions")
    if machine.get("load_average_1min_at_start") is not None:
        details.append(f"load average {machine['load_average_1min_at_start']} at start")
    line = (f"Commit `{origin['commit'][:10]}`{' (dirty)' if origin.get('dirty') else ''}, {origin['date']}, "
            f"{machine['cpu']} ({'; '.join(details)})")
    if data:
        line += f", data `{data['file']}` MD5 `{data['md5']}`"
    return f"{line}. Command: `{origin['command']}`."


def results_folder(record, base, kind=None):
    """A new folder name ``<base>/<date>-<short commit>[-<kind>][-<n>]/`` for a record with a ``provenance``.

    ``-2``, ``-3``... are appended while the name is taken: a run never
    writes into another run's results (a quick run of the same commit and
    day once replaced a full run's uncommitted ones).
    """
    origin = record["provenance"]
    stem = "-".join(filter(None, [origin["date"][:10], origin["commit"][:7], kind]))
    folder, number = Path(base) / stem, 2
    while folder.exists():
        folder, number = Path(base) / f"{stem}-{number}", number + 1
    return folder


def check_new_folder(folder, option="--out"):
    """Refuse, before any work, a results folder named by the user that already holds files."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ValueError(f"{option} {display_path(folder)} already exists and is not an empty folder; name a new one "
                         "(results are never overwritten)")


def save_results(folder, record, markdown, echo=True):
    """Write ``results.json`` and ``results.md`` to ``folder``, each whole or not at all; echo the markdown.

    When the folder above holds an index of records (``benchmarks/results/README.md``), the index is
    rewritten to list this record too (:func:`~fer_classic.store.results_index.refresh_index`).

    Returns the folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / "results.json", json.dumps(record, indent=2, default=str) + "\n")
    write_text(folder / "results.md", markdown)
    refresh_index(folder.resolve().parent)
    if echo:
        print(f"wrote {folder}/results.json and results.md")
        print(markdown)
    return folder
