"""Write a comparison's results into README.md, between its ``compare:start`` and ``compare:end`` markers.

    python tools/update_readme.py benchmarks/results/<date>-<commit>/

Everything between the markers comes from that folder's ``results.json``
(:func:`fer_classic.compare.report.readme_summary`), so the README's table is
the run's table; the commentary around it is written by hand.
"""

import argparse
import json
import sys
from pathlib import Path

from fer_classic.compare.report import readme_summary

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- compare:start -->", "<!-- compare:end -->"


def splice(readme, block):
    """``readme`` with the text between the markers replaced by ``block``."""
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise ValueError(f"README.md needs exactly one {START} followed by one {END}")
    head, rest = readme.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{block.rstrip()}\n\n{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, help="a results folder written by benchmarks/compare.py")
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    record_path = folder / "results.json"
    if not record_path.is_file():
        sys.exit(f"{record_path}: no results.json there; run benchmarks/compare.py first")
    record = json.loads(record_path.read_text())
    readme = ROOT / "README.md"
    readme.write_text(splice(readme.read_text(), readme_summary(record, folder.relative_to(ROOT).as_posix())))
    print(f"README.md: results block rewritten from {record_path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
