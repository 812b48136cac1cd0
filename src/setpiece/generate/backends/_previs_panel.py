"""The storyboard panel around the picture: paper, frame line, caption, and move arrows.

Three layouts (the ``caption`` parameter): ``below`` puts the picture, at the output's
aspect ratio, on a sheet of paper with the caption strip under it, like a panel cut
from a storyboard page; ``overlay`` keeps the picture full frame and lays a dark
translucent caption bar over its foot; ``none`` is the bare picture.

The caption reads like a board artist's: the shot code large, the scene heading, the
description, and the camera notes (size, lens, angle, move, length, seed). Stills
also get the board's move arrows (a push-in's inner frame, a pan's arrow), which a
clip does not need: it moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from PIL import Image, ImageDraw

from setpiece.drawing import ARROW, GREY, INK, PAPER
from setpiece.generate.backends._previs_plan import Plan, View
from setpiece.lettering import Typeface

__all__ = ["CAPTIONS", "Layout", "annotate", "layout", "picture_box", "prompt_card"]


def _whole(box: Sequence[float]) -> tuple[int, int, int, int]:
    """A box on whole pixels: Pillow's rounded corners overlap (and blend twice) on fractions."""
    return (round(box[0]), round(box[1]), round(box[2]), round(box[3]))


CAPTIONS = ("below", "overlay", "none")


def _even(value: float) -> int:
    return max(2, round(value / 2.0) * 2)


@dataclass(frozen=True)
class Layout:
    """Where the picture goes in the frame, and what surrounds or covers it.

    Attributes:
        picture: (x, y, width, height) of the picture in the frame, all even.
        chrome: The full frame without the picture (``below``), or None.
        overlay: An RGBA layer over the full frame (``overlay``), or None.
    """

    width: int
    height: int
    picture: tuple[int, int, int, int]
    chrome: Image.Image | None
    overlay: Image.Image | None

    def compose(self, picture: Image.Image) -> Image.Image:
        """The finished frame from a picture of the picture's size."""
        x, y, _, _ = self.picture
        if self.chrome is not None:
            frame = self.chrome.copy()
            frame.paste(picture, (x, y))
        else:
            frame = picture.copy()
        if self.overlay is not None:
            frame = Image.alpha_composite(frame.convert("RGBA"), self.overlay).convert("RGB")
        return frame


def _caption_text(
    plan: Plan, frames: int, fps: Fraction, video: bool
) -> tuple[str, str, str, str, list[str]]:
    """(code, scene, heading, description, notes) for the caption strip."""
    if plan.prompt_only:
        return "PREVIS", "", "NO SHOT BRIEF", plan.description, [f"seed {plan.seed}"]
    heading = (
        plan.heading.strip().upper()
        or f"{plan.int_ext}. {plan.location.upper()} - {plan.time.upper()}"
    )
    scene = f"SC {plan.scene}" if plan.scene else ""
    angle = plan.angle.upper() + (" DUTCH" if plan.roll else "")
    notes = [
        f"{plan.size} · {plan.lens_mm:g}mm · {angle}",
        plan.move.label.upper(),
    ]
    if video:
        rate = f"{fps.numerator}" if fps.denominator == 1 else f"{float(fps):.3f}".rstrip("0")
        notes.append(f"{frames} fr @ {rate} fps · seed {plan.seed}")
    else:
        notes.append(f"seed {plan.seed}")
    return plan.code or "—", scene, heading, plan.description, notes


def picture_box(caption: str, width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the picture in the frame; even numbers for 4:2:0 video."""
    if caption != "below":
        return (0, 0, width, height)
    margin = max(2, round(height * 0.024))
    caption_h = max(10, round(height * 0.13))
    ph = _even(height - 2 * margin - caption_h - margin // 2)
    pw = min(_even(ph * width / height), _even(width - 2 * margin))
    px = _even((width - pw) / 2 - 1) if width > pw + 2 else 0
    py = _even(margin - 1)
    return (px, py, pw, ph)


def layout(
    caption: str,
    width: int,
    height: int,
    plan: Plan,
    face: Typeface,
    *,
    frames: int = 1,
    fps: Fraction = Fraction(24),
    video: bool = False,
) -> Layout:
    """The frame's layout and its static parts, drawn once."""
    if caption == "none":
        return Layout(width, height, (0, 0, width, height), None, None)
    code, scene, heading, description, notes = _caption_text(plan, frames, fps, video)
    if caption == "overlay":
        overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        bar = max(12, round(height * 0.15))
        draw.rectangle((0, height - bar, width, height), fill=(14, 14, 18, 178))
        inset = round(width * 0.012)
        _strip(
            draw,
            face,
            (inset, height - bar, width - inset, height),
            code,
            scene,
            heading,
            description,
            notes,
            light=True,
        )
        return Layout(width, height, (0, 0, width, height), None, overlay)

    margin = max(2, round(height * 0.024))
    px, py, pw, ph = picture_box(caption, width, height)
    chrome = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(chrome)
    line = max(1, round(height / 360))
    shadow = max(1, round(height / 180))
    draw.rectangle(
        (px + shadow, py + shadow, px + pw + shadow + line, py + ph + shadow + line),
        fill=(214, 210, 200),
    )
    draw.rectangle((px - line, py - line, px + pw + line - 1, py + ph + line - 1), fill=INK)
    top = py + ph + line + margin // 2
    _strip(
        draw,
        face,
        (px, top, px + pw, height - max(1, margin // 2)),
        code,
        scene,
        heading,
        description,
        notes,
        light=False,
    )
    return Layout(width, height, (px, py, pw, ph), chrome, None)


def _strip(
    draw: ImageDraw.ImageDraw,
    face: Typeface,
    box: tuple[int, int, int, int],
    code: str,
    scene: str,
    heading: str,
    description: str,
    notes: Sequence[str],
    *,
    light: bool,
) -> None:
    """The caption: code block, heading and description, camera notes on the right."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    w = x1 - x0
    ink = (246, 244, 238) if light else INK
    grey = (190, 188, 182) if light else GREY
    pad = max(2, round(h * 0.12))
    code_size = max(6, round(h * 0.46))
    small = max(5, round(h * 0.15))
    code_w = face.width(code, code_size, bold=True)
    block = min(max(code_w + 2 * pad, w * 0.13), w * 0.3)
    code = face.fit(code, code_size, block - pad, bold=True)
    baseline = y0 + pad + code_size * 0.82
    face.draw(draw, (x0 + pad, baseline), code, code_size, ink, bold=True)
    if scene:
        face.draw(
            draw,
            (x0 + pad, min(y1 - pad * 0.5, baseline + small * 1.55)),
            scene,
            small,
            grey,
            bold=True,
            width=block - pad,
        )
    rule = max(1, round(h / 60))
    draw.rectangle((x0 + block, y0 + pad, x0 + block + rule - 1, y1 - pad), fill=grey)
    note_size = max(5, round(h * 0.135))
    notes_w = min(max((face.width(n, note_size) for n in notes), default=0) + pad, w * 0.3)
    mid_x0 = x0 + block + pad + rule
    mid_x1 = x1 - notes_w - pad
    head_size = max(5, round(h * 0.17))
    text_size = max(5, round(h * 0.145))
    face.draw(
        draw,
        (mid_x0, y0 + pad + head_size * 0.85),
        face.fit(heading, head_size, mid_x1 - mid_x0, bold=True),
        head_size,
        ink,
        bold=True,
    )
    lines = face.wrap(description, text_size, mid_x1 - mid_x0, 2)
    for i, text in enumerate(lines):
        face.draw(
            draw,
            (mid_x0, y0 + pad + head_size * 1.2 + text_size * (1.25 + 1.3 * i)),
            text,
            text_size,
            grey if not light else ink,
        )
    for i, note in enumerate(notes):
        face.draw(
            draw,
            (x1 - pad * 0.5, y0 + pad + note_size * (0.9 + 1.35 * i)),
            face.fit(note, note_size, notes_w),
            note_size,
            grey,
            anchor="rs",
        )


def annotate(picture: Image.Image, plan: Plan, start: View, end: View, face: Typeface) -> None:
    """Draws the board's camera-move arrows on a still (in place)."""
    moves = plan.move.moves
    if not moves and not plan.move.shake:
        return
    draw = ImageDraw.Draw(picture, "RGBA")
    pw, ph = picture.size
    a = plan.aspect
    stroke = max(2, round(ph * 0.009))
    size = max(7, round(ph * 0.032))

    def px(x: float, y: float) -> tuple[float, float]:
        return (x / a * pw, y * ph)

    def arrow(p0: tuple[float, float], p1: tuple[float, float], label: str | None = None) -> None:
        for color, extra in (((255, 255, 255, 230), stroke), ((*ARROW, 255), 0)):
            draw.line([p0, p1], fill=color, width=stroke + extra)
            dx, dy = p1[0] - p0[0], p1[1] - p0[1]
            length = max(1e-6, (dx * dx + dy * dy) ** 0.5)
            ux, uy = dx / length, dy / length
            head = stroke * 3.2 + extra
            tip = (p1[0] + ux * extra * 0.6, p1[1] + uy * extra * 0.6)
            draw.polygon(
                [
                    tip,
                    (p1[0] - ux * head - uy * head * 0.6, p1[1] - uy * head + ux * head * 0.6),
                    (p1[0] - ux * head + uy * head * 0.6, p1[1] - uy * head - ux * head * 0.6),
                ],
                fill=color,
            )
        if label:
            _tag(draw, face, (p0[0] + p1[0]) / 2, min(p0[1], p1[1]) - size * 1.2, label, size)

    for move in moves:
        if move.kind in ("push", "pull"):
            inner = end if move.kind == "push" else start
            box = (*px(inner.x0, inner.y0), *px(inner.x1, inner.y1))
            _dashed(draw, box, stroke, (*ARROW, 255))
            corners_out = [(0, 0), (pw, 0), (0, ph), (pw, ph)]
            corners_in = [(box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])]
            for o, i in zip(corners_out, corners_in, strict=True):
                if abs(i[0] - o[0]) < pw * 0.04 or abs(i[1] - o[1]) < ph * 0.04:
                    continue  # the frames share this edge: an arrow along it says nothing
                tail = (o[0] + (i[0] - o[0]) * 0.12, o[1] + (i[1] - o[1]) * 0.12)
                tip = (tail[0] + (i[0] - tail[0]) * 0.85, tail[1] + (i[1] - tail[1]) * 0.85)
                arrow(tail, tip) if move.kind == "push" else arrow(tip, tail)
            _tag(draw, face, (box[0] + box[2]) / 2, box[1] + size * 1.1, move.label.upper(), size)
        elif move.kind in ("pan", "truck"):
            y = ph * 0.11
            span = (0.3, 0.7) if move.sign > 0 else (0.7, 0.3)
            arrow((pw * span[0], y), (pw * span[1], y), move.label.upper())
        else:
            x = pw * 0.93
            span = (0.62, 0.32) if move.sign < 0 else (0.32, 0.62)
            arrow((x, ph * span[0]), (x, ph * span[1]))
            _tag(draw, face, x - size * 2.5, ph * 0.5, move.label.upper(), size, anchor="r")
    if plan.move.shake:
        label = "HANDHELD" if plan.move.shake > 0.005 else "FLOATING"
        x, y = pw * 0.04, ph * 0.08
        points = [
            (x + i * size * 0.5, y + (size * 0.35 if i % 2 else -size * 0.35)) for i in range(6)
        ]
        draw.line(points, fill=(255, 255, 255, 230), width=stroke * 2, joint="curve")
        draw.line(points, fill=(*ARROW, 255), width=stroke, joint="curve")
        _tag(draw, face, x + size * 3.2, y, label, size, anchor="l")


def _tag(
    draw: ImageDraw.ImageDraw,
    face: Typeface,
    x: float,
    y: float,
    text: str,
    size: int,
    anchor: str = "m",
) -> None:
    width = face.width(text, size, bold=True) + size
    x0 = x - width / 2 if anchor == "m" else x - width if anchor == "r" else x
    draw.rounded_rectangle(
        _whole((x0, y - size * 0.75, x0 + width, y + size * 0.75)),
        radius=round(size * 0.3),
        fill=(*ARROW, 235),
    )
    face.draw(draw, (x0 + size * 0.5, y + size * 0.36), text, size, (255, 255, 255, 255), bold=True)


def _dashed(
    draw: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    stroke: int,
    color: tuple[int, ...],
) -> None:
    x0, y0, x1, y1 = box
    dash = stroke * 4
    for (ax, ay), (bx, by) in (
        ((x0, y0), (x1, y0)),
        ((x1, y0), (x1, y1)),
        ((x1, y1), (x0, y1)),
        ((x0, y1), (x0, y0)),
    ):
        length = max(abs(bx - ax), abs(by - ay))
        steps = max(1, int(length / (dash * 2)))
        for i in range(steps):
            t0, t1 = i / steps, (i + 0.5) / steps
            draw.line(
                [
                    (ax + (bx - ax) * t0, ay + (by - ay) * t0),
                    (ax + (bx - ax) * t1, ay + (by - ay) * t1),
                ],
                fill=color,
                width=stroke,
            )


def prompt_card(picture: Image.Image, text: str, face: Typeface) -> None:
    """The prompt, large, on a card in the middle of the picture (panels without a brief)."""
    draw = ImageDraw.Draw(picture, "RGBA")
    pw, ph = picture.size
    size = max(7, round(ph * 0.055))
    lines = face.wrap(text or "(no prompt)", size, pw * 0.7, 4)
    line_h = size * 1.35
    card_w = max((face.width(line, size) for line in lines), default=0) + size * 2
    card_h = line_h * len(lines) + size * 1.4
    x0, y0 = (pw - card_w) / 2, (ph - card_h) / 2
    draw.rounded_rectangle(
        _whole((x0 + 4, y0 + 6, x0 + card_w + 4, y0 + card_h + 6)),
        radius=round(size * 0.4),
        fill=(0, 0, 0, 60),
    )
    draw.rounded_rectangle(
        _whole((x0, y0, x0 + card_w, y0 + card_h)), radius=round(size * 0.4), fill=(*PAPER, 236)
    )
    for i, line in enumerate(lines):
        face.draw(
            draw,
            (pw / 2, y0 + size * 0.7 + line_h * i + size),
            line,
            size,
            (*INK, 255),
            anchor="ms",
        )
