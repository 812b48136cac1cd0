"""`setpiece check integrity`: copies are flagged with evidence, unrelated takes are not."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from PIL import Image

from integrity.pictures import copy_of, scene, write_scene_video
from setpiece.integrity.check import check_integrity
from setpiece.model.findings import NearDuplicate, read_payload
from setpiece.production.context import Production
from setpiece.production.records import list_findings
from setpiece.production.takes import import_takes, list_takes


def _corpus(cli, tmp_path: Path) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    for seed in (1, 2, 3):
        scene(seed).save(folder / f"work{seed}.png")
    write_scene_video(folder / "film.mp4", seeds=[10, 11, 12], frames_each=8)
    assert cli("reference", "add", folder).code == 0


def _take(cli, path: Path) -> str:
    result = cli("take", "import", "1A", path, "--json")
    assert result.code == 0, result.err
    return result.json()["created"][0]["id"]


def test_a_cropped_mirrored_regraded_copy_is_flagged_and_an_unrelated_take_is_not(
    cli, film: Path, tmp_path: Path
) -> None:
    _corpus(cli, tmp_path)
    copy_of(scene(2)).save(tmp_path / "copy.jpg", quality=60)
    scene(99).save(tmp_path / "original.png")
    copied = _take(cli, tmp_path / "copy.jpg")
    clean = _take(cli, tmp_path / "original.png")

    result = cli("check", "integrity", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert sorted(report["checked"]) == sorted([copied, clean])
    (finding,) = report["findings"]
    assert finding["kind"] == "near_duplicate"
    assert finding["take"] == copied and finding["shot"] == "1A"
    data = finding["data"]
    assert data["reference"]["title"] == "work2"
    assert data["reference_frame"] == 0
    assert data["mirrored"] is True
    assert 0 <= data["hamming"] <= 14 and data["ssim"] >= 0.5
    evidence = finding["evidence"]
    assert evidence["kind"] == "image" and evidence["width"] > evidence["height"]
    with Image.open(evidence["path"]) as picture:  # the take beside the reference
        assert picture.height == 240

    # re-running replaces the findings instead of piling them up
    assert cli("check", "integrity").code == 0
    listed = cli("findings", "list", "--kind", "near_duplicate", "--json").json()
    assert len(listed) == 1


def test_a_take_copying_a_shot_of_a_reference_film_is_flagged(
    cli, film: Path, tmp_path: Path
) -> None:
    _corpus(cli, tmp_path)
    take = _take(cli, write_scene_video(tmp_path / "take.mp4", seeds=[50, 11], frames_each=8))
    result = cli("check", "integrity", "--take", take, "--json")
    assert result.code == 0, result.err
    (finding,) = result.json()["findings"]
    assert finding["data"]["reference"]["title"] == "film"
    assert finding["frame"] >= 8  # the copied shot is the take's second
    assert finding["data"]["reference_frame"] >= 8


def test_strict_exits_3_on_a_finding_and_the_report_shows_the_evidence(
    cli, film: Path, tmp_path: Path
) -> None:
    _corpus(cli, tmp_path)
    copy_of(scene(1)).save(tmp_path / "copy.png")
    _take(cli, tmp_path / "copy.png")
    result = cli("check", "integrity", "--strict", "--report", tmp_path / "integrity.html")
    assert result.code == 3
    assert "near_duplicate" in result.out and "work1" in result.out
    page = (tmp_path / "integrity.html").read_text()
    assert "work1" in page and page.count("data:image/png;base64,") == 1
    bad = cli("check", "integrity", "--report", tmp_path / "integrity.txt")
    assert bad.code == 2 and bad.err.count("\n") == 1


def test_no_corpus_means_no_findings(cli, film: Path, tmp_path: Path) -> None:
    scene(1).save(tmp_path / "a.png")
    _take(cli, tmp_path / "a.png")
    result = cli("check", "integrity", "--json")
    assert result.code == 0 and result.json()["findings"] == []


def test_a_take_with_no_decodable_frames_is_reported_and_the_others_checked(
    cli, film: Path, tmp_path: Path
) -> None:
    _corpus(cli, tmp_path)
    copy_of(scene(3)).save(tmp_path / "copy.png")
    copied = _take(cli, tmp_path / "copy.png")
    broken = _take(cli, write_scene_video(tmp_path / "b.mp4", seeds=[60], frames_each=4))
    with Production.open(film) as production:
        (stored,) = [
            t.media.path for t in list_takes(production) if t.id == broken and t.media is not None
        ]
    os.chmod(stored, stat.S_IWUSR | stat.S_IRUSR)
    Path(stored).write_bytes(b"\x00" * 64)  # the stored file is damaged on disk
    result = cli("check", "integrity")
    assert result.code == 4  # done in part: one take could not be read
    assert result.err.count("\n") == 1 and "was not checked" in result.err
    with Production.open(film) as production:
        findings = list_findings(production, kind="near_duplicate")
    assert [f.take for f in findings] == [copied]


def test_takes_are_checked_on_arrival_when_the_project_says_so(
    production: Production, make, tmp_path: Path
) -> None:
    library = tmp_path / "works"
    library.mkdir()
    scene(4).save(library / "painting.png")
    from setpiece.integrity.corpus import add_references

    add_references(production, [library])
    shot = make.shot("2B")
    copy_of(scene(4)).save(tmp_path / "copy.png")

    # off by default: importing checks nothing
    import_takes(production, shot, [tmp_path / "copy.png"])
    assert list_findings(production, kind="near_duplicate") == []

    production.config.settings["integrity"] = {"check_on_arrival": True}
    copy_of(scene(4)).resize((90, 60)).save(tmp_path / "copy2.png")
    result = import_takes(production, shot, [tmp_path / "copy2.png"])
    (finding,) = list_findings(production, kind="near_duplicate")
    assert finding.take == result.created[0].id
    assert finding.data["reference"]["title"] == "painting"
    assert finding.payload == read_payload("near_duplicate", finding.data)
    assert (
        isinstance(finding.payload, NearDuplicate) and finding.payload.reference.title == "painting"
    )


def test_a_failing_arrival_check_keeps_the_take_and_says_why(
    production: Production, make, tmp_path: Path, caplog
) -> None:
    shot = make.shot("3C")
    production.config.settings["integrity"] = {"check_on_arrival": True, "ssim": 7}
    scene(5).save(tmp_path / "a.png")
    result = import_takes(production, shot, [tmp_path / "a.png"])
    assert len(result.created) == 1
    assert "integrity check failed" in caplog.text
    assert "setpiece.toml [integrity] ssim: expected a number from 0 to 1, got 7" in caplog.text
    assert [t.id for t in list_takes(production, shot)] == [result.created[0].id]
    production.config.settings["integrity"] = {}
    assert check_integrity(production, [result.created[0].id]).checked == [result.created[0].id]


def test_setpiece_toml_turns_on_the_arrival_check(cli, film: Path, tmp_path: Path) -> None:
    _corpus(cli, tmp_path)
    with open(film / "setpiece.toml", "a") as toml:
        toml.write("\n[integrity]\ncheck_on_arrival = true\n")
    copy_of(scene(1)).save(tmp_path / "copy.png")
    result = cli("take", "import", "1A", tmp_path / "copy.png", "--json")
    assert result.code == 0, result.err
    take = result.json()["created"][0]["id"]
    (finding,) = cli("findings", "list", "--kind", "near_duplicate", "--json").json()
    assert finding["take"] == take and finding["data"]["reference"]["title"] == "work1"


def test_a_bad_integrity_setting_is_named(cli, film: Path, tmp_path: Path) -> None:
    with open(film / "setpiece.toml", "a") as toml:
        toml.write("\n[integrity]\nhamming = 99\n")
    result = cli("check", "integrity")
    assert result.code == 2 and result.err.count("\n") == 1
    assert (
        "setpiece.toml [integrity] hamming: expected a whole number from 0 to 32, got 99"
        in result.err
    )
