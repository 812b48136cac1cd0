"""The provenance commands as a user meets them: delivery, verify, detect, and every bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from conftest import CliRun
from provenance.media import write_textured, write_textured_mp4


@pytest.fixture
def film(cli, tmp_path: Path) -> Path:
    assert cli("init", "film", "--name", "Night Train", "--resolution", "320x180").code == 0
    os.chdir(tmp_path / "film")
    assert cli("scene", "add", "--heading", "INT. TRAIN - NIGHT").code == 0
    assert cli("shot", "add", "1", "--code", "1A", "--duration", "1").code == 0
    assert cli("shot", "add", "1", "--code", "1B", "--duration", "1").code == 0
    return tmp_path / "film"


def one_line_error(run: CliRun) -> None:
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("setpiece: error: ")


def import_take(cli, shot: str, path: Path, *extra: str) -> str:
    run = cli("take", "import", shot, path, *extra, "--json")
    assert run.code == 0, run.err
    return run.json()["created"][0]["id"]


def test_exported_still_is_signed_valid_and_watermarked(cli, film: Path, tmp_path: Path) -> None:
    take = import_take(
        cli, "1A", write_textured(tmp_path / "gen.png"), "--generator", "runway", "--model", "gen4"
    )
    assert cli("keys", "init").code == 0
    out = tmp_path / "delivered.jpg"
    run = cli("take", "export", "1A/1", out, "--json")
    assert run.code == 0, run.err
    assert run.json()["watermarked"] and run.json()["signature"]["embedded"]
    report = cli("verify", out, "--json")
    assert report.code == 0 and report.json()["state"] == "Valid"
    found = cli("watermark", "detect", out, "--json").json()
    assert found["found"] and found["take"] == take and found["project"] == "Night Train"
    recompressed = tmp_path / "q70.jpg"
    Image.open(out).save(recompressed, quality=70)
    assert cli("watermark", "detect", recompressed, "--json").json()["take"] == take
    half = tmp_path / "half.png"
    Image.open(out).resize((160, 90)).save(half)
    assert cli("watermark", "detect", half, "--json").json()["take"] == take
    # The store keeps the clean master, and refuses to be signed in place.
    master = Path(cli("take", "show", "1A/1", "--json").json()["media"]["path"])
    assert cli("watermark", "detect", master, "--json").json() == {"found": False, "frames": 1}
    before = master.read_bytes()
    run = cli("sign", master)
    one_line_error(run)
    assert "media store" in run.err and master.read_bytes() == before


def test_tampered_export_is_invalid_and_exits_3(cli, film: Path, tmp_path: Path) -> None:
    import_take(cli, "1A", write_textured(tmp_path / "gen.png"), "--generator", "runway")
    out = tmp_path / "delivered.png"
    assert cli("take", "export", "1A/1", out).code == 0
    data = bytearray(out.read_bytes())
    data[200] ^= 0xFF
    out.write_bytes(bytes(data))
    run = cli("verify", out, "--json")
    assert run.code == 3 and run.json()["state"] == "Invalid"
    assert run.json()["reasons"]


def test_movie_export_is_valid_and_carries_the_take(cli, film: Path, tmp_path: Path) -> None:
    clip = write_textured_mp4(tmp_path / "gen.mp4", frames=6, width=640, height=360)
    take = import_take(cli, "1A", clip, "--generator", "veo", "--model", "veo-3")
    out = tmp_path / "delivered.mp4"
    assert cli("take", "export", take, out).code == 0
    assert cli("verify", out, "--json").json()["state"] == "Valid"
    found = cli("watermark", "detect", out, "--json").json()
    assert found["found"] and found["take"] == take and found["frames"] == 6


def test_unmarked_picture_is_found_false(cli, tmp_path: Path) -> None:
    run = cli("watermark", "detect", write_textured(tmp_path / "plain.jpg", seed=9), "--json")
    assert run.code == 0 and run.json()["found"] is False


def test_detect_on_something_not_a_picture(cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\x00" * 100)
    one_line_error(cli("watermark", "detect", junk))


def test_export_bad_inputs_write_nothing(cli, film: Path, tmp_path: Path) -> None:
    import_take(cli, "1A", write_textured(tmp_path / "gen.png"), "--generator", "runway")
    before = sorted(p.name for p in tmp_path.iterdir())
    one_line_error(cli("take", "export", "1A/1", tmp_path / "out.mp4"))
    one_line_error(cli("take", "export", "1A/1", tmp_path / "out.txt"))
    one_line_error(cli("take", "export", "1A/9", tmp_path / "out.jpg"))
    one_line_error(cli("take", "export", "1A/1", tmp_path / "missing" / "out.jpg"))
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_sign_with_expired_or_mismatched_identity_is_refused(
    cli, film: Path, tmp_path: Path
) -> None:
    import datetime as dt

    from setpiece.provenance.keys import init_dev_keys

    expired = init_dev_keys(
        tmp_path / "expired", now=dt.datetime.now(dt.UTC) - dt.timedelta(days=400), days=10
    )
    other = init_dev_keys(tmp_path / "other")
    picture = write_textured(tmp_path / "still.png")
    before = picture.read_bytes()
    toml = film / "setpiece.toml"
    original = toml.read_text()
    toml.write_text(
        original + f'\n[provenance]\ncertificate = "{expired.certificate}"\nkey = "{expired.key}"\n'
    )
    run = cli("sign", picture)
    one_line_error(run)
    assert "expired" in run.err
    toml.write_text(
        original + f'\n[provenance]\ncertificate = "{other.certificate}"\nkey = "{expired.key}"\n'
    )
    run = cli("sign", picture, "--out", tmp_path / "signed.png")
    one_line_error(run)
    assert "does not match" in run.err
    toml.write_text(original + '\n[provenance]\nwatermark = "yes"\n')
    run = cli("sign", picture)
    one_line_error(run)
    assert 'setpiece.toml [provenance] watermark: expected true or false, got "yes"' in run.err
    assert picture.read_bytes() == before
    assert not (tmp_path / "signed.png").exists()


def test_sign_any_file_and_sidecar_for_other_formats(cli, film: Path, tmp_path: Path) -> None:
    picture = write_textured(tmp_path / "still.png")
    assert cli("sign", picture, "--out", tmp_path / "signed.png").code == 0
    assert cli("verify", tmp_path / "signed.png", "--json").json()["state"] == "Valid"
    shown = cli("verify", tmp_path / "signed.png").out.splitlines()
    assert shown[0].endswith(": Valid") and any(x.startswith("  signed by ") for x in shown)
    assert any(line.startswith("  c2pa.opened") for line in shown)
    notes = tmp_path / "notes.edl"
    notes.write_text("TITLE: CUT\n", encoding="utf-8")
    run = cli("sign", notes)
    assert run.code == 0 and "sidecar" in run.out
    assert (tmp_path / "notes.edl.c2pa").is_file()
    assert cli("verify", notes, "--json").json()["state"] == "Valid"


def test_verify_unsigned_says_no_manifest(cli, tmp_path: Path) -> None:
    run = cli("verify", write_textured(tmp_path / "plain.png"), "--json")
    assert run.code == 3 and run.json()["state"] == "none"
    one_line_error(cli("verify", tmp_path / "nothing.png"))


def test_assemble_delivers_movie_sheet_bundle_and_disclosure(
    cli, film: Path, tmp_path: Path
) -> None:
    pytest.importorskip("opentimelineio")
    take = import_take(
        cli,
        "1A",
        write_textured_mp4(tmp_path / "a.mp4", frames=24, width=320, height=180),
        "--generator",
        "veo",
        "--model",
        "veo-3",
    )
    assert cli("review", "approve", "1A", take).code == 0
    movie, bundle = tmp_path / "cut.mp4", tmp_path / "cut.otioz"
    run = cli("edit", "assemble", "--movie", movie, "--otio", bundle)
    assert run.code == 0, run.err
    assert cli("verify", movie, "--json").json()["state"] == "Valid"
    assert cli("verify", bundle, "--json").json()["state"] == "Valid"
    assert (tmp_path / "cut.otioz.c2pa").is_file()
    found = cli("watermark", "detect", movie, "--json").json()
    assert found["found"] and found["project"] == "Night Train"
    disclosure = json.loads((tmp_path / "cut.disclosure.json").read_text())
    assert disclosure["generated_frames"] == 24 and disclosure["total_frames"] == 48
    assert (tmp_path / "cut.disclosure.html").read_text().count("veo-3") >= 1
    # One small textured panel, a slate and paper: too flat to carry a mark, and said so.
    sheet = tmp_path / "sheet.png"
    drawn = cli("contact-sheet", sheet)
    assert drawn.code == 0 and "too flat to carry a watermark" in drawn.out
    assert cli("verify", sheet, "--json").json()["state"] == "Valid"
    assert cli("watermark", "detect", sheet, "--json").json() == {"found": False, "frames": 1}
    said = setpiece_assertion(cli, sheet)
    assert said["watermark"] is None and "too flat" in said["watermark_note"]
    import zipfile

    with zipfile.ZipFile(bundle) as archive:
        inside = [n for n in archive.namelist() if n.startswith("media/")]
    assert len(inside) == 1


IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def source_types(cli, path: Path) -> list[str]:
    """The digitalSourceType of every action in the file's signed, valid manifest."""
    report = cli("verify", path, "--json")
    assert report.code == 0 and report.json()["state"] == "Valid", report.out
    manifest = report.json()["manifest"]
    return [
        action["digitalSourceType"].removeprefix(IPTC)
        for assertion in manifest["assertions"]
        if assertion["label"].startswith("c2pa.actions")
        for action in assertion["data"]["actions"]
        if "digitalSourceType" in action
    ]


def setpiece_assertion(cli, path: Path) -> dict:
    manifest = cli("verify", path, "--json").json()["manifest"]
    (found,) = [a["data"] for a in manifest["assertions"] if a["label"] == "org.setpiece.take"]
    return found


def test_previs_is_algorithmic_media_and_a_trained_take_makes_the_cut_trained(
    cli, film: Path, tmp_path: Path
) -> None:
    run = cli("render", "1A", "1B", "--json")
    assert run.code == 0, run.err
    previs = cli("take", "show", "1A/1", "--json").json()
    assert previs["recipe"]["parameters"]["origin"] == "algorithm"
    # A delivered previs take: drawn by an algorithm, no trained model.
    out = tmp_path / "previs.png"
    assert cli("take", "export", "1A/1", out).code == 0
    assert source_types(cli, out) == ["algorithmicMedia"]
    assert setpiece_assertion(cli, out)["origin"] == "algorithm"
    # A cut of previs only is a synthetic composite, not one with trained media.
    assert cli("review", "approve", "1A", "1A/1").code == 0
    assert cli("review", "approve", "1B", "1B/1").code == 0
    sheet = tmp_path / "previs-sheet.png"
    assert cli("contact-sheet", sheet).code == 0
    assert source_types(cli, sheet) == ["compositeSynthetic"]
    # One take from Runway, imported: the cut now holds trained media.
    runway = import_take(cli, "1B", write_textured(tmp_path / "gen.png"), "--generator", "runway")
    assert cli("take", "show", runway, "--json").json()["recipe"]["parameters"] == {
        "origin": "trained"
    }
    gen = tmp_path / "runway.png"
    assert cli("take", "export", runway, gen).code == 0
    assert source_types(cli, gen) == ["trainedAlgorithmicMedia"]
    assert cli("review", "approve", "1B", runway).code == 0
    mixed = tmp_path / "mixed-sheet.png"
    assert cli("contact-sheet", mixed).code == 0
    assert source_types(cli, mixed) == ["compositeWithTrainedAlgorithmicMedia"]
    clips = {c["shot"]: c["origin"] for c in setpiece_assertion(cli, mixed)["clips"]}
    assert clips == {"1A": "algorithm", "1B": "trained"}


def test_imported_origins_camera_and_derived(cli, film: Path, tmp_path: Path) -> None:
    # No generator named: nothing is claimed (opened from its master, no source type).
    plain = import_take(cli, "1A", write_textured(tmp_path / "plain.png", seed=2))
    assert "origin" not in cli("take", "show", plain, "--json").json()["recipe"]["parameters"]
    out = tmp_path / "plain-out.png"
    assert cli("take", "export", plain, out).code == 0
    assert source_types(cli, out) == []
    # Said to be a camera's: a digital capture.
    camera = import_take(
        cli, "1A", write_textured(tmp_path / "cam.png", seed=3), "--param", "origin=captured"
    )
    out = tmp_path / "cam-out.png"
    assert cli("take", "export", camera, out).code == 0
    assert source_types(cli, out) == ["digitalCapture"]
    # A take imported as derived from a previs take keeps the drawing's origin.
    assert cli("render", "1B").code == 0
    child = import_take(
        cli, "1B", write_textured(tmp_path / "graded.png", seed=4), "--parent", "1B/1"
    )
    assert cli("take", "show", child, "--json").json()["recipe"]["parameters"] == {
        "origin": "algorithm"
    }
    out = tmp_path / "child-out.png"
    assert cli("take", "export", child, out).code == 0
    assert source_types(cli, out) == ["algorithmicMedia"]
    # An origin that is none of the words is refused.
    run = cli(
        "take",
        "import",
        "1A",
        write_textured(tmp_path / "x.png", seed=5),
        "--param",
        "origin=magic",
    )
    one_line_error(run)
    assert "origin" in run.err and "trained" in run.err


def test_a_still_too_flat_for_a_mark_is_delivered_unmarked_and_says_so(
    cli, film: Path, tmp_path: Path
) -> None:
    flat = tmp_path / "grey.png"
    Image.new("RGB", (320, 180), (128, 128, 128)).save(flat)
    import_take(cli, "1B", flat)
    out = tmp_path / "flat-delivered.png"
    run = cli("take", "export", "1B/1", out, "--json")
    assert run.code == 0, run.err
    assert run.json()["watermarked"] is False
    assert "too flat to carry a watermark" in run.json()["note"]
    assert Image.open(out).getextrema() == ((128, 128), (128, 128), (128, 128))
    assert cli("watermark", "detect", out, "--json").json() == {"found": False, "frames": 1}
    plain = cli("take", "export", "1B/1", tmp_path / "again.png")
    assert plain.code == 0 and "too flat to carry a watermark" in plain.out


def test_a_contact_sheet_of_textured_takes_carries_the_mark(cli, tmp_path: Path) -> None:
    assert cli("init", "busy", "--name", "Night Train", "--resolution", "640x360").code == 0
    os.chdir(tmp_path / "busy")
    assert cli("scene", "add", "--heading", "EXT. YARD - DAY").code == 0
    for number in range(8):
        code = f"1{'ABCDEFGH'[number]}"
        assert cli("shot", "add", "1", "--code", code, "--duration", "1").code == 0
        still = write_textured(tmp_path / f"{code}.png", width=640, height=360, seed=number)
        assert cli("review", "approve", code, import_take(cli, code, still)).code == 0
    sheet = tmp_path / "sheet.png"
    drawn = cli("contact-sheet", sheet)
    assert drawn.code == 0 and "too flat" not in drawn.out
    assert cli("verify", sheet, "--json").json()["state"] == "Valid"
    found = cli("watermark", "detect", sheet, "--json").json()
    assert found["found"] and found["project"] == "Night Train"
    assert setpiece_assertion(cli, sheet)["watermark"] == "setpiece-watermark-v1"


def test_a_copy_marked_by_another_project_is_not_marked_again(
    cli, film: Path, tmp_path: Path
) -> None:
    """Two projects' marks on one picture: the second would hide the first, so delivery
    refuses, and what detect reads stays the first project's take, never a mix."""
    take = import_take(cli, "1A", write_textured(tmp_path / "gen.png", width=640, height=360))
    delivered = tmp_path / "delivered.png"
    assert cli("take", "export", "1A/1", delivered).code == 0
    os.chdir(tmp_path)
    assert cli("init", "other", "--name", "Day Bus", "--resolution", "320x180").code == 0
    os.chdir(tmp_path / "other")
    run = cli("watermark", "embed", delivered, tmp_path / "twice.png", "--take", "abcdefgh")
    one_line_error(run)
    assert "already carries a watermark" in run.err and take in run.err
    assert not (tmp_path / "twice.png").exists()
    found = cli("watermark", "detect", delivered, "--json").json()
    assert found["found"] and found["take"] == take  # the project as a code: not this one's
