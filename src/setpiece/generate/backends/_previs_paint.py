"""Painting a previs plan: the set (sky and ground, or a room), the light, and who stands in it.

The picture is painted once per take, larger than the frame wherever the camera move
will look (``extent``), and the camera then crops and scales it frame by frame. It is
drawn at twice the resolution and halved, which is Pillow's cheapest anti-aliasing
for polygons. Light is applied after that, as two smooth maps computed at an eighth of
the size: a multiplier (vignette, the key side brighter) and an addition (the glow
of a lamp, the moon, a low sun).

The set is in ``_previs_set``, figures and labels in ``_previs_figures``, colours and the
canvas in ``_previs_canvas``. Labels are lettered after the light, so a night scene
keeps legible names.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from setpiece.generate.backends._previs_canvas import KEY_LIGHT, Canvas, palette, room_of
from setpiece.generate.backends._previs_figures import draw_figures, draw_labels
from setpiece.generate.backends._previs_plan import Plan
from setpiece.generate.backends._previs_set import paint_set
from setpiece.lettering import Typeface

__all__ = ["Canvas", "paint", "vignette"]


# Light -----------------------------------------------------------------------------------------


def _light(canvas: Canvas, plan: Plan) -> None:
    """Key-side falloff (multiplied), glows of lamps, moon and sun (added).

    The lens vignette is not here: it stays on the frame while the camera moves, so it
    is applied to each frame (:func:`vignette`).
    """
    w, h = canvas.image.size
    sw, sh = max(2, w // 8), max(2, h // 8)
    xs = canvas.ox + (np.arange(sw, dtype=np.float32) + 0.5) * (w / sw) / canvas.scale
    ys = canvas.oy + (np.arange(sh, dtype=np.float32) + 0.5) * (h / sh) / canvas.scale
    gx, gy = np.meshgrid(xs, ys)
    a = plan.aspect
    lx, ly = plan.light
    side = np.clip((gx - a / 2) * np.sign(lx - a / 2) / a, -0.6, 0.6)
    mult = 0.96 + 0.1 * side
    glow = np.zeros((sh, sw, 3), np.float32)
    colour = np.array(KEY_LIGHT[plan.time], np.float32) / 255.0

    def add(cx: float, cy: float, radius: float, strength: float, tint: np.ndarray) -> None:
        d2 = ((gx - cx) ** 2 + (gy - cy) ** 2) / radius**2
        glow[:] += (np.exp(-d2) * strength)[:, :, None] * tint[None, None, :] * 255.0

    if plan.angle == "overhead":
        add(a * 0.5, 0.5, 0.6, 0.25 if plan.time == "night" else 0.08, colour)
    elif plan.time == "night":
        if plan.interior:
            room = room_of(plan)
            add(lx, ly + 0.3 * room.unit, 0.7 * room.unit + 0.1, 0.32, colour)
            add(lx, ly, 0.12 * room.unit + 0.02, 0.45, colour)
        else:
            add(lx, ly, 0.25, 0.35, np.array([0.7, 0.78, 1.0], np.float32))
            if plan.setting == "street":
                add(plan.vanish_x, plan.horizon, 0.5, 0.25, colour)
    elif plan.time in ("dawn", "dusk"):
        add(lx, ly, 0.55, 0.45, colour)
        add(lx, ly, 0.14, 0.4, colour)
    elif plan.interior:
        add(lx, ly, 0.9, 0.12, colour)
    else:
        add(lx, ly, 0.3, 0.25, colour)
    multiplier = Image.fromarray(np.clip(mult * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    multiplier = multiplier.resize((w, h), Image.Resampling.BILINEAR).convert("RGB")
    addition = Image.fromarray(np.clip(glow + 0.5, 0, 255).astype(np.uint8), "RGB")
    addition = addition.resize((w, h), Image.Resampling.BILINEAR)
    canvas.image = ImageChops.add(ImageChops.multiply(canvas.image, multiplier), addition)


# The whole picture -----------------------------------------------------------------------------


def paint(
    plan: Plan,
    extent: tuple[float, float, float, float],
    scale: float,
    face: Typeface,
    *,
    backdrop: Image.Image | None = None,
    supersample: int = 2,
) -> Canvas:
    """Paints the world inside ``extent`` (world units) at ``scale`` pixels per unit.

    The set and the background figures are painted first (at ``supersample`` times the
    size, or at the final size when the lens throws them out of focus anyway), then the
    midground and foreground on a transparent layer at ``supersample`` times, which is
    halved and laid over the set. Every figure's shadow goes down before any body, so a
    shadow never cuts into a figure drawn earlier.

    Args:
        plan: The composition.
        extent: (x0, y0, x1, y1) to cover: every view of the camera path, rolled if dutch.
        scale: Pixels per world unit of the result.
        face: The lettering for labels.
        backdrop: An init image to use instead of the painted set (figures are not drawn:
            the image already shows the shot).
        supersample: Drawing resolution multiple for anti-aliasing.
    """
    x0, y0, x1, y1 = extent
    width = max(2, math.ceil((x1 - x0) * scale))
    height = max(2, math.ceil((y1 - y0) * scale))
    if backdrop is not None:
        return Canvas(
            _cover(backdrop, width, height, x0, y0, x1, y1, plan.aspect, scale), x0, y0, scale
        )
    if width * height * supersample * supersample > 40_000_000:
        supersample = 1
    pal = palette(plan)
    blur_px = plan.defocus * scale
    blurred = blur_px >= 1.5 and plan.angle != "overhead"
    ss = 1 if blurred else supersample
    back = Canvas(Image.new("RGB", (width * ss, height * ss)), x0, y0, scale * ss)
    paint_set(back, plan, pal)
    order = {"background": 0, "midground": 1, "foreground": 2}
    figures = sorted(plan.figures, key=lambda f: (order[f.depth], f.feet, f.x))
    far = [f for f in figures if f.depth == "background" and plan.angle != "overhead"]
    near = [f for f in figures if f not in far]
    draw_figures(back, ImageDraw.Draw(back.image, "RGBA"), far, plan, pal)
    image = back.image.reduce(ss) if ss > 1 else back.image
    if blurred:
        image = _defocus(image, blur_px)
    if near:
        front = Canvas(
            Image.new("RGBA", (width * supersample, height * supersample)),
            x0,
            y0,
            scale * supersample,
        )
        draw_figures(front, ImageDraw.Draw(front.image), near, plan, pal)
        layer = front.image.reduce(supersample) if supersample > 1 else front.image
        image = Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB")
    canvas = Canvas(image, x0, y0, scale)
    _light(canvas, plan)
    draw_labels(canvas, plan, face, scale)
    if plan.mono:
        canvas.image = canvas.image.convert("L").convert("RGB")
    if plan.tint is not None:
        gains = np.asarray(plan.tint, dtype=np.float32)
        cast = np.asarray(canvas.image, dtype=np.float32) * gains
        canvas.image = Image.fromarray(np.clip(cast, 0, 255).astype(np.uint8))
    return canvas


def vignette(width: int, height: int) -> np.ndarray:
    """The lens's darkening towards the corners: a factor per pixel, 1 in the middle."""
    u = (np.arange(width, dtype=np.float32) + 0.5) / width - 0.5
    v = (np.arange(height, dtype=np.float32) + 0.5) / height - 0.5
    r2 = (u[None, :] / 0.62) ** 2 + (v[:, None] / 0.62) ** 2
    return 1.0 - 0.3 * np.clip(r2, 0.0, 2.2) ** 1.3


def _defocus(image: Image.Image, radius_px: float) -> Image.Image:
    """A cheap lens blur: blur a smaller copy and scale it back (the result is soft anyway)."""
    factor = max(1, min(4, int(radius_px / 3)))
    small = image.reduce(factor) if factor > 1 else image
    small = small.filter(ImageFilter.GaussianBlur(radius_px / factor))
    return small.resize(image.size, Image.Resampling.BILINEAR) if factor > 1 else small


def _cover(
    image: Image.Image,
    width: int,
    height: int,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    aspect: float,
    scale: float,
) -> Image.Image:
    """The init image scaled to cover the rest framing, extended to the extent by its edges."""
    rgb = image.convert("RGB")
    fit = max(aspect * scale / rgb.width, scale / rgb.height)
    # Where the layer's corners fall in the image, the image centred on the rest framing.
    left = (x0 - aspect / 2) * scale / fit + rgb.width / 2
    top = (y0 - 0.5) * scale / fit + rgb.height / 2
    box = [left, top, left + width / fit, top + height / fit]
    # Beyond the image (a pan past its edge) its border pixels repeat.
    pad_l = max(0, math.ceil(-box[0]))
    pad_t = max(0, math.ceil(-box[1]))
    pad_r = max(0, math.ceil(box[2] - rgb.width))
    pad_b = max(0, math.ceil(box[3] - rgb.height))
    if pad_l or pad_t or pad_r or pad_b:
        pixels = np.pad(np.asarray(rgb), ((pad_t, pad_b), (pad_l, pad_r), (0, 0)), mode="edge")
        rgb = Image.fromarray(pixels, "RGB")
        box = [box[0] + pad_l, box[1] + pad_t, box[2] + pad_l, box[3] + pad_t]
    box = [max(0.0, box[0]), max(0.0, box[1]), min(rgb.width, box[2]), min(rgb.height, box[3])]
    return rgb.resize(
        (width, height), Image.Resampling.BICUBIC, box=(box[0], box[1], box[2], box[3])
    )
