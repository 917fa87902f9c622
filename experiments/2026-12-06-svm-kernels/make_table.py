"""Turn the kernel study's JSON lines into a record with provenance under ``benchmarks/results/``.

Usage::

    python experiments/2026-12-06-svm-kernels/make_table.py RESULTS.jsonl "COMMAND THAT RAN" "NOTE"
"""

import json
import sys
from pathlib import Path

from fer_classic.data import load_fer2013
from fer_classic.store.provenance import provenance, results_folder, save_results

ROOT = Path(__file__).resolve().parents[2]


def to_markdown(record):
    prov = record["provenance"]
    lines = ["# SVMs on the handcrafted and learned features: scaling, kernels, solvers, local learning", "",
             f"Commit `{prov['commit'][:10]}`{' (dirty)' if prov['dirty'] else ''}, {prov['date']}, "
             f"{prov['machine']['cpu']}, data MD5 `{prov['data']['md5']}`. Command: `{record['command']}`.", "",
             record["note"], "",
             "| variant | dims | PublicTest accuracy | fit s (cached features) | fit peak GB (NumPy) | stored MB | "
             "ms a face (face + mirror, features given) |", "|---|---|---|---|---|---|---|"]
    for row in record["rows"]:
        stored = row["stored_mb"]
        stored = "–" if stored is None else "< 0.1" if stored < 0.1 else f"{stored:.1f}"
        ms = "–" if row["ms_per_face_both_views"] is None else f"{row['ms_per_face_both_views']:.3f}"
        lines.append(f"| `{row['variant']}` | {row['dims']} | {row['public_accuracy']:.4f} | "
                     f"{row['fit_seconds']:.1f} | {row['fit_peak_numpy_gb']:.2f} | {stored} | {ms} |")
    return "\n".join(lines) + "\n"


def main(jsonl, command, note):
    rows = [json.loads(line) for line in Path(jsonl).read_text().splitlines() if line.strip()]
    record = {"provenance": provenance(load_fer2013()), "command": command, "note": note, "rows": rows}
    save_results(results_folder(record, ROOT / "benchmarks" / "results", "svm-kernels"), record,
                 to_markdown(record))


if __name__ == "__main__":
    main(*sys.argv[1:4])
