"""The set behind the figures: sky and ground with distant scenery, a room in perspective,
or the floor seen from above.

Each location is drawn from its name: the same palette, the same windows and door, the
same skyline in every shot of it. Distant scenery is scaled by the lens (a long lens
brings it closer), and a room by where a figure at its back wall would stand, so the
set agrees with the figures' perspective.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from setpiece.generate.backends._previs_canvas import (
    RGB,
    SKIES,
    Canvas,
    Palette,
    Point,
    Room,
    hsv,
    mix,
    room_of,
    tone,
)
from setpiece.generate.backends._previs_plan import Plan, unit
from setpiece.generate.backends._previs_words import NEUTRAL

__all__ = ["paint_set"]


def paint_set(canvas: Canvas, plan: Plan, pal: Palette) -> None:
    """Paints the set over the whole canvas."""
    draw = ImageDraw.Draw(canvas.image)
    if plan.angle == "overhead":
        _overhead_floor(canvas, draw, plan, pal)
    elif plan.interior:
        _interior(canvas, draw, plan, pal)
    else:
        _gradient(canvas, plan, pal)
        _exterior(canvas, draw, plan, pal)


def _gradient(canvas: Canvas, plan: Plan, pal: Palette) -> None:
    """Sky above the horizon, ground below, as one row-wise gradient."""
    height, width = canvas.image.height, canvas.image.width
    ys = canvas.oy + (np.arange(height, dtype=np.float32) + 0.5) / canvas.scale
    above = np.clip((plan.horizon - ys) / 0.9, 0.0, 1.0)[:, None] ** 0.6
    below = np.clip((ys - plan.horizon) / 1.2, 0.0, 1.0)[:, None]
    top, low = (np.array(c, np.float32) for c in pal.sky)
    far, near = (np.array(c, np.float32) for c in (pal.ground_far, pal.ground_near))
    sky = low + (top - low) * above
    ground = far + (near - far) * below
    rows = np.where((ys < plan.horizon)[:, None], sky, ground)
    column = np.clip(rows + 0.5, 0, 255).astype(np.uint8)[:, None, :]
    canvas.image.paste(
        Image.fromarray(column, "RGB").resize((width, height), Image.Resampling.NEAREST)
    )


def _distance_scale(plan: Plan) -> float:
    """How big distant scenery is drawn: a long lens magnifies it, a wide one shrinks it."""
    return min(1.6, max(0.25, 0.35 * (plan.lens_mm / 35.0) ** 0.8))


def _exterior(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette) -> None:
    key = plan.location.upper()
    h = plan.horizon
    left, right = canvas.left, canvas.right
    ds = _distance_scale(plan)
    far = mix(pal.haze, pal.ground_far, 0.35)
    if plan.time == "night":
        for i in range(140):
            x = left + (right - left) * unit("star-x", key, i)
            y = canvas.top + (h - canvas.top) * unit("star-y", key, i) ** 1.4
            r = (0.5 + 1.4 * unit("star-r", key, i)) / canvas.scale * 2
            glint = 150 + int(100 * unit("star-b", key, i))
            draw.ellipse(
                canvas.box(x - r, y - r, x + r, y + r), fill=(glint, glint, min(255, glint + 20))
            )
    _celestial(canvas, draw, plan)
    if plan.setting in ("street", "city", "rooftop"):
        _skyline(canvas, draw, plan, pal)
    if plan.setting == "rooftop":
        _parapet(canvas, draw, plan, pal)
    elif plan.setting == "street":
        _road(canvas, draw, plan, pal)
    elif plan.setting == "pier":
        _water(canvas, draw, plan, pal, key)
        _planks(canvas, draw, plan, pal)
    elif plan.setting == "water":
        _water(canvas, draw, plan, pal, key)
    elif plan.setting == "nature":
        _nature(canvas, draw, plan, far, key)
    elif plan.setting == "desert":
        _hills(canvas, draw, plan, mix(far, pal.ground_far, 0.5), 0.07 * ds, 0.02 * ds, "dune")
    elif plan.setting == "hills":
        _fields(canvas, draw, plan, pal, far)
    else:  # the neutral set: a plain horizon, nothing that claims a place
        draw.line(
            [canvas.p(left, h), canvas.p(right, h)],
            fill=tone(pal.ground_far, 0.8),
            width=max(1, round(canvas.scale * 0.003)),
        )


def _skyline(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette) -> None:
    """A city's buildings along the horizon, lit windows at night."""
    key = plan.location.upper()
    h = plan.horizon
    left, right = canvas.left, canvas.right
    ds = _distance_scale(plan)
    x = left
    i = 0
    building = mix(pal.haze, (60, 64, 80), 0.45 if plan.time != "day" else 0.3)
    while x < right:
        w = (0.05 + 0.1 * unit("bw", key, i)) * ds
        top = h - (0.06 + 0.32 * unit("bh", key, i) ** 1.5) * ds
        shade = tone(building, 0.9 + 0.2 * unit("bs", key, i))
        draw.rectangle(canvas.box(x, top, x + w + 0.002, h), fill=shade)
        if plan.time in ("night", "dusk"):
            rows = int((h - top) / (0.025 * ds))
            for r in range(1, rows):
                for c in range(1, max(2, int(w / (0.022 * ds)))):
                    if unit("win", key, i, r, c) < 0.35:
                        wx = x + c * 0.022 * ds
                        wy = top + r * 0.025 * ds
                        draw.rectangle(
                            canvas.box(
                                wx - 0.005 * ds,
                                wy - 0.006 * ds,
                                wx + 0.005 * ds,
                                wy + 0.006 * ds,
                            ),
                            fill=(255, 214, 140) if plan.time == "night" else (250, 200, 150),
                        )
        x += w
        i += 1


def _road(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette) -> None:
    """A road: edges and a dashed centre line converging on the vanishing point."""
    h = plan.horizon
    ds = _distance_scale(plan)
    vx = plan.vanish_x
    bottom = canvas.bottom
    walk = pal.lit((188, 182, 170))
    for side in (-1, 1):
        edge = vx + side * 0.015 * ds
        far_x = vx + side * 1.7 * (bottom - h) + side * 0.015
        draw.polygon(
            [
                canvas.p(edge, h),
                canvas.p(far_x, bottom),
                canvas.p(side * 99 + vx, bottom),
                canvas.p(side * 99 + vx, h),
            ],
            fill=walk,
        )
        draw.line(
            [canvas.p(edge, h), canvas.p(far_x, bottom)],
            fill=tone(walk, 0.6),
            width=max(1, round(canvas.scale * 0.004)),
        )
    for n in range(12):
        d0, d1 = 1.0 / (n * 0.8 + 1.0), 1.0 / (n * 0.8 + 1.45)
        y0 = h + (bottom - h) * d1**1.6
        y1 = h + (bottom - h) * d0**1.6
        w0, w1 = 0.006 * (y0 - h) / 0.3 + 0.001, 0.006 * (y1 - h) / 0.3 + 0.001
        draw.polygon(
            [
                canvas.p(vx - w0, y0),
                canvas.p(vx + w0, y0),
                canvas.p(vx + w1, y1),
                canvas.p(vx - w1, y1),
            ],
            fill=tone(pal.trim, 0.9),
        )


def _parapet(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette) -> None:
    """A rooftop: the roof's floor and, at its edge, a parapet wall with its coping."""
    h = plan.horizon
    ds = _distance_scale(plan)
    wall = pal.lit((196, 186, 170))
    # The wall at the roof's edge: its top below the eye (a parapet is waist high), hiding the
    # foot of the city beyond; at least 4 % of the picture tall so a wide shot still shows it.
    top = h + 0.004
    foot = max(h + 0.1 * ds, top + 0.04)
    draw.rectangle(canvas.box(canvas.left, foot, canvas.right, canvas.bottom), fill=pal.ground_far)
    draw.rectangle(canvas.box(canvas.left, top, canvas.right, foot), fill=wall)
    draw.rectangle(
        canvas.box(canvas.left, top - 0.008 * ds, canvas.right, top + 0.004 * ds),
        fill=tone(wall, 1.15),
    )
    step = 0.12 * ds
    for n in range(int((canvas.right - canvas.left) / step) + 2):
        x = canvas.left + n * step
        draw.line(
            [canvas.p(x, top), canvas.p(x, foot)],
            fill=tone(wall, 0.8),
            width=max(1, round(canvas.scale * 0.002)),
        )


def _planks(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette) -> None:
    """A pier: boards from the feet to the vanishing point, over the water."""
    h, vx = plan.horizon, plan.vanish_x
    bottom = canvas.bottom
    wood = pal.lit((132, 100, 70))
    draw.polygon(
        [
            canvas.p(vx - 0.02, h + 0.005),
            canvas.p(vx + 0.02, h + 0.005),
            canvas.p(vx + 1.4 * (bottom - h), bottom),
            canvas.p(vx - 1.4 * (bottom - h), bottom),
        ],
        fill=wood,
    )
    for n in range(1, 30):
        y = h + (bottom - h) * (n / 30) ** 1.8
        half = 0.02 + 1.4 * (y - h)
        draw.line(
            [canvas.p(vx - half, y), canvas.p(vx + half, y)],
            fill=tone(wood, 0.7),
            width=max(1, round(canvas.scale * 0.002)),
        )


def _water(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette, key: str) -> None:
    h = plan.horizon
    left, right = canvas.left, canvas.right
    ds = _distance_scale(plan)
    sea = mix(pal.sky[1], (30, 70, 110), 0.55)
    shore = h + 0.1 * ds + 0.05
    draw.rectangle(canvas.box(left, h, right, shore), fill=sea)
    for i in range(40):
        y = h + (shore - h) * unit("wave-y", key, i) ** 1.5
        x = left + (right - left) * unit("wave-x", key, i)
        w = 0.03 + 0.06 * unit("wave-w", key, i)
        draw.line(
            [canvas.p(x, y), canvas.p(x + w, y)],
            fill=mix(sea, pal.sky[1], 0.5),
            width=max(1, round(canvas.scale * 0.003)),
        )
    draw.polygon(_wavy(canvas, key, shore, 0.01, left, right, canvas.bottom), fill=pal.ground_far)


def _nature(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, far: RGB, key: str) -> None:
    h = plan.horizon
    left, right = canvas.left, canvas.right
    ds = _distance_scale(plan)
    _hills(canvas, draw, plan, mix(far, (40, 70, 50), 0.4), 0.05 * ds, 0.03 * ds, "tree-far")
    conifers = unit("conifer", key) < 0.5
    step = 0.028 * ds
    count = int((right - left) / step) + 2
    for i in range(count):
        x = left + (i + unit("tree-x", key, i)) * step
        r = (0.025 + 0.035 * unit("tree-r", key, i)) * ds
        base = h + 0.01 * ds * unit("tree-b", key, i)
        shade = mix(far, (26, 52, 36), 0.5 + 0.3 * unit("tree-s", key, i))
        if conifers:
            tall = r * (3.0 + 1.5 * unit("tree-t", key, i))
            draw.polygon(
                [canvas.p(x - r, base), canvas.p(x, base - tall), canvas.p(x + r, base)],
                fill=shade,
            )
        else:
            y = base - r * (1.2 + 1.2 * unit("tree-y", key, i))
            draw.ellipse(canvas.box(x - r * 1.3, y - r, x + r * 1.3, base), fill=shade)


def _fields(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette, far: RGB) -> None:
    h = plan.horizon
    ds = _distance_scale(plan)
    _hills(canvas, draw, plan, mix(far, pal.sky[0], 0.2), 0.16 * ds, 0.05 * ds, "ridge")
    _hills(canvas, draw, plan, mix(far, pal.ground_far, 0.6), 0.07 * ds, 0.02 * ds, "hill")
    # Field furrows towards the vanishing point.
    for n in range(-14, 15):
        a = canvas.p(plan.vanish_x + n * 0.05 * ds, h + 0.004)
        b = canvas.p(plan.vanish_x + n * 0.9, canvas.bottom)
        draw.line(
            [a, b],
            fill=tone(pal.ground_near, 1.08),
            width=max(1, round(canvas.scale * 0.002)),
        )


def _wavy(
    canvas: Canvas, key: str, y: float, amp: float, left: float, right: float, bottom: float
) -> list[Point]:
    points = [canvas.p(left, bottom)]
    steps = 48
    phase = unit("wave", key) * 6.28
    for i in range(steps + 1):
        x = left + (right - left) * i / steps
        points.append(canvas.p(x, y + amp * math.sin(x * 9 + phase)))
    points.append(canvas.p(right, bottom))
    return points


def _hills(
    canvas: Canvas,
    draw: ImageDraw.ImageDraw,
    plan: Plan,
    color: RGB,
    height: float,
    wobble: float,
    salt: str,
) -> None:
    key = plan.location.upper()
    h = plan.horizon + 0.002
    points = [canvas.p(canvas.left, h)]
    steps = 96
    phases = [unit(salt, key, k) * 6.28 for k in range(3)]
    for i in range(steps + 1):
        x = canvas.left + (canvas.right - canvas.left) * i / steps
        y = h - height * (
            0.55 + 0.45 * math.sin(x * 2.1 + phases[0]) * math.sin(x * 0.7 + phases[1])
        )
        y += wobble * math.sin(x * 11 + phases[2])
        points.append(canvas.p(x, min(y, h)))
    points.append(canvas.p(canvas.right, h))
    draw.polygon(points, fill=color)


def _celestial(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan) -> None:
    lx, ly = plan.light
    if plan.time == "night":
        r = 0.035
        draw.ellipse(canvas.box(lx - r, ly - r, lx + r, ly + r), fill=(236, 238, 226))
        draw.ellipse(
            canvas.box(lx - r * 0.55, ly - r * 0.9, lx + r * 1.25, ly + r * 0.7),
            fill=SKIES["night"][0],
        )
    elif plan.time in ("dawn", "dusk"):
        r = 0.08
        draw.ellipse(canvas.box(lx - r, ly - r, lx + r, ly + r), fill=(255, 226, 170))
    else:
        r = 0.045
        draw.ellipse(canvas.box(lx - r, ly - r, lx + r, ly + r), fill=(255, 252, 236))


def _interior(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette) -> None:
    key = plan.location.upper()
    room = room_of(plan)
    h, vx = plan.horizon, plan.vanish_x
    top, bottom, left, right = canvas.top - 1, canvas.bottom + 1, canvas.left - 1, canvas.right + 1
    draw.rectangle(canvas.box(left, top, right, bottom), fill=pal.wall_side)

    def ray(x: float, y: float, to_y: float) -> Point:
        """Where the line from the vanishing point through (x, y) meets the row ``to_y``."""
        return canvas.p(vx + (x - vx) * (to_y - h) / (y - h), to_y)

    if room.ceiling < h:
        draw.polygon(
            [
                canvas.p(room.left, room.ceiling),
                canvas.p(room.right, room.ceiling),
                ray(room.right, room.ceiling, top),
                ray(room.left, room.ceiling, top),
            ],
            fill=pal.ceiling,
        )
    floor = [
        canvas.p(room.left, room.floor),
        canvas.p(room.right, room.floor),
        ray(room.right, room.floor, bottom),
        ray(room.left, room.floor, bottom),
    ]
    draw.polygon(floor, fill=pal.floor)
    line = max(1, round(canvas.scale * 0.002))
    style = unit("floor-style", key)
    if style < 0.6:  # boards
        step = 0.16 * room.unit
        n = int((room.right - room.left) / step)
        for i in range(1, n + 1):  # boards run from the back wall: the corner rays bound them
            x = room.left + i * step
            draw.line(
                [canvas.p(x, room.floor), ray(x, room.floor, bottom)],
                fill=pal.floor_line,
                width=line,
            )
    elif style < 0.85:  # tiles
        step = 0.3 * room.unit
        n = int((room.right - room.left) / step)
        for i in range(1, n + 1):
            x = room.left + i * step
            draw.line(
                [canvas.p(x, room.floor), ray(x, room.floor, bottom)],
                fill=pal.floor_line,
                width=line,
            )
        d = room.floor - h
        for i in range(1, 40):
            y = h + d * (1 + 0.3 * i)
            if y > bottom:
                break
            draw.line(
                [ray(room.left, room.floor, y), ray(room.right, room.floor, y)],
                fill=pal.floor_line,
                width=line,
            )
    else:  # a rug
        rug = [
            canvas.p(vx - 1.2 * room.unit, room.floor + 0.3 * (room.floor - h)),
            canvas.p(vx + 1.2 * room.unit, room.floor + 0.3 * (room.floor - h)),
            ray(vx + 1.2 * room.unit, room.floor, room.floor + 2.2 * (room.floor - h)),
            ray(vx - 1.2 * room.unit, room.floor, room.floor + 2.2 * (room.floor - h)),
        ]
        draw.polygon(rug, fill=pal.accent)
    draw.rectangle(canvas.box(room.left, room.ceiling, room.right, room.floor), fill=pal.wall)
    draw.line(
        [canvas.p(room.left, room.floor), canvas.p(room.right, room.floor)],
        fill=pal.trim,
        width=max(1, round(canvas.scale * room.unit * 0.04)),
    )
    # Corners of the room.
    for x in (room.left, room.right):
        draw.line(
            [canvas.p(x, room.ceiling), canvas.p(x, room.floor)],
            fill=tone(pal.wall_side, 0.85),
            width=line,
        )
        draw.line(
            [canvas.p(x, room.floor), ray(x, room.floor, bottom)],
            fill=tone(pal.wall_side, 0.85),
            width=line,
        )
        if room.ceiling < h:
            draw.line(
                [canvas.p(x, room.ceiling), ray(x, room.ceiling, top)],
                fill=tone(pal.wall_side, 0.85),
                width=line,
            )
    if plan.setting == "auditorium":
        _auditorium(canvas, draw, plan, pal, room)
    elif plan.setting == "booth":
        _booth(canvas, draw, plan, pal, room)
    elif plan.setting != NEUTRAL:  # a neutral room stays bare: nothing that claims a place
        _wall_features(canvas, draw, plan, pal, room)


def _auditorium(
    canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette, room: Room
) -> None:
    """A cinema or theatre: the screen on the back wall, rows of seats towards the camera."""
    u = room.unit
    width = room.right - room.left
    glow = (236, 236, 226) if plan.time != "day" else (246, 246, 240)
    draw.rectangle(
        canvas.box(
            room.left + 0.12 * width,
            room.ceiling + 0.15 * u,
            room.right - 0.12 * width,
            room.floor - 0.45 * u,
        ),
        fill=glow,
    )
    seat = pal.lit((150, 34, 40))
    h, vx = plan.horizon, plan.vanish_x
    depth = room.floor - h
    for row in range(8):
        y = room.floor + depth * (0.25 + 0.55 * row) ** 1.3  # rows nearer are lower and larger
        if y > canvas.bottom + 0.2:
            break
        grow = (y - h) / depth  # the size of a seat at this row, relative to the back wall
        sw, sh = 0.32 * u * grow, 0.42 * u * grow
        half = (width / 2) * grow * 0.9
        n = max(3, int(2 * half / (sw * 1.15)))
        for c in range(n):
            x = vx - half + (c + 0.5) * (2 * half / n)
            draw.rounded_rectangle(
                canvas.box(x - sw / 2, y - sh, x + sw / 2, y),
                radius=max(1, round(canvas.scale * sw * 0.2)),
                fill=tone(seat, 0.85 + 0.1 * (row % 2)),
                outline=tone(seat, 0.55),
            )


def _booth(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette, room: Room) -> None:
    """A projection booth: the port in the back wall and the projector with its two reels."""
    u = room.unit
    cx = (room.left + room.right) / 2
    port = canvas.box(cx - 0.22 * u, room.floor - 1.05 * u, cx + 0.22 * u, room.floor - 0.8 * u)
    draw.rectangle(port, fill=(24, 24, 30), outline=pal.trim)
    metal = pal.lit((70, 74, 80))
    px = room.left + 0.25 * (room.right - room.left)
    base = room.floor + 0.05 * u
    draw.rectangle(
        canvas.box(px - 0.25 * u, base - 0.55 * u, px + 0.25 * u, base), fill=tone(metal, 0.8)
    )
    draw.rectangle(
        canvas.box(px - 0.3 * u, base - 0.85 * u, px + 0.3 * u, base - 0.55 * u), fill=metal
    )
    for dx in (-0.17, 0.17):
        r = 0.16 * u
        cy = base - 1.02 * u
        draw.ellipse(
            canvas.box(px + dx * u - r, cy - r, px + dx * u + r, cy + r),
            outline=metal,
            width=max(1, round(canvas.scale * 0.02 * u)),
        )
    # the beam through the port
    draw.line(
        [canvas.p(px + 0.3 * u, base - 0.7 * u), canvas.p(cx, room.floor - 0.92 * u)],
        fill=mix(pal.wall, (255, 250, 220), 0.5),
        width=max(1, round(canvas.scale * 0.03 * u)),
    )


def _wall_features(
    canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette, room: Room
) -> None:
    """Windows, a door, a picture and, in a kitchen or bar, a counter: the same for a location."""
    key = plan.location.upper()
    u = room.unit
    width = room.right - room.left
    words = set(key.lower().replace("'", " ").split())
    windows = 1 + int(unit("windows", key) * 2)
    slots = [0.2, 0.5, 0.8]
    start = int(unit("slot", key) * 3)
    used = [slots[(start + i) % 3] for i in range(windows)]
    door_slot = next(s for s in slots if s not in used) if windows < 3 else None
    sky_top, sky_low = SKIES[plan.time]
    for s in used:
        cx = room.left + width * s
        w, top, bot = 0.5 * u, room.floor - 1.25 * u, room.floor - 0.5 * u
        draw.rectangle(
            canvas.box(
                cx - w / 2 - 0.04 * u, top - 0.04 * u, cx + w / 2 + 0.04 * u, bot + 0.06 * u
            ),
            fill=pal.trim,
        )
        steps = 8
        for i in range(steps):
            y0 = top + (bot - top) * i / steps
            draw.rectangle(
                canvas.box(cx - w / 2, y0, cx + w / 2, y0 + (bot - top) / steps + 0.001),
                fill=mix(sky_top, sky_low, (i + 0.5) / steps),
            )
        if plan.time == "night":
            for j in range(6):
                sx = cx - w / 2 + w * unit("wstar", key, s, j)
                sy = top + (bot - top) * 0.7 * unit("wstar-y", key, s, j)
                r = 0.006 * u
                draw.ellipse(canvas.box(sx - r, sy - r, sx + r, sy + r), fill=(220, 220, 200))
        bar = 0.025 * u
        draw.rectangle(canvas.box(cx - bar, top, cx + bar, bot), fill=pal.trim)
        draw.rectangle(
            canvas.box(cx - w / 2, (top + bot) / 2 - bar, cx + w / 2, (top + bot) / 2 + bar),
            fill=pal.trim,
        )
    if door_slot is not None:
        cx = room.left + width * door_slot
        w, top = 0.5 * u, room.floor - 1.15 * u
        draw.rectangle(
            canvas.box(cx - w / 2 - 0.05 * u, top - 0.05 * u, cx + w / 2 + 0.05 * u, room.floor),
            fill=pal.trim,
        )
        draw.rectangle(
            canvas.box(cx - w / 2, top, cx + w / 2, room.floor), fill=tone(pal.accent, 0.8)
        )
        for py in (0.15, 0.55):
            draw.rectangle(
                canvas.box(
                    cx - w * 0.36, top + py * 1.15 * u, cx + w * 0.36, top + (py + 0.32) * 1.15 * u
                ),
                outline=tone(pal.accent, 0.65),
                width=max(1, round(canvas.scale * u * 0.012)),
            )
        r = 0.03 * u
        kx, ky = cx + w * 0.36, room.floor - 0.55 * u
        draw.ellipse(canvas.box(kx - r, ky - r, kx + r, ky + r), fill=(200, 170, 90))
    # Pictures between the openings.
    for s in (0.35, 0.65):
        if unit("picture", key, s) < 0.5:
            continue
        cx = room.left + width * s
        w, hgt = 0.22 * u, 0.16 * u
        cy = room.floor - 1.0 * u
        draw.rectangle(canvas.box(cx - w, cy - hgt, cx + w, cy + hgt), fill=tone(pal.trim, 0.35))
        draw.rectangle(
            canvas.box(cx - w * 0.85, cy - hgt * 0.8, cx + w * 0.85, cy + hgt * 0.8),
            fill=hsv(unit("art", key, s), 0.35, 0.6),
        )
    if words & {"kitchen", "bar", "diner", "cafe", "pub", "restaurant", "counter"}:
        top = room.floor - 0.52 * u
        draw.rectangle(
            canvas.box(room.left, top, room.right, room.floor), fill=tone(pal.accent, 0.9)
        )
        draw.rectangle(
            canvas.box(room.left, top - 0.04 * u, room.right, top + 0.02 * u), fill=pal.trim
        )
        n = int(width / (0.4 * u))
        for i in range(n + 1):
            x = room.left + i * 0.4 * u
            draw.line(
                [canvas.p(x, top + 0.04 * u), canvas.p(x, room.floor)],
                fill=tone(pal.accent, 0.7),
                width=max(1, round(canvas.scale * 0.002)),
            )
    if plan.time == "night":
        lx, ly = plan.light
        r = 0.05 * u
        draw.line(
            [canvas.p(lx, room.ceiling - 1), canvas.p(lx, ly - r)],
            fill=(30, 30, 36),
            width=max(1, round(canvas.scale * u * 0.008)),
        )
        draw.polygon(
            [
                canvas.p(lx - r * 0.5, ly - r),
                canvas.p(lx + r * 0.5, ly - r),
                canvas.p(lx + r * 1.6, ly + r * 0.6),
                canvas.p(lx - r * 1.6, ly + r * 0.6),
            ],
            fill=(60, 50, 40),
        )
        draw.ellipse(
            canvas.box(lx - r * 0.8, ly + r * 0.3, lx + r * 0.8, ly + r * 0.9), fill=(255, 236, 190)
        )


def _overhead_floor(canvas: Canvas, draw: ImageDraw.ImageDraw, plan: Plan, pal: Palette) -> None:
    key = plan.location.upper()
    ground = pal.floor if plan.interior else pal.ground_far
    draw.rectangle(
        canvas.box(canvas.left - 1, canvas.top - 1, canvas.right + 1, canvas.bottom + 1),
        fill=ground,
    )
    line = max(1, round(canvas.scale * 0.002))
    if plan.interior:
        step = 0.12 * plan.figure_height / 1.7
        x = canvas.left - (canvas.left % step)
        while x < canvas.right:
            draw.line(
                [canvas.p(x, canvas.top), canvas.p(x, canvas.bottom)],
                fill=pal.floor_line,
                width=line,
            )
            x += step
        rug = canvas.box(plan.aspect * 0.3, 0.3, plan.aspect * 0.7, 0.78)
        draw.rounded_rectangle(rug, radius=canvas.scale * 0.02, fill=pal.accent)
    else:
        for i in range(160):
            x = canvas.left + (canvas.right - canvas.left) * unit("tuft-x", key, i)
            y = canvas.top + (canvas.bottom - canvas.top) * unit("tuft-y", key, i)
            r = 0.01 + 0.03 * unit("tuft-r", key, i)
            draw.ellipse(
                canvas.box(x - r, y - r * 0.7, x + r, y + r * 0.7),
                fill=tone(ground, 0.9 + 0.15 * unit("tuft-s", key, i)),
            )
