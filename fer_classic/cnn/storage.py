"""How a CNN's weights are stored on disk: float32, float16, or int8 kernels with per-channel scales.

A weight file holds plain arrays only, so that loading it never runs code.
:func:`encode_weights` turns a network's float32 weights into those arrays
and :func:`decode_weights` turns them back, so ``decode_weights(
encode_weights(w, storage))`` are exactly the weights a saved network will
compute with: a training can score them before it writes the file.

``"int8"`` is symmetric linear quantisation per output channel [1]_: each
large convolution or dense kernel ``W`` (:data:`INT8_MIN_SIZE` values or
more) is stored as ``round(W / s)`` in int8 with one float32 scale
``s = max |W| / 127`` per output channel, and read back as ``q * s``. The
large kernels hold almost all of a big network's weights. Every other array
stays float16: biases, batch-normalisation statistics, and the small
kernels, among them the first convolution and the classifier. They cost
little to keep, and quantising them is what flipped predictions (see
:data:`INT8_MIN_SIZE`). The network still computes in float32: int8 only
shrinks the file, to about half of float16's where large kernels dominate.

References
----------
.. [1] R. Krishnamoorthi, "Quantizing deep convolutional networks for
   efficient inference: A whitepaper", arXiv:1806.08342, 2018.
"""

from __future__ import annotations

import numpy as np

STORAGE_DTYPES = ("int8", "float16", "float32")
# Kernels smaller than this stay float16 in int8 storage. Quantising all of them flipped 1% of MobileNetV2's
# PublicTest predictions; from 2**16 values up, 0.06% (70% of its weights int8) and ResNet50's 0.2% (98%).
INT8_MIN_SIZE = 2 ** 16


def _check_storage(storage):
    if storage not in STORAGE_DTYPES:
        raise ValueError(f"storage must be one of {', '.join(STORAGE_DTYPES)}, got {storage!r}")


def _channel_axis(kernel):
    # Keras kernels end with their output channels; a depthwise kernel (h, w, channels, 1) has them one axis earlier.
    return kernel.ndim - 2 if kernel.shape[-1] == 1 else kernel.ndim - 1


def quantize_int8(kernel):
    """Symmetric per-channel int8 quantisation of one kernel.

    Parameters
    ----------
    kernel : ndarray of float, shape (..., channels)
        A convolution or dense kernel, at least 2-D.

    Returns
    -------
    values : ndarray of int8, same shape as ``kernel``
        In [-127, 127].
    scales : ndarray of float32, shape (channels,)
        One per output channel; ``values * scales`` (broadcast along the
        channel axis) approximates ``kernel``.
    """
    kernel = np.asarray(kernel, dtype=np.float32)
    if kernel.ndim < 2:
        raise ValueError(f"only kernels of 2 or more dimensions are quantised, got shape {kernel.shape}")
    axis = _channel_axis(kernel)
    others = tuple(a for a in range(kernel.ndim) if a != axis)
    scales = np.abs(kernel).max(axis=others) / 127
    scales[scales == 0] = 1  # an all-zero channel stays zero with any scale
    values = np.rint(kernel / np.expand_dims(scales, others)).astype(np.int8)
    return values, scales.astype(np.float32)


def dequantize_int8(values, scales):
    """The float32 kernel that :func:`quantize_int8`'s output stands for."""
    values = np.asarray(values)
    axis = _channel_axis(values)
    others = tuple(a for a in range(values.ndim) if a != axis)
    return values.astype(np.float32) * np.expand_dims(np.asarray(scales, dtype=np.float32), others)


def encode_weights(weights, storage="float16"):
    """The arrays that store a network's weights.

    Parameters
    ----------
    weights : list of ndarray
        ``network.get_weights()``.
    storage : {"int8", "float16", "float32"}

    Returns
    -------
    dict of str to ndarray
        ``w000``, ``w001``... in ``storage`` (for int8, the large kernels in
        int8 and the rest in float16), plus ``s<i>`` scales for every int8
        ``w<i>``.
    """
    _check_storage(storage)
    arrays = {}
    for i, weight in enumerate(weights):
        if storage == "int8" and np.ndim(weight) >= 2 and np.size(weight) >= INT8_MIN_SIZE:
            arrays[f"w{i:03d}"], arrays[f"s{i:03d}"] = quantize_int8(weight)
        else:
            arrays[f"w{i:03d}"] = np.asarray(weight).astype("float32" if storage == "float32" else "float16")
    return arrays


def decode_weights(arrays):
    """The float32 weights stored in ``arrays`` (:func:`encode_weights`), in order.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        May hold other entries too (the file's format and options).

    Returns
    -------
    list of ndarray of float32

    Raises
    ------
    KeyError, ValueError
        When an array is missing, or int8 values and their scales do not
        come in pairs.
    """
    count = sum(key[0] == "w" and key[1:].isdigit() for key in arrays)
    weights = []
    for i in range(count):
        values, scales = arrays[f"w{i:03d}"], arrays.get(f"s{i:03d}")
        if (values.dtype == np.int8) != (scales is not None):
            raise ValueError(f"w{i:03d} is {values.dtype} {'with' if scales is not None else 'without'} scales")
        weights.append(values.astype(np.float32) if scales is None else dequantize_int8(values, scales))
    return weights


def round_trip(weights, storage):
    """The weights as a network will compute with them after saving in ``storage`` and loading."""
    return decode_weights(encode_weights(weights, storage))
