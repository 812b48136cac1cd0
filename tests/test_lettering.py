"""Lettering: any text draws, inside its box, in either layout, and plain text as Pillow draws it."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, features

from setpiece.lettering import ELLIPSIS, Typeface, bleed, clean, one_line, typeface

RAQM = features.check("raqm")
LAYOUTS = [
    pytest.param(False, id="raqm", marks=pytest.mark.skipif(not RAQM, reason="no libraqm")),
    pytest.param(True, id="basic"),
]
CANVAS = (900, 240)
ORIGIN = (450.0, 120.0)

# What screenplays hold and fonts choke on: line and paragraph breaks, tabs, controls,
# Hebrew and Arabic, bidi controls, emoji and their joiners, combining marks, CJK,
# a private-use character no font has.
HOSTILE = (
    "\n\r\t\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\x07\x1b\x7f\x9f"
    "שלוםمرحبا\u200f\u200e\u202e\u2066\u2069"
    "😀🎬🏠👩\u200d👩\u200d👧\ufe0f\U0001f3fd"
    "e\u0301\u0308\u0489\u20dd李ZOË "
    "\U0010fffd\ufffd\uffff"
)
texts = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.sampled_from(HOSTILE), max_size=80),
    st.text(alphabet=st.sampled_from(HOSTILE + "AZaz09 ."), min_size=4000, max_size=5000),
)


def shift(anchor: str) -> float:
    return {"m": 0.5, "r": 1.0}.get(anchor[0], 0.0)


def ink(image: Image.Image) -> np.ndarray:
    """(row, column) of every pixel drawn on."""
    return np.argwhere(np.asarray(image) > 0)


@pytest.mark.parametrize("basic", LAYOUTS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=texts,
    size=st.integers(1, 48),
    room=st.one_of(st.none(), st.floats(0, 400)),
    anchor=st.sampled_from(["ls", "ms", "rs"]),
    bold=st.booleans(),
)
@example(text="BRICK & STEEL\n\tFULL RETIRED", size=22, room=300.0, anchor="ls", bold=True)
@example(text="x" * 5000, size=16, room=None, anchor="ls", bold=False)
@example(text="שלום 🎬\t" * 700, size=16, room=120.0, anchor="ms", bold=True)
@example(text="e" + "\u0301" * 300, size=30, room=50.0, anchor="ls", bold=False)
def test_any_text_draws_inside_its_box(
    basic: bool, text: str, size: int, room: float | None, anchor: str, bold: bool
) -> None:
    face = typeface(basic=basic)
    image = Image.new("L", CANVAS, 0)
    x, y = ORIGIN

    drawn = face.draw(
        ImageDraw.Draw(image), (x, y), text, size, 255, bold=bold, anchor=anchor, width=room
    )

    assert drawn >= 0
    if room is not None:
        assert drawn <= room + 1e-6
    wide = drawn if room is None else room
    left = x - wide * shift(anchor)
    ascent, descent = face.extent(size, bold)
    grow = bleed(size)
    rows, columns = ink(image).T if ink(image).size else (np.array([y]), np.array([left]))
    assert (
        columns.min() >= math.floor(left) - grow and columns.max() < math.ceil(left + wide) + grow
    )
    assert (
        rows.min() >= math.floor(y) - ascent - grow and rows.max() < math.ceil(y) + descent + grow
    )


@pytest.mark.parametrize("basic", LAYOUTS)
@settings(max_examples=40, deadline=None)
@given(text=texts, room=st.floats(0, 300), lines=st.integers(0, 4))
def test_fit_and_wrap_keep_to_the_room(basic: bool, text: str, room: float, lines: int) -> None:
    face = typeface(basic=basic)
    fitted = face.fit(text, 14, room)
    assert "\n" not in fitted and face.width(fitted, 14) <= room
    assert fitted == one_line(text) or fitted.endswith(ELLIPSIS) or fitted == ""
    wrapped = face.wrap(text, 14, room, lines)
    assert len(wrapped) <= max(1, lines)
    assert all("\n" not in line and face.width(line, 14) <= room for line in wrapped)


@pytest.mark.parametrize("basic", LAYOUTS)
def test_plain_text_draws_the_pixels_pillow_draws(basic: bool) -> None:
    """The mask the line is drawn through changes nothing where nothing is clipped."""
    face = typeface(basic=basic)
    font = face._runs("A", 17, True)[0].font
    assert font is not None
    for mode, fill in (("RGB", (250, 200, 20)), ("L", 255)):
        ours, pillows = Image.new(mode, (400, 60)), Image.new(mode, (400, 60))
        text = "SC 12  ·  INT. BRICK'S PATIO - DAY"
        face.draw(ImageDraw.Draw(ours), (10.4, 40.6), text, 17, fill, bold=True)
        ImageDraw.Draw(pillows).text((10.4, 40.6), text, font=font, fill=fill, anchor="ls")
        assert np.array_equal(np.asarray(ours), np.asarray(pillows))


@pytest.mark.parametrize("basic", LAYOUTS)
def test_a_line_break_folds_and_a_tab_is_a_space(basic: bool) -> None:
    face = typeface(basic=basic)

    def drawn(text: str) -> np.ndarray:
        image = Image.new("L", (500, 50))
        face.draw(ImageDraw.Draw(image), (5, 35), text, 20, 255, bold=True)
        return np.asarray(image)

    title = "\t_**BRICK & STEEL**_\r\n\t_**FULL RETIRED**_\n"  # Brick & Steel's title page
    assert one_line(title) == "_**BRICK & STEEL**_ / _**FULL RETIRED**_"
    assert np.array_equal(drawn(title), drawn("_**BRICK & STEEL**_ / _**FULL RETIRED**_"))
    assert np.array_equal(drawn("A\tB"), drawn("A B"))
    assert face.wrap("ONE TWO\nTHREE", 20, 400, 3) == ["ONE TWO", "THREE"]
    assert face.wrap("ONE\n\nTWO\nTHREE", 20, 400, 2) == ["ONE", "TWO / THREE"]


@pytest.mark.parametrize("basic", LAYOUTS)
def test_a_character_no_font_has_is_a_box(basic: bool) -> None:
    face = typeface(basic=basic)
    if face.regular[0] == "<pillow>":
        pytest.skip("no system font: Pillow's own font draws no missing-glyph box")
    image = Image.new("L", (80, 60))
    width = face.draw(ImageDraw.Draw(image), (10, 45), "\U0010fffd", 30, 255)
    assert width > 5 and ink(image).size > 0


@pytest.mark.skipif(not RAQM, reason="no libraqm")
def test_right_to_left_text_runs_right_to_left_with_raqm() -> None:
    """raqm draws "שלום" as the basic layout draws it reversed, not as it draws it."""

    def drawn(face: Typeface, text: str) -> np.ndarray:
        image = Image.new("L", (200, 50))
        face.draw(ImageDraw.Draw(image), (5, 35), text, 24, 255)
        return np.asarray(image).astype(np.int32)

    shaped = drawn(typeface(), "שלום")
    reversed_ = np.abs(shaped - drawn(typeface(basic=True), "םולש")).mean()
    logical = np.abs(shaped - drawn(typeface(basic=True), "שלום")).mean()
    assert reversed_ * 2 < logical


def test_cleaning_keeps_every_character_a_reader_sees() -> None:
    assert clean("a\r\nb\rc\u2028d\u2029e\x85f") == "a\nb\nc\nd\ne\nf"
    assert clean("a\tb\x00c\x1bd\x7fe\x9f") == "a bcde"
    assert clean("\ud800x") == "\ufffdx"
    kept = "שלום مرحبا 😀\u200d\u200f e\u0301 李"
    assert clean(kept) == kept
    assert one_line(" \n a \n\n b \n") == "a / b"


def test_five_thousand_characters_fit_in_a_few_measurements() -> None:
    face = typeface()
    started = time.perf_counter()
    fitted = face.fit("LONG " * 1000, 16, 300, bold=True)
    assert time.perf_counter() - started < 1.0  # one measurement per character took 49 s
    assert fitted.endswith(ELLIPSIS) and 300 - 32 < face.width(fitted, 16, bold=True) <= 300
