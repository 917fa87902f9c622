"""How long ``fer-classic predict photo.png --model M`` takes from the shell, and how much memory it peaks at.

Each command runs ``--runs`` times in a fresh process after one untimed run
(which fills the disk cache: the "second run" a user sees). Per model it
records the median wall time, the peak resident memory (the child's
``ru_maxrss``), and, from one extra run under ``python -X importtime``, the
modules whose import took longest and whether TensorFlow or Keras was
imported at all. The photo is skimage's astronaut, one face. Writes
``benchmarks/results/<date>-<commit>-startup/``. Run it on a quiet machine.

Usage::

    python benchmarks/startup.py [--models classic fer-cnn mobilenetv2] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("tensorflow", "keras")


def timed_run(command):
    """Wall seconds and peak resident MB of one run of ``command`` (a list), which must succeed."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-500:]}")
    return seconds, usage.ru_maxrss / 1024


def import_profile(command, top=8):
    """Import time per package (the sum of its modules' own times, ms) in one run under ``-X importtime``.

    Returns
    -------
    dict
        ``by_package_ms``: the ``top`` packages, slowest first; ``total_ms``;
        ``imported``: which of TensorFlow and Keras were imported.
    """
    done = subprocess.run([sys.executable, "-X", "importtime", *command], capture_output=True, text=True,
                          check=True)
    by_package = {}
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            own, _, name = line.removeprefix("import time:").split("|")
            package = name.strip().split(".")[0]
            by_package[package] = by_package.get(package, 0) + int(own) / 1000
    slowest = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    return {"by_package_ms": [[name, round(ms, 1)] for name, ms in slowest],
            "total_ms": round(sum(by_package.values()), 1), "imported": [m for m in HEAVY if m in by_package]}


def to_markdown(record):
    from fer_classic.store.provenance import provenance_line

    prov = record["provenance"]
    lines = ["# `fer-classic predict` from the shell: time and memory", "",
             provenance_line(prov), "",
             f"Each row: `fer-classic predict photo.png --model M --json` on a 512x512 photo with one face, "
             f"{record['runs']} runs after one untimed run; median wall time and peak resident memory.", "",
             "| model | median s | runs (s) | peak MB | TensorFlow or Keras imported | imports: total and slowest "
             "packages (ms) |",
             "|---|---|---|---|---|---|"]
    for row in record["rows"]:
        slowest = f"{row['imports']['total_ms']:.0f}: " + ", ".join(
            f"{name} {ms:.0f}" for name, ms in row["imports"]["by_package_ms"][:5])
        lines.append(f"| `{row['model']}` | {row['median_s']:.2f} | {row['runs_s']} | {row['peak_mb']:.0f} | "
                     f"{', '.join(row['imports']['imported']) or 'no'} | {slowest} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["classic", "fer-cnn", "mobilenetv2"])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per model (default 5)")
    parser.add_argument("--results-dir", default=str(Path(__file__).resolve().parent / "results"))
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")

    import cv2

    from fer_classic.store.provenance import provenance, results_folder, save_results
    from fer_classic.video.synthetic import astronaut_bgr

    executable = Path(sys.executable).with_name("fer-classic")
    record = {"provenance": provenance(), "runs": args.runs, "rows": []}
    with tempfile.TemporaryDirectory() as work:
        photo = Path(work) / "photo.png"
        cv2.imwrite(str(photo), astronaut_bgr())
        for model in args.models:
            command = [str(executable), "predict", str(photo), "--model", model, "--json"]
            timed_run(command)                                  # untimed: fills the disk cache
            runs = [timed_run(command) for _ in range(args.runs)]
            seconds = [round(s, 3) for s, _ in runs]
            row = {"model": model, "runs_s": seconds, "median_s": statistics.median(seconds),
                   "peak_mb": round(max(mb for _, mb in runs), 1),
                   "imports": import_profile(command)}
            print(row, flush=True)
            record["rows"].append(row)
    save_results(results_folder(record, args.results_dir, "startup"), record, to_markdown(record))


if __name__ == "__main__":
    main()
