"""The delivery phase says where it is: the movie's frames rendered, then watermarked,
a bundle's takes delivered, and each file verified, through the ``progress`` that
``make`` shows (plain lines when stderr is not a terminal, a Rich bar when it is)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

KETTLE = """Title: Kettle

INT. KITCHEN - NIGHT

JO fills a KETTLE. SAM leans in the doorway.

SAM
You are up late.

JO
So are you.
"""


def test_make_shows_the_watermark_and_verification_as_lines(cli: Any, tmp_path: Path) -> None:
    import av

    script = tmp_path / "kettle.fountain"
    script.write_text(KETTLE)
    project = tmp_path / "kettle"
    made = cli("make", script, "--project", project, "--kind", "image", "--resolution", "320x180")
    assert made.code == 0, made.err
    lines = made.err.splitlines()
    start, end = (
        lines.index("make: assemble ..."),
        next(i for i, line in enumerate(lines) if line.startswith("make: assemble done")),
    )
    assembling = lines[start + 1 : end]
    marked = [line for line in assembling if line.startswith("make: assemble watermark frames ")]
    assert marked, made.err
    (movie_path,) = [
        line.split()[1] for line in made.out.splitlines() if line.split()[:1] == ["movie"]
    ]
    with av.open(movie_path) as movie:
        frames = sum(1 for _ in movie.decode(video=0))
    assert marked[-1] == f"make: assemble watermark frames {frames}/{frames}"
    counts = [int(m.group(1)) for m in map(re.compile(r".* (\d+)/\d+$").match, marked) if m]
    assert counts == sorted(counts) and len(marked) <= 22  # a bounded number of lines
    verified = [line for line in assembling if line.startswith("make: assemble files verified")]
    assert verified[-1] == "make: assemble files verified 4/4"  # otio, edl, movie, sheet
    # The render's frames come first, then their watermark, then the verification.
    order = [line.split()[2] for line in assembling if line.split()[2] in ("frames", "watermark")]
    assert order.index("watermark") > order.index("frames")
    assert assembling.index(verified[-1]) > assembling.index(marked[-1])


def test_a_bundle_counts_its_takes_and_every_part_ends_complete(
    production: Any, make: Any, tmp_path: Path
) -> None:
    from setpiece.pipeline.deliver import deliver_cut
    from setpiece.production.cut import assemble

    scene = make.scene("INT. TRAIN - NIGHT")
    for code in ("1A", "1B"):
        make.take(make.shot(code, scene, description="Anna walks", duration=1), seed=3)
    cut = assemble(production, include_unapproved=True)
    heard: list[tuple[str, int, int]] = []
    out = tmp_path / "out"
    out.mkdir()
    report = deliver_cut(
        production,
        cut,
        otio=out / "cut.otioz",
        movie=out / "preview.mp4",
        include_unapproved=True,
        progress=lambda what, done, total: heard.append((what, done, total)),
    )
    assert report.ok, report.verified
    parts = list(dict.fromkeys(what for what, _, _ in heard))
    assert parts == ["takes", "frames", "watermark frames", "files verified"]
    for part in parts:
        last = [(done, total) for what, done, total in heard if what == part][-1]
        assert last[0] == last[1] > 0, (part, last)
    assert [(d, t) for w, d, t in heard if w == "takes"][-1] == (2, 2)
    assert [(d, t) for w, d, t in heard if w == "files verified"][-1] == (2, 2)
