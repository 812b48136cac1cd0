"""What every previs painter shares: the canvas in world units, colours and the location palette.

Colours: a location's palette comes from a hash of its name, so every shot of the
kitchen has the same walls; the time of day tints everything lit and sets the sky.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from setpiece.generate.backends._previs_plan import Plan, unit
from setpiece.generate.backends._previs_words import NEUTRAL

__all__ = [
    "AMBIENT",
    "KEY_LIGHT",
    "RGB",
    "SKIES",
    "Canvas",
    "Palette",
    "Point",
    "Room",
    "hsv",
    "mix",
    "palette",
    "room_of",
    "tone",
    "whole",
]


# Sets that take another set's ground colours (the vocabulary is in _previs_words).
_GROUNDS = {
    "city": "street",
    "rooftop": "street",
    "pier": "water",
    "kitchen": "room",
    "auditorium": "room",
    "booth": "room",
}


def whole(box: Sequence[float]) -> tuple[int, int, int, int]:
    """A box on whole pixels: Pillow's rounded corners overlap (and blend twice) on fractions."""
    return (round(box[0]), round(box[1]), round(box[2]), round(box[3]))


RGB = tuple[int, int, int]
Point = tuple[float, float]

SKIES: dict[str, tuple[RGB, RGB]] = {  # (top, horizon)
    "day": ((96, 146, 206), (206, 224, 238)),
    "night": ((8, 12, 32), (36, 48, 92)),
    "dawn": ((84, 92, 150), (252, 196, 140)),
    "dusk": ((46, 40, 98), (250, 150, 86)),
}
AMBIENT: dict[str, tuple[float, float, float]] = {
    "day": (1.0, 1.0, 1.0),
    "night": (0.26, 0.32, 0.52),
    "dawn": (0.98, 0.86, 0.8),
    "dusk": (0.92, 0.74, 0.7),
}
KEY_LIGHT: dict[str, RGB] = {
    "day": (255, 250, 235),
    "night": (255, 196, 120),
    "dawn": (255, 210, 160),
    "dusk": (255, 170, 100),
}


def mix(a: Sequence[float], b: Sequence[float], t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def tone(c: Sequence[float], f: float) -> RGB:
    return (min(255, round(c[0] * f)), min(255, round(c[1] * f)), min(255, round(c[2] * f)))


def hsv(h: float, s: float, v: float) -> RGB:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


@dataclass
class Canvas:
    """An image and its place in world units: pixel = (world - origin) * scale."""

    image: Image.Image
    ox: float
    oy: float
    scale: float

    def p(self, x: float, y: float) -> Point:
        return ((x - self.ox) * self.scale, (y - self.oy) * self.scale)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        a, b = self.p(x0, y0)
        c, d = self.p(x1, y1)
        return (min(a, c), min(b, d), max(a, c), max(b, d))

    @property
    def top(self) -> float:
        return self.oy

    @property
    def bottom(self) -> float:
        return self.oy + self.image.height / self.scale

    @property
    def left(self) -> float:
        return self.ox

    @property
    def right(self) -> float:
        return self.ox + self.image.width / self.scale


@dataclass(frozen=True)
class Palette:
    wall: RGB
    wall_side: RGB
    ceiling: RGB
    floor: RGB
    floor_line: RGB
    trim: RGB
    accent: RGB
    ground_far: RGB
    ground_near: RGB
    haze: RGB
    ambient: tuple[float, float, float]
    sky: tuple[RGB, RGB]

    def lit(self, color: Sequence[float]) -> RGB:
        a = self.ambient
        return (round(color[0] * a[0]), round(color[1] * a[1]), round(color[2] * a[2]))


def palette(plan: Plan) -> Palette:
    """The location's colours (a hash of its name) under the time of day's light."""
    key = plan.location.upper()
    hue = unit("hue", key)
    ambient = AMBIENT[plan.time]
    sky = SKIES[plan.time]

    def lit(c: RGB) -> RGB:
        return (round(c[0] * ambient[0]), round(c[1] * ambient[1]), round(c[2] * ambient[2]))

    ground = {
        "street": (hsv(hue, 0.06, 0.5), hsv(hue, 0.08, 0.36)),
        "nature": (hsv(0.22 + 0.08 * unit("g", key), 0.35, 0.55), hsv(0.24, 0.45, 0.36)),
        "water": (hsv(0.12, 0.3, 0.86), hsv(0.11, 0.38, 0.74)),
        "desert": (hsv(0.09, 0.35, 0.86), hsv(0.08, 0.45, 0.7)),
        "hills": (hsv(0.16 + 0.1 * unit("g", key), 0.35, 0.62), hsv(0.2, 0.42, 0.42)),
        "room": (hsv(hue + 0.05, 0.3, 0.5), hsv(hue + 0.05, 0.35, 0.36)),
        NEUTRAL: (hsv(hue, 0.04, 0.55), hsv(hue, 0.05, 0.4)),  # grey: claims no place
    }[_GROUNDS.get(plan.setting, plan.setting)]
    haze = mix(sky[1], sky[0], 0.15)
    wall = hsv(hue, 0.16 + 0.14 * unit("ws", key), 0.8 + 0.1 * unit("wv", key))
    floor_hue = 0.07 + 0.04 * unit("fh", key) if unit("wood", key) < 0.6 else hue + 0.5
    floor = hsv(floor_hue, 0.38, 0.5 + 0.12 * unit("fv", key))
    return Palette(
        wall=lit(wall),
        wall_side=lit(tone(wall, 0.8)),
        ceiling=lit(tone(wall, 0.9)),
        floor=lit(floor),
        floor_line=lit(tone(floor, 0.78)),
        trim=lit(hsv(hue, 0.08, 0.95)),
        accent=lit(hsv(hue + 0.45, 0.45, 0.55)),
        ground_far=lit(ground[0]),
        ground_near=lit(ground[1]),
        haze=lit(haze) if plan.interior else haze,
        ambient=ambient,
        sky=sky,
    )


@dataclass(frozen=True)
class Room:
    """The back wall of an interior, in world units."""

    left: float
    right: float
    floor: float  # y where the back wall meets the floor
    ceiling: float
    unit: float  # a standing figure's height at the back wall


def room_of(plan: Plan) -> Room:
    fig = plan.figure_height
    far = 0.5 ** (35.0 / plan.lens_mm) * 0.8
    u = fig * far
    floor = plan.horizon + plan.eye_cut * u
    half = 2.6 * u + 0.15
    return Room(plan.vanish_x - half, plan.vanish_x + half, floor, floor - 1.6 * u, u)
