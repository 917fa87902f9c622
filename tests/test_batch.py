import csv
import os

import cv2
import numpy as np
import pytest

from fer_classic.cli import main
from fer_classic.batch import BATCH_COLUMNS, partial_path, run_batch
from fer_classic.paths import find_images


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


def test_find_images_by_folder_and_glob(mixed_folder):
    names = [str(path).split("photos/")[1] for path, _ in find_images([mixed_folder])]
    assert names == ["astronaut.png", "corrupt.png", "nested/astronaut_small.jpg", "nested/blank.png"]
    assert len(list(find_images([f"{mixed_folder}/**/*.png"]))) == 3


def test_batch_rows_errors_and_exit_code(mixed_folder, tmp_path, capsys):
    out = tmp_path / "results.csv"
    assert main(["batch", str(mixed_folder), "--out", str(out), "--jobs", "2"]) == 1
    rows = read_rows(out)
    assert list(rows[0]) == BATCH_COLUMNS
    by_file = {r["file"].split("photos/")[1]: r for r in rows}
    assert len(rows) == 4                                       # notes.txt and hidden files are not images
    assert by_file["astronaut.png"]["emotion"] == "happy" and by_file["astronaut.png"]["face"] == "1"
    assert by_file["nested/astronaut_small.jpg"]["face"] == "1"
    assert by_file["nested/blank.png"]["face"] == "0" and by_file["nested/blank.png"]["error"] == ""
    assert "not a decodable image" in by_file["corrupt.png"]["error"]
    assert "2 faces, 1 errors" in capsys.readouterr().out


def test_resume_skips_finished_files(mixed_folder, tmp_path, monkeypatch):
    out = tmp_path / "results.csv"
    first = run_batch(mixed_folder, out, n_jobs=1, progress=False)
    assert first["files"] == 4
    cv2.imwrite(str(mixed_folder / "later.png"), np.full((50, 50), 10, np.uint8))
    monkeypatch.chdir(mixed_folder.parent)                      # the same files, named by a relative path now
    second = run_batch("photos", out, n_jobs=1, resume=True, progress=False)
    # The last file listed is always done again (a hard stop may have cut its faces), and the new one.
    assert second == {"files": 2, "skipped": 3, "faces": 0, "errors": 0, "interrupted": False}
    files = [r["file"] for r in read_rows(out)]
    assert len(files) == 5 and len(set(files)) == 5


def test_resume_redoes_a_file_cut_between_its_faces(tmp_path, astronaut_bgr):
    folder = tmp_path / "pair"
    folder.mkdir()
    cv2.imwrite(str(folder / "two.png"), np.concatenate([astronaut_bgr, astronaut_bgr[:, ::-1]], axis=1))
    out = tmp_path / "results.csv"
    run_batch(folder, out, n_jobs=1, progress=False)
    whole = out.read_text()
    lines = whole.splitlines(keepends=True)
    assert len(lines) == 3                                      # a header and two faces
    out.write_text("".join(lines[:2]))                          # ends exactly after the first face
    assert run_batch(folder, out, n_jobs=1, resume=True, progress=False)["faces"] == 2
    assert out.read_text() == whole


def test_a_run_that_cannot_start_leaves_out_untouched(mixed_folder, tmp_path, capsys):
    out = tmp_path / "results.csv"
    out.write_text("precious\n")
    (tmp_path / "empty").mkdir()
    for argv in (["batch", str(mixed_folder), "--model", "no-such-model"],
                 ["batch", str(tmp_path / "mistyped")], ["batch", str(tmp_path / "empty")],
                 ["batch", str(tmp_path / "empty" / "*.jpg")]):
        assert main([*argv, "--out", str(out)]) == 2
        assert capsys.readouterr().err.count("\n") == 1        # one line
        assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "photos", "results.csv"]


def test_a_hard_stop_leaves_out_as_it_was_and_resume_continues_the_partial_file(mixed_folder, tmp_path):
    out = tmp_path / "results.csv"
    run_batch(mixed_folder, out, n_jobs=1, progress=False)
    whole = out.read_text()
    out.write_text("older results\n")
    partial_path(out).write_text("".join(whole.splitlines(keepends=True)[:3]))   # what kill -9 left
    counts = run_batch(mixed_folder, out, n_jobs=1, resume=True, progress=False)
    assert counts["skipped"] == 1 and counts["files"] == 3
    assert out.read_text() == whole and not partial_path(out).exists()


def test_resume_drops_a_cut_off_row_and_redoes_its_file(mixed_folder, tmp_path):
    out = tmp_path / "results.csv"
    run_batch(mixed_folder, out, n_jobs=1, progress=False)
    whole = out.read_text()
    last_file = read_rows(out)[-1]["file"]
    out.write_text(whole[:-5])                                  # a crash in the middle of the last row
    counts = run_batch(mixed_folder, out, n_jobs=1, resume=True, progress=False)
    assert counts["files"] == 2 and counts["skipped"] == 2     # its file, and the last whole one, again
    assert out.read_text() == whole                             # the row is whole again, and only once
    assert [r["file"] for r in read_rows(out)].count(last_file) == 1


def test_resume_of_an_empty_or_foreign_csv(mixed_folder, tmp_path):
    out = tmp_path / "results.csv"
    out.write_bytes(b"")
    assert run_batch(mixed_folder, out, n_jobs=1, resume=True, progress=False)["files"] == 4
    assert list(read_rows(out)[0]) == BATCH_COLUMNS             # a header, even on a 0-byte file
    other = tmp_path / "other.csv"
    other.write_text("name,score\na.png,1\n")
    with pytest.raises(ValueError, match="not a batch CSV"):
        run_batch(mixed_folder, other, n_jobs=1, resume=True, progress=False)
    assert other.read_text() == "name,score\na.png,1\n"         # untouched


def test_out_must_not_be_an_input_or_a_folder(mixed_folder, tmp_path, capsys):
    image = mixed_folder / "astronaut.png"
    before = image.read_bytes()
    assert main(["batch", str(mixed_folder), "--out", str(image)]) == 2
    assert "is an input of this run" in capsys.readouterr().err
    assert image.read_bytes() == before
    assert main(["batch", str(mixed_folder), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_unreachable_scheduler_fails_fast_and_leaves_no_csv(mixed_folder, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "results.csv"
    with pytest.raises(RuntimeError, match="cannot reach the Dask scheduler"):
        run_batch(mixed_folder, out, backend="dask", scheduler="tcp://127.0.0.1:1", connect_timeout=1,
                  progress=False)
    assert not out.exists()


def test_names_that_are_not_utf8_and_unreadable_folders(mixed_folder, tmp_path, astronaut_bgr, monkeypatch):
    ok, encoded = cv2.imencode(".png", astronaut_bgr)
    with open(os.path.join(os.fsencode(mixed_folder), b"caf\xe9.png"), "wb") as handle:   # Latin-1, not UTF-8
        handle.write(encoded.tobytes())
    (mixed_folder / "private").mkdir()
    real_scandir = os.scandir

    def scandir(path="."):                                       # as for a folder without read permission
        if os.fsdecode(path).endswith("private"):
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    out = tmp_path / "results.csv"
    counts = run_batch(mixed_folder, out, n_jobs=1, progress=False)
    assert counts["files"] == 6 and counts["errors"] == 2        # corrupt.png, and the folder
    by_file = {r["file"].split("photos/")[1]: r for r in read_rows(out)}
    assert by_file["caf\\xe9.png"]["emotion"] == "happy"
    assert "cannot read folder (Permission denied)" in by_file["private"]["error"]
    again = run_batch(mixed_folder, out, n_jobs=1, resume=True, progress=False)
    assert again["files"] == 1 and again["skipped"] == 5         # the last file listed is always redone


def test_dask_cluster_gives_the_same_rows(mixed_folder, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = tmp_path / "local.csv"
    run_batch(mixed_folder, local, n_jobs=2, progress=False, chunk_size=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        counts = run_batch(mixed_folder, tmp_path / "dask.csv", backend="dask", scheduler=cluster.scheduler_address,
                           progress=False, chunk_size=2)
    assert counts["files"] == 4
    assert read_rows(tmp_path / "dask.csv") == read_rows(local)
