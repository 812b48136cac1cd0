"""`setpiece reference add/list/remove`: the corpus, and every bad input it meets."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import func, select

from integrity.pictures import scene, write_scene_video
from mediafactory import write_corrupt_mp4
from setpiece.model.orm import ReferenceFrame, ReferenceWork
from setpiece.production.context import Production


def _rows(film: Path) -> tuple[int, int]:
    with Production.open(film) as production, production.transaction() as session:
        works = session.scalar(select(func.count()).select_from(ReferenceWork)) or 0
        frames = session.scalar(select(func.count()).select_from(ReferenceFrame)) or 0
        return works, frames


def test_add_list_and_remove_stills_and_a_video(cli, film: Path, tmp_path: Path) -> None:
    still = tmp_path / "poster.png"
    scene(1).save(still)
    video = write_scene_video(tmp_path / "classic.mp4", seeds=[2, 3, 4], frames_each=8)
    added = cli("reference", "add", still, video, "--json")
    assert added.code == 0, added.err
    report = added.json()
    assert [w["kind"] for w in report["added"]] == ["image", "video"]
    assert report["skipped"] == []
    # the video is sampled at its three shots (and the stride), not at every frame
    assert 3 <= report["added"][1]["frames"] < 24
    listed = cli("reference", "list", "--json").json()
    assert [w["title"] for w in listed] == ["poster", "classic"]
    assert _rows(film) == (2, 1 + report["added"][1]["frames"])

    removed = cli("reference", "remove", listed[0]["id"])
    assert removed.code == 0 and "poster" in removed.out
    assert [w["title"] for w in cli("reference", "list", "--json").json()] == ["classic"]
    assert _rows(film)[0] == 1


def test_a_title_names_one_work(cli, film: Path, tmp_path: Path) -> None:
    scene(1).save(tmp_path / "a.png")
    scene(2).save(tmp_path / "b.png")
    assert cli("reference", "add", tmp_path / "a.png", "--title", "The Vault (1971)").code == 0
    assert cli("reference", "list", "--json").json()[0]["title"] == "The Vault (1971)"
    both = cli("reference", "add", tmp_path / "a.png", tmp_path / "b.png", "--title", "X")
    assert both.code == 2 and "--title names one work" in both.err
    assert _rows(film)[0] == 1


def test_a_work_added_twice_is_one_row(cli, film: Path, tmp_path: Path) -> None:
    scene(1).save(tmp_path / "a.png")
    os.symlink(tmp_path / "a.png", tmp_path / "same.png")
    assert cli("reference", "add", tmp_path / "a.png").code == 0
    again = cli("reference", "add", tmp_path / "a.png", tmp_path / "same.png")
    assert again.code == 0
    assert "already in the corpus" in again.out
    assert _rows(film) == (1, 1)


def test_an_undecodable_video_is_skipped_and_named_and_the_rest_added(
    cli, film: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_corrupt_mp4(corpus / "broken.mp4")
    scene(5).save(corpus / "still.png")
    result = cli("reference", "add", corpus)
    assert result.code == 0
    assert "added reference" in result.out and "still" in result.out
    assert "skipped" in result.err and "broken.mp4" in result.err
    assert _rows(film) == (1, 1)


def test_nothing_usable_is_one_line_exit_2_and_nothing_written(
    cli, film: Path, tmp_path: Path
) -> None:
    broken = write_corrupt_mp4(tmp_path / "broken.mp4")
    result = cli("reference", "add", broken)
    assert result.code == 2
    assert result.err.count("\n") == 1 and "broken.mp4" in result.err
    assert _rows(film) == (0, 0)
    media = film / "media"
    assert not [p for p in media.rglob("*") if p.is_file()]


def test_cmyk_16_bit_and_alpha_pictures_are_indexed(cli, film: Path, tmp_path: Path) -> None:
    base = scene(6)
    base.convert("CMYK").save(tmp_path / "cmyk.jpg")
    grey16 = (np.asarray(base.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "deep.png")
    rgba = base.convert("RGBA")
    rgba.putalpha(200)
    rgba.save(tmp_path / "alpha.png")
    result = cli(
        "reference", "add", tmp_path / "cmyk.jpg", tmp_path / "deep.png", tmp_path / "alpha.png"
    )
    assert result.code == 0, result.err
    assert result.err == ""
    assert _rows(film) == (3, 3)


def test_a_1x1_picture_is_refused_clearly(cli, film: Path, tmp_path: Path) -> None:
    Image.new("RGB", (1, 1), (200, 10, 10)).save(tmp_path / "dot.png")
    result = cli("reference", "add", tmp_path / "dot.png")
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "1x1" in result.err and "too small" in result.err
    assert _rows(film) == (0, 0)


def test_a_symlink_loop_is_refused_and_a_looping_folder_walked_once(
    cli, film: Path, tmp_path: Path
) -> None:
    os.symlink(tmp_path / "loop-b", tmp_path / "loop-a")
    os.symlink(tmp_path / "loop-a", tmp_path / "loop-b")
    result = cli("reference", "add", tmp_path / "loop-a")
    assert result.code == 2 and result.err.count("\n") == 1
    assert "symbolic link loop" in result.err
    assert _rows(film) == (0, 0)

    corpus = tmp_path / "corpus"
    (corpus / "inner").mkdir(parents=True)
    scene(7).save(corpus / "inner" / "a.png")
    os.symlink(corpus, corpus / "inner" / "back")  # corpus/inner/back -> corpus: a loop
    walked = cli("reference", "add", corpus)
    assert walked.code == 0, walked.err
    assert _rows(film) == (1, 1)


def test_removing_an_unknown_work_is_not_found(cli, film: Path) -> None:
    result = cli("reference", "remove", 42)
    assert result.code == 2 and "no reference work 42" in result.err


def test_an_empty_corpus_lists_as_empty(cli, film: Path) -> None:
    assert cli("reference", "list", "--json").json() == []
    assert "empty" in cli("reference", "list").out
