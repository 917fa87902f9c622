"""tools/gpu: packing faces for the device, the recipe's pieces, a few CPU steps of train.py, ship.py, prepare/restore.

train.py runs on the CPU here (the project's Keras backend, TensorFlow) on a 60-face look-alike of FER2013,
a narrow fer-cnn for two steps an epoch: what it checks is the plumbing (data in, weights and history out,
back through the project's loader), not the learning, which needs the GPU (docs/gpu.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import jittered_faces, write_npz

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools" / "gpu"
sys.path.insert(0, str(TOOLS))

import faces_pack  # noqa: E402


def test_pack_reads_back_byte_exact_and_refuses_damage(tmp_path):
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (70, 48, 48), dtype=np.uint8)      # noise: the hardest faces to compress
    labels = rng.integers(0, 7, 70)
    faces_pack.pack(faces, labels, {"Training": 50, "PublicTest": 20}, tmp_path / "packed", source_md5="abc")
    splits, md5 = faces_pack.unpack(tmp_path / "packed")
    assert md5 == "abc" and list(splits) == ["Training", "PublicTest"]
    np.testing.assert_array_equal(np.concatenate([splits[s][0] for s in splits]), faces)
    np.testing.assert_array_equal(np.concatenate([splits[s][1] for s in splits]), labels)

    index = json.loads((tmp_path / "packed" / "index.json").read_text())
    index["sha256"] = "0" * 64                                       # as if a face had changed on the way
    (tmp_path / "packed" / "index.json").write_text(json.dumps(index))
    with pytest.raises(ValueError, match="differ from those packed"):
        faces_pack.unpack(tmp_path / "packed")
    with pytest.raises(ValueError, match="add up"):
        faces_pack.pack(faces, labels, {"Training": 50}, tmp_path / "other")


def test_mosaic_layout_round_trips_a_partial_mosaic():
    faces = np.arange(5 * 48 * 48, dtype=np.uint32).astype(np.uint8).reshape(5, 48, 48)
    image = faces_pack.to_mosaic(faces)
    assert image.shape == (48, faces_pack.COLUMNS * 48)
    np.testing.assert_array_equal(image[:, 48:96], faces[1])
    np.testing.assert_array_equal(faces_pack.from_mosaic(image)[:5], faces)


@pytest.fixture(scope="module")
def train_module():
    import train

    return train


def _augment(train_module, faces, targets, **changes):
    recipe = train_module.gpu_recipe("fer-cnn", **changes)
    layer = train_module.GpuAugment(recipe, seed=3, **{k: 0.0 for k in ("shift", "rotation", "zoom")})
    out_faces, out_targets = layer(faces[..., None].astype("float32"), targets, training=True)
    return np.asarray(out_faces)[..., 0], np.asarray(out_targets)


def test_augmentation_without_warp_mirrors_about_half_the_faces_exactly(train_module):
    faces = np.random.default_rng(1).integers(0, 256, (64, 48, 48)).astype(np.uint8)
    targets = np.eye(7, dtype="float32")[np.arange(64) % 7]
    out, out_targets = _augment(train_module, faces, targets, erasing=0.0, mixing="none")
    same = np.all(out == faces, axis=(1, 2))
    mirrored = np.all(out == faces[:, :, ::-1], axis=(1, 2))
    assert np.all(same | mirrored), "a face was resampled, not only mirrored"
    assert 16 <= mirrored.sum() <= 48
    np.testing.assert_array_equal(out_targets, targets)


def test_mixup_blends_each_face_with_the_reversed_batch(train_module):
    rng = np.random.default_rng(2)
    faces = rng.integers(0, 256, (8, 48, 48)).astype(np.uint8)
    targets = np.eye(7, dtype="float32")[[0, 2, 3, 4, 5, 6, 2, 1]]
    out, out_targets = _augment(train_module, faces, targets, erasing=0.0, mixing="mixup", mixing_alpha=0.4)
    np.testing.assert_allclose(out_targets.sum(axis=1), 1, rtol=1e-6)
    lam = out_targets[0, 0]                                    # face 0 (class 0) meets face 7 (class 1)
    assert out_targets[0, 1] == pytest.approx(1 - lam)
    # Each face was mirrored or not before the mixing, so one of four blends is the output.
    blends = [lam * a + (1 - lam) * b for a in (faces[0], faces[0][:, ::-1]) for b in (faces[7], faces[7][:, ::-1])]
    assert min(np.abs(out[0] - blend).max() for blend in blends) < 1e-2


def test_learning_rate_warms_up_then_follows_the_cosine_to_zero(train_module):
    recipe = train_module.gpu_recipe("resnet50", learning_rate=0.1, warmup_epochs=3.0)
    rates = [train_module.learning_rate(recipe, epoch, 20) for epoch in range(21)]
    assert rates[:4] == pytest.approx([0.025, 0.05, 0.075, 0.1])
    assert all(a >= b for a, b in zip(rates[3:], rates[4:])) and rates[20] == pytest.approx(0)


def test_a_learning_rate_set_at_an_epochs_start_governs_that_epoch(train_module):
    """EpochControl's schedule rests on this: Keras reads the optimizer's rate variable at each epoch's start."""
    import keras

    from fer_classic.cnn.architectures import build_cnn

    network = build_cnn("fer-cnn", width=8)
    trainer = train_module.Trainer(network, train_module.gpu_recipe("fer-cnn", width=8), np.ones(7, np.float32))
    trainer.compile(optimizer=keras.optimizers.SGD(0.1))       # no momentum: a rate of 0 must freeze the weights
    snapshots = [network.get_weights()]

    class Rates(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.optimizer.learning_rate = (0.1, 0.0, 0.1)[epoch]

        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(network.get_weights())

    rng = np.random.default_rng(0)
    batches = train_module.Batches(rng.integers(0, 256, (16, 48, 48), dtype=np.uint8), rng.integers(0, 7, 16), 8, 0)
    trainer.fit(batches, epochs=3, callbacks=[Rates()], verbose=0)
    moved = [max(np.abs(a - b).max() for a, b, w in zip(before, after, network.weights) if "kernel" in w.path)
             for before, after in zip(snapshots, snapshots[1:])]
    assert moved[0] > 0 and moved[1] == 0 and moved[2] > 0


def test_the_plan_shrinks_to_the_time_left_and_never_grows(train_module):
    plan = train_module.planned_epochs
    assert plan(80, 1, [60.0], 10.0) == 80                      # the first epoch's time is compilation
    assert plan(80, 2, [60.0, 4.0], 200.0) == 52                # 2 + 200 // 4
    assert plan(40, 2, [60.0, 4.0], 1000.0) == 40               # never beyond the recipe's epochs
    assert plan(52, 30, [60.0, 4.0] + [5.0] * 28, 1.0) == 31    # out of time: this epoch is the last


def test_gpu_recipe_is_resnet50_with_the_small_stem():
    import train

    recipe = train.gpu_recipe("resnet50")
    assert recipe.stem_stride == 1 and recipe.mixing == "mixup" and recipe.label_smoothing > 0
    assert recipe.network_options() == {"input_size": 48, "stem_stride": 1}
    with pytest.raises(ValueError, match="applies to fer-cnn only"):
        train.gpu_recipe("resnet50", width=8)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, train_module, astronaut_gray):
    """train.py on the CPU: a 60-face FER2013 look-alike, packed, two epochs of two steps of a narrow fer-cnn."""
    folder = tmp_path_factory.mktemp("gpu-run")
    faces = jittered_faces(astronaut_gray, 60)
    emotion = np.random.default_rng(1).integers(0, 7, 60)
    usage = np.repeat([0, 1, 2], [30, 15, 15])
    npz = write_npz(folder / "fer2013.npz", faces, emotion, usage)
    faces_pack.pack_fer2013(npz, folder / "packed")
    out = folder / "out"
    lines = []          # in this process, on its Keras backend (TensorFlow here): one import of it, not two
    train_module.train(train_module.parse_args(
        ["--data", str(folder / "packed"), "--out", str(out), "--architecture", "fer-cnn", "--width", "8",
         "--batch-size", "8", "--steps", "2", "--epochs", "2", "--precision", "float32"]), log=lines.append)
    return folder, npz, out, "\n".join(lines)


def test_train_writes_weights_the_project_loads_and_a_history(trained_run):
    from fer_classic.cnn.weight_files import load_weights
    from ship import join_weights

    folder, npz, out, stdout = trained_run
    history = json.loads((out / "history.json").read_text())
    assert [record["epoch"] for record in history["epochs"]] == [1, 2] and history["epochs_run"] == 2
    assert history["architecture"] == "fer-cnn" and history["options"] == {"input_size": 48, "width": 8}
    assert history["weights"]["epoch"] == history["best_epoch"]
    record = join_weights(out, folder / "joined.npz")
    assert record == history["weights"]
    architecture, network, options = load_weights(folder / "joined.npz")
    assert architecture == "fer-cnn" and options == {"input_size": 48, "width": 8}
    assert network.output_shape == (None, 7) and "epoch 2/2" in stdout


def test_join_refuses_a_part_from_another_write(trained_run, tmp_path):
    from ship import join_weights

    _, _, out, _ = trained_run
    shutil.copytree(out, tmp_path / "run")
    part = tmp_path / "run" / "weights.npz.000"
    part.write_bytes(part.read_bytes()[:-1] + b"x")
    with pytest.raises(ValueError, match="not the weights"):
        join_weights(tmp_path / "run", tmp_path / "joined.npz")


def test_ship_refuses_without_write_and_writes_a_valid_entry_with_it(trained_run, tmp_path, monkeypatch):
    import ship

    from fer_classic.store import read_manifest

    _, npz, out, _ = trained_run
    models = tmp_path / "models"
    shipped, metrics = ship.ship(out, write=True, data_path=npz, models_dir=models, log=lambda line: None)
    assert not shipped and not (models / "fer-cnn.npz").exists()       # 30 faces learn nothing: the verdict is no
    monkeypatch.setattr(ship, "shipping_verdict", lambda metrics: (True, "forced by the test"))
    monkeypatch.setattr(ship, "rebuild_litert", lambda architecture, data_path, log: False)
    lines = []
    assert ship.ship(out, write=False, data_path=npz, models_dir=models, log=lines.append)[0] is False
    assert "--write" in lines[-1] and not (models / "fer-cnn.npz").exists()
    assert ship.ship(out, write=True, data_path=npz, models_dir=models, log=lines.append)[0] is True
    entry = read_manifest(models).models["fer-cnn"]
    assert entry.device == json.loads((out / "history.json").read_text())["device"]
    assert entry.training["gpu_run"]["weights"]["sha256"] and entry.metrics["PrivateTest"]["n"] == 15


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_prepare_then_restore_leaves_the_branch_as_it_was(tmp_path):
    repo = tmp_path / "repo"
    (repo / "fer_classic").mkdir(parents=True)
    (repo / "fer_classic" / "code.py").write_text("x = 1\n")
    (repo / "models").mkdir()
    (repo / "models" / "big.npz").write_bytes(os.urandom(4096))
    (repo / ".gitignore").write_text("*.npz\n!models/*.npz\n.venv/\n")
    shutil.copytree(TOOLS, repo / "tools" / "gpu", ignore=shutil.ignore_patterns("__pycache__"))
    git = lambda *args: subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,  # noqa: E731
                                       text=True).stdout.strip()
    git("init", "-q", "-b", "main")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    head = git("rev-parse", "HEAD")
    # What prepare.sh would otherwise pack and download, present already (it reuses them).
    (repo / ".gpu-data").mkdir()
    (repo / ".gpu-data" / "index.json").write_text("{}")
    (repo / ".whl").mkdir()
    for package in ("keras", "namex", "optree"):
        version = subprocess.run([sys.executable, "-m", "pip", "show", package], capture_output=True,
                                 text=True).stdout.split("Version: ")[1].split()[0]
        (repo / ".whl" / f"{package}-{version}-py3-none-any.whl").write_bytes(b"wheel")
    env = {**os.environ, "PYTHON": sys.executable}
    prepare = subprocess.run(["bash", "tools/gpu/prepare.sh"], cwd=repo, env=env, capture_output=True, text=True)
    assert prepare.returncode == 0, prepare.stderr
    assert not (repo / "models").exists() and (repo / "fer_classic" / "code.py").is_file()
    assert (repo / "tools" / "gpu" / "source-commit").read_text().strip() == head
    assert git("status", "--porcelain") == "" and git("rev-parse", "HEAD^") == head
    again = subprocess.run(["bash", "tools/gpu/prepare.sh"], cwd=repo, env=env, capture_output=True, text=True)
    assert again.returncode != 0 and "already prepared" in again.stderr

    (repo / "tools" / "gpu" / "train.py").write_text("# a fix made between two device runs\n")
    restore = subprocess.run(["bash", "tools/gpu/restore.sh"], cwd=repo, capture_output=True, text=True)
    assert restore.returncode == 0, restore.stderr
    assert git("symbolic-ref", "--short", "HEAD") == "main" and git("rev-parse", "HEAD") == head
    assert git("status", "--porcelain") == "M tools/gpu/train.py"    # the fix, carried over, uncommitted
    git("checkout", "--", "tools/gpu/train.py")
    assert git("status", "--porcelain") == "" and (repo / "models" / "big.npz").is_file()
