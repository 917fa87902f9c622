"""What runs a CNN at prediction: LiteRT (no TensorFlow import) or TensorFlow.

``"litert"`` runs the network's float32 ``.tflite`` file and ``"litert-int8"``
its dynamic-range int8 one, both in ``ai-edge-litert``'s interpreter (the
``[cnn]`` extra). ``"tensorflow"`` rebuilds the Keras network from its
``.npz`` weights (the ``[train]`` extra). ``None`` picks each network's
measured choice, recorded in the manifest (``fer-classic models``).
"""

RUNTIMES = ("litert", "litert-int8", "tensorflow")
LITERT_PRECISIONS = {"litert": "float32", "litert-int8": "int8"}


def check_runtime(runtime):
    """Raise ValueError unless ``runtime`` is None or one of :data:`RUNTIMES`."""
    if runtime is not None and runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    return runtime
