"""``python -m fer_classic`` runs the ``fer-classic`` command line."""

import sys

from .cli import main

sys.exit(main())
