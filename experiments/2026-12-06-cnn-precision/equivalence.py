"""Issue 34: does the compiled path predict what Keras's ``predict_on_batch`` did? fer-cnn on PublicTest, flip TTA.

The path before (commit d98bcb4) stacked faces and mirrors in NumPy, ran
``predict_on_batch`` on 256 images at a time and averaged in float64; the
compiled path (:func:`fer_classic.cnn.inference.compiled_forward`) does the
mirroring and averaging inside one ``tf.function``. This prints the largest
difference in probability and the share of predictions that agree.

Usage (from the repository root)::

    python experiments/2026-12-06-cnn-precision/equivalence.py > equivalence.txt
"""

import numpy as np

from fer_classic.cnn.classifier import CNNClassifier
from fer_classic.cnn.tta import test_time_views
from fer_classic.data import load_fer2013
from fer_classic.faces import average_views
from fer_classic.store import read_manifest, shipped_models_dir


def keras_predict_proba(network, faces, batch=256):
    """The probabilities as ``CNNClassifier.predict_proba`` computed them at d98bcb4, shape (n, 7), float64."""
    views = test_time_views(faces, "flip")
    stacked = np.concatenate(views)[..., None].astype(np.float32)
    probabilities = np.concatenate([np.asarray(network.predict_on_batch(stacked[i:i + batch]), np.float64)
                                    for i in range(0, len(stacked), batch)])
    return average_views(probabilities, len(views))


def main():
    public = load_fer2013()["PublicTest"]
    classifier = CNNClassifier.load(shipped_models_dir() / read_manifest().models["fer-cnn"].file, tta="flip")
    compiled, before = classifier.predict_proba(public.faces), keras_predict_proba(classifier.network_, public.faces)
    print(f"fer-cnn, PublicTest ({len(public)} faces), flip TTA")
    print(f"largest probability difference: {np.abs(compiled - before).max():.3g}")
    print(f"predictions that agree: {(compiled.argmax(1) == before.argmax(1)).mean():.4f}")
    print(f"accuracy: compiled {(compiled.argmax(1) == public.labels).mean():.4f}, "
          f"predict_on_batch {(before.argmax(1) == public.labels).mean():.4f}")


if __name__ == "__main__":
    main()
