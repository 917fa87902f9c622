"""Where a benchmark result comes from: commit, date, machine, command, data and library versions."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from .store import library_versions

ROOT = Path(__file__).resolve().parent.parent  # the source checkout, where git and benchmarks/ live
RESULTS = ROOT / "benchmarks" / "results"


def _git(*args):
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
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


def provenance(data=None):
    """A dict describing this run; ``data`` is a loaded :class:`fer_classic.data.FER2013`."""
    record = {
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {"platform": platform.platform(), "cpu": _cpu_model(), "cores": os.cpu_count(),
                    # Other work on the machine slows every timing: record how busy it was.
                    "load_average_1min_at_start": round(os.getloadavg()[0], 2)},
        "library_versions": library_versions(),
    }
    if data is not None:
        record["data"] = {"file": data.source.name, "md5": data.md5}
    return record


def results_folder(record, kind=None):
    """``benchmarks/results/<date>-<short commit>[-<kind>]/`` for a record with a ``provenance``."""
    origin = record["provenance"]
    return RESULTS / "-".join(filter(None, [origin["date"][:10], origin["commit"][:7], kind]))


def save_results(kind, record, markdown, folder=None, echo=True):
    """Write ``results.json`` and ``results.md`` to ``folder`` (default :func:`results_folder`).

    Prints the markdown when ``echo``; returns the folder.
    """
    folder = Path(folder) if folder else results_folder(record, kind)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    (folder / "results.md").write_text(markdown)
    if echo:
        print(f"wrote {folder}/results.json and results.md")
        print(markdown)
    return folder
