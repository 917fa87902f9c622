"""Write a full comparison's results into the docs: the short table in README.md, the full one in docs/results.md.

    python tools/update_docs.py benchmarks/results/<date>-<commit>/ [--readme-only]

Each file's text between its ``results:start`` and ``results:end`` markers is
generated from that folder's ``results.json``
(:func:`fer_classic.compare.report.short_summary` and
:func:`~fer_classic.compare.report.readme_summary`), so the tables are the
run's tables; the words around them are written by hand.
"""

import argparse
import json
import sys
from pathlib import Path

from fer_classic.atomic import write_text
from fer_classic.compare.report import readme_summary, short_summary

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:start -->", "<!-- results:end -->"


def splice(text, block, name):
    """``text`` with what lies between the markers replaced by ``block``."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise ValueError(f"{name} needs exactly one {START} followed by one {END}")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{block.rstrip()}\n\n{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a results folder written by benchmarks/compare.py")
    parser.add_argument("--readme-only", action="store_true",
                        help="rewrite README.md's short table only: for a run that measured the shipped models but "
                             "not every method docs/results.md's fuller run trained")
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    record_path = folder / "results.json"
    if not record_path.is_file():
        sys.exit(f"{record_path}: no results.json there; run benchmarks/compare.py first")
    record = json.loads(record_path.read_text())
    relative = folder.relative_to(ROOT).as_posix()
    targets = [(ROOT / "README.md", short_summary(record, "docs/results.md"))]
    if not args.readme_only:
        targets.append((ROOT / "docs" / "results.md", readme_summary(record, f"../{relative}")))
    for path, block in targets:
        write_text(path, splice(path.read_text(), block, path.name))
        print(f"{path.relative_to(ROOT)}: results rewritten from {record_path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
