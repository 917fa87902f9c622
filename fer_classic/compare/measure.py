"""What the comparison measures per method: metrics, throughput, latency, with predictions cached.

Timings switch the feature cache off for each timed call, so a classical
method is timed doing its real extraction, with one landmark fit per call as
in live use. Latency at batch 1 on one thread runs in a separate
process pinned to one core (:mod:`fer_classic.compare.probe`), because a
deep-learning backend fixes its thread pool when it starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from ..atomic import replacing
from ..classify.metrics import emotion_metrics, probabilities_by_split
from ..data import FER2013, Split
from ..extract.cache import cache_dir, caching
from ..store import warm_up

SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                 "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def _stratified(labels, n, rng):
    """Indices of about ``n`` rows, each class in proportion (at least one per present class), sorted."""
    chosen = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        take = max(1, round(n * len(rows) / len(labels)))
        chosen.append(rng.choice(rows, size=min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(chosen))


def quick_subsample(data, n_test=350, n_train=2000, seed=0):
    """A stratified subsample of every split, for ``--quick`` runs.

    FER+ splits keep the rows of the subsampled PrivateTest, so their faces
    stay the same faces.

    Returns
    -------
    fer_classic.data.FER2013
    """
    rng = np.random.default_rng(seed)
    splits = {}
    for name, split in data.splits.items():
        if name.startswith("FERPlus"):
            continue
        keep = _stratified(split.labels, n_train if name == "Training" else n_test, rng)
        splits[name] = Split(split.faces[keep], split.labels[keep], split.rows[keep])
    for name, split in data.splits.items():
        if name.startswith("FERPlus"):
            base = splits.get(name.split("-", 1)[1])
            keep = np.isin(split.rows, base.rows) if base is not None else np.zeros(len(split), bool)
            splits[name] = Split(split.faces[keep], split.labels[keep], split.rows[keep])
    return FER2013(splits, data.source, data.md5, list(data.notes))


def _prediction_path(identity, split):
    digest = hashlib.blake2b(digest_size=16)
    digest.update(identity.encode())
    digest.update(np.ascontiguousarray(split.faces).data)
    return cache_dir() / "predictions" / f"{digest.hexdigest()}.npy"


def split_probabilities(model, data, splits, identity=None):
    """Probabilities per split, read from or written to the prediction cache when ``identity`` is given.

    Parameters
    ----------
    model : object with ``predict_proba``
    data : fer_classic.data.FER2013
    splits : sequence of str
    identity : str, optional
        Names the model exactly (e.g. its file's sha256 and test-time
        augmentation); without it nothing is cached.
    """
    if identity is None:
        return probabilities_by_split(model.predict_proba, data, splits)
    paths = {name: _prediction_path(identity, data[name]) for name in splits}
    if all(path.is_file() for path in paths.values()):
        return {name: np.load(path) for name, path in paths.items()}
    result = probabilities_by_split(model.predict_proba, data, splits)
    for name, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as stream:
            np.save(stream, result[name])
    return result


def split_metrics(probabilities, data):
    """:func:`~fer_classic.classify.metrics.emotion_metrics` of each split's argmax."""
    return {name: emotion_metrics(data[name].labels, p.argmax(axis=1)) for name, p in probabilities.items()}


def throughput(model, faces, repeats=3):
    """Faces per second of ``predict_proba`` on one batch, median of ``repeats`` runs, feature cache off."""
    return len(faces) / statistics.median(_timed_calls(model, [faces] * repeats))


def _timed_calls(model, batches):
    """Seconds of ``predict_proba`` on each batch, each call with the feature cache off and an empty memo."""
    with caching(False):
        warm_up(model)
    seconds = []
    for batch in batches:
        with caching(False):
            started = time.perf_counter()
            model.predict_proba(batch)
            seconds.append(time.perf_counter() - started)
    return seconds


def latency_ms(model, faces):
    """Median milliseconds of ``predict_proba`` on one face at a time, feature cache off."""
    return 1000 * statistics.median(_timed_calls(model, [face[None] for face in faces]))


def run_probe(arguments, timeout=900):
    """Run :mod:`fer_classic.compare.probe` in a one-core, one-thread process; return its JSON answer.

    Raises
    ------
    RuntimeError
        With the probe's last error line when it fails.
    """
    command = [sys.executable, "-m", "fer_classic.compare.probe", *map(str, arguments)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **SINGLE_THREAD})
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise RuntimeError(f"probe failed: {lines[-1] if lines else 'exit ' + str(done.returncode)}")
    return json.loads(done.stdout.strip().splitlines()[-1])
