"""The people and things in the shot: silhouettes, props, shadows and name tags.

A character is a silhouette built from a few shapes in head units (a figure is 7.5
heads tall), facing the others, in its bible colour: an outline, a rim of the key
light on the side facing it, hair and build from its name (so a character looks the
same in every shot) and a pose from the seed (so takes differ). Near figures are
darker, far ones fade into the haze. Props are simple labelled shapes; small ones stand
on a side table, raised into frame when a close shot would cut them off.
"""

from __future__ import annotations

import math

from PIL import ImageDraw

from setpiece.generate.backends._previs_canvas import (
    KEY_LIGHT,
    RGB,
    Canvas,
    Palette,
    Point,
    mix,
    tone,
    whole,
)
from setpiece.generate.backends._previs_plan import Figure, Plan, unit
from setpiece.generate.backends._previs_words import PROP_WIDTH
from setpiece.lettering import Typeface

__all__ = ["PROP_WIDTH", "draw_figures", "draw_labels", "overhead_y"]

HAIR = ((42, 30, 24), (20, 18, 20), (120, 84, 46), (196, 160, 96), (150, 60, 30), (140, 140, 140))


def _figure_parts(
    fig: Figure,
) -> tuple[list[tuple[str, list[Point], float]], list[tuple[str, list[Point], float]]]:
    """A standing figure as primitives in head units (head top at 0, feet at 7.5, facing +u).

    Returns (body parts, hair parts); a part is (kind, points, width) where
    kind is 'ellipse' (two corner points), 'poly' or 'line'.
    """
    build, pose = fig.build, fig.pose
    sw = 0.95 + 0.3 * build  # half shoulder width
    hip = 0.7 + 0.2 * (1 - build)
    stance = 0.15 + 0.35 * unit("stance", pose)
    step = (unit("step", pose) - 0.5) * 0.6
    head_dx = 0.08 + 0.06 * unit("head", pose)
    parts: list[tuple[str, list[Point], float]] = [
        ("poly", [(-0.19, 0.85), (0.19, 0.85), (0.21, 1.4), (-0.21, 1.4)], 0),
        (
            "poly",
            [
                (-0.4, 1.22),
                (-sw + 0.2, 1.32),
                (-sw, 1.62),
                (-sw + 0.08, 2.6),
                (-hip + 0.02, 3.55),
                (-hip, 4.05),
                (hip, 4.05),
                (hip - 0.02, 3.55),
                (sw - 0.08, 2.6),
                (sw, 1.62),
                (sw - 0.2, 1.32),
                (0.4, 1.22),
            ],
            0,
        ),
        (
            "poly",
            [(-hip, 3.9), (0.02, 3.9), (-stance * 0.2 + step, 7.25), (-stance - 0.45 + step, 7.25)],
            0,
        ),
        (
            "poly",
            [(-0.02, 3.9), (hip, 3.9), (stance + 0.45 - step, 7.25), (stance * 0.2 - step, 7.25)],
            0,
        ),
        ("ellipse", [(-stance - 0.42 + step, 7.12), (-stance + 0.2 + step, 7.5)], 0),
        ("ellipse", [(stance - 0.02 - step, 7.12), (stance + 0.6 - step, 7.5)], 0),
        ("ellipse", [(head_dx - 0.4, 0.0), (head_dx + 0.4, 1.04)], 0),
        ("ellipse", [(head_dx - 0.12, 0.62), (head_dx + 0.36, 1.08)], 0),  # jaw and chin
        (
            "poly",
            [(head_dx + 0.34, 0.42), (head_dx + 0.5, 0.66), (head_dx + 0.36, 0.72)],
            0,
        ),  # nose
    ]
    # Arms: the seed picks a pose (down, hand on hip, gesturing, hands in pockets).
    arm = 0.4
    back, front = (-sw + 0.18, 1.75), (sw - 0.18, 1.75)
    choice = unit("arms", pose)
    if choice < 0.35:
        arms = [
            [back, (-sw - 0.12, 2.95), (-sw - 0.02, 4.1)],
            [front, (sw + 0.12, 2.95), (sw + 0.02, 4.1)],
        ]
    elif choice < 0.6:
        arms = [
            [back, (-sw - 0.6, 2.95), (-hip - 0.05, 3.75)],
            [front, (sw + 0.1, 2.95), (sw + 0.05, 4.1)],
        ]
    elif choice < 0.82:
        arms = [
            [back, (-sw - 0.1, 2.95), (-sw + 0.02, 4.1)],
            [front, (sw + 0.35, 2.85), (sw + 1.05, 2.4)],
        ]
    else:
        arms = [
            [back, (-sw - 0.2, 2.9), (-hip + 0.1, 3.85)],
            [front, (sw + 0.2, 2.9), (hip - 0.1, 3.85)],
        ]
    for chain in arms:
        parts.append(("line", list(chain), arm))
        wx, wy = chain[-1]
        parts.append(("ellipse", [(wx - 0.2, wy - 0.18), (wx + 0.2, wy + 0.24)], 0))
    hair_style = int(unit("hair", build) * 4)
    hx, cy, rx, ry = head_dx, 0.52, 0.42, 0.55
    # A cap following the skull from the forehead over the top to the nape.
    start, stop = (30, 215) if hair_style != 3 else (45, 200)
    cap = [
        (hx + rx * math.cos(math.radians(a)), cy - ry * math.sin(math.radians(a)))
        for a in range(start, stop + 1, 15)
    ]
    cap += [(hx - 0.18, 0.62), (hx - 0.02, 0.36), (hx + 0.2, 0.3)]
    hair: list[tuple[str, list[Point], float]] = [("poly", cap, 0)]
    if hair_style == 1:  # long, falling behind the shoulders
        hair.append(
            (
                "poly",
                [
                    (hx - 0.42, 0.35),
                    (hx - 0.05, 0.3),
                    (hx - 0.08, 1.45),
                    (hx - 0.3, 1.7),
                    (hx - 0.62, 1.6),
                    (hx - 0.5, 0.9),
                ],
                0,
            )
        )
    elif hair_style == 2:  # a bun at the back of the head
        hair.append(("ellipse", [(hx - 0.58, 0.12), (hx - 0.26, 0.44)], 0))
    return parts, hair


def _transform(fig: Figure, canvas: Canvas, points: list[Point], dx: float = 0.0) -> list[Point]:
    hu = fig.height / 7.5
    top = fig.feet - fig.height
    lean = (unit("lean", fig.pose) - 0.5) * 0.06
    out = []
    for u, v in points:
        u = u * fig.facing
        u += lean * (7.5 - v)
        out.append(canvas.p(fig.x + u * hu + dx, top + v * hu))
    return out


def _draw_parts(
    draw: ImageDraw.ImageDraw,
    fig: Figure,
    canvas: Canvas,
    parts: list[tuple[str, list[Point], float]],
    color: RGB,
    grow: float,
    dx: float = 0.0,
) -> None:
    """Draws parts in one colour, each ``grow`` pixels fatter on every side (an outline pass)."""
    hu_px = fig.height / 7.5 * canvas.scale
    for kind, pts, width in parts:
        points = _transform(fig, canvas, pts, dx)
        if kind == "ellipse":
            (x0, y0), (x1, y1) = points
            box = (min(x0, x1) - grow, min(y0, y1) - grow, max(x0, x1) + grow, max(y0, y1) + grow)
            draw.ellipse(box, fill=color)
        elif kind == "poly":
            draw.polygon(
                points, fill=color, outline=color, width=max(1, round(grow * 2)) if grow else 1
            )
        else:
            w = max(1, round(width * hu_px + 2 * grow))
            draw.line(points, fill=color, width=w, joint="curve")
            r = w / 2
            for x, y in (points[0], points[-1]):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=color)


def _shades(fig: Figure, plan: Plan, pal: Palette) -> tuple[RGB, RGB, RGB]:
    """(body, rim, outline) colours: lit by the time of day, darker near, hazier far."""
    color = fig.color
    if fig.kind == "prop":  # things take a muted version of their colour; the tag keeps it
        color = mix(color, (150, 140, 128), 0.45)
    base = pal.lit(color)
    if fig.depth == "foreground":
        base = tone(base, 0.62)
    elif fig.depth == "background":
        base = mix(base, pal.haze, 0.35)
    rim = mix(base, KEY_LIGHT[plan.time], 0.55 if plan.time != "day" else 0.4)
    outline = tone(base, 0.3)
    return base, rim, outline


def _character(
    canvas: Canvas, draw: ImageDraw.ImageDraw, fig: Figure, plan: Plan, pal: Palette
) -> None:
    parts, hair = _figure_parts(fig)
    base, rim, outline = _shades(fig, plan, pal)
    hair_color = pal.lit(fig.hair or HAIR[int(unit("hair-colour", fig.build) * len(HAIR))])
    hair_color = mix(hair_color, base, 0.25)
    px = canvas.scale * fig.height / 7.5  # pixels per head unit
    grow = max(1.0, px * 0.045)
    away = -1 if plan.light[0] > fig.x else 1
    shift = away * 0.06 * fig.height / 7.5
    everything = parts + hair
    _draw_parts(draw, fig, canvas, everything, outline, grow)
    _draw_parts(draw, fig, canvas, parts, rim, 0)
    _draw_parts(draw, fig, canvas, parts, base, 0, shift)
    _draw_parts(draw, fig, canvas, hair, hair_color, 0)
    # An ear says which way the head turns; a collar which way the body does.
    hx = 0.08 + 0.06 * unit("head", fig.pose)
    _draw_parts(
        draw,
        fig,
        canvas,
        [("ellipse", [(hx - 0.14, 0.46), (hx + 0.02, 0.72)], 0)],
        tone(base, 0.82),
        0,
    )
    collar = [(-0.3, 1.3), (0.1, 1.72), (0.4, 1.3)]
    draw.line(
        _transform(fig, canvas, collar),
        fill=mix(base, (255, 255, 255), 0.18),
        width=max(1, round(px * 0.06)),
        joint="curve",
    )


def _overhead_character(
    canvas: Canvas, draw: ImageDraw.ImageDraw, fig: Figure, plan: Plan, pal: Palette, y: float
) -> None:
    base, rim, outline = _shades(fig, plan, pal)
    hu = fig.height / 7.5
    sw = (0.95 + 0.3 * fig.build) * hu
    x = fig.x
    grow = max(1.0, canvas.scale * hu * 0.05)
    sx, sy = 0.08 * hu, 0.12 * hu
    draw.ellipse(
        canvas.box(x - sw + sx, y - 0.5 * hu + sy, x + sw + sx, y + 0.5 * hu + sy),
        fill=(0, 0, 0, 70),
    )
    for color, g in ((outline, grow), (base, 0.0)):
        b = canvas.box(x - sw, y - 0.45 * hu, x + sw, y + 0.45 * hu)
        draw.ellipse((b[0] - g, b[1] - g, b[2] + g, b[3] + g), fill=color)
        for side in (-1, 1):
            hb = canvas.box(
                x + side * sw * 0.9 - 0.22 * hu,
                y - 0.1 * hu + 0.25 * hu * fig.facing * side,
                x + side * sw * 0.9 + 0.22 * hu,
                y + 0.34 * hu + 0.25 * hu * fig.facing * side,
            )
            draw.ellipse((hb[0] - g, hb[1] - g, hb[2] + g, hb[3] + g), fill=color)
    nose = canvas.box(
        x + fig.facing * 0.3 * hu - 0.1 * hu,
        y - 0.1 * hu,
        x + fig.facing * 0.3 * hu + 0.1 * hu,
        y + 0.1 * hu,
    )
    draw.ellipse(nose, fill=rim)
    hair_color = pal.lit(fig.hair or HAIR[int(unit("hair-colour", fig.build) * len(HAIR))])
    head = canvas.box(x - 0.38 * hu, y - 0.4 * hu, x + 0.38 * hu, y + 0.4 * hu)
    draw.ellipse((head[0] - grow, head[1] - grow, head[2] + grow, head[3] + grow), fill=outline)
    draw.ellipse(head, fill=hair_color)


def _shadow(
    canvas: Canvas, draw: ImageDraw.ImageDraw, fig: Figure, plan: Plan, width: float
) -> None:
    """A contact shadow; a long one away from a low sun."""
    y = fig.feet
    alpha = 90 if plan.time != "night" else 60
    if plan.time in ("dawn", "dusk") and not plan.interior:
        away = -1 if plan.light[0] > fig.x else 1
        length = fig.height * 1.4
        draw.polygon(
            [
                canvas.p(fig.x, y - fig.height * 0.012),
                canvas.p(fig.x + away * length, y - fig.height * 0.03),
                canvas.p(fig.x + away * length, y + fig.height * 0.03),
                canvas.p(fig.x, y + fig.height * 0.012),
            ],
            fill=(20, 10, 30, 70),
        )
    draw.ellipse(
        canvas.box(
            fig.x - width * 0.6, y - fig.height * 0.015, fig.x + width * 0.6, y + fig.height * 0.02
        ),
        fill=(0, 0, 0, alpha),
    )


# Props -----------------------------------------------------------------------------------------


def _prop_base(fig: Figure, plan: Plan) -> tuple[float, float, float]:
    """(bottom y, height, width) of a prop, standing on the ground or on a side table."""
    full = (fig.feet - plan.horizon) / plan.eye_cut if plan.eye_cut else fig.height
    height = max(fig.height, 0.045)
    width = height * PROP_WIDTH.get(fig.shape, 1.0)
    bottom = fig.feet
    if fig.on_table:  # on a side table, raised into frame when a close shot would cut it off
        bottom = min(fig.feet - 0.45 * full, 0.93)
    return bottom, height, width


def _prop_shadow(canvas: Canvas, draw: ImageDraw.ImageDraw, fig: Figure, plan: Plan) -> None:
    _bottom, _h, w = _prop_base(fig, plan)
    if fig.on_table:
        full = (fig.feet - plan.horizon) / plan.eye_cut if plan.eye_cut else fig.height
        table = Figure(
            fig.name, "prop", fig.color, fig.x, fig.feet, full * 0.45, fig.depth, fig.side, 1, 0, 0
        )
        _shadow(canvas, draw, table, plan, max(w * 2.2, 0.22 * full))
    else:
        _shadow(canvas, draw, fig, plan, w)


def _prop(canvas: Canvas, draw: ImageDraw.ImageDraw, fig: Figure, plan: Plan, pal: Palette) -> None:
    bottom, h, w = _prop_base(fig, plan)
    full = (fig.feet - plan.horizon) / plan.eye_cut if plan.eye_cut else fig.height
    base, _rim, outline = _shades(fig, plan, pal)
    light = mix(base, (255, 255, 255), 0.35)
    dark = tone(base, 0.7)
    x = fig.x
    grow = max(1, round(canvas.scale * min(h, 0.2) * 0.04))
    if fig.on_table:
        tw = max(w * 2.2, 0.22 * full)
        wood = pal.lit((120, 86, 60))
        draw.rectangle(
            canvas.box(x - tw / 2, bottom, x + tw / 2, bottom + 0.035 * full),
            fill=wood,
            outline=tone(wood, 0.5),
            width=grow,
        )
        for lx in (x - tw * 0.4, x + tw * 0.4):
            draw.rectangle(
                canvas.box(
                    lx - 0.012 * full,
                    bottom + 0.035 * full,
                    lx + 0.012 * full,
                    max(fig.feet, bottom + 0.45 * full),
                ),
                fill=tone(wood, 0.75),
            )

    def poly(points: list[Point], fill: RGB) -> None:
        pts = [canvas.p(x + px * w, bottom - py * h) for px, py in points]
        draw.polygon(pts, fill=fill, outline=outline, width=grow)

    def ellipse(cx: float, cy: float, rx: float, ry: float, fill: RGB) -> None:
        draw.ellipse(
            canvas.box(
                x + (cx - rx) * w, bottom - (cy + ry) * h, x + (cx + rx) * w, bottom - (cy - ry) * h
            ),
            fill=fill,
            outline=outline,
            width=grow,
        )

    shape = fig.shape
    if shape == "car":
        poly(
            [
                (-0.5, 0.12),
                (-0.5, 0.5),
                (-0.3, 0.56),
                (-0.18, 0.95),
                (0.2, 0.95),
                (0.34, 0.56),
                (0.5, 0.48),
                (0.5, 0.12),
            ],
            base,
        )
        poly([(-0.14, 0.6), (-0.1, 0.86), (0.0, 0.86), (0.0, 0.6)], light)
        poly([(0.04, 0.6), (0.04, 0.86), (0.16, 0.86), (0.28, 0.6)], light)
        for cx in (-0.3, 0.3):
            ellipse(cx, 0.16, 0.09, 0.2, (28, 28, 32))
            ellipse(cx, 0.16, 0.04, 0.09, (150, 150, 150))
    elif shape == "bike":
        for cx in (-0.3, 0.3):
            draw.ellipse(
                canvas.box(x + (cx - 0.2) * w, bottom - 0.6 * h, x + (cx + 0.2) * w, bottom),
                outline=outline,
                width=grow * 2,
            )
        frame = [
            canvas.p(x - 0.3 * w, bottom - 0.3 * h),
            canvas.p(x, bottom - 0.3 * h),
            canvas.p(x + 0.3 * w, bottom - 0.3 * h),
            canvas.p(x + 0.15 * w, bottom - 0.85 * h),
            canvas.p(x - 0.1 * w, bottom - 0.75 * h),
            canvas.p(x, bottom - 0.3 * h),
        ]
        draw.line(frame, fill=base, width=grow * 3, joint="curve")
    elif shape == "table":
        poly([(-0.5, 0.9), (0.5, 0.9), (0.5, 1.0), (-0.5, 1.0)], base)
        for cx in (-0.42, 0.38):
            poly([(cx, 0.0), (cx + 0.05, 0.0), (cx + 0.05, 0.9), (cx, 0.9)], dark)
    elif shape == "chair":
        poly([(-0.4, 0.5), (0.5, 0.5), (0.5, 0.58), (-0.4, 0.58)], base)
        poly([(-0.45, 0.5), (-0.33, 0.5), (-0.33, 1.0), (-0.45, 1.0)], base)
        for cx in (-0.45, 0.4):
            poly([(cx, 0.0), (cx + 0.09, 0.0), (cx + 0.09, 0.5), (cx, 0.5)], dark)
    elif shape == "sofa":
        poly([(-0.5, 0.08), (0.5, 0.08), (0.5, 0.55), (-0.5, 0.55)], base)
        poly([(-0.46, 0.5), (0.46, 0.5), (0.44, 1.0), (-0.44, 1.0)], dark)
        for cx in (-0.5, 0.42):
            poly([(cx, 0.08), (cx + 0.08, 0.08), (cx + 0.08, 0.7), (cx, 0.7)], light)
    elif shape == "door":
        poly([(-0.5, 0.0), (0.5, 0.0), (0.5, 1.0), (-0.5, 1.0)], base)
        ellipse(0.32, 0.48, 0.06, 0.02, (210, 180, 90))
    elif shape == "tree":
        poly([(-0.08, 0.0), (0.08, 0.0), (0.06, 0.5), (-0.06, 0.5)], pal.lit((90, 64, 44)))
        for cx, cy, r in (
            (0.0, 0.72, 0.42),
            (-0.25, 0.6, 0.28),
            (0.25, 0.58, 0.3),
            (0.0, 0.9, 0.28),
        ):
            ellipse(cx, cy, r, r * w / h * 0.9 if h else r, base)
    elif shape == "lamp":
        poly([(-0.06, 0.0), (0.06, 0.0), (0.03, 0.6), (-0.03, 0.6)], dark)
        poly([(-0.5, 0.55), (0.5, 0.55), (0.3, 1.0), (-0.3, 1.0)], light)
    elif shape == "bottle":
        poly(
            [
                (-0.5, 0.0),
                (0.5, 0.0),
                (0.5, 0.55),
                (0.18, 0.72),
                (0.18, 1.0),
                (-0.18, 1.0),
                (-0.18, 0.72),
                (-0.5, 0.55),
            ],
            base,
        )
        poly([(-0.42, 0.15), (0.42, 0.15), (0.42, 0.42), (-0.42, 0.42)], light)
    elif shape == "cup":
        draw.ellipse(
            canvas.box(x + 0.2 * w, bottom - 0.85 * h, x + 0.62 * w, bottom - 0.3 * h),
            outline=outline,
            width=grow * 3,
        )
        poly([(-0.45, 1.0), (0.4, 1.0), (0.32, 0.0), (-0.37, 0.0)], base)
    elif shape == "tin":  # a film canister, a can: a flat drum with its lid seen from above
        poly([(-0.5, 0.0), (0.5, 0.0), (0.5, 0.7), (-0.5, 0.7)], base)
        lid = canvas.box(x - 0.5 * w, bottom - h, x + 0.5 * w, bottom - 0.4 * h)
        draw.ellipse(lid, fill=light, outline=outline, width=grow)
        hub = canvas.box(x - 0.08 * w, bottom - 0.78 * h, x + 0.08 * w, bottom - 0.62 * h)
        draw.ellipse(hub, fill=dark)
    elif shape == "phone":
        poly([(-0.5, 0.0), (0.5, 0.0), (0.5, 1.0), (-0.5, 1.0)], (40, 40, 46))
        poly(
            [(-0.38, 0.1), (0.38, 0.1), (0.38, 0.9), (-0.38, 0.9)], mix(base, (255, 255, 255), 0.5)
        )
    elif shape == "gun":
        poly([(-0.5, 0.62), (0.5, 0.62), (0.5, 1.0), (-0.5, 1.0)], (50, 50, 56))
        poly([(-0.48, 0.62), (-0.2, 0.62), (-0.1, 0.0), (-0.4, 0.0)], dark)
    elif shape == "blade":
        poly([(-0.18, 0.0), (0.18, 0.0), (0.18, 0.3), (-0.18, 0.3)], dark)
        poly([(-0.5, 0.3), (0.5, 0.3), (0.5, 0.34), (-0.5, 0.34)], dark)
        poly([(-0.2, 0.34), (0.2, 0.34), (0.1, 1.0), (-0.2, 0.9)], (205, 210, 218))
    elif shape == "book":
        poly([(-0.5, 0.0), (0.42, 0.0), (0.5, 1.0), (-0.42, 1.0)], base)
        poly([(-0.38, 0.0), (-0.3, 1.0), (-0.26, 1.0), (-0.34, 0.0)], light)
    else:  # box, case, crate
        poly([(-0.5, 0.0), (0.5, 0.0), (0.5, 0.82), (-0.5, 0.82)], base)
        poly([(-0.5, 0.82), (0.5, 0.82), (0.5, 0.9), (-0.5, 0.9)], dark)
        draw.line(
            [
                canvas.p(x - 0.18 * w, bottom - 0.9 * h),
                canvas.p(x - 0.14 * w, bottom - 1.0 * h),
                canvas.p(x + 0.14 * w, bottom - 1.0 * h),
                canvas.p(x + 0.18 * w, bottom - 0.9 * h),
            ],
            fill=outline,
            width=grow * 2,
            joint="curve",
        )


# Labels ----------------------------------------------------------------------------------------


def draw_labels(canvas: Canvas, plan: Plan, face: Typeface, picture_px: float) -> None:
    """A name tag for each subject: above a head that has room, on the chest of one that has none."""
    draw = ImageDraw.Draw(canvas.image, "RGBA")
    placed: list[tuple[float, float, float, float]] = []
    size = max(9, round(picture_px * 0.03))
    pad = size * 0.45
    for fig in sorted(
        plan.figures,
        key=lambda f: ({"background": 0, "midground": 1, "foreground": 2}[f.depth], f.x),
    ):
        text_size = size if fig.depth != "background" else max(8, round(size * 0.85))
        # A name tag is at most 40% of the picture wide; a longer name ends in an ellipsis.
        text = face.fit(fig.name.upper(), text_size, 0.4 * plan.aspect * canvas.scale, bold=True)
        width = face.width(text, text_size, bold=True) + 2 * pad + text_size * 0.9
        height = text_size * 1.55
        if plan.angle == "overhead":
            top_y = overhead_y(fig) - fig.height / 7.5 * 1.1
        elif fig.kind == "prop":
            bottom, h, _ = _prop_base(fig, plan)
            top_y = bottom - h
        else:
            top_y = fig.feet - fig.height
        head_room = top_y - height / canvas.scale * 1.4
        if head_room > 0.05:
            cy = top_y - height / canvas.scale * 0.9
        else:
            cy = top_y + fig.height * (0.36 if fig.kind == "character" else 0.5)
            cy = min(max(cy, 0.08), 0.86)
        cx = min(
            max(fig.x, width / 2 / canvas.scale + 0.02),
            plan.aspect - width / 2 / canvas.scale - 0.02,
        )
        x, y = canvas.p(cx, cy)
        box = [x - width / 2, y - height / 2, x + width / 2, y + height / 2]
        for _ in range(6):
            if not any(
                box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed
            ):
                break
            box[1] -= height * 1.15
            box[3] -= height * 1.15
        placed.append((box[0], box[1], box[2], box[3]))
        radius = height / 2
        draw.rounded_rectangle(
            whole((box[0] + 2, box[1] + 3, box[2] + 2, box[3] + 3)),
            radius=round(radius),
            fill=(0, 0, 0, 70),
        )
        draw.rounded_rectangle(
            whole(box),
            radius=round(radius),
            fill=(250, 248, 242, 232),
            outline=(*fig.color, 255),
            width=max(1, round(text_size * 0.12)),
        )
        dot = text_size * 0.32
        dx = box[0] + pad + dot
        dy = (box[1] + box[3]) / 2
        if fig.kind == "prop":
            draw.rectangle((dx - dot, dy - dot, dx + dot, dy + dot), fill=fig.color)
        else:
            draw.ellipse((dx - dot, dy - dot, dx + dot, dy + dot), fill=fig.color)
        face.draw(
            draw,
            (dx + dot + pad * 0.8, dy + text_size * 0.36),
            text,
            text_size,
            (34, 32, 38, 255),
            bold=True,
        )


def overhead_y(fig: Figure) -> float:
    return {"foreground": 0.8, "midground": 0.55, "background": 0.3}[fig.depth]


def draw_figures(
    canvas: Canvas, draw: ImageDraw.ImageDraw, figures: list[Figure], plan: Plan, pal: Palette
) -> None:
    """Shadows of all, then bodies in order (back to front)."""
    if plan.angle == "overhead":
        for fig in figures:
            y = overhead_y(fig)
            if fig.kind == "character":
                _overhead_character(canvas, draw, fig, plan, pal, y)
                continue
            r = max(fig.height, 0.05) * PROP_WIDTH.get(fig.shape, 1.0) / 2
            base, _, outline = _shades(fig, plan, pal)
            draw.rounded_rectangle(
                whole(canvas.box(fig.x - r, y - r * 0.7, fig.x + r, y + r * 0.7)),
                radius=round(r * canvas.scale * 0.3),
                fill=base,
                outline=outline,
                width=max(1, round(canvas.scale * 0.004)),
            )
        return
    for fig in figures:
        if fig.kind == "character":
            _shadow(canvas, draw, fig, plan, fig.height * 0.22)
        else:
            _prop_shadow(canvas, draw, fig, plan)
    for fig in figures:
        if fig.kind == "character":
            _character(canvas, draw, fig, plan, pal)
        else:
            _prop(canvas, draw, fig, plan, pal)
