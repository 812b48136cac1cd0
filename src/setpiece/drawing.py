"""The board's palette: the paper, ink and pencil grey of everything Setpiece draws for people.

A previs panel (``generate``) and a contact sheet (``edit``) are both pages of the same
storyboard, so they share one paper, one ink and one grey, and the panel's red for move
arrows. The capabilities may not import each other, so the palette lives here, at the
bottom beside ``lettering`` (which draws the words in it); a colour changed here changes
every board at once. Colours are 8-bit sRGB triples, as Pillow takes them.
"""

from __future__ import annotations

__all__ = ["ARROW", "GREY", "INK", "PAPER", "RGB"]

RGB = tuple[int, int, int]

PAPER: RGB = (243, 240, 231)  # a storyboard page's warm off-white
INK: RGB = (30, 30, 34)  # captions, shot codes, frame lines
GREY: RGB = (104, 102, 98)  # secondary text: scene headings, camera notes
ARROW: RGB = (214, 44, 38)  # a board's move arrows
