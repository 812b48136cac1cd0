"""Colours of a film's characters in previs: distinct for the eye, and hair and coat as described.

``CAST_PALETTE`` holds 15 mid-toned colours chosen greedily (farthest first) from an HSV grid
so that every pair is at least 21.7 apart in CIEDE2000 (``delta_e2000``, checked by a test);
the sRGB gamut holds about 20 colours at 20 apart, so a film with more characters cannot give
each its own. ``cast_colors`` gives the characters of a film, in order of first appearance,
the palette's colours in turn; beyond 15 characters it colours by who shares a scene (no two
characters of one scene alike while 15 colours suffice for that scene's neighbours), which is
the stated limit. A coat and hair colour named in the description (``described_colors``,
the look in force last, so a look change shows) override the palette for that figure.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

from setpiece.colour import delta_e_2000

__all__ = [
    "CAST_PALETTE",
    "cast_colors",
    "delta_e2000",
    "described_colors",
    "srgb_to_lab",
]

RGB = tuple[int, int, int]

CAST_PALETTE: tuple[RGB, ...] = (
    (115, 75, 75),
    (11, 230, 11),
    (46, 184, 230),
    (230, 157, 11),
    (230, 149, 230),
    (23, 115, 84),
    (11, 11, 230),
    (230, 105, 80),
    (115, 97, 6),
    (96, 120, 191),
    (80, 230, 205),
    (191, 10, 161),
    (140, 153, 99),
    (230, 230, 11),
    (6, 97, 115),
)

# Colour words of descriptions ("red coat", "grey hair"), as mid-toned RGB.
COLOUR_WORDS: dict[str, RGB] = {
    "black": (34, 32, 36),
    "white": (236, 234, 228),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "silver": (176, 178, 182),
    "red": (190, 32, 36),
    "crimson": (160, 20, 40),
    "orange": (226, 120, 30),
    "yellow": (230, 206, 40),
    "mustard": (200, 160, 40),
    "green": (40, 140, 60),
    "olive": (110, 110, 50),
    "blue": (40, 80, 190),
    "navy": (26, 36, 90),
    "teal": (20, 120, 120),
    "purple": (110, 50, 150),
    "pink": (230, 130, 170),
    "brown": (110, 70, 40),
    "tan": (196, 160, 110),
    "beige": (210, 190, 160),
    "camel": (190, 150, 100),
}
HAIR_WORDS: dict[str, RGB] = {
    "blonde": (214, 180, 100),
    "blond": (214, 180, 100),
    "redhead": (160, 60, 30),
    "ginger": (170, 80, 30),
    "auburn": (130, 50, 30),
    "brunette": (70, 44, 28),
    "bald": (200, 160, 130),  # the scalp
    "shaved": (200, 160, 130),
    "grey-haired": (150, 150, 150),
    "white-haired": (225, 225, 220),
}
_GARMENTS = (
    "coat overcoat jacket hoodie dress suit shirt sweater jumper uniform cardigan blazer raincoat "
    "parka gown robe cloak vest top"
).split()
_COLOUR = "|".join(sorted(COLOUR_WORDS, key=len, reverse=True))
_COAT = re.compile(rf"\b({_COLOUR})\b(?:[\s-]+\w+)?[\s-]+(?:{'|'.join(_GARMENTS)})s?\b", re.I)
_HAIR = re.compile(rf"\b({_COLOUR})\b[\s-]+(?:\w+[\s-]+)?hair(?:ed)?\b", re.I)
_HAIR_WORD = re.compile(rf"\b({'|'.join(HAIR_WORDS)})\b", re.I)


def described_colors(description: str) -> tuple[RGB | None, RGB | None]:
    """(coat, hair) colours the description names; the last mention wins (a look comes last).

    Args:
        description: The bible description, with the look in force after it.
    """
    coat = None
    for match in _COAT.finditer(description):
        coat = COLOUR_WORDS[match.group(1).lower()]
    hair: RGB | None = None
    best = -1
    for match in _HAIR.finditer(description):
        if match.start() > best:
            hair, best = COLOUR_WORDS[match.group(1).lower()], match.start()
    for match in _HAIR_WORD.finditer(description):
        if match.start() > best:
            hair, best = HAIR_WORDS[match.group(1).lower()], match.start()
    return coat, hair


def cast_colors(cast: Sequence[str], scenes: Iterable[Iterable[str]] = ()) -> dict[str, RGB]:
    """A palette colour for each character of a film.

    Args:
        cast: The characters, in order of first appearance (upper case names).
        scenes: The characters of each scene; used only when the cast outnumbers the palette.

    Returns:
        Name (upper case) -> colour; distinct for every pair when the cast has at most 15.
    """
    names = [name.upper() for name in dict.fromkeys(cast)]
    if len(names) <= len(CAST_PALETTE):
        return {name: CAST_PALETTE[i] for i, name in enumerate(names)}
    together: dict[str, set[str]] = {name: set() for name in names}
    for scene in scenes:
        present = {name.upper() for name in scene} & together.keys()
        for name in present:
            together[name] |= present - {name}
    colors: dict[str, RGB] = {}
    for index, name in enumerate(names):
        if index < len(CAST_PALETTE):  # the first characters keep a colour of their own
            colors[name] = CAST_PALETTE[index]
            continue
        taken = [colors[other] for other in together[name] if other in colors]
        free = [c for c in CAST_PALETTE if c not in taken]
        # All taken by its scene partners: the one they use least (the stated limit).
        colors[name] = free[0] if free else min(CAST_PALETTE, key=taken.count)
    return colors


def srgb_to_lab(rgb: Sequence[float]) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB colour given as 0-255 values."""
    linear = []
    for value in rgb:
        c = value / 255.0
        linear.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = linear
    xyz = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    fx, fy, fz = (
        math.cbrt(t) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29 for t in xyz
    )
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e2000(first: Sequence[float], second: Sequence[float]) -> float:
    """CIEDE2000 colour difference of two sRGB colours (Sharma, Wu and Dalal, 2005).

    Args:
        first, second: Colours as 0-255 RGB values.
    """
    return delta_e_2000(srgb_to_lab(first), srgb_to_lab(second))
