"""Store a fitted model's large weight arrays in float16, and compute with them in float32.

A classical pipeline's size is a few large arrays: the PCA bases (input
dimensions x components) and the MLP's weight matrices. float16 keeps about
three significant digits, plenty for a projection followed by a classifier,
in half the bytes of float32 (the shipped ``classic``: 19.7 MB on disk instead
of 25.6, compressed). The model is evaluated after
:func:`round_to_float16`, so the accuracy recorded for it is the accuracy of the
weights that are stored: :func:`pack_float16` then loses nothing more, and
:func:`unpack_float16` restores the very same float32 values on load.

Only float32 arrays of at least :data:`MIN_SIZE` elements are touched: small
ones (means, scales, biases, calibration constants) keep their precision,
float64 ones are left alone, since the code that made them may need them in
float64 (libsvm's support vectors), and so are arrays with a value beyond
float16's range (65,504), which would become infinite (a Nystroem map's
normalisation of a near-singular kernel).
"""

from __future__ import annotations

import copy

import numpy as np

MIN_SIZE = 65_536
_OWN_MODULES = ("sklearn.", "fer_classic.")


def _large_arrays(obj, dtype, seen=None):
    """Yield ``(container, key, array)`` for every large ``dtype`` array reachable through model attributes.

    Arrays held directly in tuples are left out (a tuple cannot be updated); tuples are still searched for
    estimators, as in ``Pipeline.steps``.
    """
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    elif type(obj).__module__.startswith(_OWN_MODULES) and hasattr(obj, "__dict__"):
        items = vars(obj).items()
    else:
        return
    for key, value in list(items):
        if isinstance(value, np.ndarray):
            if value.dtype == dtype and value.size >= MIN_SIZE and not isinstance(obj, tuple):
                yield obj, key, value
        else:
            yield from _large_arrays(value, dtype, seen)


def _fits_float16(array):
    return bool(np.all(np.abs(array) <= np.finfo(np.float16).max))


def _convert(model, convert, dtype=np.float32):
    converted = {}  # by id: an array two estimators share (a fitted index and its owner) stays shared
    for container, key, array in list(_large_arrays(model, dtype)):
        if dtype == np.float32 and not _fits_float16(array):
            continue
        if id(array) not in converted:
            converted[id(array)] = convert(array)
        if isinstance(container, (dict, list)):
            container[key] = converted[id(array)]
        else:
            setattr(container, key, converted[id(array)])
    return model


def round_to_float16(model):
    """Round ``model``'s large float32 arrays to float16 precision, in place, keeping them float32.

    Returns
    -------
    model
    """
    return _convert(model, lambda a: a.astype(np.float16).astype(np.float32))


def pack_float16(model):
    """A copy of ``model`` whose large float32 arrays are float16, for writing to disk."""
    return _convert(copy.deepcopy(model), lambda a: a.astype(np.float16))


def unpack_float16(model):
    """Turn the float16 arrays of a model read from disk back into float32, in place.

    Returns
    -------
    model
    """
    return _convert(model, lambda a: a.astype(np.float32), dtype=np.float16)
