"""The contact sheet: its grid, the circled takes' pictures, the NOT APPROVED cards."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_movie import circle, level, write_ramp

from conftest import Factory
from mediafactory import write_png
from setpiece.edit.contact_sheet import (
    CAPTION_HEIGHT,
    CELL_WIDTH,
    GAP,
    HEADER_HEIGHT,
    contact_sheet,
    picture_height,
    sheet_size,
)
from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.production.context import Production, init_production
from setpiece.production.cut import Cut

W, H = 160, 90


@pytest.fixture
def production(project_dir: Path) -> Iterator[Production]:
    with init_production(
        project_dir, name="Test Film", fps=Fraction(24), resolution=(W, H), actor="ana"
    ) as prod:
        yield prod


def cell(sheet: Image.Image, number: int, columns: int) -> np.ndarray:
    """The picture of cell ``number`` (captions left out), as an int array."""
    row, column = divmod(number, columns)
    pic_h = picture_height(W, H)
    x = GAP + column * (CELL_WIDTH + GAP)
    y = HEADER_HEIGHT + GAP + row * (pic_h + CAPTION_HEIGHT + GAP)
    return np.asarray(sheet.crop((x, y, x + CELL_WIDTH, y + pic_h)), dtype=np.int32)


def scenes(make: Factory) -> tuple[str, str]:
    """Scene 1: 1A circled still, 1B no take, 1C circled ramp video, 1D a take not circled,
    1E circled still; scene 2: 2A no take."""
    one = make.scene("INT. KITCHEN - NIGHT")
    for code in ("1A", "1B", "1C", "1D", "1E"):
        make.shot(code, one, duration=1)
    two = make.scene("EXT. STREET - DAY")
    make.shot("2A", two, duration=1)
    production = make.production
    circle(production, "1A", write_png(make.folder / "a.png", 64, 48, seed=1))
    circle(production, "1C", write_ramp(make.folder / "ramp.mp4", frames=30, fps=30))
    make.take("1D")
    circle(production, "1E", write_png(make.folder / "e.png", 30, 60, seed=2))
    return one, two


def test_the_sheet_is_a_grid_of_the_cut_in_script_order(make: Factory, tmp_path: Path) -> None:
    scenes(make)
    out = contact_sheet(make.production, tmp_path / "sheet.png", columns=4)

    assert out == tmp_path / "sheet.png"
    with Image.open(out) as sheet:
        assert sheet.format == "PNG"
        assert sheet.size == sheet_size(6, 4, W, H)
        assert sheet.size == (4 * CELL_WIDTH + 5 * GAP, HEADER_HEIGHT + 2 * (180 + 46) + 3 * GAP)
        sheet = sheet.convert("RGB")
        pictures = [cell(sheet, n, 4) for n in range(6)]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    # 1B, 1D (a take, but not circled) and 2A are the same NOT APPROVED card.
    cards = [pictures[1], pictures[3], pictures[5]]
    assert all(np.array_equal(cards[0], c) for c in cards)
    assert cards[0].mean() < 70 and cards[0].max() > 200  # dark card, bright words
    for approved in (pictures[0], pictures[2], pictures[4]):
        assert np.abs(approved - cards[0]).mean() > 20
    assert np.abs(pictures[0] - pictures[4]).mean() > 20
    # The portrait still 1E is pillarboxed on black.
    assert pictures[4][:, :40].max() == 0 and pictures[4][:, -40:].max() == 0


def test_a_video_take_shows_its_middle_frame(make: Factory, tmp_path: Path) -> None:
    scenes(make)
    out = contact_sheet(make.production, tmp_path / "sheet.png", columns=3)

    with Image.open(out) as sheet:
        assert sheet.size == sheet_size(6, 3, W, H)
        picture = cell(sheet.convert("RGB"), 2, 3)
    # 1C plays 24 of the ramp's frames at 30 fps... (1 s): its middle is frame 15.
    inner = picture[40:140, 140:180].mean()
    frame = min(range(30), key=lambda i: abs(level(i) - inner))
    assert frame == 15


def test_one_scene_and_one_column(make: Factory, tmp_path: Path) -> None:
    _, two = scenes(make)
    out = contact_sheet(make.production, tmp_path / "two.png", scene=two, columns=1)
    with Image.open(out) as sheet:
        assert sheet.size == sheet_size(1, 1, W, H)

    with pytest.raises(NotFoundError):
        contact_sheet(make.production, tmp_path / "x.png", scene="99")


def test_bad_requests_write_nothing(make: Factory, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no shots"):
        contact_sheet(make.production, tmp_path / "empty.png")
    scenes(make)
    with pytest.raises(InvalidInputError, match="does not exist"):
        contact_sheet(make.production, tmp_path / "nowhere" / "sheet.png")
    with pytest.raises(InvalidInputError, match=r"\.png"):
        contact_sheet(make.production, tmp_path / "sheet.jpg")
    with pytest.raises(InvalidInputError, match="columns 0"):
        contact_sheet(make.production, tmp_path / "sheet.png", columns=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film", "incoming"]


def test_a_remote_store_works_too(
    tmp_path: Path, s3_endpoint: str, bucket: str, media_dir: Path
) -> None:
    options = {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"}
    with init_production(
        tmp_path / "film",
        resolution=(W, H),
        media_url=f"s3://{bucket}/film",
        media_options=options,
        actor="ana",
    ) as production:
        make = Factory(production, media_dir)
        scene = make.scene()
        make.shot("1A", scene, duration=1)
        make.shot("1B", scene, duration=1)
        circle(production, "1A", write_ramp(media_dir / "ramp.mp4", frames=30, fps=30))
        circle(production, "1B", write_png(media_dir / "b.png", 64, 36, seed=3))
        out = contact_sheet(production, tmp_path / "sheet.png", columns=2)
    with Image.open(out) as sheet:
        first, second = cell(sheet.convert("RGB"), 0, 2), cell(sheet.convert("RGB"), 1, 2)
    frame = min(range(30), key=lambda i: abs(level(i) - first[40:140, 140:180].mean()))
    assert frame == 15
    assert second.std() > 40  # the noise still


def test_delivery_is_given_the_cut_shown_and_writes_the_target(
    make: Factory, tmp_path: Path
) -> None:
    scenes(make)
    seen: list[tuple[list[str], str, str]] = []

    def deliverer(cut: Cut) -> Callable[[Path, Path], object]:
        def deliver(raw: Path, target: Path) -> None:
            seen.append(([c.shot for c in cut.clips], raw.name, target.name))
            shutil.copyfile(raw, target)

        return deliver

    out = contact_sheet(make.production, tmp_path / "sheet.png", deliver=deliverer)

    assert seen == [(["1A", "1B", "1C", "1D", "1E", "2A"], "sheet.png", "sheet.png")]
    with Image.open(out) as sheet:
        assert sheet.size == sheet_size(6, 4, W, H)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
