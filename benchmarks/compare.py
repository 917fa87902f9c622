"""Compare every method side by side on FER2013: the project's main job.

    python benchmarks/compare.py [--quick] [--methods a,b] [--train-missing] [--video [FILE]]

The same as ``fer-classic benchmark``; see :mod:`fer_classic.compare`.
"""

import sys

from fer_classic.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
