"""Where these scripts keep their feature blocks: $BLOCKS_PILOT_DIR, or ~/.cache/fer_classic/blocks-pilot.

They ran in 2026-11 from a scratch folder; any folder works, as long as dump.py has filled it first.
"""
import os
from pathlib import Path

WORKDIR = Path(os.environ.get("BLOCKS_PILOT_DIR") or Path.home() / ".cache" / "fer_classic" / "blocks-pilot")
WORKDIR.mkdir(parents=True, exist_ok=True)
