"""One compiled forward pass per network: grey faces in, probabilities out, mirror-image TTA inside.

:func:`compiled_forward` wraps a network once in a ``tf.function`` whose
input signature leaves the batch size open, so that one trace serves every
batch (1 face or 256) without TensorFlow's retracing warnings, and none of
Keras's ``predict`` machinery (data adapters, callbacks, per-call function
lookup) runs per call. With ``flip=True`` the faces and their mirror images
go through the network as one stacked batch and the two halves are averaged
in the same call.

The function reads the network's variables when it runs, not when it is
traced, so weights set later (:func:`~fer_classic.cnn.method.choose_storage`)
are the ones it computes with. On a backend other than TensorFlow (JAX on a
lent GPU) the same function runs eagerly.
"""

from __future__ import annotations

from ..faces import FACE_SIZE


def _forward(network, faces, flip):
    """Probabilities of a batch of faces, averaged with those of their mirror images when ``flip``."""
    from keras import ops

    x = ops.expand_dims(ops.cast(faces, "float32"), -1)
    if flip:
        x = ops.concatenate([x, ops.flip(x, axis=2)])
    probabilities = network(x, training=False)
    if not flip:
        return probabilities
    n = ops.shape(faces)[0]
    return (probabilities[:n] + probabilities[n:]) / 2


def compiled_forward(network, flip):
    """The network as one compiled call on uint8 faces.

    Parameters
    ----------
    network : keras.Model
        Input (None, 48, 48, 1) grey levels 0-255; output (None, k) probabilities
        (:func:`~fer_classic.cnn.architectures.build_cnn`).
    flip : bool
        Average each face's probabilities with its mirror image's.

    Returns
    -------
    callable
        ``forward(faces)``: ``faces`` ndarray of uint8, shape (n, 48, 48), n >= 1;
        returns a float32 tensor of shape (n, k) (``np.asarray`` takes it).
        On TensorFlow, a ``tf.function`` traced once.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return lambda faces: _forward(network, faces, flip)
    import tensorflow as tf

    signature = [tf.TensorSpec([None, FACE_SIZE, FACE_SIZE], tf.uint8, name="faces")]
    return tf.function(lambda faces: _forward(network, faces, flip), input_signature=signature)
