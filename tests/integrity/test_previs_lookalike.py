"""Frames of one previs film: a copy of a shot's frame is flagged, frames of other
locations (another backdrop, the same renderer's look) are not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from integrity.pictures import lookalike_of, previs_panel

SHOTS = {  # code: (heading, size, cast)
    "1A": ("INT. PROJECTION BOOTH - NIGHT", "MS", ("Mara", "Teo")),
    "2A": ("EXT. CINEMA ROOFTOP - NIGHT", "WS", ("Teo",)),
    "3A": ("INT. CINEMA AUDITORIUM - NIGHT", "MCU", ("Brandt",)),
    "4A": ("INT. KITCHEN - NIGHT", "CU", ("Mara",)),
    "5A": ("EXT. DESERT ROAD - DAY", "MWS", ("Teo", "Brandt")),
}
COLOURS = {"Mara": (200, 60, 40), "Teo": (40, 90, 200), "Brandt": (60, 160, 80)}


def _render(code: str, folder: Path) -> Path:
    heading, size, cast = SHOTS[code]
    colours = {name: COLOURS[name] for name in cast}
    return previs_panel(folder, code, heading, size, colours, seed=3, width=480, height=270)


def test_a_copy_of_a_previs_frame_is_flagged_and_other_locations_are_not(
    cli, film: Path, tmp_path: Path
) -> None:
    renders = tmp_path / "renders"
    renders.mkdir()
    frames = {code: _render(code, renders) for code in SHOTS}
    library = tmp_path / "library"
    library.mkdir()
    with Image.open(frames["1A"]) as source:
        reference = lookalike_of(np.asarray(source.convert("RGB")))
    reference.save(library / "archive-still.jpg", quality=85)
    assert cli("reference", "add", library).code == 0

    takes = {}
    for code, path in frames.items():
        result = cli("take", "import", "1A", path, "--json")
        assert result.code == 0, result.err
        takes[result.json()["created"][0]["id"]] = code

    result = cli("check", "integrity", "--json")
    assert result.code == 0, result.err
    flagged = {takes[f["take"]]: f["data"] for f in result.json()["findings"]}
    assert set(flagged) == {"1A"}, flagged
    assert flagged["1A"]["reference"]["title"] == "archive-still"
    assert flagged["1A"]["mirrored"] is True
