"""`pipeline.deliver`: `edit assemble` and `make` deliver a cut the same way, or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_make import ONE_SCENE

import locked
from mediafactory import write_png
from setpiece.errors import ExitCode

unwritable = locked.unwritable

DELIVERED = {"otio", "edl", "movie", "contact_sheet"}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*"))


@pytest.mark.slow
def test_edit_assemble_and_make_deliver_the_same_things_the_same_way(cli, tmp_path: Path) -> None:
    script = tmp_path / "kettle.fountain"
    script.write_text(ONE_SCENE)
    project = tmp_path / "kettle"
    made = cli(
        "make", script, "--project", project, "--kind", "image", "--resolution", "320x180", "--json"
    )
    assert made.code == 0, made.err
    report = made.json()
    steps = {s["step"]: s for s in report["steps"]}
    outputs = report["outputs"]
    out = tmp_path / "edit"
    out.mkdir()
    edit = cli(
        "-C",
        project,
        "edit",
        "assemble",
        "--otio",
        out / "cut.otio",
        "--edl",
        out / "cut.edl",
        "--movie",
        out / "preview.mp4",
        "--burn-in",
        "--contact-sheet",
        out / "contact-sheet.png",
        "--json",
    )
    assert edit.code == 0, edit.err
    delivery = edit.json()["delivery"]

    # The same deliverables, each signed (the timelines with a sidecar) and verified.
    assert set(delivery["files"]) == DELIVERED == set(outputs) & DELIVERED
    assert set(delivery["manifests"]) == {"otio", "edl"}
    assert {f"{k}_manifest" for k in delivery["manifests"]} <= set(outputs)
    for kind, sidecar in delivery["manifests"].items():
        assert sidecar == delivery["files"][kind] + ".c2pa" and Path(sidecar).is_file()
        assert outputs[f"{kind}_manifest"] == outputs[kind] + ".c2pa"
    assert delivery["verified"] == steps["sign"]["figures"]["verified"]
    assert set(delivery["verified"].values()) == {"Valid"} and delivery["ok"]
    assert delivery["signer"] in steps["sign"]["detail"]
    # The same cut: identical timelines.
    for kind in ("otio", "edl"):
        assert Path(delivery["files"][kind]).read_bytes() == Path(outputs[kind]).read_bytes()
    # The disclosure beside the files, saying the same.
    json_path, html_path = map(Path, delivery["disclosure"])
    assert json_path.parent == html_path.parent == out
    assert Path(outputs["disclosure_json"]).parent == Path(outputs["otio"]).parent
    assert json.loads(json_path.read_text()) == json.loads(
        Path(outputs["disclosure_json"]).read_text()
    )
    assert html_path.suffix == ".html" and Path(outputs["disclosure_html"]).is_file()
    # `setpiece verify` agrees with what the delivery reported.
    for kind, path in delivery["files"].items():
        checked = cli("verify", path, "--json")
        assert checked.json()["state"] == delivery["verified"][kind], (kind, checked.err)


def _film_with_a_take(cli, tmp_path: Path) -> Path:
    assert cli("init", "film", "--name", "Night Train", "--fps", "24").code == 0
    project = tmp_path / "film"
    assert cli("-C", project, "scene", "add", "--heading", "INT. TRAIN - NIGHT").code == 0
    added = cli("-C", project, "shot", "add", "1", "--code", "1A", "--duration", "1")
    assert added.code == 0, added.err
    still = write_png(tmp_path / "a.png")
    assert cli("-C", project, "take", "import", "1A", still).code == 0
    return project


def test_edit_assemble_json_keeps_the_cut_and_adds_the_delivery(cli, tmp_path: Path) -> None:
    project = _film_with_a_take(cli, tmp_path)
    plain = cli("-C", project, "edit", "assemble", "--json")
    assert plain.code == 0, plain.err
    cut = plain.json()
    assert "delivery" not in cut
    out = tmp_path / "out"
    out.mkdir()
    delivered = cli(
        "-C",
        project,
        "edit",
        "assemble",
        "--include-unapproved",
        "--edl",
        out / "cut.edl",
        "--json",
    )
    assert delivered.code == 0, delivered.err
    document = delivered.json()
    assert set(cut) < set(document) and set(document) - set(cut) == {"delivery"}
    assert document["clips"][0]["status"] == "unapproved"  # the newest take, not circled
    delivery = document["delivery"]
    assert delivery["files"] == {"edl": str(out / "cut.edl")}
    assert delivery["manifests"] == {"edl": str(out / "cut.edl.c2pa")}
    assert delivery["verified"] == {"edl": "Valid"} and delivery["ok"]
    assert delivery["disclosure"] == [
        str(out / "cut.disclosure.json"),
        str(out / "cut.disclosure.html"),
    ]
    assert delivery["signer"]
    assert _leftovers(out) == sorted(
        ["cut.edl", "cut.edl.c2pa", "cut.disclosure.json", "cut.disclosure.html"]
    )
    human = cli("-C", project, "edit", "assemble", "--include-unapproved", "--edl", out / "cut.edl")
    assert human.code == 0, human.err
    assert f"edl: {out / 'cut.edl'} (Valid)" in human.out
    assert f"signed sidecar: {out / 'cut.edl.c2pa'}" in human.out
    assert f"AI-use disclosure: {out / 'cut.disclosure.json'}" in human.out


def test_a_read_only_folder_exits_5_and_nothing_is_delivered(
    cli, tmp_path: Path, unwritable: Path
) -> None:
    project = _film_with_a_take(cli, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    before = _leftovers(unwritable) if unwritable != Path("/proc") else None
    for args in (
        ["--otio", out / "cut.otio", "--movie", unwritable / "cut.mp4"],
        ["--edl", unwritable / "cut.edl"],
        ["--otio", unwritable / "cut.otio", "--edl", out / "cut.edl"],
        ["--contact-sheet", unwritable / "sheet.png"],
    ):
        result = cli("-C", project, "edit", "assemble", "--include-unapproved", *args)
        assert result.code == ExitCode.ENVIRONMENT, result.err
        assert result.err.count("\n") == 1 and "cannot write" in result.err, result.err
        assert str(unwritable) in result.err
        assert _leftovers(out) == [], args  # no timeline, sidecar or disclosure without its cut
    if before is not None:
        assert _leftovers(unwritable) == before
    else:
        assert not any((unwritable / name).exists() for name in ("cut.mp4", "cut.edl"))


def test_a_failure_mid_way_undoes_what_the_delivery_wrote(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from setpiece.edit import movie
    from setpiece.errors import StorageError

    project = _film_with_a_take(cli, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "cut.edl").write_text("an older cut")

    def full_disk(*args: object, **kwargs: object) -> None:
        raise StorageError("cannot write preview.mp4: No space left on device")

    monkeypatch.setattr(movie, "write_preview", full_disk)
    result = cli(
        "-C",
        project,
        "edit",
        "assemble",
        "--include-unapproved",
        "--otio",
        out / "cut.otio",
        "--edl",
        out / "cut.edl",
        "--movie",
        out / "cut.mp4",
    )
    assert result.code == ExitCode.ENVIRONMENT, result.err
    assert "No space left on device" in result.err
    # The timelines it had written and signed are gone, no disclosure was written, and the
    # EDL delivered before is back as it was (nothing lost).
    assert _leftovers(out) == ["cut.edl"]
    assert (out / "cut.edl").read_text() == "an older cut"


def test_a_file_that_does_not_verify_exits_4_and_says_which(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from setpiece.provenance import credentials

    project = _film_with_a_take(cli, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    verify = credentials.verify_file

    def tampered(path: Path, settings: object = None) -> credentials.Verification:
        found = verify(path, settings)  # type: ignore[arg-type]
        if path.suffix != ".edl":
            return found
        return credentials.Verification(str(path), "Invalid", ["hash mismatch"], None)

    monkeypatch.setattr(credentials, "verify_file", tampered)
    result = cli(
        "-C",
        project,
        "edit",
        "assemble",
        "--include-unapproved",
        "--otio",
        out / "cut.otio",
        "--edl",
        out / "cut.edl",
    )
    assert result.code == ExitCode.PARTIAL, result.err
    assert f"edl: {out / 'cut.edl'} (Invalid)" in result.out
    assert f"otio: {out / 'cut.otio'} (Valid)" in result.out


def test_delivering_again_replaces_the_files_and_keeps_no_copies(cli, tmp_path: Path) -> None:
    project = _film_with_a_take(cli, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    args = ["--otio", out / "cut.otio", "--edl", out / "cut.edl"]
    for _ in range(2):
        result = cli("-C", project, "edit", "assemble", "--include-unapproved", *args)
        assert result.code == ExitCode.DONE, result.err
    assert not [name for name in _leftovers(out) if "setpiece-previous" in name]
    assert {"cut.otio", "cut.edl", "cut.otio.c2pa", "cut.edl.c2pa"} <= set(_leftovers(out))


SPOKEN = """Title: Lines

INT. BOOTH - NIGHT #1#

MARA sets the reel down.

MARA
Guard that.

TEO (O.S.)
I will.

MARA ^
It is the only print left.

INT. HALL - NIGHT #2#

TEO
Gone.
"""


def test_a_delivery_speaks_its_lines_signs_their_audio_and_discloses_them(
    production, tmp_path: Path
) -> None:
    import wave
    import zipfile
    from fractions import Fraction

    import av
    import numpy as np

    from setpiece.edit.sound import sample_at
    from setpiece.pipeline.deliver import deliver_cut
    from setpiece.production.cut import assemble
    from setpiece.production.dialogue import add_line_take
    from setpiece.production.shots import SubjectSpec, add_shot
    from setpiece.provenance.credentials import verify_file
    from setpiece.script.importer import import_script

    script = tmp_path / "lines.fountain"
    script.write_text(SPOKEN, encoding="utf-8")
    import_script(production, script)
    add_shot(production, "1", "1A", subjects=[SubjectSpec("MARA")], duration=4)
    add_shot(production, "2", "2A", duration=2)
    for number, (line, seconds) in enumerate(
        {"1/1": 0.6, "1/2": 0.8, "1/3": 1.0, "2/1": 0.5}.items()
    ):
        path = tmp_path / f"take{number}.wav"
        count = round(seconds * 22050)
        noise = np.random.default_rng(number).uniform(-0.3, 0.3, count)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(22050)
            out.writeframes((noise * 32767).astype("<i2").tobytes())
        add_line_take(production, line, path, frames=count, sample_rate=22050, lufs=None)
    cut = assemble(production)
    out = tmp_path / "out"
    out.mkdir()

    report = deliver_cut(
        production,
        cut,
        otio=out / "cut.otioz",
        edl=out / "cut.edl",
        movie=out / "preview.mp4",
    )

    assert report.ok, report.verified
    placed = report.dialogue
    assert placed is not None and [p.line.line for p in placed.lines] == [
        "1/1",
        "1/2",
        "1/3",
        "2/1",
    ]
    assert placed.lines[1].record_in == placed.lines[2].record_in  # the dual pair
    assert report.preview is not None and report.preview.lines == 4
    with av.open(str(out / "preview.mp4")) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    one_frame = sample_at(1, cut.fps)
    for item in placed.lines:
        at = sample_at(item.record_in, cut.fps)
        assert np.abs(sound[:, at - 2 * one_frame : at - one_frame]).max() < 0.02 or item.track > 1
        assert np.abs(sound[:, at + one_frame : at + 2 * one_frame]).max() > 0.02
    with zipfile.ZipFile(out / "cut.otioz") as bundle:
        wavs = [n for n in bundle.namelist() if n.endswith(".wav")]
        bundle.extractall(tmp_path / "unzipped", wavs)
    assert len(wavs) == 4
    for name in wavs:
        assert verify_file(tmp_path / "unzipped" / name).state in ("Valid", "Trusted")
    edl = (out / "cut.edl").read_text()
    assert sum(1 for row in edl.splitlines() if row[:3].isdigit() and " A" in row[10:25]) == 4
    disclosed = json.loads(report.disclosure_files[0].read_text())["dialogue"]
    assert [line["speech"] for line in disclosed["lines"]] == ["recorded"] * 4
    assert {c["character"] for c in disclosed["characters"]} == {"MARA", "TEO"}
    assert report.to_json()["lines"] == 4 and Fraction(report.preview.fps) == cut.fps
