import csv

import cv2
import numpy as np
import pytest

from fer_classic.batch import BATCH_COLUMNS, find_files, run_batch
from fer_classic.cli import main


@pytest.fixture
def mixed_folder(tmp_path, astronaut_bgr):
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    cv2.imwrite(str(folder / "astronaut.png"), astronaut_bgr)
    cv2.imwrite(str(folder / "nested" / "astronaut_small.jpg"), cv2.resize(astronaut_bgr, (256, 256)))
    cv2.imwrite(str(folder / "nested" / "blank.png"), np.full((120, 160), 30, np.uint8))
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"")
    return folder


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_find_files_by_folder_and_glob(mixed_folder):
    names = [p.split("photos/")[1] for p in find_files(mixed_folder)]
    assert names == ["astronaut.png", "corrupt.png", "nested/astronaut_small.jpg", "nested/blank.png", "notes.txt"]
    assert len(find_files(f"{mixed_folder}/**/*.png")) == 3


def test_batch_rows_errors_and_exit_code(mixed_folder, tmp_path, capsys):
    out = tmp_path / "results.csv"
    assert main(["batch", str(mixed_folder), "--out", str(out), "--jobs", "2"]) == 1
    rows = read_rows(out)
    assert list(rows[0]) == BATCH_COLUMNS
    by_file = {r["file"].split("photos/")[1]: r for r in rows}
    assert len(rows) == 5
    assert by_file["astronaut.png"]["emotion"] == "happy" and by_file["astronaut.png"]["face"] == "1"
    assert by_file["nested/astronaut_small.jpg"]["face"] == "1"
    assert by_file["nested/blank.png"]["face"] == "0" and by_file["nested/blank.png"]["error"] == ""
    assert "not a decodable image" in by_file["corrupt.png"]["error"]
    assert "not a decodable image" in by_file["notes.txt"]["error"]
    assert "2 faces, 2 errors" in capsys.readouterr().out


def test_resume_skips_finished_files(mixed_folder, tmp_path):
    out = tmp_path / "results.csv"
    first = run_batch(mixed_folder, out, n_jobs=1, progress=False)
    assert first["files"] == 5
    cv2.imwrite(str(mixed_folder / "later.png"), np.full((50, 50), 10, np.uint8))
    second = run_batch(mixed_folder, out, n_jobs=1, resume=True, progress=False)
    assert second == {"files": 1, "skipped": 5, "faces": 0, "errors": 0}
    files = [r["file"] for r in read_rows(out)]
    assert len(files) == 6 and len(set(files)) == 6


def test_dask_cluster_gives_the_same_rows(mixed_folder, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local.csv"
    run_batch(mixed_folder, local, n_jobs=2, progress=False, chunk_size=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        counts = run_batch(mixed_folder, tmp_path / "dask.csv", backend="dask", scheduler=cluster.scheduler_address,
                           progress=False, chunk_size=2)
    assert counts["files"] == 5
    assert read_rows(tmp_path / "dask.csv") == read_rows(local)
