"""Is this machine slow at TensorFlow training, or the step-time benchmark? A re-check with nothing else running.

Times a float32 matrix product in NumPy (what the CPU can do) and, for ResNet50 with Keras's stem and with the 3x3
stride-2 stem (with and without XLA), the median training step at batch 64 on random 48x48 faces, after 3 steps.
Prints the CPU's vector extensions too. Output: ``recheck.txt`` beside this script.

Usage::

    python experiments/2026-12-06-resnet50-stem/recheck.py > experiments/2026-12-06-resnet50-stem/recheck.txt
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer_classic.cnn.architectures import build_cnn  # noqa: E402
from fer_classic.store.provenance import provenance  # noqa: E402


class StepEnds(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.ends = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def main():
    origin = provenance()
    print(f"commit {origin['commit'][:10]}, {origin['date']}, machine {origin['machine']}")
    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    a @ a
    started = time.perf_counter()
    for _ in range(5):
        a @ a
    print(f"numpy float32 matrix product: {2 * 2048 ** 3 * 5 / (time.perf_counter() - started) / 1e9:.0f} GFLOP/s")
    rng = np.random.default_rng(0)
    faces = rng.random((64 * 10, 48, 48, 1), dtype=np.float32) * 255
    targets = keras.utils.to_categorical(rng.integers(0, 7, len(faces)), 7)
    for stem, jit in ((None, "auto"), (2, "auto"), (2, False)):
        network = build_cnn("resnet50", stem_stride=stem)
        network.compile(optimizer="adam", loss="categorical_crossentropy", jit_compile=jit)
        timer = StepEnds()
        network.fit(faces, targets, batch_size=64, epochs=1, verbose=0, callbacks=[timer])
        print(f"resnet50 stem {'Keras' if stem is None else f'3x3 stride {stem}'}, jit_compile={jit}: "
              f"median step {np.median(np.diff(timer.ends[3:])):.2f} s", flush=True)


if __name__ == "__main__":
    main()
