"""Lettering: every word Setpiece draws on a picture is drawn here, and none can crash it.

Titles, slates, burn-ins, contact sheets, previs captions and name tags print what a
screenplay holds, and a screenplay can hold anything: a title on two lines, a tab, a
name in Hebrew or Arabic, an emoji, five thousand characters. Pillow's raqm layout
fails outright on a line break (``raqm_layout() failed``), which once stopped ``make``
halfway, and a long name drawn unmeasured runs off the picture. So ``Typeface.draw``
is the one function that puts text on a picture, for every capability, and it is
total: any ``str`` draws, inside its box. It lives at the bottom of the package, next
to ``timebase``, because ``generate``, ``edit`` and ``pipeline`` all draw text and
may not import each other; it needs Pillow and nothing of Setpiece's.

What it decides:

- Text is cleaned before it is measured or drawn (``clean``): every kind of line
  break becomes ``\\n``, a tab a space, other control characters go, and a lone
  surrogate becomes U+FFFD. One line folds its lines into one with ``" / "``
  (``one_line``); ``wrap`` breaks lines there instead.
- Fonts are a chain: each character is drawn in the first font of the chain that has
  a glyph for it, so a caption keeps its face for Latin text and borrows another for
  the rest; a character no font has is drawn as the first font's missing-glyph box
  ("tofu"). Fonts are looked for in a fixed order (the configured ones, then common
  system paths, then the font Pillow ships), so one machine always draws the same
  pixels; the face used is recorded on previs takes. A font file that does not load
  is left out of the chain.
- Layout is raqm's where Pillow has it (bidirectional text and shaping: Hebrew runs
  right to left, Arabic joins), per run of one font; Pillow's basic layout where it
  has not, or where raqm fails on a run. Basic layout lays right-to-left text out
  left to right in its stored order, so a reader sees it mirrored; nothing crashes
  either way.
- Text wider than its room is cut with an ellipsis (``fit``), found by a galloping
  binary search, so 5,000 characters cost a dozen measurements, not 5,000.
- Ink never leaves the line box: the room given (or the text's own width) by the
  chain's ascent and descent from the baseline, grown by ``bleed(size)`` on every
  side for glyphs that overhang their advance. The line is drawn into a mask of that
  box and stamped with ``ImageDraw.bitmap``, the same call ``ImageDraw.text`` ends in,
  so ordinary text draws the same pixels as before, and a stack of combining marks
  or a tall fallback glyph is clipped, not spilled over the picture.

Cost, measured on the 2-core development machine (DejaVu Sans Bold at 16 px, raqm,
best of 25, before and after this module replaced ``_previs_text``): drawing a
45-character scene heading, 341 µs a call before and 347 µs now; a 4-character take
label, 84 and 90 µs (the line's mask and stamp); fitting that heading into 200 px,
1.2 ms before and 0.33 ms now; fitting a 5,000-character title, 49 s before and 15 ms.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, ImageFont

__all__ = ["ELLIPSIS", "NEWLINE", "Typeface", "bleed", "clean", "one_line", "typeface"]

log = logging.getLogger(__name__)

Font = ImageFont.FreeTypeFont

ELLIPSIS = "…"
NEWLINE = " / "
"""What a line break becomes in text drawn on one line."""

_REGULAR = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)
_BOLD = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)
# Wide-coverage faces (CJK, Hebrew, Arabic, symbols and monochrome emoji the panel face
# lacks), tried in order. Colour emoji fonts (CBDT) load at one pixel size only and are
# left out: an emoji no listed font has is drawn as a box.
_FALLBACK = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoEmoji-Regular.ttf",
    "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
    "C:/Windows/Fonts/seguisym.ttf",
)
_BUILTIN = "<pillow>"

# Line and paragraph separators (str.splitlines's set), and the control characters
# that draw nothing a reader wants (C0 but tab and line breaks, DEL, C1 but NEL).
_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")
# What fails in a font, whichever layout: FreeType (OSError), raqm (RuntimeError),
# a size or string Pillow refuses (ValueError), an image too large (MemoryError).
_FONT_ERRORS = (OSError, RuntimeError, ValueError, MemoryError)


def clean(text: str) -> str:
    """``text`` made safe to measure and draw: line breaks as ``\\n``, tabs as spaces.

    Other control characters are removed and lone surrogates become U+FFFD; every
    other character (right-to-left, emoji, combining marks, format characters) is kept.
    """
    text = _BREAKS.sub("\n", str(text)).replace("\t", " ")
    text = _CONTROLS.sub("", text)
    return _SURROGATES.sub("\ufffd", text)


def one_line(text: str, separator: str = NEWLINE) -> str:
    """``text`` cleaned and folded onto one line: its non-blank lines, stripped, joined."""
    lines = [line.strip() for line in clean(text).split("\n")]
    return separator.join(line for line in lines if line)


def bleed(size: int) -> int:
    """Pixels a line's ink may reach past its box on each side (overhanging glyphs)."""
    return size // 8 + 1


def _load(path: str, size: int, basic: bool = False) -> Font:
    """A font at a size, cached per thread: FreeType faces are not safe to share across
    threads. A file that will not load gives Pillow's own font."""
    return _load_for_thread(path, max(1, int(size)), basic, threading.get_ident())


@functools.lru_cache(maxsize=256)
def _load_for_thread(path: str, size: int, basic: bool, thread: int) -> Font:
    layout = ImageFont.Layout.BASIC if basic else None
    if path != _BUILTIN:
        try:
            return ImageFont.truetype(path, size, layout_engine=layout)
        except _FONT_ERRORS as exc:
            log.warning("font %s does not load at %d px (%s); using Pillow's own", path, size, exc)
    font = ImageFont.load_default(size)
    assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow >= 10.1 with FreeType
    if basic and font.layout_engine != ImageFont.Layout.BASIC:
        font = font.font_variant(layout_engine=ImageFont.Layout.BASIC)
    return font


@functools.lru_cache(maxsize=8192)
def _has_glyph(path: str, char: str) -> bool:
    """Whether the font draws ``char`` as something other than its missing-glyph box."""
    if char.isspace():
        return True
    try:
        font = _load(path, 24, basic=True)
        mask = font.getmask(char)
        missing = font.getmask("\U0010fffd")
    except _FONT_ERRORS:
        return False
    return mask.size != missing.size or bytes(mask) != bytes(missing)


@functools.lru_cache(maxsize=64)
def _loads(path: str) -> bool:
    if not os.path.isfile(path):
        return False
    try:
        ImageFont.truetype(path, 24).getlength("A")
    except _FONT_ERRORS:
        return False
    return True


@dataclass(frozen=True)
class _Run:
    """Consecutive characters drawn in one font, and their advance."""

    font: Font | None  # None: no layout could measure it, so it is not drawn
    text: str
    advance: float


@dataclass(frozen=True)
class Typeface:
    """A regular and a bold chain of font files; the first of each is the face.

    Attributes:
        regular: Font files for regular text, the face first, fallbacks after.
        bold: The same for bold text.
        basic: Lay out with Pillow's basic layout even where raqm is installed.
    """

    regular: tuple[str, ...]
    bold: tuple[str, ...]
    basic: bool = False

    @property
    def name(self) -> str:
        first = self.bold[0]
        return "Pillow default" if first == _BUILTIN else os.path.basename(first)

    def width(self, text: str, size: int, bold: bool = False) -> float:
        """The advance of ``text`` drawn on one line (see ``one_line``), in pixels."""
        return sum(run.advance for run in self._runs(one_line(text), size, bold))

    def extent(self, size: int, bold: bool = False) -> tuple[int, int]:
        """(ascent, descent) of a line: the most of any font in the chain, in pixels."""
        return _extent(self.bold if bold else self.regular, max(1, int(size)), self.basic)

    def fit(self, text: str, size: int, width: float, bold: bool = False) -> str:
        """``text`` on one line, cut to ``width`` with an ellipsis where it does not fit.

        Returns "" where not even one character and the ellipsis fit.
        """
        line = one_line(text)
        if self.width(line, size, bold) <= width:
            return line

        def fits(count: int) -> bool:
            return self.width(line[:count].rstrip() + ELLIPSIS, size, bold) <= width

        # Gallop to a prefix too wide, then halve: the cost is in the room, not the text.
        low, high = 0, 16
        while high < len(line) and fits(high):
            low, high = high, high * 2
        high = min(high, len(line))
        while low < high:
            middle = (low + high + 1) // 2
            if fits(middle):
                low = middle
            else:
                high = middle - 1
        head = line[:low].rstrip()
        return head + ELLIPSIS if head and fits(low) else ""

    def wrap(self, text: str, size: int, width: float, lines: int, bold: bool = False) -> list[str]:
        """Up to ``lines`` lines no wider than ``width``; an ellipsis ends cut text.

        Words break at spaces and at the text's own line breaks; a word wider than
        ``width`` is cut with an ellipsis.
        """
        lines = max(1, lines)
        paragraphs = [p.split() for p in clean(text).split("\n")]
        paragraphs = [p for p in paragraphs if p]
        out: list[str] = []
        for number, words in enumerate(paragraphs):
            current = ""
            for index, word in enumerate(words):
                trial = f"{current} {word}".strip()
                if not current or self.width(trial, size, bold) <= width:
                    current = trial
                    continue
                out.append(current)
                current = word
                if len(out) == lines:  # the last line takes the rest, to be cut short
                    rest = [" ".join(words[index:])] + [
                        " ".join(p) for p in paragraphs[number + 1 :]
                    ]
                    out[-1] += " " + NEWLINE.join(rest)
                    return [self.fit(line, size, width, bold) for line in out]
            out.append(current)
            if len(out) == lines and number + 1 < len(paragraphs):
                out[-1] += NEWLINE + NEWLINE.join(" ".join(p) for p in paragraphs[number + 1 :])
                break
        return [self.fit(line, size, width, bold) for line in out]

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        text: str,
        size: int,
        fill: Any,
        *,
        bold: bool = False,
        anchor: str = "ls",
        width: float | None = None,
    ) -> float:
        """Draws ``text`` on one line with its baseline at y; the one way text is drawn.

        Args:
            draw: Where to draw; its mode decides how ``fill`` blends, as for Pillow's own.
            xy: The anchor point: x is the line's left, middle or right (``anchor``
                ``'ls'``, ``'ms'`` or ``'rs'``), y its baseline.
            text: Any text; lines are folded into one (``one_line``).
            size: The size in pixels.
            fill: The colour, as Pillow takes it for ``draw``'s image.
            bold: Draw with the bold chain.
            anchor: ``'ls'``, ``'ms'`` or ``'rs'``.
            width: The room: text wider is cut with an ellipsis, and the line box is
                this wide (placed by ``anchor``). None: the text's own width.

        Returns:
            The width of what was drawn, in pixels.
        """
        size = max(1, int(size))
        line = self.fit(text, size, width, bold) if width is not None else one_line(text)
        runs = self._runs(line, size, bold)
        advance = sum(run.advance for run in runs)
        x, y = xy
        room = advance if width is None else max(0.0, width)
        shift = {"m": 0.5, "r": 1.0}.get(anchor[:1], 0.0)
        left, text_x = x - room * shift, x - advance * shift
        ascent, descent = self.extent(size, bold)
        grow = bleed(size)
        box = (
            max(0, math.floor(left) - grow),
            max(0, math.floor(y) - ascent - grow),
            min(draw.im.size[0], math.ceil(left + room) + grow),
            min(draw.im.size[1], math.ceil(y) + descent + grow),
        )
        if not runs or box[2] <= box[0] or box[3] <= box[1]:
            return advance
        mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
        pen = ImageDraw.Draw(mask)
        run_x = text_x - box[0]
        for run in runs:
            if run.font is not None:
                _stamp(pen, (run_x, y - box[1]), run, size)
            run_x += run.advance
        draw.bitmap((box[0], box[1]), mask, fill=fill)
        return advance

    def _runs(self, text: str, size: int, bold: bool) -> list[_Run]:
        chain = self.bold if bold else self.regular
        pieces: list[tuple[str, str]] = []
        for char in text:
            path = next((p for p in chain if _has_glyph(p, char)), chain[0])
            if pieces and pieces[-1][0] == path:
                pieces[-1] = (path, pieces[-1][1] + char)
            else:
                pieces.append((path, char))
        return [self._measure(path, piece, size) for path, piece in pieces]

    def _measure(self, path: str, text: str, size: int) -> _Run:
        """The run in raqm's layout, or the basic one where raqm is off or fails on it."""
        for basic in (False, True) if not self.basic else (True,):
            font = _load(path, size, basic)
            try:
                return _Run(font, text, font.getlength(text))
            except _FONT_ERRORS:
                continue
        log.warning("%d characters cannot be laid out in %s; left out", len(text), path)
        return _Run(None, text, 0.0)


def _stamp(pen: ImageDraw.ImageDraw, xy: tuple[float, float], run: _Run, size: int) -> None:
    """Draws one run white on the line's mask, falling back to basic layout."""
    assert run.font is not None
    font = run.font
    try:
        pen.text(xy, run.text, font=font, fill=255, anchor="ls")
        return
    except _FONT_ERRORS:
        if font.layout_engine == ImageFont.Layout.BASIC:
            log.warning("%d characters cannot be drawn in %s; left out", len(run.text), font.path)
            return
    try:
        pen.text(
            xy,
            run.text,
            font=font.font_variant(layout_engine=ImageFont.Layout.BASIC),
            fill=255,
            anchor="ls",
        )
    except _FONT_ERRORS:
        log.warning("%d characters cannot be drawn in %s; left out", len(run.text), font.path)


@functools.lru_cache(maxsize=256)
def _extent(chain: tuple[str, ...], size: int, basic: bool) -> tuple[int, int]:
    ascent = descent = 0
    for path in chain:
        try:
            up, down = _load(path, size, basic).getmetrics()
        except _FONT_ERRORS:
            continue
        ascent, descent = max(ascent, up), max(descent, down)
    return ascent or size, descent or max(1, size // 4)


def _first(paths: Sequence[str]) -> list[str]:
    return [p for p in paths if _loads(p)]


@functools.lru_cache(maxsize=16)
def typeface(extra: tuple[str, ...] = (), *, basic: bool = False) -> Typeface:
    """The typeface: ``extra`` font files first, then the system's, then Pillow's own.

    Args:
        extra: Font files to try first (previs's ``fonts`` setting).
        basic: Lay out with Pillow's basic layout even where raqm is installed.
    """
    extras = _first(extra)
    regular = _first(_REGULAR)[:1]
    bold = _first(_BOLD)[:1] or regular
    fallback = [p for p in _first(_FALLBACK) if p not in regular]
    return Typeface(
        regular=tuple(dict.fromkeys(extras + regular + fallback + [_BUILTIN])),
        bold=tuple(dict.fromkeys(extras + bold + fallback + [_BUILTIN])),
        basic=basic,
    )
