"""``setpiece dialogue`` and ``character voice`` as a user types them: the path from the
script to MARA's lines spoken again in a new voice, and every bad input of the issue (one
line, a non-zero exit, nothing written)."""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

import pytest

from cli.test_cli import bad, snapshot

DEMO = Path(__file__).resolve().parents[2] / "src" / "setpiece" / "pipeline" / "demo.fountain"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _wav(path: Path, seconds: float, rate: int = 22050, amplitude: int = 4000) -> Path:
    import math

    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(
            b"".join(
                int(amplitude * math.sin(2 * math.pi * 220 * i / rate)).to_bytes(
                    2, "little", signed=True
                )
                for i in range(int(seconds * rate))
            )
        )
    return path


@pytest.fixture
def film(cli, tmp_path: Path, database_url: str | None) -> Path:
    assert cli("init", "film").code == 0
    os.chdir(tmp_path / "film")
    result = cli("script", "import", DEMO)
    assert result.code == 0 and "dialogue lines: 8 added" in result.out
    return tmp_path / "film"


def _lines(cli) -> dict[str, dict]:
    result = cli("dialogue", "list", "--json")
    assert result.code == 0, result.err
    return {line["id"]: line for line in json.loads(result.out)["lines"]}


@SQLITE
def test_list_gives_the_issue_shape(cli, film: Path) -> None:
    lines = _lines(cli)
    assert list(lines) == ["1/1", "1/2", "1/3", "2/1", "2/2", "2/3", "3/1", "3/2"]
    line = lines["1/3"]
    assert {k: line[k] for k in ("scene", "order", "character", "extension", "dual")} == {
        "scene": "1",
        "order": 3,
        "character": "MARA",
        "extension": "CONT'D",
        "dual": False,
    }
    assert set(line) >= {"id", "text", "parenthetical", "takes"}
    assert cli("dialogue", "list", "--character", "MARA").out.count("MARA") == 3


@SQLITE
def test_a_new_voice_for_mara_speaks_only_her_lines_again(cli, film: Path) -> None:
    pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")
    first = cli("dialogue", "render")
    assert first.code == 0, first.err
    assert "spoke 8 line(s)" in first.out
    # A character without a voice speaks with the default, and is told so once.
    assert first.out.count("note: MARA has no voice") == 1
    lines = _lines(cli)
    take = lines["1/2"]["takes"][0]
    assert take["source"] == "synthetic" and take["duration"] > 0.5 and take["lufs"] < 0
    # The defaults are in the register the script gives each: Mara "She lifts...", Teo
    # "on his knees", Brandt "in his lap"; a distinct variant each.
    defaults = {line["character"]: line["takes"][0]["voice"] for line in lines.values()}
    assert defaults["MARA"].startswith("espeak:en-us+f")
    assert defaults["TEO"].startswith("espeak:en-us+m")
    assert defaults["BRANDT"].startswith("espeak:en-us+m")
    assert len(set(defaults.values())) == 3
    voiced = cli(
        "character", "voice", "MARA", "--backend", "espeak", "--voice", "en-us+f3",
        "--rate", "160", "--pitch", "40",
    )  # fmt: skip
    assert voiced.code == 0, voiced.err
    stale = [i for i, line in _lines(cli).items() if line["takes"][-1]["stale"]]
    assert stale == ["1/2", "1/3", "3/1"]
    again = cli("dialogue", "render")
    assert "spoke 3 line(s)" in again.out and "5 already fresh" in again.out
    lines = _lines(cli)
    assert lines["1/2"]["takes"][-1]["voice"] == "espeak:en-us+f3"
    assert len(lines["1/1"]["takes"]) == 1  # TEO's lines were not spoken again
    assert "spoke 0 line(s)" in cli("dialogue", "render", "--character", "MARA").out


@SQLITE
def test_a_recording_is_preferred_and_circling_chooses(cli, film: Path, tmp_path: Path) -> None:
    result = cli("dialogue", "import", "1/2", _wav(tmp_path / "mara.wav", 1.5))
    assert result.code == 0, result.err
    assert "1/2/1: recorded, 1.50 s" in result.out
    cli("dialogue", "import", "1/2", _wav(tmp_path / "mara2.wav", 1.0))
    assert cli("dialogue", "circle", "1/2", "1").code == 0
    takes = _lines(cli)["1/2"]["takes"]
    assert [(t["source"], t["circled"], t["duration"]) for t in takes] == [
        ("recorded", True, 1.5),
        ("recorded", False, 1.0),
    ]
    assert cli("dialogue", "circle", "1/2", "7").code != 0


@SQLITE
def test_timing_from_sound_reports_the_shots_that_changed(cli, film: Path, tmp_path: Path) -> None:
    assert cli("shot", "plan").code == 0
    cli("dialogue", "import", "1/2", _wav(tmp_path / "mara.wav", 6.0))
    result = cli("dialogue", "time", "--json")
    assert result.code == 0, result.err
    changed = {c["code"]: c for c in json.loads(result.out)["changed"]}
    assert changed and all(c["scene"] == "1" for c in changed.values())
    assert all(c["after_seconds"] > c["before_seconds"] for c in changed.values())
    assert json.loads(cli("dialogue", "time", "--json").out)["changed"] == []


@SQLITE
def test_bad_inputs(cli, film: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_text("INT. BOOTH - NIGHT\n" * 30)
    long = _wav(tmp_path / "long.wav", 3.0)
    (film / "setpiece.toml").open("a").write("\n[dialogue]\nmax_seconds = 2\n")
    before = snapshot(film)
    bad(cli("dialogue", "import", "1/2", notes), "notes.wav")
    bad(cli("dialogue", "import", "1/2", long), "longer than 2 s")
    bad(cli("dialogue", "import", "9/9", _wav(tmp_path / "a.wav", 0.5)), "no scene '9'")
    bad(cli("dialogue", "import", "12", _wav(tmp_path / "b.wav", 0.5)), "SCENE/NUMBER")
    bad(
        cli("character", "voice", "MARA", "--backend", "espeak", "--voice", "en", "--rate", "5"),
        "rate 5",
    )
    bad(cli("character", "voice", "MARA", "--backend", "nope", "--voice", "x"), "no voice backend")
    assert snapshot(film) == before


@SQLITE
def test_an_unknown_openai_voice_is_refused_with_a_key_set(
    cli, film: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("openai", reason="the openai extra is not installed")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0000")
    before = snapshot(film)
    bad(
        cli("character", "voice", "MARA", "--backend", "openai", "--voice", "notavoice"),
        "OpenAI has no voice 'notavoice'",
    )
    assert snapshot(film) == before


@SQLITE
def test_the_line_is_checked_before_the_file(cli, film: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_text("INT. BOOTH - NIGHT\n" * 30)
    missing = tmp_path / "missing.wav"
    before = snapshot(film)
    bad(cli("dialogue", "import", "99/99", notes), "no scene '99'")
    bad(cli("dialogue", "import", "1/99", missing), "no line 1/99")
    bad(cli("dialogue", "import", "1/99", notes), "no line 1/99")
    bad(cli("dialogue", "import", "1/2", missing), "missing.wav")
    assert snapshot(film) == before


@SQLITE
def test_a_silent_recording_is_refused_unless_allowed(cli, film: Path, tmp_path: Path) -> None:
    silent = _wav(tmp_path / "muted.wav", 1.5, amplitude=0)
    hiss = _wav(tmp_path / "hiss.wav", 1.5, amplitude=1)  # -90 dBFS: below the gate
    before = snapshot(film)
    bad(cli("dialogue", "import", "1/2", silent), "muted.wav is silent")
    bad(cli("dialogue", "import", "1/2", hiss), "--allow-silence")
    assert snapshot(film) == before
    # A line shorter than BS.1770's 400 ms block reads -70 LUFS too, but is heard.
    short = cli("dialogue", "import", "1/2", _wav(tmp_path / "yes.wav", 0.3))
    assert short.code == 0, short.err
    forced = cli("dialogue", "import", "1/2", silent, "--allow-silence")
    assert forced.code == 0, forced.err
    takes = _lines(cli)["1/2"]["takes"]
    assert [(t["number"], t["duration"], t["lufs"]) for t in takes] == [
        (1, 0.3, -70.0),
        (2, 1.5, -70.0),
    ]


@SQLITE
def test_a_voice_id_the_backend_does_not_have(cli, film: Path) -> None:
    pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")
    before = snapshot(film)
    result = cli("character", "voice", "MARA", "--backend", "espeak", "--voice", "xx-zz")
    assert result.code != 0 and len(result.err.strip().splitlines()) == 1
    assert "no voice 'xx-zz'" in result.err
    assert snapshot(film) == before


@SQLITE
def test_a_recording_at_another_rate(cli, film: Path, tmp_path: Path) -> None:
    (film / "setpiece.toml").open("a").write("\n[dialogue]\nsample_rate = 48000\n")
    bad(
        cli("dialogue", "import", "1/2", _wav(tmp_path / "a.wav", 0.5)),
        "22050 Hz; recorded takes are 48000 Hz",
    )


@SQLITE
def test_a_hosted_backend_without_its_key(cli, film: Path) -> None:
    from setpiece.voice.base import Synthesis, VoiceBackend, VoiceCapabilities, VoiceSettings
    from setpiece.voice.registry import _REGISTERED, register

    class Hosted(VoiceBackend):
        name = "hostedtest"
        default_capabilities = VoiceCapabilities(hosted=True)

        @classmethod
        def missing_settings(cls, settings: VoiceSettings) -> list[str]:
            return ["HOSTEDTEST_API_KEY"]

        def synthesize(self, text, request, language, workdir) -> Synthesis:
            raise AssertionError("never reached without a key")

    register(Hosted)
    try:
        bad(
            cli("character", "voice", "MARA", "--backend", "hostedtest", "--voice", "alloy"),
            "not configured: set HOSTEDTEST_API_KEY",
        )
    finally:
        _REGISTERED.pop("hostedtest", None)


JOINT = """INT. BOOTH - NIGHT #1#

MARA
Ready?

TEO
Ready.

MARA & TEO
Roll it!

ALL
Happy birthday!
"""


@SQLITE
def test_a_joint_cue_speaks_in_each_voice_and_a_group_cue_says_its_rule(
    cli, tmp_path: Path, database_url: str | None
) -> None:
    pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")
    assert cli("init", "film").code == 0
    os.chdir(tmp_path / "film")
    script = tmp_path / "joint.fountain"
    script.write_text(JOINT, encoding="utf-8")
    imported = cli("script", "import", script)
    assert imported.code == 0, imported.err
    assert "new characters: MARA, TEO" in imported.out
    for name, voice in (("MARA", "en-us+f3"), ("TEO", "en-us+m3")):
        voiced = cli("character", "voice", name, "--backend", "espeak", "--voice", voice)
        assert voiced.code == 0, voiced.err
    spoken = cli("dialogue", "render")
    assert spoken.code == 0, spoken.err
    assert "spoke 5 line(s)" in spoken.out
    assert "note: ALL is a group cue, not a character: spoken once with the default" in (
        " ".join(spoken.out.split())
    )
    lines = _lines(cli)
    assert [(i, line["character"], line["dual"]) for i, line in lines.items()] == [
        ("1/1", "MARA", False),
        ("1/2", "TEO", False),
        ("1/3", "MARA", True),
        ("1/4", "TEO", True),
        ("1/5", "ALL", False),
    ]
    assert lines["1/3"]["takes"][0]["voice"] == "espeak:en-us+f3"
    assert lines["1/4"]["takes"][0]["voice"] == "espeak:en-us+m3"
    bad(cli("character", "voice", "ALL", "--backend", "espeak", "--voice", "en"), "ALL")
