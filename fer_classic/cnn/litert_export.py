"""Convert a Keras network to LiteRT files, so that prediction never needs TensorFlow.

Needs TensorFlow (the ``[train]`` extra); :mod:`fer_classic.cnn.litert` runs
the files it writes with ``ai-edge-litert`` alone.

A converted network takes uint8 faces of shape (n, 48, 48) and returns two
float32 arrays: the softmax probabilities (n, 7) and the embedding (n, d)
the softmax layer reads (:func:`embedding_tensor`), which the fused SVM uses
as a feature (:mod:`fer_classic.cnn.embeddings`). Test-time augmentation
stays outside the file, so every mode works with the same file.

Two precisions, as in TensorFlow Lite's post-training options [1]_:

``"float32"``
    Computes in float32. The weights are stored in float16 and widened when
    the interpreter starts: half the size of float32 storage. The converter
    folds batch normalisation into the convolutions before rounding, so the
    probabilities move by about 1e-3 from TensorFlow's; the record of
    ``tools/convert_litert.py`` gives the accuracy change per network.
``"int8"``
    Dynamic-range quantisation: convolution and dense kernels in int8 with a
    scale per output channel, and each face's activations quantised on the
    fly, so a face's probabilities never depend on the other faces of its
    batch. A quarter of float32's size.

References
----------
.. [1] TensorFlow Lite, "Post-training quantization",
       https://ai.google.dev/edge/litert/models/post_training_quantization
"""

from __future__ import annotations

from ..atomic import replacing
from ..faces import FACE_SIZE
from .litert import litert_path
from .runtimes import LITERT_PRECISIONS

PRECISIONS = tuple(LITERT_PRECISIONS.values())


def embedding_tensor(network):
    """The tensor a network's softmax layer reads: the input of its last Dropout, else of its last layer.

    Parameters
    ----------
    network : keras.Model
        Built by :func:`~fer_classic.cnn.architectures.build_cnn`.

    Returns
    -------
    KerasTensor, shape (None, d)
    """
    import keras

    dropouts = [layer for layer in network.layers if isinstance(layer, keras.layers.Dropout)]
    return (dropouts[-1] if dropouts else network.layers[-1]).input


def litert_model(network, precision="float32"):
    """The network as a LiteRT flatbuffer with two outputs: probabilities, then embedding.

    Parameters
    ----------
    network : keras.Model
        Input (None, 48, 48, 1) grey levels 0-255, output (None, k) probabilities.
    precision : {"float32", "int8"}

    Returns
    -------
    bytes
        One input, uint8 faces (n, 48, 48); outputs float32 (n, k) and (n, d).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    import keras
    import tensorflow as tf

    both = keras.Model(network.input, [network.output, embedding_tensor(network)])

    @tf.function(input_signature=[tf.TensorSpec([None, FACE_SIZE, FACE_SIZE], tf.uint8, name="faces")])
    def forward(faces):
        probabilities, embedding = both(tf.expand_dims(tf.cast(faces, tf.float32), -1), training=False)
        return probabilities, embedding

    # The tf.function is what tracks the network's variables: given the Keras model instead, the converter
    # writes a file without weights (checked: 34 kB and NaN outputs).
    converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], forward)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]  # with no calibration data: weights only
    if precision == "float32":
        converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def write_litert_files(network, stem, precisions=PRECISIONS):
    """Convert ``network`` and write one file per precision, each atomically.

    Parameters
    ----------
    network : keras.Model
    stem : str or Path
        ``models/fer-cnn`` writes ``models/fer-cnn.float32.tflite`` and
        ``models/fer-cnn.int8.tflite``.
    precisions : sequence of {"float32", "int8"}

    Returns
    -------
    dict of str to Path
        Precision -> file written.
    """
    written = {}
    for precision in precisions:
        content = litert_model(network, precision)
        path = litert_path(stem, precision)
        with replacing(path) as stream:
            stream.write(content)
        written[precision] = path
    return written
