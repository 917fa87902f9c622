from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_classic.data import DataFormatError, find_fer2013, load_fer2013, load_ferplus_labels
from fer_classic.faces import EMOTIONS

from .conftest import write_csv, write_npz

SHARED = Path(__file__).resolve().parents[2] / "shared" / "fer2013" / "fer2013.npz"


def test_emotion_order_is_fixed():
    assert EMOTIONS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_npz_and_csv_load_identically(tmp_path, tiny_dataset):
    faces, emotion, usage = tiny_dataset
    from_npz = load_fer2013(write_npz(tmp_path / "fer2013.npz", faces, emotion, usage))
    from_csv = load_fer2013(write_csv(tmp_path / "fer2013.csv", faces, emotion, usage))
    for split, count in (("Training", 30), ("PublicTest", 15), ("PrivateTest", 15)):
        a, b = from_npz[split], from_csv[split]
        assert len(a) == count
        assert a.faces.dtype == np.uint8 and a.faces.shape == (count, 48, 48)
        np.testing.assert_array_equal(a.faces, b.faces)
        np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(from_npz["PublicTest"].rows, np.arange(30, 45))
    assert from_npz.md5 != from_csv.md5 and len(from_npz.md5) == 32


def test_image_folder_layout_with_split_prefixes(tmp_path, tiny_dataset):
    faces, emotion, usage = tiny_dataset
    names = ["Training", "PublicTest", "PrivateTest"]
    for i, (face, e, u) in enumerate(zip(faces, emotion, usage)):
        folder = tmp_path / ("train" if u == 0 else "test") / EMOTIONS[e]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{names[u]}_{i}.png"), face)
    data = load_fer2013(tmp_path)
    assert [len(data[s]) for s in names] == [30, 15, 15]
    assert sorted(data["PrivateTest"].labels.tolist()) == sorted(emotion[usage == 2].tolist())
    assert data["Training"].faces.dtype == np.uint8


def test_image_folder_without_prefixes_carves_validation(tmp_path, tiny_dataset):
    faces, emotion, usage = tiny_dataset
    for i, (face, e, u) in enumerate(zip(faces, emotion, usage)):
        folder = tmp_path / ("train" if u == 0 else "test") / EMOTIONS[e]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"im{i}.png"), face)
    with pytest.warns(UserWarning, match="held out"):
        data = load_fer2013(tmp_path)
    assert len(data["PrivateTest"]) == 30
    assert len(data["PublicTest"]) + len(data["Training"]) == 30
    assert len(data["PublicTest"]) > 0


@pytest.mark.parametrize("row, message", [
    ("3,1 2 3,Training", "row 2: 3 pixels, expected 2304"),
    ("9," + " ".join(["0"] * 2304) + ",Training", "row 2: emotion '9' outside 0..6"),
    ("-1," + " ".join(["0"] * 2304) + ",Training", "row 2: emotion '-1'"),
    ("3," + " ".join(["0"] * 2304) + ",Validation", "row 2: unknown Usage 'Validation'"),
    ("3," + " ".join(["300"] * 2304) + ",Training", "row 2: pixel values must lie in 0..255"),
    ("3," + " ".join(["0"] * 2304), "row 2: expected 3 columns, got 2"),
])
def test_malformed_csv_rows_name_file_and_row(tmp_path, row, message):
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels,Usage\n" + row + "\n")
    with pytest.raises(DataFormatError, match=message) as raised:
        load_fer2013(path)
    assert str(path) in str(raised.value)


def test_malformed_csv_header_and_later_row(tmp_path, tiny_dataset):
    faces, emotion, usage = tiny_dataset
    path = write_csv(tmp_path / "fer2013.csv", faces[:3], emotion[:3], usage[:3])
    with open(path, "a") as handle:
        handle.write("1,0 0,PrivateTest\n")
    with pytest.raises(DataFormatError, match="row 5: 2 pixels"):
        load_fer2013(path)
    path.write_text("label,image\n1,2\n")
    with pytest.raises(DataFormatError, match="row 1: expected columns emotion,pixels,Usage"):
        load_fer2013(path)


def test_malformed_npz(tmp_path, tiny_dataset):
    faces, emotion, usage = tiny_dataset
    bad = emotion.copy()
    bad[7] = 8
    with pytest.raises(DataFormatError, match="row 7: emotion label 8"):
        load_fer2013(write_npz(tmp_path / "fer2013.npz", faces, bad, usage))
    np.savez(tmp_path / "other.npz", pixels=faces)
    with pytest.raises(DataFormatError, match="missing arrays"):
        load_fer2013(tmp_path / "other.npz")


def test_discovery_order_and_help(tmp_path, tiny_dataset, monkeypatch):
    faces, emotion, usage = tiny_dataset
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FER2013_PATH", raising=False)
    (tmp_path / "data").mkdir()
    write_csv(tmp_path / "data" / "fer2013.csv", faces, emotion, usage)
    env_dir = tmp_path / "elsewhere"
    env_dir.mkdir()
    write_npz(env_dir / "fer2013.npz", faces, emotion, usage)
    monkeypatch.setenv("FER2013_PATH", str(env_dir))
    assert find_fer2013() == env_dir / "fer2013.npz"
    monkeypatch.delenv("FER2013_PATH")
    assert find_fer2013() == Path("data") / "fer2013.csv"
    with pytest.raises(FileNotFoundError, match="kaggle.com"):
        find_fer2013(tmp_path / "nowhere")


def test_ferplus_majority_labels_drop_unknown_nf_and_contempt(tmp_path):
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
    rows = ["Training,fer0.png,0,9,1,0,0,0,0,0,0,0",   # happy
            "Training,fer1.png,1,0,0,0,0,0,0,8,1,0",   # contempt -> dropped
            "PublicTest,,0,0,0,0,0,0,0,0,0,10",        # not a face -> dropped
            "PrivateTest,fer2.png,2,0,0,0,6,0,0,0,2,0",  # angry
            "PrivateTest,fer3.png,0,0,0,0,0,0,0,0,7,3"]  # unknown -> dropped
    path = tmp_path / "fer2013new.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    labels, dropped = load_ferplus_labels(path, n_rows=5)
    assert labels.tolist() == [EMOTIONS.index("happy"), -1, -1, EMOTIONS.index("angry"), -1]
    assert dropped == 3
    with pytest.raises(DataFormatError, match="5 rows, expected 6"):
        load_ferplus_labels(path, n_rows=6)


def test_ferplus_split_is_added_beside_the_data(tmp_path, tiny_dataset):
    faces, emotion, usage = tiny_dataset
    write_npz(tmp_path / "fer2013.npz", faces, emotion, usage)
    votes = np.zeros((len(faces), 10), dtype=int)
    votes[:, 1] = 10          # everyone happy...
    votes[50:, :] = 0
    votes[50:, 9] = 10        # ...except the last ten rows, not faces
    header = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
    body = "".join(f"x,fer{i}.png," + ",".join(map(str, v)) + "\n" for i, v in enumerate(votes))
    (tmp_path / "fer2013new.csv").write_text(header + body)
    data = load_fer2013(tmp_path)
    ferplus = data["FERPlus-PrivateTest"]
    assert len(ferplus) == 5 and set(ferplus.labels.tolist()) == {EMOTIONS.index("happy")}
    assert any("10 of 60 rows dropped" in note for note in data.notes)


@pytest.mark.skipif(not SHARED.is_file(), reason="the real FER2013 is not beside the checkout")
def test_real_fer2013_split_counts():
    data = load_fer2013(SHARED)
    assert [len(data[s]) for s in ("Training", "PublicTest", "PrivateTest")] == [28709, 3589, 3589]
    assert np.bincount(data["PrivateTest"].labels).tolist() == [491, 55, 528, 879, 594, 416, 626]
    assert 3000 < len(data["FERPlus-PrivateTest"]) < 3589
