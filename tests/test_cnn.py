"""The deep branch: architectures, training controls, weight files, and the shipped CNNs."""

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from fer_classic.classify.metrics import emotion_metrics  # noqa: E402
from fer_classic.cli import main  # noqa: E402
from fer_classic.cnn import ARCHITECTURES, CNNClassifier, build_cnn, load_weights, save_weights  # noqa: E402
from fer_classic.cnn.architectures import APPLICATION_BN_MOMENTUM  # noqa: E402
from fer_classic.cnn.augment import mix_pairs, random_affine, random_erasing  # noqa: E402
from fer_classic.cnn.inference import compiled_forward  # noqa: E402
from fer_classic.cnn.method import choose_storage, full_history, retrain_command, shipping_verdict  # noqa: E402
from fer_classic.cnn.recipes import Recipe, recipe_for  # noqa: E402
from fer_classic.cnn.storage import round_trip  # noqa: E402
from fer_classic.cnn.training import WarmupCosine, class_weights, fit_network  # noqa: E402
from fer_classic.cnn.tta import test_time_views as views_of  # noqa: E402
from fer_classic.data import load_fer2013  # noqa: E402
from fer_classic.pipeline import EmotionRecognizer  # noqa: E402
from fer_classic.store import load_model, read_manifest  # noqa: E402
from fer_classic.store.manifest import ModelEntry  # noqa: E402

from .conftest import write_npz  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fer2013" / "fer2013.npz"
TINY = Recipe(epochs=2, batch_size=16, optimizer="sgd", learning_rate=0.05, warmup_epochs=0)


@pytest.fixture(scope="module")
def trained(face_batch):
    """A fer-cnn fitted for two short epochs on astronaut crops labelled by brightness."""
    labels = (face_batch.reshape(len(face_batch), -1).mean(axis=1) > np.median(face_batch)).astype(int) * 3
    classifier = CNNClassifier("fer-cnn", recipe=TINY, tta="flip")
    return classifier.fit(face_batch, labels, progress=False, log=lambda line: None)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_each_architecture_builds_and_takes_a_training_step(name):
    network = build_cnn(name)
    network.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    faces = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    before = [w.copy() for w in network.get_weights()]
    loss = float(network.train_on_batch(faces, np.array([0, 1, 2, 3])))
    assert np.isfinite(loss)
    assert any(not np.array_equal(a, b) for a, b in zip(before, network.get_weights()))
    probabilities = np.asarray(network.predict_on_batch(faces))
    assert probabilities.shape == (4, 7) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("name", ["mobilenetv2", "resnet50"])
def test_imagenet_networks_batchnorm_statistics_follow_training(name, tmp_path):
    # keras.applications' momentum 0.999 left MobileNetV2 predicting one class in inference mode.
    network = build_cnn(name)
    path = tmp_path / "checkpoint.keras"
    network.save(path)
    for model in (network, keras.models.load_model(path, compile=False)):
        momenta = {layer.momentum for layer in model._flatten_layers()
                   if isinstance(layer, keras.layers.BatchNormalization)}
        assert momenta == {APPLICATION_BN_MOMENTUM}


def test_unknown_architecture_is_named():
    with pytest.raises(ValueError, match="unknown CNN architecture 'alexnet'"):
        build_cnn("alexnet")
    with pytest.raises(ValueError, match="width applies to fer-cnn only"):
        build_cnn("vgg19", width=32)
    with pytest.raises(ValueError, match="batch_norm applies to vgg19 only"):
        build_cnn("resnet50", batch_norm=True)


def test_recipe_options_of_another_network_are_refused_before_training():
    with pytest.raises(ValueError, match="batch_norm applies to vgg19 only, not resnet50"):
        recipe_for("resnet50", batch_norm=True)
    with pytest.raises(ValueError, match="width applies to fer-cnn only, not vgg19"):
        recipe_for("vgg19", width=16)


def test_retrain_command_names_the_changed_recipe_fields():
    command = retrain_command("vgg19", recipe_for("vgg19", batch_norm=False, learning_rate=1e-4), 0, "flip")
    assert command == "fer-classic train --method cnn/vgg19 --learning-rate 0.0001 --no-batch-norm --seed 0 --tta flip"


def test_vgg19_bn_has_vgg19s_convolutions_each_normalised(tmp_path):
    plain, normalised = build_cnn("vgg19"), build_cnn("vgg19", batch_norm=True)

    def layers_of(network, kind):
        return [layer for layer in network._flatten_layers() if isinstance(layer, kind)]

    convolutions = layers_of(normalised, keras.layers.Conv2D)
    assert sorted(c.filters for c in convolutions) == sorted(c.filters for c in layers_of(plain, keras.layers.Conv2D))
    assert len(convolutions) == 16 and not layers_of(plain, keras.layers.BatchNormalization)
    assert len(layers_of(normalised, keras.layers.BatchNormalization)) == 16
    save_weights(normalised, "vgg19", tmp_path / "vgg19-bn.npz", options={"batch_norm": True})
    _, loaded, options = load_weights(tmp_path / "vgg19-bn.npz")
    assert options == {"batch_norm": True} and loaded.count_params() == normalised.count_params()


def test_upscaled_network_takes_48_px_faces_and_reloads_with_its_options(face_batch, tmp_path):
    recipe = TINY.replace(epochs=1, input_size=64, width=8)
    classifier = CNNClassifier("fer-cnn", recipe=recipe).fit(face_batch[:32], np.arange(32) % 7, progress=False,
                                                             log=lambda line: None)
    assert classifier.network_.input_shape == (None, 48, 48, 1)
    assert classifier.network_.get_layer(index=2).output.shape[1:3] == (64, 64)
    classifier.save(tmp_path / "wide.npz", dtype="float32")
    loaded = CNNClassifier.load(tmp_path / "wide.npz")
    assert loaded.options_ == {"input_size": 64, "width": 8}
    np.testing.assert_allclose(loaded.predict_proba(face_batch[:4]), classifier.predict_proba(face_batch[:4]))


def test_recipe_rejects_bad_values_by_name():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        Recipe(optimizer="rmsprop")
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        Recipe(label_smoothing=1.5)
    with pytest.raises(ValueError, match="epochs must be positive"):
        recipe_for("resnet50", epochs=0)
    assert recipe_for("resnet50", batch_size=None) == recipe_for("resnet50")


def test_save_load_round_trip_gives_identical_predictions(trained, face_batch, tmp_path):
    trained.save(tmp_path / "net.npz", dtype="float32")
    loaded = CNNClassifier.load(tmp_path / "net.npz", tta="flip")
    np.testing.assert_array_equal(loaded.predict_proba(face_batch), trained.predict_proba(face_batch))


def test_float16_weights_agree_with_float32(trained, face_batch, tmp_path):
    trained.save(tmp_path / "half.npz", dtype="float16")
    half = CNNClassifier.load(tmp_path / "half.npz", tta="flip")
    full, rounded = trained.predict_proba(face_batch), half.predict_proba(face_batch)
    assert np.abs(full - rounded).max() < 1e-2
    assert (full.argmax(axis=1) == rounded.argmax(axis=1)).mean() >= 0.95
    trained.save(tmp_path / "full.npz", dtype="float32")
    assert (tmp_path / "half.npz").stat().st_size < 0.6 * (tmp_path / "full.npz").stat().st_size


def test_int8_weight_files_hold_the_weights_that_were_scored_in_half_the_space(trained, face_batch, tmp_path):
    trained.save(tmp_path / "int8.npz", dtype="int8")
    trained.save(tmp_path / "half.npz", dtype="float16")
    _, network, _ = load_weights(tmp_path / "int8.npz")
    for loaded, scored in zip(network.get_weights(), round_trip(trained.network_.get_weights(), "int8"), strict=True):
        np.testing.assert_array_equal(loaded, scored)
    assert (tmp_path / "int8.npz").stat().st_size < 0.7 * (tmp_path / "half.npz").stat().st_size
    with np.load(tmp_path / "int8.npz") as archive:
        arrays = dict(archive)
    del arrays["s030"]  # the scales of fer-cnn's first kernel large enough for int8
    np.savez(tmp_path / "damaged.npz", **arrays)
    with pytest.raises(ValueError, match="damaged.npz: its weight arrays are incomplete or damaged"):
        load_weights(tmp_path / "damaged.npz")


class WeightSensitiveClassifier:
    """Predicts "angry" for every face, but rounding its weights flips some faces to "happy".

    Faces flip in pairs, one from each half of the validation set when ``balanced``, so that the accuracy stays
    the same while the predictions change.
    """

    architecture = "stand-in"

    def __init__(self, faces_flipped_per_unit_error, balanced):
        generator = np.random.default_rng(0)
        self.original = [generator.normal(0, 0.1, (3, 3, 64, 128)).astype(np.float32), np.ones(7, np.float32)]
        self.current = self.original
        self.network_ = SimpleNamespace(get_weights=lambda: [w.copy() for w in self.original],
                                        set_weights=lambda weights: setattr(self, "current", weights))
        self.rate, self.balanced = faces_flipped_per_unit_error, balanced

    def predict(self, faces):
        error = max(float(np.abs(w - o).max()) for w, o in zip(self.current, self.original))
        flipped = int(error * self.rate)
        predicted = np.zeros(len(faces), dtype=int)
        predicted[:flipped] = 3
        if self.balanced:
            predicted[len(faces) // 2:len(faces) // 2 + flipped] = 3
        return predicted


@pytest.mark.parametrize("rate, balanced, expected", [
    (0, True, "int8"),
    (5e3, True, "float16"),  # int8 flips about 2 x 10 of 1,000 faces: the same accuracy, 98% agreement
    (5e3, False, "float16"),  # int8 flips about 10 faces, all to their true class: accuracy moves by 1%
    (1e8, True, "float32"),
])
def test_storage_is_the_most_compact_that_keeps_accuracy_and_agreement(rate, balanced, expected):
    classifier = WeightSensitiveClassifier(rate, balanced)
    validation = SimpleNamespace(faces=np.zeros((1000, 48, 48), np.uint8),
                                 labels=np.repeat([3, 0], 500))  # float32 predictions are half right
    storage, changes = choose_storage(classifier, validation, log=lambda line: None)
    assert storage == expected
    assert list(changes) == ["int8", "float16"][:["int8", "float16", "float32"].index(expected) + 1]
    if expected == "float16" and balanced:
        assert changes["int8"]["accuracy"] == 0 and changes["int8"]["agreement"] < 0.995
    if expected == "float16" and not balanced:
        assert changes["int8"]["accuracy"] > 0.001
    if expected == "float32":  # the network is left with its float32 weights
        assert max(float(np.abs(c - o).max()) for c, o in zip(classifier.current, classifier.original)) == 0


def test_weight_files_of_the_first_format_still_load(trained, tmp_path):
    arrays = {f"w{i:03d}": w.astype(np.float16) for i, w in enumerate(trained.network_.get_weights())}
    np.savez(tmp_path / "v1.npz", format=np.array("fer-classic-cnn-weights/1"), architecture=np.array("fer-cnn"),
             options=np.array("{}"), **arrays)
    _, network, _ = load_weights(tmp_path / "v1.npz")
    np.testing.assert_array_equal(network.get_weights()[-1], arrays[f"w{len(arrays) - 1:03d}"].astype(np.float32))


def test_weight_file_of_another_kind_is_refused_by_name(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, pixels=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz: not a fer-classic-cnn-weights"):
        load_weights(path)
    network = build_cnn("fer-cnn")
    save_weights(network, "mobilenetv2", tmp_path / "mismatch.npz")
    with pytest.raises(ValueError, match="do not match the mobilenetv2"):
        load_weights(tmp_path / "mismatch.npz")


class StopAfterFirstEpoch(keras.callbacks.Callback):
    """Stands in for a session that ends after one epoch."""

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def test_resume_continues_from_the_checkpoint(face_batch, tmp_path):
    labels = np.arange(len(face_batch)) % 7
    validation = (face_batch[:20], labels[:20])
    recipe = TINY.replace(batch_size=20)
    lines = []
    _, first = fit_network("fer-cnn", face_batch, labels, validation, recipe=recipe, checkpoint_dir=tmp_path,
                           progress=False, log=lines.append, callbacks=[StopAfterFirstEpoch()])
    assert first["epochs_run"] == 1 and json.loads((tmp_path / "state.json").read_text())["epoch"] == 1
    _, second = fit_network("fer-cnn", face_batch, labels, validation, recipe=recipe, checkpoint_dir=tmp_path,
                            resume=True, progress=False, log=lines.append)
    assert any(line.startswith("resuming fer-cnn after epoch 1") for line in lines)
    assert [record["epoch"] for record in second["epochs"]] == [1, 2] and second["stopped"] == "epochs"
    assert second["epochs"][0] == first["epochs"][0]
    with pytest.raises(ValueError, match="another recipe .differs in batch_size"):
        fit_network("fer-cnn", face_batch, labels, recipe=TINY, checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        fit_network("fer-cnn", face_batch, labels, recipe=TINY, checkpoint_dir=tmp_path / "empty", resume=True)


def test_a_checkpoint_older_than_a_recipe_field_still_resumes(face_batch, tmp_path):
    labels = np.arange(len(face_batch)) % 7
    recipe = TINY.replace(batch_size=20)
    fit_network("fer-cnn", face_batch, labels, recipe=recipe, checkpoint_dir=tmp_path, progress=False,
                log=lambda line: None, callbacks=[StopAfterFirstEpoch()])
    state = json.loads((tmp_path / "state.json").read_text())
    del state["recipe"]["batch_norm"]  # as written before the field existed
    (tmp_path / "state.json").write_text(json.dumps(state))
    _, history = fit_network("fer-cnn", face_batch, labels, recipe=recipe, checkpoint_dir=tmp_path, resume=True,
                             progress=False, log=lambda line: None)
    assert history["epochs_run"] == 2


def test_learning_rate_warms_up_then_decays_to_zero():
    schedule = WarmupCosine(0.1, warmup_steps=10, total_steps=110)
    rates = [float(schedule(step)) for step in (0, 9, 10, 60, 110, 200)]
    assert rates[0] == pytest.approx(0.01) and rates[1] == pytest.approx(0.1)
    assert rates[2] == pytest.approx(0.1) and rates[3] == pytest.approx(0.05) and rates[4:] == [0.0, 0.0]
    assert WarmupCosine.from_config(schedule.get_config()).get_config() == schedule.get_config()


@pytest.mark.parametrize("mode", ["mixup", "cutmix"])
def test_mixing_keeps_targets_distributions(face_batch, mode):
    targets = np.eye(7, dtype=np.float32)[np.arange(len(face_batch)) % 7]
    faces, mixed = mix_pairs(face_batch, targets, np.random.default_rng(0), mode, alpha=1.0)
    assert faces.shape == face_batch.shape and faces.dtype == np.float32
    np.testing.assert_allclose(mixed.sum(axis=1), 1, rtol=1e-6)
    assert (mixed.max(axis=1) < 1).any() and not np.array_equal(faces, face_batch.astype(np.float32))


def test_shipping_verdict_refuses_constant_and_weak_networks():
    labels = np.arange(700) % 7
    constant = {"PublicTest": emotion_metrics(labels, np.full(700, 3))}
    assert shipping_verdict(constant) == (False, "PublicTest accuracy 0.1429 < 0.55")
    labels = np.arange(1000) % 7
    mostly_happy = labels.copy()
    mostly_happy[np.flatnonzero(labels != 3)[:360]] = 3  # 64% right, but 50.3% of predictions are happy
    verdict = shipping_verdict({"PublicTest": emotion_metrics(labels, mostly_happy)})
    assert verdict[0] is False and "'happy' takes" in verdict[1]
    good = np.where(np.arange(1000) % 5 == 0, (labels + 1) % 7, labels)
    assert shipping_verdict({"PublicTest": emotion_metrics(labels, good)})[0] is True


@pytest.mark.skipif(not SHARED.is_file(), reason="the real FER2013 is not beside the checkout")
def test_every_shipped_model_predicts_at_least_five_classes():
    faces = load_fer2013(SHARED)["PrivateTest"].faces[:100]
    for name in sorted(read_manifest().models):
        model, _ = load_model(name)
        predicted = np.asarray(model.predict_proba(faces)).argmax(axis=1)
        assert len(np.unique(predicted)) >= 5, f"{name} predicts only {np.unique(predicted)}"


def test_class_weights_favour_rare_classes():
    labels = np.array([3] * 90 + [1] * 10)
    weights = class_weights(labels)
    assert weights[1] == pytest.approx(3 * weights[3]) and weights[labels].mean() == pytest.approx(1)


def test_augmentation_is_seeded_and_keeps_shapes(face_batch):
    first = random_affine(face_batch, np.random.default_rng(3))
    again = random_affine(face_batch, np.random.default_rng(3))
    np.testing.assert_array_equal(first, again)
    assert first.shape == face_batch.shape and first.dtype == np.uint8 and not np.array_equal(first, face_batch)
    erased = random_erasing(face_batch, np.random.default_rng(0), probability=1.0)
    assert all(not np.array_equal(a, b) for a, b in zip(erased, face_batch))
    np.testing.assert_array_equal(random_erasing(face_batch, np.random.default_rng(0), probability=0.0), face_batch)


def test_test_time_views(face_batch):
    assert len(views_of(face_batch, "none")) == 1
    flip = views_of(face_batch, "flip")
    np.testing.assert_array_equal(flip[1], face_batch[:, :, ::-1])
    ten = views_of(face_batch, "ten-crop")
    assert len(ten) == 10 and all(view.shape == face_batch.shape for view in ten)
    with pytest.raises(ValueError, match="unknown test-time augmentation"):
        views_of(face_batch, "twelve-crop")


def _keras_views_average(network, views):
    """The probabilities averaged over views the way Keras's own ``predict_on_batch`` gives them."""
    return np.mean([np.asarray(network.predict_on_batch(view[..., None].astype(np.float32))) for view in views], axis=0)


def test_compiled_forward_traces_once_for_every_batch_size_and_matches_keras(face_batch):
    pytest.importorskip("tensorflow")
    network = build_cnn("fer-cnn", width=4)
    forward = compiled_forward(network, flip=True)
    batches = [np.resize(face_batch, (n, 48, 48)) for n in (1, 3, 7, 256)]
    results = [np.asarray(forward(faces)) for faces in batches]
    assert forward.experimental_get_tracing_count() == 1
    for faces, result in zip(batches, results):  # Keras's predict_on_batch, here the reference, does warn
        np.testing.assert_allclose(result, _keras_views_average(network, views_of(faces)), rtol=1e-5, atol=1e-6)


# In a process of its own: TensorFlow's detector of frequent retracing counts every compiled_forward of the process,
# so after other tests built networks it would warn whatever this one does.
RETRACING_CHECK = """
import logging
import numpy as np
import tensorflow as tf
from fer_classic.cnn import build_cnn
from fer_classic.cnn.inference import compiled_forward
records = []
handler = logging.Handler()
handler.emit = records.append
tf.get_logger().addHandler(handler)
forward = compiled_forward(build_cnn("fer-cnn", width=4), flip=True)
for n in (1, 3, 7, 256):
    forward(np.zeros((n, 48, 48), np.uint8))
print("retracing warnings:", sum("retracing" in record.getMessage() for record in records))
"""


def test_compiled_forward_warns_of_no_retracing_at_any_batch_size():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", RETRACING_CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-1000:]
    assert "retracing warnings: 0" in done.stdout


@pytest.mark.parametrize("tta", ["none", "flip", "ten-crop"])
def test_predict_proba_averages_the_views_and_follows_new_weights(face_batch, tta):
    classifier = CNNClassifier("fer-cnn", tta=tta, batch_size_predict=16)
    classifier.network_ = build_cnn("fer-cnn", width=4)
    faces = face_batch[:21]  # more than one batch of views
    before = classifier.predict_proba(faces)
    forward = classifier._compiled(tta == "flip")
    classifier.predict_proba(faces[:3])
    assert classifier._compiled(tta == "flip") is forward  # built once, not per call
    np.testing.assert_allclose(before, _keras_views_average(classifier.network_, views_of(faces, tta)), atol=1e-6)
    # choose_storage swaps weights under the same network: the compiled call must see them.
    classifier.network_.set_weights([w * 1.5 for w in classifier.network_.get_weights()])
    after = classifier.predict_proba(faces)
    assert np.abs(after - before).max() > 1e-4
    np.testing.assert_allclose(after, _keras_views_average(classifier.network_, views_of(faces, tta)), atol=1e-6)


def test_litert_files_predict_what_tensorflow_does_and_int8_close_to_it(trained, face_batch, tmp_path):
    pytest.importorskip("ai_edge_litert")
    from fer_classic.cnn.litert import LiteRTClassifier
    from fer_classic.cnn.litert_export import embedding_tensor

    files = trained.save_litert(tmp_path / "tiny")
    assert sorted(path.name for path in files.values()) == ["tiny.float32.tflite", "tiny.int8.tflite"]
    assert files["int8"].stat().st_size < files["float32"].stat().st_size
    reference = trained.predict_proba(face_batch)
    predicted = {precision: LiteRTClassifier(path, tta="flip", batch_size_predict=64).predict_proba(face_batch)
                 for precision, path in files.items()}
    # float16 weights computed in float32 (batch normalisation folded before rounding); int8 kernels.
    assert np.abs(predicted["float32"] - reference).max() < 5e-3
    assert np.abs(predicted["int8"] - reference).max() < 0.05
    # int8 activations are scaled per image: a face gets the same probabilities alone as in its batch.
    int8 = LiteRTClassifier(files["int8"], tta="flip")
    alone = np.concatenate([int8.predict_proba(face[None]) for face in face_batch[:5]])
    np.testing.assert_allclose(alone, predicted["int8"][:5], atol=1e-6)
    # The second output is the embedding the softmax layer reads.
    embedder = keras.Model(trained.network_.input, embedding_tensor(trained.network_))
    expected = np.asarray(embedder(face_batch[:8, :, :, None].astype(np.float32), training=False))
    embedded = LiteRTClassifier(files["float32"]).embed(face_batch[:8])
    assert embedded.shape == expected.shape and np.abs(embedded - expected).max() < 1e-2 * max(1, expected.max())
    ten_crop = LiteRTClassifier(files["float32"], tta="ten-crop").predict_proba(face_batch[:3])
    assert np.abs(ten_crop - CNNClassifier.load(trained_file(trained, tmp_path), tta="ten-crop")
                  .predict_proba(face_batch[:3])).max() < 5e-3


def test_first_convolution_maps_are_keras_first_block_after_batch_norm_and_relu(trained, face_batch, tmp_path):
    pytest.importorskip("ai_edge_litert")
    from fer_classic.cnn.litert import first_convolution_maps

    path = trained.save_litert(tmp_path / "tiny")["float32"]
    network = trained.network_
    relu = next(layer for layer in network.layers if isinstance(layer, keras.layers.Activation))
    expected = np.asarray(keras.Model(network.input, relu.output)(face_batch[:4, :, :, None].astype(np.float32)))
    maps = first_convolution_maps(path, face_batch[:4])
    assert maps.shape == expected.shape
    assert np.abs(maps - expected).max() < 1e-2 * max(1.0, float(expected.max()))


def trained_file(classifier, folder):
    path = folder / "tiny.npz"
    if not path.exists():
        classifier.save(path, dtype="float32")
    return path


def test_a_damaged_or_foreign_litert_file_is_named(tmp_path, face_batch):
    pytest.importorskip("ai_edge_litert")
    from fer_classic.cnn.litert import LiteRTClassifier

    damaged = tmp_path / "damaged.float32.tflite"
    damaged.write_bytes(b"TFL3" + bytes(100))
    with pytest.raises(ValueError, match="damaged.float32.tflite: not a LiteRT model"):
        LiteRTClassifier(damaged).predict_proba(face_batch[:1])
    with pytest.raises(OSError, match="not a regular file"):
        LiteRTClassifier(tmp_path).predict_proba(face_batch[:1])


def test_unknown_runtime_is_named():
    with pytest.raises(ValueError, match="unknown runtime 'onnx'; choose from litert, litert-int8, tensorflow"):
        load_model("fer-cnn", runtime="onnx")
    with pytest.raises(ValueError, match="not a CNN: runtime applies to CNNs only"):
        load_model("landmarks", runtime="litert")


def test_a_missing_litert_is_one_line_naming_the_extra(monkeypatch, tmp_path, capsys):
    from fer_classic.cnn import litert

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "ai_edge_litert" else real_find_spec(name, *args))
    with pytest.raises(ImportError, match=r"pip install 'fer-classic\[cnn\]'"):
        litert.require_litert()
    assert main(["evaluate", "--model", "fer-cnn", "--data", str(tmp_path / "none.npz")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "fer-classic: error: the CNNs need LiteRT: pip install 'fer-classic[cnn]' (ai-edge-litert)"]


def test_a_missing_tensorflow_is_one_line_naming_the_extra(monkeypatch, tmp_path, capsys):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "tensorflow" else real_find_spec(name, *args))
    assert main(["evaluate", "--model", "fer-cnn", "--runtime", "tensorflow", "--data",
                 str(tmp_path / "none.npz")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "fer-classic: error: the runtime tensorflow needs TensorFlow: pip install 'fer-classic[train]'"]


def test_cli_trains_a_cnn_that_loads_like_a_classical_model(tmp_path, face_batch, capsys):
    labels = np.arange(len(face_batch)) % 7
    data = write_npz(tmp_path / "fer2013.npz", face_batch, labels, np.repeat([0, 1, 2], 20))
    out = tmp_path / "models" / "tiny-cnn.npz"
    assert main(["train", "--method", "cnn/fer-cnn", "--epochs", "1", "--batch-size", "16", "--data", str(data),
                 "--out", str(out), "--checkpoint-dir", str(tmp_path / "checkpoints")]) == 0
    entry = read_manifest(out.parent).models["tiny-cnn"]
    assert entry.kind == "cnn" and entry.retrain.startswith("fer-classic train --method cnn/fer-cnn --epochs 1")
    assert entry.shipping["ok"] is False and entry.parameters["recipe"]["batch_size"] == 16
    assert set(entry.metrics) >= {"PublicTest", "PrivateTest"}
    assert entry.storage_dtype in ("int8", "float16", "float32")
    assert set(entry.storage_change["PublicTest"]) <= {"int8", "float16"}
    assert (tmp_path / "checkpoints" / "last.keras").is_file()
    recognizer = EmotionRecognizer.load(out)
    # Saved with its LiteRT files, which predict by default; TensorFlow on request.
    assert sorted(entry.litert) == ["chosen_by", "float32", "int8", "runtime"]
    assert all((out.parent / entry.litert[p]["file"]).is_file() for p in ("float32", "int8"))
    assert type(recognizer.model).__name__ == "LiteRTClassifier"
    assert type(EmotionRecognizer.load(out, runtime="tensorflow").model).__name__ == "CNNClassifier"
    assert np.allclose(recognizer.predict_proba(face_batch[:5]).sum(axis=1), 1)
    ten_crop = EmotionRecognizer.load(out, tta="ten-crop")
    assert ten_crop.model.tta == "ten-crop" and np.allclose(ten_crop.predict_proba(face_batch[:5]).sum(axis=1), 1)
    warm = tmp_path / "models" / "warm-cnn.npz"
    assert main(["train", "--method", "cnn/fer-cnn", "--epochs", "1", "--batch-size", "16", "--data", str(data),
                 "--out", str(warm), "--checkpoint-dir", str(tmp_path / "warm"), "--warm-start", str(out)]) == 0
    warm_entry = read_manifest(out.parent).models["warm-cnn"]
    assert warm_entry.training["warm_start"]["file"] == "tiny-cnn.npz"
    assert "epochs_run" not in warm_entry.training["warm_start"]  # a loose file's manifest proves nothing
    assert main(["evaluate", "--model", "landmarks", "--tta", "flip", "--data", str(data)]) == 2
    assert "applies to CNNs only" in capsys.readouterr().err
    assert main(["evaluate", "--model", "landmarks", "--runtime", "litert", "--data", str(data)]) == 2
    assert "runtime applies to CNNs only" in capsys.readouterr().err
    assert main(["train", "--method", "cnn/alexnet", "--data", str(data), "--out", str(out)]) == 2
    assert "unknown CNN architecture" in capsys.readouterr().err


SHIPPED = sorted(name for name, entry in read_manifest().models.items() if entry.kind == "cnn")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_cnn_loads_like_classic(name, astronaut_bgr, face_batch):
    recognizer = EmotionRecognizer.load(name)
    probabilities = recognizer.predict_proba(face_batch[:8])
    assert probabilities.shape == (8, 7) and np.allclose(probabilities.sum(axis=1), 1)
    faces = recognizer.analyze(astronaut_bgr)
    assert len(faces) == 1 and abs(sum(faces[0]["probabilities"].values()) - 1) < 1e-6


def test_warm_start_begins_from_the_saved_weights_with_a_fresh_schedule(trained, face_batch, tmp_path):
    labels = (face_batch.reshape(len(face_batch), -1).mean(axis=1) > np.median(face_batch)).astype(int) * 3
    trained.save(tmp_path / "start.npz", dtype="float32")
    validation = (face_batch[:40], labels[:40])
    start_accuracy = float((trained.network_.predict_on_batch(
        face_batch[:40, :, :, None].astype(np.float32)).argmax(axis=1) == labels[:40]).mean())
    lines = []
    network, history = fit_network("fer-cnn", face_batch, labels, validation, recipe=TINY.replace(epochs=1),
                                   warm_start=tmp_path / "start.npz", progress=False, log=lines.append)
    assert history["warm_start"] == {"file": str(tmp_path / "start.npz"), "validation_accuracy": start_accuracy}
    assert any(line.startswith("fer-cnn starts from") for line in lines)
    assert [record["epoch"] for record in history["epochs"]] == [1]
    assert int(network.optimizer.iterations) == -(-len(face_batch) // TINY.batch_size)  # a new optimiser
    with pytest.raises(ValueError, match="start.npz: its fer-cnn weights do not fit a mobilenetv2"):
        fit_network("mobilenetv2", face_batch, labels, recipe=TINY, warm_start=tmp_path / "start.npz",
                    progress=False, log=lambda line: None)


def test_a_warm_started_entry_counts_the_earlier_training(trained, face_batch, tmp_path):
    from fer_classic.cnn.method import train_cnn_method
    from fer_classic.data import FER2013, Split

    trained.save(tmp_path / "start.npz", dtype="float32")
    labels, rows = np.arange(len(face_batch)) % 7, np.arange(len(face_batch))
    splits = {"Training": Split(face_batch, labels, rows), "PublicTest": Split(face_batch[:20], labels[:20], rows[:20]),
              "PrivateTest": Split(face_batch[20:40], labels[20:40], rows[20:40])}
    data = FER2013(splits=splits, source=Path("synthetic.npz"), md5="0" * 32)
    earlier_history = [{"epoch": e, "seconds": 25.0 * e, "accuracy": 0.5, "val_accuracy": 0.5} for e in (1, 2)]
    earlier = ModelEntry(kind="cnn", file="start.npz", sha256="ab" * 32,
                         training={"epochs_run": 30, "history": earlier_history, "warm_start": {"epochs_run": 10}},
                         timings_seconds={"total": 1000.0}, retrain="fer-classic train --method cnn/fer-cnn")
    _, entry = train_cnn_method("fer-cnn", data, recipe=TINY.replace(epochs=1), warm_start=tmp_path / "start.npz",
                                warm_start_entry=earlier, progress=False, log=lambda line: None)
    warm = entry["training"]["warm_start"]
    assert warm["file"] == "start.npz" and warm["epochs_run"] == 40 and warm["sha256"] == "ab" * 32
    assert entry["timings_seconds"]["total"] == pytest.approx(1000 + entry["timings_seconds"]["this_run"], abs=0.1)
    assert "--warm-start start.npz --seed 0" in entry["retrain"]
    history = full_history(entry["training"])
    assert [h["epoch"] for h in history] == [1, 2, 3] and [h.get("restart") for h in history] == [None, None, True]
    assert history[2]["seconds"] == pytest.approx(50 + entry["training"]["history"][0]["seconds"], abs=0.1)
    assert full_history({"history": earlier_history}) == earlier_history
