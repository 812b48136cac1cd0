"""`setpiece edit assemble`, `edit import` and `contact-sheet` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
import test_cli
from PIL import Image

from mediafactory import write_mp4, write_png

film = test_cli.film
bad = test_cli.bad
snapshot = test_cli.snapshot

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.slow
def test_assemble_exports_and_a_round_trip(cli, film: Path, tmp_path: Path) -> None:
    otio = pytest.importorskip("opentimelineio")
    clip = write_mp4(tmp_path / "a.mp4", frames=96, fps=24, audio=True)
    assert cli("take", "import", "1A", clip).code == 0
    assert cli("review", "approve", "1A", "1A/1").code == 0
    assert cli("shot", "add", "1", "--code", "1B", "--duration", "1").code == 0  # no take: a slate
    out = tmp_path / "out"
    out.mkdir()
    result = cli(
        "edit",
        "assemble",
        "--otio",
        out / "cut.otio",
        "--edl",
        out / "cut.edl",
        "--fcpxml",
        out / "cut.xml",
        "--movie",
        out / "cut.mp4",
        "--burn-in",
        "--json",
    )
    assert result.code == 0, result.err
    cut = result.json()
    assert [(c["shot"], c["kind"]) for c in cut["clips"]] == [("1A", "take"), ("1B", "slate")]
    # 1A: planned 3 s at 24000/1001 = 72 frames; 1B: planned 1 s = 24 frames.
    assert [c["duration"] for c in cut["clips"]] == [72, 24] and cut["duration"] == 96
    timeline = otio.adapters.read_from_file(str(out / "cut.otio"))
    assert len(list(timeline.find_clips())) >= 1
    assert round(timeline.duration().value) == 96
    with av.open(str(out / "cut.mp4")) as movie:
        frames = sum(1 for _ in movie.decode(video=0))
        assert movie.streams.audio
    assert frames == 96
    for name in ("cut.edl", "cut.xml"):
        assert (out / name).stat().st_size > 0
    before = snapshot(film)
    back = cli("edit", "import", out / "cut.edl", "--json")
    assert back.code == 0, back.err
    assert back.json()["changes"] == []
    assert snapshot(film) == before
    sheet = cli("contact-sheet", out / "sheet.png")
    assert sheet.code == 0, sheet.err
    assert Image.open(out / "sheet.png").size[0] > 0


def test_edit_bad_input(cli, film: Path, tmp_path: Path) -> None:
    write_png(tmp_path / "x.png")
    bad(cli("edit", "import", tmp_path / "missing.otio"), "missing.otio")
    (tmp_path / "junk.otio").write_text("{not json")
    bad(cli("edit", "import", tmp_path / "junk.otio"), "junk.otio")
    bad(cli("edit", "assemble", "--movie", tmp_path / "nowhere" / "cut.mp4"), "nowhere")
