"""The ``fer-classic`` command line and the front ends it alone uses: batch CSVs and the teaching figure.

:mod:`.main` parses the commands, :mod:`.batch` classifies folders into one
CSV, :mod:`.explain` draws the three phases on a photo. They hold no logic
of the phases: each command calls the pipeline, the store or the comparison.
"""

from .main import main

__all__ = ["main"]
