import cv2
import numpy as np
import pytest

from fer_classic import EmotionRecognizer, explain
from fer_classic.atomic import OutputError
from fer_classic.cli import main
from fer_classic.detect.registry import shipped_cascade
from fer_classic.phases import run_phases

from .conftest import ASTRONAUT_BOX

EXTRACTION_PANELS = {"landmarks", "hog", "lbp", "sift", "geometry"}


@pytest.fixture(scope="module")
def two_faces(astronaut_bgr):
    """The astronaut's face twice, side by side on grey: a photo of two people."""
    x, y, w, h = ASTRONAUT_BOX
    face = astronaut_bgr[y - 40:y + h + 40, x - 40:x + w + 40]
    image = np.full((face.shape[0] + 40, 2 * face.shape[1] + 60, 3), 128, np.uint8)
    image[20:20 + face.shape[0], 20:20 + face.shape[1]] = face
    image[20:20 + face.shape[0], 40 + face.shape[1]:40 + 2 * face.shape[1]] = face
    return image


@pytest.fixture(scope="module")
def classic():
    return EmotionRecognizer.load("classic")


@pytest.fixture(scope="module")
def analysed(classic, two_faces):
    result = run_phases(classic, two_faces)
    assert len(result["faces"]) == 2
    return result


@pytest.fixture(scope="module")
def classic_figure(classic, analysed):
    figure = explain.build_figure(classic, analysed, shipped_cascade())
    figure.draw_without_rendering()
    return figure


def _panels(figure):
    return [axis.get_label() for axis in figure.get_axes()]


def test_every_panel_has_content_and_a_caption(classic_figure):
    figure = classic_figure
    for axis in figure.get_axes():
        assert axis.get_visible()
        assert axis.images or axis.patches or axis.collections, axis.get_label()
        assert axis.get_title() and axis.get_xlabel(), axis.get_label()
    panels = _panels(figure)
    assert panels.count("timings") == 1 and panels.count("overview") == 1
    assert panels.count("probabilities") == 2
    assert EXTRACTION_PANELS <= set(panels)   # the classic model uses them all


def test_the_probability_labels_are_whole_names_that_do_not_overlap(classic_figure):
    axis = next(axis for axis in classic_figure.get_axes() if axis.get_label() == "probabilities")
    labels = axis.get_yticklabels()
    assert [label.get_text() for label in labels] == list(explain.EMOTIONS)
    boxes = [label.get_window_extent() for label in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


class _PixelModel:
    """A stand-in for a CNN: it has a network and no feature pipeline."""

    classes_ = np.arange(7)
    network_ = "a network"

    def predict_proba(self, faces):
        return np.full((len(faces), 7), 1 / 7)


def test_a_cnn_shows_only_its_input_and_first_layer(monkeypatch, analysed):
    maps = np.random.default_rng(0).random((1, 48, 48, 32)).astype(np.float32)
    monkeypatch.setattr(explain, "first_convolution", lambda network: lambda faces, training: maps)
    figure = explain.build_figure(EmotionRecognizer(_PixelModel(), detector="whole-image"), analysed)
    panels = _panels(figure)
    assert not EXTRACTION_PANELS & set(panels)
    assert panels.count("feature maps") == 2 and panels.count("face") == 2
    timing = next(axis for axis in figure.get_axes() if axis.get_label() == "timings")
    assert [label.get_text() for label in timing.get_yticklabels()] == ["detect", "classify"]


def test_haar_features_only_on_the_faces_the_cascade_finds(classic, analysed):
    flat = (5, 5, 60, 60)  # grey background: no face there
    faces = [{**analysed["faces"][0], "box": flat}, analysed["faces"][1]]
    boxes = explain.cascade_boxes(analysed["gray"], faces, classic.detector, None)
    assert boxes == [None, None]   # no cascade, no Haar features
    figure = explain.build_figure(classic, {**analysed, "faces": faces}, shipped_cascade())
    titles = [axis.get_title() for axis in figure.get_axes() if axis.get_label() == "face"]
    assert titles == ["the face", "Haar features"]


def test_many_faces_are_capped_with_a_note(classic, analysed):
    faces = analysed["faces"] * 3
    figure = explain.build_figure(classic, {**analysed, "faces": faces})
    assert _panels(figure).count("probabilities") == explain.MAX_FACES
    overview = next(axis for axis in figure.get_axes() if axis.get_label() == "overview")
    assert f"{len(faces) - explain.MAX_FACES} more" in overview.get_xlabel().replace("\n", " ")


def test_the_command_writes_the_figure(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((200, 200), 127, np.uint8))
    assert main(["explain", str(tmp_path / "blank.png"), "--out", str(tmp_path / "figure.png")]) == 0
    assert "0 face(s) explained" in capsys.readouterr().out
    assert cv2.imread(str(tmp_path / "figure.png")) is not None


def test_a_full_disk_is_an_error_and_no_file(tmp_path, classic, monkeypatch):
    def fail(figure, stream, **options):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", fail)
    with pytest.raises(OutputError, match="figure.png"):
        explain.explain_figure(classic, np.full((200, 200), 127, np.uint8), tmp_path / "figure.png")
    assert list(tmp_path.iterdir()) == []
