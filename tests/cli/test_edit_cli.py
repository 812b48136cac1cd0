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


@pytest.mark.parametrize(
    ("value", "rate", "fragment"),
    [
        (float("nan"), 24.0, "the length of clip 2 '1B/1' is nan at 24 fps"),
        (float("inf"), 24.0, "the length of clip 2 '1B/1' is inf at 24 fps"),
        (48.0, float("nan"), "the length of clip 2 '1B/1' is 48 at nan fps"),
        (-48.0, 24.0, "clip 2 '1B/1' has a negative length (-48 at 24 fps)"),
        (1e300, 24.0, "the length of clip 2 '1B/1' is 1e+300 at 24 fps"),
    ],
)
def test_an_edit_with_a_time_that_is_no_number_is_refused_naming_the_clip(
    cli, film: Path, tmp_path: Path, value: float, rate: float, fragment: str
) -> None:
    """OpenTimelineIO writes and reads NaN and Infinity; before, a NaN length was exit 1."""
    import opentimelineio as otio

    time, span = otio.opentime.RationalTime, otio.opentime.TimeRange
    timeline = otio.schema.Timeline("cut")
    track = otio.schema.Track("V1")
    timeline.tracks.append(track)
    track.append(otio.schema.Clip("1A/1", source_range=span(time(0, 24), time(48, 24))))
    track.append(otio.schema.Clip("1B/1", source_range=span(time(0, 24), time(value, rate))))
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    before = snapshot(film)
    bad(cli("edit", "import", path), f"cut.otio: {fragment}")
    assert snapshot(film) == before
