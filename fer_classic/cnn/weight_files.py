"""A CNN's weight file: a NumPy ``.npz`` of plain arrays that rebuilds the network without running code.

Weights are stored as int8 kernels or float16 where that costs no accuracy
(:mod:`fer_classic.cnn.storage`) and read with ``allow_pickle=False``. The
architecture is rebuilt from its name and the shape options stored beside
the weights (input size, width).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..atomic import replacing
from ..reading import load_npz
from .architectures import build_cnn
from .storage import decode_weights, encode_weights

# Version 2 added int8 kernels; version 1 files (float16 or float32 only) read the same way.
WEIGHTS_FORMAT = "fer-classic-cnn-weights/2"
READABLE_FORMATS = ("fer-classic-cnn-weights/1", WEIGHTS_FORMAT)


def save_weights(network, architecture, path, dtype="float16", options=None):
    """Save a network's weights as plain arrays.

    Parameters
    ----------
    network : keras.Model
        Built by :func:`~fer_classic.cnn.architectures.build_cnn`.
    architecture : str
    path : str or Path
        ``.npz`` file to write.
    dtype : {"int8", "float16", "float32"}
        How to store the weights (:func:`~fer_classic.cnn.storage.encode_weights`);
        loading converts back to float32.
    options : dict, optional
        The :func:`~fer_classic.cnn.architectures.build_cnn` options the
        network was built with (``input_size``, ``width``).
    """
    arrays = encode_weights(network.get_weights(), dtype)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as stream:
        np.savez_compressed(stream, format=np.array(WEIGHTS_FORMAT), architecture=np.array(architecture),
                            options=np.array(json.dumps(options or {})), **arrays)


def load_weights(path):
    """Rebuild the network saved by :func:`save_weights`; never unpickles.

    Returns
    -------
    architecture : str
    network : keras.Model
    options : dict
        The build options stored with the weights (empty for the defaults).

    Raises
    ------
    ValueError
        When ``path`` is not such a file or its arrays do not fit the
        architecture; the message names the file.
    """
    path = Path(path)
    arrays = load_npz(path)     # a damaged archive: one ValueError naming the file

    def text(key):      # one string, or None: a damaged file can hold any array under any name
        array = arrays[key]
        return str(array.item()) if array.size == 1 and array.dtype.kind == "U" else None

    if "format" not in arrays or text("format") not in READABLE_FORMATS or "architecture" not in arrays:
        raise ValueError(f"{path}: not a {' or '.join(READABLE_FORMATS)} file")
    architecture = text("architecture")
    try:
        options = json.loads(text("options") or "") if "options" in arrays else {}
    except (ValueError, RecursionError):
        options = None
    if architecture is None or not isinstance(options, dict):
        raise ValueError(f"{path}: its architecture or options are damaged (expected a name and a JSON object)")
    try:
        network = build_cnn(architecture, **options)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: cannot rebuild its network ({error})") from None
    try:
        weights = decode_weights(arrays)
    except (KeyError, ValueError, TypeError, IndexError, OverflowError) as error:
        raise ValueError(f"{path}: its weight arrays are incomplete or damaged ({type(error).__name__}: "
                         f"{' '.join(str(error).split())[:200]})") from None
    expected = [tuple(w.shape) for w in network.weights]
    if [w.shape for w in weights] != expected:
        raise ValueError(f"{path}: its {len(weights)} arrays do not match the {architecture} architecture's "
                         f"{len(expected)} weights")
    network.set_weights(weights)
    return architecture, network, options
