"""An optional faster way to run a network: LiteRT (TensorFlow Lite's runtime) with its XNNPACK kernels.

:func:`litert_forward` converts the network's compiled call
(:func:`~fer_classic.cnn.inference.compiled_forward`, flip TTA inside) with
TensorFlow's TFLite converter and runs it in ``ai-edge-litert``'s
interpreter. ``"float32"`` computes what TensorFlow computes, in float32;
``"int8"`` is dynamic-range quantisation: the convolution and dense kernels
are stored in int8 with a scale per output channel, and each image's
activations are quantised to int8 when it passes, so a face's probabilities
never depend on the other faces of its batch. On a small batch the
interpreter does far less per-call work than TensorFlow's executor
(``experiments/2026-12-06-cnn-precision/``).

The weights are copied into the converted model: a network whose weights
change afterwards must be converted again.
"""

from __future__ import annotations

import os

LITERT_PRECISIONS = ("float32", "int8")
_MISSING = "the LiteRT runtime needs ai-edge-litert: pip install 'fer-classic[litert]'"


def _threads():
    # The cores this process may run on: one when a latency probe pins it to one core.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def litert_model(network, flip, precision="float32"):
    """The network's compiled call as a LiteRT flatbuffer.

    Parameters
    ----------
    network : keras.Model
        Input (None, 48, 48, 1) grey levels 0-255 (:func:`~fer_classic.cnn.architectures.build_cnn`).
    flip : bool
        Average each face's probabilities with its mirror image's, inside the model.
    precision : {"float32", "int8"}

    Returns
    -------
    bytes
        A model with one input, uint8 faces of shape (n, 48, 48), and one
        output, float32 probabilities of shape (n, k).
    """
    if precision not in LITERT_PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(LITERT_PRECISIONS)}, got {precision!r}")
    import tensorflow as tf

    from .inference import compiled_forward

    forward = compiled_forward(network, flip)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], forward)
    if precision == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]  # with no calibration data: dynamic range
    return converter.convert()


def require_litert():
    """Raise ImportError, saying what to install, unless ``ai-edge-litert`` (the ``[litert]`` extra) is installed."""
    import importlib.util

    if importlib.util.find_spec("ai_edge_litert") is None:
        raise ImportError(_MISSING)


def litert_forward(network, flip, precision="float32", threads=None):
    """The network run by LiteRT: the same call as :func:`~fer_classic.cnn.inference.compiled_forward`.

    Parameters
    ----------
    network, flip, precision
        As :func:`litert_model`.
    threads : int, optional
        Interpreter threads (default: the CPUs this process may use).

    Returns
    -------
    callable
        ``forward(faces)``: ``faces`` ndarray of uint8, shape (n, 48, 48), n >= 1;
        returns an ndarray of float32, shape (n, k). Not safe to call from
        two threads at once.

    Raises
    ------
    ImportError
        When ``ai-edge-litert`` is not installed (the ``[litert]`` extra).
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise ImportError(_MISSING) from None
    import numpy as np

    from ..quiet import captured_stderr

    content = litert_model(network, flip, precision)
    with captured_stderr():
        # The XNNPACK delegate is made at the first allocation and says so on stderr ("INFO: Created TensorFlow
        # Lite XNNPACK delegate for CPU."): allocate now, where that line can be kept off the terminal.
        interpreter = Interpreter(model_content=content, num_threads=threads or _threads())
        interpreter.allocate_tensors()
    entry, exit_ = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    planned = {"shape": None}

    def forward(faces):
        faces = np.ascontiguousarray(faces, dtype=np.uint8)
        if planned["shape"] != faces.shape:  # planning costs; live use keeps one batch size
            interpreter.resize_tensor_input(entry, faces.shape)
            interpreter.allocate_tensors()
            planned["shape"] = faces.shape
        interpreter.set_tensor(entry, faces)
        interpreter.invoke()
        return interpreter.get_tensor(exit_).copy()
    return forward
