"""`setpiece check continuity` and `setpiece match` as a user meets them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from faces_media import another_person, astronaut, astronaut_again, save, tinted


@pytest.fixture
def film(cli, tmp_path: Path) -> Path:
    """ANNA (two photos of one person), shots 1A and 1B of one scene; 1A shows a stranger."""
    pics = tmp_path / "pics"
    pics.mkdir()
    assert cli("init", "film", "--resolution", "512x512")[0] == 0
    os.chdir(tmp_path / "film")
    save(pics / "a1.png", astronaut())
    save(pics / "a2.png", astronaut_again())
    assert cli("scene", "add", "--heading", "INT. HANGAR - DAY")[0] == 0
    assert (
        cli("character", "add", "ANNA", "--ref", pics / "a1.png", "--ref", pics / "a2.png")[0] == 0
    )
    for code in ("1A", "1B"):
        assert (
            cli("shot", "add", "1", "--code", code, "--size", "CU", "--characters", "ANNA")[0] == 0
        )
    assert (
        cli("take", "import", "1A", save(pics / "stranger.png", another_person(size=342)))[0] == 0
    )
    graded = tinted(astronaut(), (1.0, 0.75, 0.45))
    assert cli("take", "import", "1B", save(pics / "graded.png", graded))[0] == 0
    return pics


def test_check_json_html_strict_and_match(cli, film: Path, tmp_path: Path) -> None:
    # 1A/1 (the stranger) fills the frame: its look is not measured; 1A/2 is 1A's latest.
    assert cli("take", "import", "1A", film / "a1.png")[0] == 0
    code, out, err = cli("check", "continuity", "--json", "--html", tmp_path / "report.html")
    assert code == 0, err
    report = json.loads(out)
    assert report["takes_checked"] == 3
    kinds = sorted(f["kind"] for f in report["findings"])
    # The stranger is an LFW face blown up from 25 px: too blurred to say who it is.
    assert kinds == ["identity_uncertain", "look_jump"]
    drift = next(f for f in report["findings"] if f["kind"] == "identity_uncertain")
    assert set(drift) >= {
        "kind",
        "shot",
        "take",
        "character",
        "frame",
        "score",
        "threshold",
        "detail",
    }
    assert drift["character"] == "ANNA" and drift["score"] is None
    assert drift["data"]["frames"] == [0] and "1 blurred" in drift["data"]["reason"]
    assert drift["data"]["embedder"] == "dlib-resnet-v1"
    assert "identity judged by dlib-resnet-v1" in report["notes"]
    page = (tmp_path / "report.html").read_text()
    assert "identity_uncertain" in page and page.count("data:image/png;base64,") == 2
    for take_id, label in report["labels"].items():  # takes as SHOT/NUMBER, never ids
        assert take_id not in page and label in page

    assert cli("check", "continuity", "--strict")[0] == 3
    code, out, _ = cli("findings", "list", "--json")
    assert sorted(f["kind"] for f in json.loads(out)) == kinds

    jump = next(f for f in report["findings"] if f["kind"] == "look_jump")
    code, out, err = cli("match", jump["take"], "--to", jump["data"]["from_take"], "--json")
    assert code == 0, err
    matched = json.loads(out)
    assert matched["created"] and matched["after"]["delta_e2000"] < 2
    code, out, _ = cli("check", "continuity", "--shot", "1B", "--json")
    assert [f["kind"] for f in json.loads(out)["findings"]] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "continuity", "--html", "report.txt"), "needs the extension .html"),
        (("check", "continuity", "--html", "nowhere/report.html"), "does not exist"),
        (("check", "continuity", "--scene", "1", "--shot", "1A"), "not both"),
        (("check", "continuity", "--shot", "9Z"), "9Z"),
        (("match", "1B/1", "--to", "1B/1"), "itself"),
        (("match", "1B/1", "--to", "1A/1", "--method", "magic"), "unknown match method"),
        (("match", "1B/7", "--to", "1A/1"), "no take 7"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    cli, film: Path, args: tuple[str, ...], message: str
) -> None:
    before = cli("take", "list", "--json")[1]
    findings = cli("findings", "list", "--json")[1]
    code, _out, err = cli(*args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert cli("take", "list", "--json")[1] == before
    assert cli("findings", "list", "--json")[1] == findings
    assert not list(Path.cwd().glob("*.html")) and not list(Path.cwd().glob(".*.part"))


def test_bad_setting_names_the_key(cli, film: Path) -> None:
    with open("setpiece.toml", "a", encoding="utf-8") as handle:
        handle.write("\n[continuity]\nface_threshold = 'close'\n")
    code, _, err = cli("check", "continuity")
    assert code == 2
    assert "setpiece.toml [continuity] face_threshold: expected a number above 0" in err


def test_figures_over_the_whole_border_are_not_a_look_jump(cli, film: Path) -> None:
    """1A/1 is a face filling the frame: no setting to measure, said once, no look jump."""
    code, out, err = cli("check", "continuity")
    assert code == 0, err
    assert "look_jump" not in out
    line = next(x for x in out.splitlines() if x.startswith("not applied: look"))
    assert "1A/1" in line and "figures cover the whole border" in line
    code, _out, err = cli("match", "1B/1", "--to", "1A/1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "figures cover the whole border of 1B/1 or 1A/1" in err
