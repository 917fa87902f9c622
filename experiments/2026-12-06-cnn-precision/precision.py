"""Issue 34: PrivateTest accuracy of every shipped CNN in float32, bfloat16 and int8, on three runtimes.

Each network is the shipped one with flip test-time augmentation, as
:func:`fer_classic.cnn.inference.compiled_forward` traces it: uint8 faces in,
the mirror image stacked and averaged inside. That one function is run

* by TensorFlow, in float32 (the project's path) and under Keras's
  ``mixed_bfloat16`` policy (bfloat16 compute, float32 weights);
* by ONNX Runtime, exported with tf2onnx: float32; int8 with dynamic
  quantisation (int8 weights, activations quantised per call); int8 with
  static quantisation (QDQ, int8 per-channel weights, uint8 or int8
  activations calibrated on Training faces);
* by LiteRT (TensorFlow Lite) with XNNPACK: float32; dynamic-range int8
  (int8 weights); full-integer int8 calibrated on the same Training faces.

It prints, per network and variant, PrivateTest accuracy, the share of
predictions that agree with TensorFlow float32, and ROUGH timings: batch 1
(median ms a face over ``--timing-faces`` faces) and batch 256 (faces/s),
on one thread. The timings were taken on a machine shared with other jobs
and only rank the variants; the latency record is benchmarks/cnn_latency.py's.

Usage (from the repository root)::

    python experiments/2026-12-06-cnn-precision/precision.py [--networks fer-cnn ...] [--variants ...] > output.txt
"""

from __future__ import annotations

import os

os.environ.update({"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                   "TF_CPP_MIN_LOG_LEVEL": "2"})

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from fer_classic.cnn.architectures import build_cnn  # noqa: E402
from fer_classic.cnn.classifier import CNNClassifier  # noqa: E402
from fer_classic.cnn.inference import compiled_forward  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.store import read_manifest, shipped_models_dir  # noqa: E402

CHUNK = 128  # faces per call when scoring: 256 images with their mirrors
VARIANTS = ("tf-float32", "tf-bfloat16", "ort-float32", "ort-int8-dynamic", "ort-int8-static-u8s8",
            "ort-int8-static-s8s8", "litert-float32", "litert-int8-weights", "litert-int8")


def in_chunks(predict, faces):
    """``predict`` over ``faces`` in chunks of :data:`CHUNK`, concatenated."""
    return np.concatenate([np.asarray(predict(faces[i:i + CHUNK]), np.float32) for i in range(0, len(faces), CHUNK)])


def ort_predictor(path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda faces: session.run(None, {name: faces})[0]


def litert_predictor(flatbuffer):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
    entry, exit_ = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    shape = [None]

    def predict(faces):
        if shape[0] != faces.shape:  # re-allocating costs a plan; keep it for runs of one batch size
            interpreter.resize_tensor_input(entry, faces.shape)
            interpreter.allocate_tensors()
            shape[0] = faces.shape
        interpreter.set_tensor(entry, faces)
        interpreter.invoke()
        return interpreter.get_tensor(exit_).copy()
    return predict


def calibration_batches(faces, size=32):
    return [faces[i:i + size] for i in range(0, len(faces), size)]


def onnx_variants(forward, calibration, folder):
    import tf2onnx
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quant_pre_process,
                                          quantize_dynamic, quantize_static)

    plain, prepared = folder / "float32.onnx", folder / "prepared.onnx"
    tf2onnx.convert.from_function(forward, input_signature=forward.input_signature, opset=17, output_path=str(plain))
    quant_pre_process(str(plain), str(prepared), skip_symbolic_shape=True)
    quantize_dynamic(str(prepared), str(folder / "dynamic.onnx"), weight_type=QuantType.QInt8, per_channel=True)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(calibration_batches(calibration))

        def get_next(self):
            batch = next(self.batches, None)
            return None if batch is None else {"faces": batch}

    variants = {"ort-float32": ort_predictor(plain), "ort-int8-dynamic": ort_predictor(folder / "dynamic.onnx")}
    # uint8 activations by int8 weights is what AVX2 multiplies fastest, but its 16-bit sums can saturate:
    # int8 activations (S8S8) avoid that.
    for variant, activations in (("ort-int8-static-u8s8", QuantType.QUInt8), ("ort-int8-static-s8s8", QuantType.QInt8)):
        quantize_static(str(prepared), str(folder / f"{variant}.onnx"), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=activations, weight_type=QuantType.QInt8)
        variants[variant] = ort_predictor(folder / f"{variant}.onnx")
    return variants


def litert_variants(forward, calibration):
    import tensorflow as tf

    def convert(quantize=None):
        converter = tf.lite.TFLiteConverter.from_concrete_functions([forward.get_concrete_function()], forward)
        if quantize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "full":
            converter.representative_dataset = lambda: ([batch] for batch in calibration_batches(calibration))
        return converter.convert()

    return {"litert-float32": litert_predictor(convert()), "litert-int8-weights": litert_predictor(convert("weights")),
            "litert-int8": litert_predictor(convert("full"))}


def bfloat16_forward(classifier):
    import keras

    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        network = build_cnn(classifier.architecture, **classifier.options_)
    finally:
        keras.config.set_dtype_policy("float32")
    network.set_weights(classifier.network_.get_weights())
    return compiled_forward(network, flip=True)


def rough_timings(predict, faces, timing_faces):
    """Median ms a face at batch 1, and faces/s at batch 256 (median of 3), one thread."""
    predict(faces[:1])
    seconds = []
    for face in faces[:timing_faces]:
        started = time.perf_counter()
        predict(face[None])
        seconds.append(time.perf_counter() - started)
    batch = faces[:256]
    predict(batch)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        predict(batch)
        runs.append(time.perf_counter() - started)
    return 1000 * statistics.median(seconds), len(batch) / statistics.median(runs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shipped = [name for name, entry in read_manifest().models.items() if entry.kind == "cnn"]
    parser.add_argument("--networks", nargs="+", default=shipped)
    parser.add_argument("--calibration", type=int, default=512, help="Training faces that calibrate int8")
    parser.add_argument("--timing-faces", type=int, default=50)
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS,
                        help="tf-float32 always runs first: the others are compared with it")
    args = parser.parse_args(argv)

    import onnxruntime
    import tensorflow as tf

    flags = set(Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0].split()) \
        if Path("/proc/cpuinfo").is_file() else set()
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; TensorFlow {tf.__version__}, "
          f"ONNX Runtime {onnxruntime.__version__}")
    print(f"# CPU flags: {', '.join(sorted(f for f in flags if f.startswith(('avx', 'amx', 'fma'))))}")
    data = load_fer2013()
    private = data["PrivateTest"]
    training = data["Training"].faces
    calibration = training[np.random.default_rng(0).permutation(len(training))[:args.calibration]]
    print(f"# PrivateTest {len(private)} faces, flip TTA; int8 calibrated on {len(calibration)} Training faces; "
          "timings ROUGH (shared machine, one thread)")
    print(f"{'network':12} {'variant':20} {'accuracy':>8} {'change':>7} {'agree':>7} {'ms b1':>7} {'faces/s b256':>12}")
    for name in args.networks:
        classifier = CNNClassifier.load(shipped_models_dir() / read_manifest().models[name].file, tta="flip")
        forward = compiled_forward(classifier.network_, flip=True)
        with tempfile.TemporaryDirectory() as folder:
            variants = {"tf-float32": forward}
            if "tf-bfloat16" in args.variants:
                variants["tf-bfloat16"] = bfloat16_forward(classifier)
            if any(variant.startswith("ort-") for variant in args.variants):
                variants.update(onnx_variants(forward, calibration, Path(folder)))
            if any(variant.startswith("litert-") for variant in args.variants):
                variants.update(litert_variants(forward, calibration))
            reference = None
            for variant, predict in ((v, p) for v, p in variants.items() if v == "tf-float32" or v in args.variants):
                predicted = in_chunks(predict, private.faces).argmax(axis=1)
                reference = predicted if reference is None else reference
                accuracy = float((predicted == private.labels).mean())
                base = float((reference == private.labels).mean())
                ms, rate = rough_timings(predict, private.faces, args.timing_faces)
                print(f"{name:12} {variant:20} {accuracy:8.4f} {100 * (accuracy - base):+7.2f} "
                      f"{float((predicted == reference).mean()):7.4f} {ms:7.2f} {rate:12.0f}", flush=True)


if __name__ == "__main__":
    main()
