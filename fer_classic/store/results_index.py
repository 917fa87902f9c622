"""The index of benchmark records, ``benchmarks/results/README.md``: one line per record, newest first.

A record folder is named ``<date>-<commit>[-<kind>]``; a folder without a kind
is a full comparison (``benchmarks/compare.py``). Each line links the record's
report and gives its title, the first heading of ``results.md`` (or
``README.md``).

:func:`~fer_classic.store.provenance.save_results` calls :func:`refresh_index`
whenever it writes a record, so a folder that holds an index keeps it true
(``make run`` then ``make test`` passes); ``python tools/index_results.py``
writes it by hand.

:func:`recorded_latency_ms` reads the committed comparison records back:
the speed the newest of them measured for a given model file. Each record is
read with :func:`~fer_classic.store.manifest.read_json` and checked against
the fields read here: a damaged comparison record is skipped with one line
naming it (:func:`fer_classic.reading.notice`); another benchmark's record is
skipped quietly.
"""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from pathlib import Path

from ..atomic import write_text
from ..model_files import ModelError
from ..reading import notice
from .manifest import read_json

INDEX = "README.md"
INDEX_HEADING = "# Benchmark records"
RECORD_NAME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<commit>[0-9a-f]{7})(?:-(?P<kind>.+))?$")
FULL_COMPARISON = "comparison (benchmarks/compare.py)"
CHECKOUT = Path(__file__).resolve().parents[2]  # a source checkout's root, if this is one


def title_and_report(folder):
    """A record's title (its report's first ``# `` heading, else the folder's name) and the file to link."""
    for name in ("results.md", "README.md"):
        report = folder / name
        if report.is_file():
            heading = next((line[2:].strip() for line in report.read_text().splitlines() if line.startswith("# ")),
                           folder.name)
            return heading, report
    return folder.name, folder


def kind_of(match):
    """The benchmark a record belongs to: its folder name's kind, without a -partial/-quiet/-recheck suffix."""
    kind = match["kind"]
    return FULL_COMPARISON if kind is None else re.sub(r"-(partial|quiet|recheck)$", "", kind)


def index_markdown(results):
    """The index of the record folders in ``results``, as markdown."""
    results = Path(results)
    groups = defaultdict(list)
    undated = []
    for folder in sorted((p for p in results.iterdir() if p.is_dir()), reverse=True):
        match = RECORD_NAME.match(folder.name)
        title, report = title_and_report(folder)
        link = f"[{folder.name}]({report.relative_to(results).as_posix()})"
        if match:
            groups[kind_of(match)].append(f"| {match['date']} | `{match['commit']}` | {link} | {title} |")
        else:
            undated.append(f"- {link}: {title}")
    lines = [INDEX_HEADING, "",
             "Every measurement this project reports, with its provenance (commit, date, machine, command, data MD5) "
             "inside each record. Written by `python tools/index_results.py`; newest first. How each figure is "
             "measured: [docs/benchmarks.md](../../docs/benchmarks.md).", ""]
    for kind in sorted(groups, key=lambda k: (k != FULL_COMPARISON, k)):
        lines += [f"## {kind}", "", "| date | commit | record | title |", "|---|---|---|---|", *groups[kind], ""]
    if undated:
        lines += ["## Kept up to date across commits", "", *undated, ""]
    return "\n".join(lines)


def is_indexed(results):
    """Whether ``results`` holds an index of records (a ``README.md`` that starts with :data:`INDEX_HEADING`)."""
    index = Path(results) / INDEX
    try:
        with index.open(encoding="utf-8") as handle:
            return index.is_file() and handle.readline().rstrip("\n") == INDEX_HEADING
    except (OSError, UnicodeDecodeError):
        return False


def refresh_index(results):
    """Rewrite the index of ``results`` if it holds one; any other folder is left alone.

    Returns
    -------
    Path or None
        The index written, or None.
    """
    results = Path(results)
    if not is_indexed(results):
        return None
    text = index_markdown(results)
    index = results / INDEX
    if index.read_text(encoding="utf-8") != text:
        write_text(index, text)
    return index


def _committed(checkout, folder):
    """Files under ``folder`` that git tracks in ``checkout``, or None when git cannot tell (no checkout, no git)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", str(folder)], cwd=checkout, capture_output=True,
                                check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {(Path(checkout) / name).resolve() for name in listed.decode(errors="surrogateescape").split("\0") if name}


def comparison_records(checkout=None):
    """The committed full comparisons (``benchmarks/compare.py``, not ``--quick``), newest first.

    Parameters
    ----------
    checkout : Path, optional
        A source checkout (default: the one this package runs from, if it
        is one). Without git, every record present counts.

    Returns
    -------
    list of (Path, dict)
        Each record's folder, and the record as its ``results.json`` holds it.
    """
    checkout = Path(checkout or CHECKOUT)
    results = checkout / "benchmarks" / "results"
    if not results.is_dir():
        return []
    committed = _committed(checkout, results)
    records = []
    for path in results.glob("*/results.json"):
        if committed is not None and path.resolve() not in committed:
            continue
        try:
            record = read_json(path, "a benchmark record")
        except ModelError as error:     # not UTF-8, not JSON, nested past the recursion limit, not an object
            notice(path, f"skipped: {str(error).removeprefix(f'{path}: ')}")
            continue
        options = record.get("options")
        if not isinstance(options, dict) or "rank_by" not in options:
            continue      # another benchmark's record
        damage = _comparison_damage(record)
        if damage:
            notice(path, f"a damaged comparison record, skipped: {damage}")
        elif not options.get("quick"):
            records.append((record["provenance"]["date"], path.parent, record))
    return [(folder, record) for _, folder, record in sorted(records, key=lambda item: item[0], reverse=True)]


def _comparison_damage(record):
    """What is wrong with a comparison record for :func:`recorded_latency_ms`, in words; None when nothing is."""
    provenance, rows = record.get("provenance"), record.get("methods")
    if not isinstance(provenance, dict) or not isinstance(provenance.get("date"), str):
        return "its provenance should be an object with a date"
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return "its methods should be a list of objects"
    for row in rows:
        for key in ("name", "status", "source"):
            if not isinstance(row.get(key, ""), (str, type(None))):
                return f"a method's {key} should be a string"
        if not _is_number(row.get("latency_ms", 0)) and row.get("latency_ms") is not None:
            return f"{row.get('name')}'s latency_ms should be a number"
        metrics = row.get("metrics") or {}
        if not isinstance(metrics, dict) or not all(
                isinstance(split, dict) and _is_number(split.get("accuracy", 0)) for split in metrics.values()):
            return f"{row.get('name')}'s metrics should be an object of splits with a numeric accuracy"
    return None


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def recorded_latency_ms(entry, source, records):
    """Milliseconds a face that the newest of ``records`` measured for this very model, and that record's folder.

    A comparison row counts when it measured the same method from the same
    place (``source``, as the comparison words it: ``shipped models/<file>``)
    and found the accuracies the model's manifest entry records on every split
    both hold: the model was not replaced since.

    Parameters
    ----------
    entry : ModelEntry
    source : str
    records : list of (Path, dict)
        From :func:`comparison_records`.

    Returns
    -------
    (float, Path) or (None, None)
    """
    for folder, record in records:
        for row in record["methods"]:
            if not isinstance(row, dict) or row.get("status") != "ok" or row.get("name") != entry.method \
                    or row.get("source") != source or not isinstance(row.get("latency_ms"), (int, float)):
                continue
            metrics = row.get("metrics") or {}
            if not isinstance(metrics, dict):
                continue
            shared = [split for split in ("PublicTest", "PrivateTest")
                      if isinstance(metrics.get(split), dict) and entry.accuracy(split)]
            if shared and all(abs(metrics[split].get("accuracy", -1) - entry.accuracy(split)) < 1e-9
                              for split in shared):
                return float(row["latency_ms"]), folder
    return None, None
