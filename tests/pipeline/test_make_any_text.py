"""`setpiece make` on a script whose title and names hold anything: it finishes with a cut.

Titles, scene headings and character names reach the previs panels, the burn-ins, the
contact sheet and the signing certificate; a two-line title once stopped ``make`` at the
contact sheet (``raqm_layout() failed``) before anything was signed or disclosed.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from setpiece.cli.main import main

LONG = "LONG " * 1000  # 5,000 characters

HOSTILE = f"""Title:
\tTHE שלום 🎬 TITLE
\tSECOND\tLINE {LONG}
Author: Ana

INT. מטבח 🏠\tKITCHEN {"L" * 5000} - NIGHT

@שרה 😀 sets down a KETTLE. @{"Z" * 5000} waits.

@שרה 😀
שלום!\tمرحبا 🎬

@{"Z" * 5000}
Hello.
"""


@pytest.mark.slow
def test_make_draws_any_title_and_name_and_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "hostile.fountain"
    script.write_text(HOSTILE, encoding="utf-8")
    project = tmp_path / "hostile"
    args = ["make", script, "--project", project, "--kind", "image", "--resolution", "320x180"]

    code = main([str(a) for a in [*args, "--takes", "1", "--json"]])

    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert [s["step"] for s in report["steps"] if s["status"] == "failed"] == []
    cut = project / "cut"
    for name in ("preview.mp4", "cut.otio", "contact-sheet.png", "disclosure.json"):
        assert (cut / name).stat().st_size > 0, name
    with av.open(str(cut / "preview.mp4")) as movie:
        assert next(movie.decode(video=0)).width == 320
    assert "שלום" in (cut / "cut.otio").read_text(encoding="utf-8")
