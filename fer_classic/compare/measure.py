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

from ..classify.metrics import emotion_metrics, probabilities_by_split
from ..data import FER2013, Split
from ..extract.cache import CACHE_VERSION, FeatureCacheWarning, cache_dir, caching, read_entry, write_entry
from ..reading import notice
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
    digest.update(f"{CACHE_VERSION}|".encode())     # entries of another format are not read (version 1: no checksum)
    digest.update(identity.encode())
    digest.update(np.ascontiguousarray(split.faces).data)
    return cache_dir() / "predictions" / f"{digest.hexdigest()}.npy"


def _cached_probabilities(path, n_faces):
    """The probabilities cached at ``path`` if they are whole and fit ``n_faces`` faces; else None, with why.

    Returns
    -------
    (ndarray or None, str or None)
        The probabilities, or None and what was wrong with the entry (None when there is none).
    """
    if not (path.exists() or path.is_symlink()):
        return None, None
    try:
        cached = read_entry(path)      # checked against its checksum: a truncated or rewritten entry fails here
    except (ValueError, OverflowError, OSError) as error:     # DamagedEntry is a ValueError
        return None, getattr(error, "strerror", None) or str(error)
    if cached.ndim != 2 or len(cached) != n_faces or cached.dtype.kind != "f":
        return None, f"{cached.dtype} {cached.shape}, expected probabilities of {n_faces} faces"
    return np.array(cached), None


def split_probabilities(model, data, splits, identity=None):
    """Probabilities per split, read from or written to the prediction cache when ``identity`` is given.

    Entries are written and read as the feature cache's
    (:func:`~fer_classic.extract.cache.write_entry`, checked by
    :func:`~fer_classic.extract.cache.read_entry`): a truncated or rewritten
    entry is predicted again and replaced, with one
    :class:`~fer_classic.extract.cache.FeatureCacheWarning` naming it.

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
    cached, damage = {}, {}
    for name, path in paths.items():
        probabilities, why = _cached_probabilities(path, len(data[name]))
        if probabilities is not None:
            cached[name] = probabilities
        elif why:
            damage[name] = why
    missing = [name for name in splits if name not in cached]
    if not missing:
        return cached
    result = probabilities_by_split(model.predict_proba, data, missing)
    for name in missing:
        path = paths[name]
        path.parent.mkdir(parents=True, exist_ok=True)
        write_entry(path, result[name])
        if name in damage:
            notice(path, f"damaged prediction cache entry, predicted again and replaced: {damage[name]}",
                   FeatureCacheWarning)
    return {name: cached[name] if name in cached else result[name] for name in splits}


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
