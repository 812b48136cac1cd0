"""The bible from the command line: every bad input the issue lists, one line, exit 2, nothing
written; and the path of a user from the script's descriptions to ``render --stale``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from cli.test_cli import bad, snapshot
from mediafactory import write_bomb_png

DEMO = Path(__file__).resolve().parents[2] / "src" / "setpiece" / "pipeline" / "demo.fountain"

# The storage half runs on both databases in tests/production/test_bible.py.
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def reel(cli, tmp_path: Path, database_url: str | None) -> Path:
    """The Last Reel imported and planned; MARA with a photograph; her scenes rendered."""
    assert cli("init", "film").code == 0
    os.chdir(tmp_path / "film")
    assert cli("script", "import", DEMO).code == 0
    assert cli("shot", "plan").code == 0
    assert cli("character", "accept", "MARA").code == 0
    photo = tmp_path / "mara.png"  # a photograph with one face (references are checked)
    Image.fromarray(data.astronaut()).save(photo)
    assert cli("character", "set", "MARA", "--ref", photo).code == 0
    for scene in ("1", "3"):  # MARA's scenes
        assert cli("render", "--scene", scene).code == 0
    return tmp_path / "film"


@SQLITE
def test_the_bad_inputs_of_the_issue(cli, reel: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("INT. BOOTH - NIGHT\n" * 20)
    bomb = write_bomb_png(tmp_path / "bomb.png")
    empty = tmp_path / "consent.pdf"
    empty.write_bytes(b"")
    look = ["character", "look", "MARA", "--description", "coat"]
    cases: list[tuple[list[object], str]] = [
        (["character", "set", "MARA", "--ref", text], "notes.png"),
        (["character", "set", "MARA", "--ref", bomb], "decompression-bomb"),
        (["character", "set", "NOBODY", "--description", "x"], "no character 'NOBODY'"),
        (["character", "set", "MARA", "--rename", "TEO"], "character TEO already exists"),
        ([*look, "--from-scene", "3", "--to-scene", "1"], "run backwards"),
        ([*look, "--from-scene", ""], "scene range is empty"),
        ([*look, "--from-scene", "9"], "no scene '9'"),
        (["character", "set", "MARA", "--remove-ref", "2"], "has no reference 2"),
        (
            [
                "character",
                "likeness",
                "MARA",
                "--person",
                "Ada Lee",
                "--consent",
                tmp_path / "nothing.pdf",
                "--date",
                "2026-11-02",
                "--scope",
                "film",
            ],
            "does not exist",
        ),
        (
            [
                "character",
                "likeness",
                "MARA",
                "--person",
                "Ada Lee",
                "--consent",
                empty,
                "--date",
                "2026-11-02",
                "--scope",
                "film",
            ],
            "is empty",
        ),
        (["character", "remove", "MARA"], "remove it anyway with --force"),
        (
            ["character", "set", "MARA", "--description", "x", "--if-version", "1"],
            "changed since version 1: it is now version 3",
        ),
    ]
    before = snapshot(reel)
    for args, fragment in cases:
        bad(cli(*args), fragment)
    assert snapshot(reel) == before
    assert cli(*look, "--from-scene", "2", "--to-scene", "3").code == 0
    before = snapshot(reel)
    bad(cli(*look, "--from-scene", "3"), "overlaps its look for scenes 2-3")
    assert snapshot(reel) == before


@SQLITE
def test_a_look_from_scene_3_and_render_stale(cli, reel: Path) -> None:
    show = cli("character", "show", "MARA", "--json").json()
    assert show["description"] == "60s, grey braid, ink-stained fingers"
    assert show["candidate_description"] == show["description"] and show["version"] == 3
    assert cli("render", "--stale").out.strip() == "nothing is stale"
    assert (
        cli(
            "character",
            "look",
            "MARA",
            "--from-scene",
            "3",
            "--description",
            "oilskin coat, wet hair",
        ).code
        == 0
    )
    takes = cli("take", "list", "--json").json()
    stale = {f"{t['shot']}/{t['number']}": t["stale_because"] for t in takes if t["stale"]}
    mara_in_3 = {
        s["code"]
        for s in cli("shot", "list", "--scene", "3", "--json").json()
        if any(x["name"] == "MARA" for x in s["subjects"])
    }
    assert {label.split("/")[0] for label in stale} == mara_in_3
    assert all(
        why == [{"entry": "character/MARA look scenes 3-", "was": None, "now": 1}]
        for why in stale.values()
    )
    status = cli("status", "--json").json()
    assert sorted(status["stale_shots"]) == sorted(mara_in_3)
    dry = cli("render", "--stale", "--dry-run")
    assert dry.code == 0 and "look: oilskin coat, wet hair" in dry.out
    again = cli("render", "--stale")
    assert again.code == 0 and f"queued {len(mara_in_3)} take(s)" in again.out
    assert cli("render", "--stale").out.strip() == "nothing is stale"
    takes = cli("take", "list", "--json").json()
    assert sum(t["stale"] for t in takes) == len(mara_in_3)  # kept, never deleted


@SQLITE
def test_rename_remove_force_and_the_disclosure_of_a_likeness(
    cli, reel: Path, tmp_path: Path
) -> None:
    assert cli("character", "set", "MARA", "--rename", "MARA VOSS").code == 0
    assert cli("character", "show", "MARA", "--json").json()["aliases"] == ["MARA"]
    dry = cli("render", "1F", "--dry-run")
    assert "MARA VOSS (60s, grey braid, ink-stained fingers)" in dry.out
    consent = tmp_path / "consent.pdf"
    consent.write_bytes(b"%PDF-1.4 Ada Lee agrees")
    assert cli("character", "likeness", "MARA VOSS", "--person", "Ada Lee").code == 0
    assert (
        cli(
            "character",
            "likeness",
            "MARA",
            "--person",
            "Ada Lee",
            "--consent",
            consent,
            "--date",
            "2026-11-02",
            "--scope",
            "this film, festival and streaming",
        ).code
        == 0
    )
    report = cli("disclose", "--include-unapproved", "--json").json()
    assert report["likenesses"][0]["character"] == "MARA VOSS"
    assert report["likenesses"][0]["person"] == "Ada Lee"
    assert report["likenesses"][0]["scope"] == "this film, festival and streaming"
    assert len(report["likenesses"][0]["consent_sha256"]) == 64
    assert cli("character", "remove", "TEO", "--force").code == 0
    assert cli("take", "list", "--json").json()  # the takes stay


def test_the_command_a_user_types(tmp_path: Path) -> None:
    """The installed ``setpiece`` command, as a subprocess: import, list, a refusal."""
    setpiece = Path(sys.executable).with_name("setpiece")
    env = {**os.environ, "SETPIECE_USER": "ana"}

    def run(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(setpiece), *map(str, args)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("init", "film", cwd=tmp_path).returncode == 0
    film = tmp_path / "film"
    assert run("script", "import", DEMO, cwd=film).returncode == 0
    listing = run("character", "list", cwd=film)
    assert "(script: 60s, grey braid, ink-stained fingers)" in listing.stdout
    refused = run("character", "accept", "NOBODY", cwd=film)
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
