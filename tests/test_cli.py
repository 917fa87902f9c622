"""The command line on real photos, with the shipped ``classic`` model."""

import json

import cv2
import numpy as np
import pytest

from fer_classic.cli import main
from fer_classic.store import resolve_model

from .conftest import write_npz


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut_bgr):
    folder = tmp_path_factory.mktemp("photos")
    cv2.imwrite(str(folder / "astronaut.png"), astronaut_bgr)
    cv2.imwrite(str(folder / "blank.png"), np.full((240, 320, 3), 200, np.uint8))
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (folder / "empty.png").write_bytes(b"")
    return folder


def test_classic_model_is_shipped():
    model = resolve_model("classic")
    assert model.source == "shipped" and model.path.stat().st_size <= 25e6
    assert model.entry["metrics"]["PrivateTest"]["n"] == 3589


def test_predict_astronaut_is_happy(photos, capsys):
    assert main(["predict", str(photos / "astronaut.png"), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    [face] = result["faces"]
    assert face["emotion"] == "happy"
    assert sum(face["probabilities"].values()) == pytest.approx(1.0)
    np.testing.assert_allclose(face["box"], (177, 66, 95, 95), atol=8)


def test_predict_keeps_going_past_bad_files(photos, capsys):
    paths = [photos / "corrupt.jpg", photos / "blank.png", photos / "empty.png", photos / "missing.png",
             photos / "astronaut.png"]
    assert main(["predict", *map(str, paths), "--json"]) == 1
    results = {r["file"]: r for r in json.loads(capsys.readouterr().out)}
    assert "not a decodable image" in results[str(photos / "corrupt.jpg")]["error"]
    assert "empty file" in results[str(photos / "empty.png")]["error"]
    assert "cannot read" in results[str(photos / "missing.png")]["error"]
    assert results[str(photos / "blank.png")]["faces"] == []               # no face is not an error
    assert len(results[str(photos / "astronaut.png")]["faces"]) == 1


def test_predict_folder_in_text(photos, capsys):
    assert main(["predict", str(photos)]) == 1
    out = capsys.readouterr().out
    assert "astronaut.png: 1 face(s)" in out and "happy" in out
    assert "blank.png: 0 face(s)" in out and "corrupt.jpg: error:" in out
    assert "Traceback" not in out


def test_evaluate_json(tmp_path, face_batch, capsys):
    labels = np.full(len(face_batch), 3)
    data = write_npz(tmp_path / "fer2013.npz", face_batch, labels, np.repeat([0, 1, 2], 20))
    assert main(["evaluate", "--model", "classic", "--split", "PrivateTest", "--data", str(data), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) == {"accuracy", "macro_f1", "per_class_recall", "confusion", "n"}
    assert metrics["n"] == 20 and metrics["per_class_recall"]["happy"] == metrics["accuracy"]


def test_bad_input_is_an_error_message_not_a_traceback(tmp_path, capsys):
    (tmp_path / "fer2013.csv").write_text("emotion,pixels,Usage\n3,1 2,Training\n")
    assert main(["evaluate", "--data", str(tmp_path / "fer2013.csv")]) == 2
    assert "row 2: 2 pixels" in capsys.readouterr().err
    assert main(["predict", "--model", "no-such-model", str(tmp_path)]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_models_lists_classic(capsys):
    assert main(["models"]) == 0
    assert "classic" in capsys.readouterr().out


def test_predict_with_the_from_scratch_cascade(photos, capsys):
    from fer_classic.detect.boxes import box_iou

    assert main(["predict", str(photos / "astronaut.png"), "--cascade", "viola-jones", "--scale-factor", "1.25",
                 "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert box_iou([face["box"] for face in result["faces"]], [(177, 66, 95, 95)]).max() > 0.5
