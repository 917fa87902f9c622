"""Write ``benchmarks/results/README.md``: one line per record, newest first, grouped by benchmark.

A record folder is named ``<date>-<commit>[-<kind>]``; a folder without a kind
is a full comparison (``benchmarks/compare.py``). Each line links the record's
report and gives its title, the first heading of ``results.md`` (or
``README.md``).

Usage::

    python tools/index_results.py
"""

import re
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
RECORD_NAME = re.compile(r"^(?P<date>\d{4}-\d{2}-\d{2})-(?P<commit>[0-9a-f]{7})(?:-(?P<kind>.+))?$")
FULL_COMPARISON = "comparison (benchmarks/compare.py)"


def title_and_report(folder):
    for name in ("results.md", "README.md"):
        report = folder / name
        if report.is_file():
            heading = next((line[2:].strip() for line in report.read_text().splitlines() if line.startswith("# ")),
                           folder.name)
            return heading, report
    return folder.name, folder


def kind_of(match):
    kind = match["kind"]
    return FULL_COMPARISON if kind is None else re.sub(r"-(partial|quiet|recheck)$", "", kind)


def index_markdown(results=RESULTS):
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
    lines = ["# Benchmark records", "",
             "Every measurement this project reports, with its provenance (commit, date, machine, command, data MD5) "
             "inside each record. Written by `python tools/index_results.py`; newest first. How each figure is "
             "measured: [docs/benchmarks.md](../../docs/benchmarks.md).", ""]
    for kind in sorted(groups, key=lambda k: (k != FULL_COMPARISON, k)):
        lines += [f"## {kind}", "", "| date | commit | record | title |", "|---|---|---|---|", *groups[kind], ""]
    if undated:
        lines += ["## Kept up to date across commits", "", *undated, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    (RESULTS / "README.md").write_text(index_markdown())
    print(f"wrote {RESULTS / 'README.md'}")
