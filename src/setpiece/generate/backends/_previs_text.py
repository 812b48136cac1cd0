"""Lettering for previs panels: fonts with per-character fallback, measuring and wrapping.

Pillow draws a string in one font, and no single font a machine is likely to have
covers "ZOË" and "李" alike. A ``Typeface`` is a chain of fonts; each character is
drawn in the first font of the chain that has a glyph for it, so a caption keeps
the panel's face for Latin text and borrows another for the rest. A character no
font has is drawn as the first font's missing-glyph box.

Fonts are looked for in a fixed order (the configured ones, then common system
paths, then the font Pillow ships), so one machine always draws the same pixels;
the face used is recorded on the take.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ImageDraw, ImageFont

__all__ = ["Typeface", "typeface"]

Font = ImageFont.FreeTypeFont

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
# Wide-coverage faces (CJK, and symbols the panel face lacks), tried in order.
_FALLBACK = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
)
_BUILTIN = "<pillow>"


def _load(path: str, size: int) -> Font:
    """A font at a size, cached per thread: FreeType faces are not safe to share across threads."""
    return _load_for_thread(path, size, threading.get_ident())


@functools.lru_cache(maxsize=256)
def _load_for_thread(path: str, size: int, thread: int) -> Font:
    if path == _BUILTIN:
        font = ImageFont.load_default(size)
        assert isinstance(font, ImageFont.FreeTypeFont)  # Pillow >= 10.1 with FreeType
        return font
    return ImageFont.truetype(path, size)


@functools.lru_cache(maxsize=8192)
def _has_glyph(path: str, char: str) -> bool:
    """Whether the font draws ``char`` as something other than its missing-glyph box."""
    if char.isspace():
        return True
    font = _load(path, 24)
    mask = font.getmask(char)
    missing = font.getmask("\U0010fffd")
    return mask.size != missing.size or bytes(mask) != bytes(missing)


@dataclass(frozen=True)
class Typeface:
    """A regular and a bold chain of font files; the first of each is the panel's face."""

    regular: tuple[str, ...]
    bold: tuple[str, ...]

    @property
    def name(self) -> str:
        first = self.bold[0]
        return "Pillow default" if first == _BUILTIN else os.path.basename(first)

    def _runs(self, text: str, bold: bool) -> list[tuple[str, str]]:
        chain = self.bold if bold else self.regular
        runs: list[tuple[str, str]] = []
        for char in text:
            path = next((p for p in chain if _has_glyph(p, char)), chain[0])
            if runs and runs[-1][0] == path:
                runs[-1] = (path, runs[-1][1] + char)
            else:
                runs.append((path, char))
        return runs

    def width(self, text: str, size: int, bold: bool = False) -> float:
        return sum(_load(p, size).getlength(run) for p, run in self._runs(text, bold))

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        text: str,
        size: int,
        fill: tuple[int, ...],
        *,
        bold: bool = False,
        anchor: str = "ls",
    ) -> float:
        """Draws ``text`` with its baseline at y; ``anchor`` 'ls', 'ms' or 'rs'. Returns the width."""
        width = self.width(text, size, bold)
        x, y = xy
        if anchor[0] == "m":
            x -= width / 2
        elif anchor[0] == "r":
            x -= width
        for path, run in self._runs(text, bold):
            font = _load(path, size)
            draw.text((x, y), run, font=font, fill=fill, anchor="ls")
            x += font.getlength(run)
        return width

    def wrap(self, text: str, size: int, width: float, lines: int, bold: bool = False) -> list[str]:
        """Up to ``lines`` lines no wider than ``width``; an ellipsis ends cut text."""
        words = text.split()
        out: list[str] = []
        current = ""
        for index, word in enumerate(words):
            trial = f"{current} {word}".strip()
            if self.width(trial, size, bold) <= width or not current:
                current = trial
                continue
            out.append(current)
            current = word
            if len(out) == lines:
                out[-1] = self.fit(out[-1] + " " + " ".join(words[index:]), size, width, bold)
                return out
        if current:
            out.append(current)
        return [self.fit(line, size, width, bold) for line in out]

    def fit(self, text: str, size: int, width: float, bold: bool = False) -> str:
        """``text`` cut to ``width`` with an ellipsis where it does not fit."""
        if self.width(text, size, bold) <= width:
            return text
        while text and self.width(text + "…", size, bold) > width:
            text = text[:-1].rstrip()
        return text + "…" if text else ""


def _first(paths: Sequence[str]) -> list[str]:
    return [p for p in paths if os.path.isfile(p)]


@functools.lru_cache(maxsize=16)
def typeface(extra: tuple[str, ...] = ()) -> Typeface:
    """The panel's typeface: ``extra`` font files first, then the system's, then Pillow's own."""
    extras = _first(extra)
    regular = _first(_REGULAR)[:1]
    bold = _first(_BOLD)[:1] or regular
    fallback = [p for p in _first(_FALLBACK) if p not in regular]
    return Typeface(
        regular=tuple(extras + regular + fallback + [_BUILTIN]),
        bold=tuple(extras + bold + fallback + [_BUILTIN]),
    )
