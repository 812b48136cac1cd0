"""`setpiece make` on a project with members: it acts as ``--as``, and its hints say so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from setpiece.cli.main import main

SCRIPT = """Title: Kettle

INT. KITCHEN - NIGHT

JO fills a KETTLE. SAM leans in the doorway.
"""


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_make_acts_as_the_member_named_and_its_hints_name_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "walter")  # the login name: no member
    script = tmp_path / "kettle.fountain"
    script.write_text(SCRIPT)
    project = tmp_path / "kettle"
    make = ["make", script, "--project", project, "--kind", "image", "--resolution", "160x90"]
    code, out, err = run(capsys, *make, "--no-movie", "--json")
    assert code == 0, err
    hints = json.loads(out)["needs_human"]
    assert any("'setpiece review approve SHOT TAKE'" in hint for hint in hints), hints
    assert not any("--as" in hint for hint in hints) and not json.loads(out)["members"]

    assert run(capsys, "-C", project, "user", "add", "dana", "--role", "admin")[0] == 0
    code, _, err = run(capsys, *make, "--no-movie", "--json")
    assert code == 2 and "user 'walter' is not a member" in err and "--as NAME" in err

    code, out, err = run(capsys, "--as", "dana", *make, "--no-movie", "--json")
    assert code == 0, err
    hints = json.loads(out)["needs_human"]
    assert any("'setpiece --as NAME review approve SHOT TAKE'" in hint for hint in hints), hints
    assert all("'setpiece --as NAME " in hint for hint in hints if "'setpiece " in hint)

    code, out, err = run(capsys, "--as", "dana", *make, "--no-movie")
    assert code == 0, err
    assert f"setpiece -C {project} --as ADMIN user add YOUR_NAME --role artist" in out
    assert f"setpiece -C {project} --as YOUR_NAME serve" in out
