import cv2
import numpy as np

from fer_classic.cli import main


def _panel_has_ink(image, top, left, bottom, right):
    region = image[top:bottom, left:right].astype(np.float64)
    return region.std() > 10


def test_explain_writes_a_figure_with_every_phase(tmp_path, astronaut_bgr, capsys):
    cv2.imwrite(str(tmp_path / "astronaut.png"), astronaut_bgr)
    assert main(["explain", str(tmp_path / "astronaut.png"), "--out", str(tmp_path / "figure.png")]) == 0
    assert "1 face(s) explained" in capsys.readouterr().out
    figure = cv2.imread(str(tmp_path / "figure.png"))
    height, width = figure.shape[:2]
    assert width >= 1200 and height >= 700
    # One row per phase, five columns: the panels that must hold drawings.
    row, column = height // 3, width // 5
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (2, 0), (2, 2)]:
        assert _panel_has_ink(figure, r * row, c * column, (r + 1) * row, (c + 1) * column), (r, c)
    assert not _panel_has_ink(figure, 0, 3 * column, row, 5 * column)    # unused corner stays blank


def test_explain_without_faces(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "blank.png"), np.full((200, 200), 127, np.uint8))
    assert main(["explain", str(tmp_path / "blank.png"), "--out", str(tmp_path / "figure.png")]) == 0
    assert "0 face(s)" in capsys.readouterr().out
    assert cv2.imread(str(tmp_path / "figure.png")) is not None
