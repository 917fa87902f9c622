"""Where local learning spends its time a face, and what cheaper per-face solvers keep of its accuracy.

Reads the 120-components-a-block features of the kernel study
(``../2026-12-06-svm-kernels/kernels.py``: hog, lbp, landmarks, sift-fisher,
whitened, as ``svm-local`` registers them), finds each PublicTest face's 100
nearest training faces, and scores each way of classifying a face from its
neighbours: PublicTest accuracy, and milliseconds per face on one thread for
the neighbour search and for the local solves, timed apart (median of 3 runs
over 512 faces). Writes a record with provenance under ``benchmarks/results/``.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python local_solvers.py BLOCK_DIR
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "2026-12-06-svm-kernels"))
from kernels import HANDCRAFTED, features  # noqa: E402

from fer_classic.classify.calibration import softmax  # noqa: E402
from fer_classic.classify.local import LocalSVM  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.store.provenance import provenance, results_folder, save_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TIMED_FACES = 512


def ridge_probabilities(model, X, neighbours, lam):
    """One-vs-rest least-squares SVM (kernel ridge on +-1 targets, bias by a constant feature), batched over faces."""
    rows = model.rows_[neighbours].astype(np.float32)
    labels = model.y_[neighbours]
    n_classes = len(model.classes_)
    gram = rows @ rows.transpose(0, 2, 1) + 1.0 + lam * np.eye(rows.shape[1], dtype=np.float32)
    targets = np.where(labels[:, :, None] == np.arange(n_classes), 1.0, -1.0).astype(np.float32)
    alpha = np.linalg.solve(gram, targets)
    scores = np.einsum("nk,nkc->nc", np.einsum("nkd,nd->nk", rows, X) + 1.0, alpha)
    present = (labels[:, :, None] == np.arange(n_classes)).any(axis=1)
    return softmax(np.where(present, scores, -np.inf), model.temperature)


def libsvm_probabilities(model, X, neighbours):
    return np.array([model._local_probabilities(x, rows) for x, rows in zip(X, neighbours)])


def one_fit_both_views(model, original, mirrored, neighbours):
    """Mean probabilities of both views under the one SVM fitted on the original view's neighbours."""
    out = []
    for a, b, rows in zip(original, mirrored, neighbours):
        labels = model.y_[rows]
        present = np.unique(labels)
        probabilities = np.zeros(len(model.classes_))
        if len(present) == 1:
            probabilities[present[0]] = 1.0
        else:
            local = model.rows_[rows].astype(np.float32)
            scores = SVC(kernel="precomputed", C=model.C).fit(local @ local.T, labels).decision_function(
                np.stack([local @ a, local @ b]))
            if len(present) == 2:
                scores = np.column_stack([-scores, scores])
            probabilities[present] = softmax(scores, model.temperature).mean(axis=0)
        out.append(probabilities)
    return np.array(out)


def median_ms(function, repeats=3):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) / TIMED_FACES * 1000, 3)


def main(folder):
    data = features(folder, HANDCRAFTED, "whitened", "hellinger", 120)
    with np.load(Path(folder) / "labels.npz") as labels:
        y, y_public = labels["train"], labels["PublicTest"]
    model = LocalSVM(n_neighbors=100).fit(data["train"], y)
    original, mirrored = data["PublicTest"], data["PublicTest-mirror"]
    near, near_mirrored = model.neighbours(original), model.neighbours(mirrored)
    sample, sample_mirrored = original[:TIMED_FACES], mirrored[:TIMED_FACES]
    sample_near, sample_near_mirrored = near[:TIMED_FACES], near_mirrored[:TIMED_FACES]
    search_one_view = median_ms(lambda: model.neighbours(sample))

    def accuracy(probabilities):
        return round(float((probabilities.argmax(axis=1) == y_public).mean()), 4)

    rows = []

    def add(solver, views, probabilities, solve_ms):
        rows.append({"solver": solver, "views": views, "public_accuracy": accuracy(probabilities),
                     "search_ms": search_one_view * views, "solve_ms": solve_ms,
                     "total_ms": round(search_one_view * views + solve_ms, 3)})
        print(rows[-1], flush=True)

    add("libsvm (SVC, precomputed kernel), C=0.01 — as shipped", 2,
        (libsvm_probabilities(model, original, near) + libsvm_probabilities(model, mirrored, near_mirrored)) / 2,
        median_ms(lambda: (libsvm_probabilities(model, sample, sample_near),
                           libsvm_probabilities(model, sample_mirrored, sample_near_mirrored))))
    add("libsvm, C=0.01, face alone (--no-mirror-test)", 1, libsvm_probabilities(model, original, near),
        median_ms(lambda: libsvm_probabilities(model, sample, sample_near)))
    add("libsvm, C=0.01, one SVM on the face's neighbours scores both views", 1,
        one_fit_both_views(model, original, mirrored, near),
        median_ms(lambda: one_fit_both_views(model, sample, sample_mirrored, sample_near)))
    for lam in (10.0, 100.0, 1000.0):
        add(f"least-squares SVM, lambda={lam:g}, batched", 2,
            (ridge_probabilities(model, original, near, lam) + ridge_probabilities(model, mirrored, near_mirrored, lam)) / 2,
            median_ms(lambda: (ridge_probabilities(model, sample, sample_near, lam),
                               ridge_probabilities(model, sample_mirrored, sample_near_mirrored, lam))))
    record = {"provenance": provenance(load_fer2013()),
              "command": "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python "
                         "experiments/2026-12-06-local-speed/local_solvers.py ~/.cache/fer_classic/exp/blocks",
              "search_ms_one_view": search_one_view, "rows": rows}
    save_results(results_folder(record, ROOT / "benchmarks" / "results", "local-solvers"), record, to_markdown(record))


def to_markdown(record):
    prov = record["provenance"]
    lines = ["# Local learning's cost a face: neighbour search and per-face solvers", "",
             f"Commit `{prov['commit'][:10]}`{' (dirty)' if prov['dirty'] else ''}, {prov['date']}, "
             f"{prov['machine']['cpu']}, data MD5 `{prov['data']['md5']}`. Command: `{record['command']}`.", "",
             "Features: hog, lbp, landmarks and sift-fisher, 120 whitened PCA components each, as `svm-local` "
             "registers them; 57,418 mirrored Training faces stored in float16; 100 cosine neighbours; all "
             "3,589 PublicTest faces. Milliseconds a face on one thread, median of 3 runs over 512 faces, "
             "features given (extraction is on top). 'views' is 2 when each face is averaged with its mirror.", "",
             "| solver | views | PublicTest accuracy | search ms | solve ms | total ms |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['solver']} | {r['views']} | {r['public_accuracy']:.4f} | {r['search_ms']:.2f} | "
              f"{r['solve_ms']:.2f} | {r['total_ms']:.2f} |" for r in record["rows"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main(sys.argv[1])
