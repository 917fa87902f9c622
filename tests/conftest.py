"""Shared fixtures: small synthetic data sets built from the one real face shipped with scikit-image."""

import os

# Qt needs a display unless told to draw offscreen; set before any test imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from skimage import data as skdata  # noqa: E402

from fer_classic.video.synthetic import ASTRONAUT_BOX, astronaut_face, write_drifting_clip  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep each test's feature cache and registry of trusted models out of the user's home."""
    monkeypatch.setenv("FER_CLASSIC_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
    # A command run in this process (main()) switches the libraries' warnings off through the environment, for its
    # workers: each test starts as a fresh process would.
    for name in ("FER_CLASSIC_QUIET", "PYTHONWARNINGS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def astronaut_bgr():
    return np.ascontiguousarray(skdata.astronaut()[:, :, ::-1])


@pytest.fixture(scope="session")
def astronaut_gray():
    return cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2GRAY)


def jittered_faces(gray, n, seed=0, box=ASTRONAUT_BOX):
    """``n`` 48x48 crops of the face in ``gray`` with random shifts, zooms and brightness."""
    rng = np.random.default_rng(seed)
    x, y, w, h = box
    faces = np.empty((n, 48, 48), dtype=np.uint8)
    for i in range(n):
        side = int(w * rng.uniform(0.9, 1.1))
        dx, dy = rng.integers(-5, 6, size=2)
        crop = gray[y + dy:y + dy + side, x + dx:x + dx + side]
        face = cv2.resize(crop, (48, 48), interpolation=cv2.INTER_AREA).astype(np.float32)
        faces[i] = np.clip(face * rng.uniform(0.8, 1.2) + rng.uniform(-15, 15), 0, 255)
    return faces


@pytest.fixture(scope="session")
def face_batch(astronaut_gray):
    """60 jittered 48x48 crops of the astronaut's face."""
    return jittered_faces(astronaut_gray, 60)


@pytest.fixture(scope="session")
def separable_data(astronaut_gray):
    """Two 'emotions' a HOG model must tell apart: upright faces are happy, upside-down ones sad; 40 training
    faces, 20 PublicTest and 20 PrivateTest, as a FER2013."""
    from pathlib import Path

    from fer_classic.data import FER2013, Split
    from fer_classic.faces import EMOTIONS

    faces = jittered_faces(astronaut_gray, 80, seed=3)
    labels = np.where(np.arange(80) % 2, EMOTIONS.index("happy"), EMOTIONS.index("sad"))
    faces[labels == EMOTIONS.index("sad")] = faces[labels == EMOTIONS.index("sad")][:, ::-1]
    rows = np.arange(80)
    splits = {name: Split(faces[part], labels[part], rows[part])
              for name, part in (("Training", slice(0, 40)), ("PublicTest", slice(40, 60)),
                                 ("PrivateTest", slice(60, 80)))}
    return FER2013(splits=splits, source=Path("synthetic.npz"), md5="0" * 32)


def write_npz(path, faces, emotion, usage):
    np.savez_compressed(path, pixels=faces.astype(np.uint8), emotion=np.asarray(emotion, np.uint8),
                        usage=np.asarray(usage, np.uint8))
    return path


def write_csv(path, faces, emotion, usage):
    names = ["Training", "PublicTest", "PrivateTest"]
    with open(path, "w", newline="") as handle:
        handle.write("emotion,pixels,Usage\n")
        for face, e, u in zip(faces, emotion, usage):
            handle.write(f"{e},{' '.join(map(str, face.ravel().tolist()))},{names[u]}\n")
    return path


@pytest.fixture
def tiny_dataset(face_batch):
    """Faces, labels and usage codes of a 60-row FER2013 look-alike: 30 train, 15 + 15 test."""
    rng = np.random.default_rng(1)
    emotion = rng.integers(0, 7, size=len(face_batch))
    usage = np.repeat([0, 1, 2], [30, 15, 15])
    return face_batch, emotion, usage


def write_face_video(path, astronaut_bgr, n_frames=12, size=(320, 240), fps=10):
    """The astronaut's face, drifting right, on a gray background; returns the frame count."""
    face = astronaut_face(130, margin=30, image=astronaut_bgr)
    background = np.full((size[1], size[0], 3), 90, np.uint8)
    return write_drifting_clip(path, [face], background, n_frames, fps, top=50, left=lambda i: 40 + 4 * i)
