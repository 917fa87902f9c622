"""Write ``benchmarks/results/README.md``: one line per record, newest first, grouped by benchmark.

The index is built by :mod:`fer_classic.store.results_index`, which every
benchmark also calls when it writes a record (through
:func:`fer_classic.store.provenance.save_results`); run this after adding or
removing a record folder by hand.

Usage::

    python tools/index_results.py
"""

import argparse
from pathlib import Path

from fer_classic.atomic import write_text
from fer_classic.store.results_index import index_markdown as _index_markdown

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def index_markdown(results=RESULTS):
    return _index_markdown(results)


def main(argv=None):
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    write_text(RESULTS / "README.md", index_markdown())
    print(f"wrote {RESULTS / 'README.md'}")


if __name__ == "__main__":
    main()
