"""Drawings on frames: strokes, arrows, boxes and text over a take, kept with their comment.

A drawing is vector data, never pixels: shapes in normalised picture coordinates (0..1
across and down, origin top left), so one drawing fits the take at any size it is shown
or exported at. It covers one frame or an inclusive range of frames of the take, and is
stored with the comment that says what it means (one comment, one drawing): the comment
sheet and the cut's OTIO markers read both.

What a drawing may hold is decided here, for the API and every other caller alike:
- ``stroke``: 2 or more points; ``arrow``: exactly 2 (tail, head); ``box``: exactly 2
  (opposite corners); ``text``: 1 point (its top left) and 1-500 characters.
- At most ``MAX_POINTS`` points in all: a freehand stroke sampled at 120 Hz for a minute
  is 7,200 points, so a real drawing fits with room; 100,000 is a runaway client.
- At most ``MAX_SHAPES`` shapes, colours as ``#rrggbb``, widths 0.5-50 pixels at 1080 lines.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from setpiece.errors import InvalidInputError
from setpiece.model.orm import Annotation, Comment
from setpiece.production.context import Production
from setpiece.production.history import record_event
from setpiece.production.rows import take_row

__all__ = [
    "MAX_POINTS",
    "MAX_SHAPES",
    "SHAPE_KINDS",
    "AnnotationView",
    "Shape",
    "add_annotation",
    "check_shapes",
    "drawing_counts",
    "list_annotations",
]

MAX_POINTS = 10_000  # points in one drawing, all shapes together (see the module docstring)
MAX_SHAPES = 500
MAX_TEXT = 500
SHAPE_KINDS = ("stroke", "arrow", "box", "text")
_POINTS = {"stroke": (2, MAX_POINTS), "arrow": (2, 2), "box": (2, 2), "text": (1, 1)}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Shape:
    kind: str  # stroke, arrow, box, text
    points: list[tuple[float, float]]
    colour: str = "#ff3b30"
    width: float = 4.0
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "points": [list(p) for p in self.points],
            "colour": self.colour,
            "width": self.width,
            "text": self.text,
        }


@dataclass(frozen=True)
class AnnotationView:
    id: int
    take: str
    take_label: str
    frame_start: int
    frame_end: int
    comment: int
    author: str
    note: str
    shapes: list[Shape]
    created_at: datetime


def _point(value: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
    ):
        raise InvalidInputError(f"{where} must be [x, y], two numbers from 0 to 1")
    x, y = float(value[0]), float(value[1])
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= 1 and 0 <= y <= 1):
        raise InvalidInputError(f"{where} is [{x:g}, {y:g}]: coordinates run from 0 to 1")
    return x, y


def _shape(raw: Any, where: str) -> Shape:
    if not isinstance(raw, dict):
        raise InvalidInputError(f"{where} must be an object with kind and points")
    unknown = set(raw) - {"kind", "points", "colour", "width", "text"}
    if unknown:
        raise InvalidInputError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    kind = raw.get("kind")
    if kind not in _POINTS:
        raise InvalidInputError(f"{where}.kind is {kind!r}: use one of {', '.join(SHAPE_KINDS)}")
    points = raw.get("points")
    low, high = _POINTS[kind]
    if not isinstance(points, list) or not low <= len(points) <= high:
        count = len(points) if isinstance(points, list) else "no"
        wanted = f"{low}" if low == high else f"{low} to {high}"
        raise InvalidInputError(f"{where}: a {kind} has {wanted} points, not {count}")
    colour = raw.get("colour", "#ff3b30")
    if not isinstance(colour, str) or not _COLOUR.match(colour):
        raise InvalidInputError(f"{where}.colour is {colour!r}: write it as #rrggbb")
    width = raw.get("width", 4.0)
    if not isinstance(width, int | float) or isinstance(width, bool) or not 0.5 <= width <= 50:
        raise InvalidInputError(f"{where}.width is {width!r}: 0.5 to 50")
    text = raw.get("text")
    if kind == "text" and (not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_TEXT):
        raise InvalidInputError(f"{where}: a text shape needs text of 1-{MAX_TEXT} characters")
    if kind != "text" and text is not None:
        raise InvalidInputError(f"{where}: only a text shape has text")
    return Shape(
        kind,
        [_point(p, f"{where}.points[{i}]") for i, p in enumerate(points)],
        colour.lower(),
        float(width),
        text.strip() if isinstance(text, str) else None,
    )


def check_shapes(shapes: Any) -> list[Shape]:
    """The drawing's shapes, checked; the first fault is refused with where it is.

    Raises:
        InvalidInputError: Not a list of 1-``MAX_SHAPES`` shapes, over ``MAX_POINTS`` points
            in all, or a shape that is malformed (its index and field named).
    """
    if not isinstance(shapes, list) or not 1 <= len(shapes) <= MAX_SHAPES:
        raise InvalidInputError(f"a drawing needs 1 to {MAX_SHAPES} shapes")
    total = sum(
        len(s["points"])
        for s in shapes
        if isinstance(s, dict) and isinstance(s.get("points"), list)
    )
    if total > MAX_POINTS:
        raise InvalidInputError(
            f"the drawing has {total:,} points: the limit is {MAX_POINTS:,} a drawing; "
            "simplify the strokes"
        )
    return [_shape(raw, f"shapes[{i}]") for i, raw in enumerate(shapes)]


def add_annotation(
    production: Production,
    take: str,
    note: str,
    shapes: Any,
    *,
    frame: int,
    frame_end: int | None = None,
) -> AnnotationView:
    """Draws on ``take`` from ``frame`` to ``frame_end`` (inclusive; one frame when None),
    stored with a comment saying ``note``.

    Raises:
        InvalidInputError: Malformed shapes, too many points, a frame range outside the
            take, or an empty note.
        NotFoundError: No such take.
        PermissionDeniedError: The actor may not comment (viewers).
    """
    checked = check_shapes(shapes)
    text = note.strip()
    if not text or len(text) > 10000:
        raise InvalidInputError("a drawing needs a note of 1-10000 characters saying what it shows")
    last = frame if frame_end is None else frame_end
    # Frames arrive stored (0-based); messages show them as the board numbers them.
    count = production.frames
    if frame < 0 or last < frame:
        raise InvalidInputError(
            f"frames {count.shown(frame)}-{count.shown(last)} are not a range: frames count"
            f" from {count.shown(0)}, the end after the start"
        )
    with production.transaction() as session:
        production.authorize(session, "comment")
        row = take_row(session, take)
        label = f"{row.shot.code}/{row.number}"
        frames = row.media.frames if row.media is not None else None
        if frames is not None and last >= frames:
            raise InvalidInputError(
                f"take {label} has {frames} frames ({count.shown(0)}-{count.shown(frames - 1)}):"
                f" frame {count.shown(last)} is past its end"
            )
        comment = Comment(
            shot_id=row.shot_id, take_id=row.id, frame=frame, author=production.actor, note=text
        )
        session.add(comment)
        session.flush()
        drawing = Annotation(
            comment_id=comment.id,
            take_id=row.id,
            frame_start=frame,
            frame_end=last,
            shapes=[s.to_json() for s in checked],
        )
        session.add(drawing)
        session.flush()
        record_event(
            session,
            production,
            "shot",
            row.shot.code,
            "comment",
            note=text[:500],
            data={"comment": comment.id, "take": row.id, "frame": frame, "drawing": drawing.id},
        )
        return _view(drawing, comment, label)


def _view(drawing: Annotation, comment: Comment, label: str) -> AnnotationView:
    return AnnotationView(
        drawing.id,
        drawing.take_id,
        label,
        drawing.frame_start,
        drawing.frame_end,
        comment.id,
        comment.author,
        comment.note,
        [
            Shape(s["kind"], [tuple(p) for p in s["points"]], s["colour"], s["width"], s["text"])
            for s in drawing.shapes
        ],
        drawing.created_at,
    )


def list_annotations(production: Production, take: str) -> list[AnnotationView]:
    """The drawings on a take, by first frame, then oldest first.

    Raises:
        NotFoundError: No such take.
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        row = take_row(session, take)
        label = f"{row.shot.code}/{row.number}"
        found = session.execute(
            select(Annotation, Comment)
            .join(Comment, Annotation.comment_id == Comment.id)
            .where(Annotation.take_id == row.id)
            .order_by(Annotation.frame_start, Annotation.id)
        ).all()
        return [_view(drawing, comment, label) for drawing, comment in found]


def drawing_counts(production: Production, shot: str) -> dict[str, int]:
    """How many drawings each of shot ``shot``'s takes has (takes with none left out).

    Raises:
        NotFoundError: No such shot.
    """
    from sqlalchemy import func

    from setpiece.model.orm import Take
    from setpiece.production.rows import shot_row

    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        target = shot_row(session, shot)
        rows = session.execute(
            select(Annotation.take_id, func.count())
            .join(Take, Annotation.take_id == Take.id)
            .where(Take.shot_id == target.id)
            .group_by(Annotation.take_id)
        ).all()
        return {str(take): int(count) for take, count in rows}


SHEET_WIDTH = 1280  # the comment sheet's width in pixels; the frame is scaled to it
CAPTION = 96  # pixels below the frame for who, which frames, and the note


def drawing_png(production: Production, take: str, drawing: int | str) -> bytes:
    """The comment sheet of one drawing as PNG bytes: the take's first frame of the range
    with the shapes drawn over it, and below it the take, the frames, the author and the note.

    Raises:
        NotFoundError: No such take, or no such drawing on it.
        InvalidInputError: The take has no picture.
        StorageError: The take's media is missing from the store.
    """
    import io

    from PIL import Image, ImageDraw

    from setpiece.errors import NotFoundError
    from setpiece.lettering import typeface
    from setpiece.production.takes import get_take
    from setpiece.store.frames import iter_take_frames

    found = next((d for d in list_annotations(production, take) if str(d.id) == str(drawing)), None)
    if found is None:
        raise NotFoundError(
            f"take {take} has no drawing {drawing}: list them with GET .../annotations"
        )
    view = get_take(production, found.take)
    if view.media is None:
        raise InvalidInputError(f"take {found.take_label} has no picture to draw on")
    picture = None
    for frame in iter_take_frames(view.media, found.take_label, production.store):
        if frame.index >= found.frame_start:
            picture = Image.fromarray(frame.rgb)
            break
    if picture is None:
        raise InvalidInputError(f"take {found.take_label} has no frame {found.frame_start}")
    height = max(2, round(SHEET_WIDTH * picture.height / picture.width))
    sheet = Image.new("RGB", (SHEET_WIDTH, height + CAPTION), (24, 24, 24))
    sheet.paste(picture.resize((SHEET_WIDTH, height)), (0, 0))
    pen = ImageDraw.Draw(sheet)
    face = typeface()
    scale = height / 1080
    for shape in found.shapes:
        _draw_shape(pen, face, shape, SHEET_WIDTH, height, scale)
    count = production.frames
    frames = (
        f"frame {count.shown(found.frame_start)}"
        if found.frame_start == found.frame_end
        else f"frames {count.shown(found.frame_start)}-{count.shown(found.frame_end)}"
    )
    face.draw(
        pen,
        (16, height + 30),
        f"{found.take_label}  {frames}  {found.author}",
        20,
        "white",
        bold=True,
        width=SHEET_WIDTH - 32,
    )
    face.draw(pen, (16, height + 70), found.note, 18, (220, 220, 220), width=SHEET_WIDTH - 32)
    out = io.BytesIO()
    sheet.save(out, "PNG")
    return out.getvalue()


def _draw_shape(pen: Any, face: Any, shape: Shape, width: int, height: int, scale: float) -> None:
    points = [(x * width, y * height) for x, y in shape.points]
    line = max(1, round(shape.width * scale))
    if shape.kind == "stroke":
        pen.line(points, fill=shape.colour, width=line, joint="curve")
    elif shape.kind == "box":
        (x0, y0), (x1, y1) = points
        pen.rectangle(
            (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), outline=shape.colour, width=line
        )
    elif shape.kind == "arrow":
        (x0, y0), (x1, y1) = points
        pen.line(points, fill=shape.colour, width=line)
        angle, head = math.atan2(y1 - y0, x1 - x0), 6 * line + 8
        wings = [
            (x1 - head * math.cos(angle + s), y1 - head * math.sin(angle + s))
            for s in (0.45, -0.45)
        ]
        pen.polygon([(x1, y1), *wings], fill=shape.colour)
    else:
        face.draw(
            pen,
            points[0],
            shape.text or "",
            max(12, round(36 * scale)),
            shape.colour,
            anchor="lt",
            width=width - points[0][0],
        )
