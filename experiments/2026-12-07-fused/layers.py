"""Keras ``fer-cnn`` activations from more than one layer, for the mirrored Training faces and PublicTest's.

Builds the network from ``models/fer-cnn.npz`` with the library's own loader
(:func:`fer_classic.cnn.weight_files.load_weights`, Keras on its default TensorFlow backend) and writes, for each
split's faces followed by their mirror images (:func:`fer_classic.faces.mirror_views`, the order of ``dump.py``'s
rows), three blocks: ``pool3`` the global average of the third convolutional block's output (after its max
pooling, 128 channels at width 32), ``pool4`` the same for the last block (256 channels: what the embedding's Dense
layer reads) and ``embedding`` the 256 ReLU units the softmax reads (Keras's; the shipped feature is LiteRT's, which
differs slightly). PrivateTest is not touched.

Usage::

    python experiments/2026-12-07-fused/layers.py ~/.cache/fer_classic/exp/fer-cnn-layers
"""

import sys
import time
from pathlib import Path

import numpy as np

from fer_classic.cnn.weight_files import load_weights
from fer_classic.data import load_fer2013
from fer_classic.faces import mirror_views


def layer_model(network):
    import keras

    pools = [layer for layer in network.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    dropout = next(layer for layer in network.layers if isinstance(layer, keras.layers.Dropout))
    outputs = [keras.ops.mean(pools[2].output, axis=(1, 2)), keras.ops.mean(pools[3].output, axis=(1, 2)),
               dropout.input]
    return keras.Model(network.input, outputs)


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _, network, _ = load_weights(Path("models/fer-cnn.npz"))
    model = layer_model(network)
    data = load_fer2013(ferplus=False)
    for split in ("Training", "PublicTest"):
        started = time.perf_counter()
        faces = mirror_views(data[split].faces)[..., None].astype(np.float32)
        pool3, pool4, embedding = (np.asarray(a, dtype=np.float32) for a in model.predict(faces, batch_size=512,
                                                                                            verbose=0))
        np.savez(out / f"{split}.npz", pool3=pool3, pool4=pool4, embedding=embedding, labels=data[split].labels)
        print(split, pool3.shape, pool4.shape, embedding.shape, round(time.perf_counter() - started, 1), "s",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
