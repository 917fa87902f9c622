"""The helpers every phase shares, and method names."""

import numpy as np
import pytest

from fer_classic.faces import average_views, check_faces, mirror_faces, mirror_views
from fer_classic.method_name import ENSEMBLE, MethodName


def test_mirror_views_then_average_views_give_each_face_its_mean():
    faces = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    views = mirror_views(faces)
    np.testing.assert_array_equal(views[2:], mirror_faces(faces))
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])   # face 0: (1, 0) and (0, 1)
    np.testing.assert_allclose(average_views(scores), [[0.5, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="views"):
        average_views(scores[:3])


def test_check_faces_reshapes_rows_and_refuses_other_types():
    assert check_faces(np.zeros((2, 16), np.uint8)).shape == (2, 4, 4)
    with pytest.raises(ValueError, match="uint8"):
        check_faces(np.zeros((1, 4, 4)))


@pytest.mark.parametrize("text, family, features, classifier, stem", [
    ("hog+lbp/svm-local", "classical", ("hog", "lbp"), "svm-local", "hog-lbp_svm-local"),
    ("cnn/fer-cnn", "cnn", (), "fer-cnn", "cnn_fer-cnn"),
    ("peer/fer-mini-xception", "peer", (), "fer-mini-xception", "peer_fer-mini-xception"),
    (ENSEMBLE, ENSEMBLE, (), "", ENSEMBLE),
])
def test_method_names_parse_and_print_back(text, family, features, classifier, stem):
    name = MethodName.parse(text)
    assert (name.family, name.features, name.classifier, name.file_stem) == (family, features, classifier, stem)
    assert str(name) == text


@pytest.mark.parametrize("text", ["bogus", "hog/", "/mlp", "hog+hog/mlp", "hog++lbp/mlp", "a/b/c", ""])
def test_malformed_method_names_are_refused_with_the_name(text):
    with pytest.raises(ValueError, match="unknown method"):
        MethodName.parse(text)
