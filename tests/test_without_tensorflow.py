"""The CNNs predict through LiteRT: no front end imports TensorFlow or Keras to use a shipped network."""

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("ai_edge_litert")

# Every front end that loads a shipped CNN, in one process; TensorFlow must not be imported by any of them.
SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path

    import cv2
    import numpy as np

    from fer_classic.cli import main
    from fer_classic.cnn.embeddings import CNNEmbeddings
    from fer_classic.video.synthetic import astronaut_bgr, astronaut_face, write_drifting_clip

    work = Path(sys.argv[1])
    photo = work / "photos" / "photo.png"
    photo.parent.mkdir()
    cv2.imwrite(str(photo), astronaut_bgr())
    clip = work / "clip.avi"
    background = np.full((240, 320, 3), 200, np.uint8)
    write_drifting_clip(clip, [astronaut_face(120, 30)], background, n_frames=4, fps=4, top=40,
                        left=lambda frame: 60 + 4 * frame)
    runs = {
        "predict": ["predict", str(photo), "--model", "fer-cnn", "--json"],
        "explain": ["explain", str(photo), "--model", "fer-cnn", "--out", str(work / "explain.png")],
        "batch": ["batch", str(photo.parent), "--model", "mobilenetv2", "--out", str(work / "batch.csv"),
                  "--jobs", "1"],
        "video": ["video", str(clip), "--model", "fer-cnn", "--csv", str(work / "timeline.csv")],
    }
    for name, argv in runs.items():
        assert main(argv) == 0, name
    faces = np.full((3, 48, 48), 128, np.uint8)
    embeddings = CNNEmbeddings("fer-cnn").fit(faces).transform(faces)
    assert embeddings.shape[0] == 3 and embeddings.dtype == np.float32
    print("imported:", sorted(m for m in ("tensorflow", "keras") if m in sys.modules))
""")


def test_front_ends_and_embeddings_run_shipped_cnns_without_importing_tensorflow(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                          env={**_environment(), "FER_CLASSIC_CACHE": str(tmp_path / "cache")}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "imported: []" in done.stdout
    # LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." is kept off stderr.
    assert "XNNPACK" not in done.stderr and "TensorFlow" not in done.stderr


def _environment():
    import os

    return {key: value for key, value in os.environ.items() if key not in ("FER_CLASSIC_QUIET", "PYTHONWARNINGS")}
