"""The contact sheet: every shot's circled take on one page, in script order.

A director checks coverage at a glance: one cell per shot, the picture of the take
the cut uses (the middle frame of a video, the still itself) with its shot, take and
status, and a "NOT APPROVED" card where the shot has none. The shots and takes are
the assembly's (``assemble``), so the sheet shows exactly what the cut plays:
circled takes, and automation's provisional picks labelled as such.

The page is a PNG written to a temporary file next to the target and renamed, so a
failed run leaves nothing behind. Cells are a fixed width (``CELL_WIDTH``) at the
project's aspect ratio; only one take's picture is decoded at a time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from setpiece.drawing import GREY, INK, PAPER
from setpiece.edit.movie import fit
from setpiece.errors import InvalidInputError, InvalidMediaError
from setpiece.model.enums import TakeKind
from setpiece.production.cut import Cut, CutClip, assemble
from setpiece.store.frames import check_target, open_media, read_still, temporary_file

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

    from setpiece.lettering import Typeface
    from setpiece.production.context import Production
    from setpiece.production.views import MediaView
    from setpiece.store.media import MediaStore

__all__ = [
    "CAPTION_HEIGHT",
    "CELL_WIDTH",
    "GAP",
    "HEADER_HEIGHT",
    "MAX_COLUMNS",
    "contact_sheet",
    "sheet_size",
]

CELL_WIDTH = 320
CAPTION_HEIGHT = 46
GAP = 16
HEADER_HEIGHT = 56
MAX_COLUMNS = 16

_EMPTY = (44, 44, 48)
_STATUS = {
    "circled": ((46, 140, 70), "CIRCLED"),
    "provisional": ((214, 150, 20), "PROVISIONAL"),
    "unapproved": ((214, 44, 38), "UNAPPROVED"),
    None: ((120, 120, 120), "NOT APPROVED"),
}


def picture_height(width: int, height: int) -> int:
    """Height of a cell's picture at the project's aspect ratio."""
    return max(2, round(CELL_WIDTH * height / width))


def sheet_size(shots: int, columns: int, width: int, height: int) -> tuple[int, int]:
    """(width, height) in pixels of the sheet for ``shots`` cells of a ``width``x``height`` project."""
    rows = max(1, math.ceil(shots / columns))
    cell_h = picture_height(width, height) + CAPTION_HEIGHT
    return (
        columns * CELL_WIDTH + (columns + 1) * GAP,
        HEADER_HEIGHT + rows * cell_h + (rows + 1) * GAP,
    )


def contact_sheet(
    production: Production,
    out_path: str | os.PathLike[str],
    *,
    scene: str | None = None,
    columns: int = 4,
    deliver: Callable[[Cut], Callable[[Path, Path], object]] | None = None,
) -> Path:
    """Writes the contact sheet of the film, or of one scene, as a PNG.

    Args:
        production: The open project.
        out_path: The PNG to write; replaced if it exists.
        scene: A scene number, or None for every scene.
        columns: Cells per row, 1 to ``MAX_COLUMNS``.
        deliver: Given the cut the sheet shows, what writes the delivered sheet from the
            drawn one, ``deliver(cut)(raw, target)`` (``setpiece.provenance.deliver``'s
            ``cut_deliverer`` bound to the production: watermark and signature); None
            writes the sheet as drawn.

    Returns:
        The path written.

    Raises:
        InvalidInputError: ``columns`` out of range; no shots to show; ``out_path`` is a
            folder, names a folder that does not exist, or does not end in ``.png``.
        NotFoundError: An unknown scene.
        InvalidMediaError: A take's media cannot be decoded.
        StorageError: A take's media is missing from the store.
    """
    if not 1 <= columns <= MAX_COLUMNS:
        raise InvalidInputError(f"columns {columns} is out of range: give 1 to {MAX_COLUMNS}")
    target = check_target(out_path, (".png",), "contact sheet")
    cut = assemble(production, scene=scene)
    if not cut.clips:
        where = f"scene {scene}" if scene is not None else "the project"
        raise InvalidInputError(f"{where} has no shots to show; add shots first")
    sheet = _draw(cut, columns, scene, production.store)
    if deliver is not None:
        import tempfile

        deliver_sheet = deliver(cut)
        with tempfile.TemporaryDirectory(prefix=".setpiece-sheet-", dir=target.parent) as work:
            raw = Path(work) / "sheet.png"
            sheet.save(raw, format="PNG")
            deliver_sheet(raw, target)
        return target
    with temporary_file(target) as temp:
        sheet.save(temp, format="PNG")
    return target


def _draw(cut: Cut, columns: int, scene: str | None, store: MediaStore) -> Image.Image:
    from PIL import Image, ImageDraw

    from setpiece.lettering import typeface

    face = typeface()
    width, height = cut.width, cut.height
    sheet = Image.new("RGB", sheet_size(len(cut.clips), columns, width, height), PAPER)
    draw = ImageDraw.Draw(sheet)
    _header(draw, face, cut, scene, sheet.width)
    pic_h = picture_height(width, height)
    for number, clip in enumerate(cut.clips):
        row, column = divmod(number, columns)
        x = GAP + column * (CELL_WIDTH + GAP)
        y = HEADER_HEIGHT + GAP + row * (pic_h + CAPTION_HEIGHT + GAP)
        sheet.paste(_picture(clip, pic_h, face, store), (x, y))
        _caption(draw, face, clip, x, y + pic_h)
    return sheet


def _header(
    draw: ImageDraw.ImageDraw, face: Typeface, cut: Cut, scene: str | None, width: int
) -> None:
    counts: dict[str | None, int] = {}
    for clip in cut.clips:
        counts[clip.status] = counts.get(clip.status, 0) + 1
    parts = [f"{len(cut.clips)} shots"] + [
        f"{counts[key]} {word.lower()}" for key, (_, word) in _STATUS.items() if counts.get(key)
    ]
    title = f"{cut.name}  ·  " + (f"scene {cut.clips[0].scene}" if scene else "all scenes")
    room = width - 2 * GAP
    face.draw(draw, (GAP, HEADER_HEIGHT * 0.5), title, 22, INK, bold=True, width=room)
    face.draw(draw, (GAP, HEADER_HEIGHT * 0.5 + 22), "  ·  ".join(parts), 14, GREY, width=room)


def _picture(clip: CutClip, pic_h: int, face: Typeface, store: MediaStore) -> Image.Image:
    """The cell's picture: the take's frame fitted on black, or the NOT APPROVED card."""
    from PIL import Image, ImageDraw

    cell = Image.new("RGB", (CELL_WIDTH, pic_h), (0, 0, 0) if clip.media else _EMPTY)
    if clip.kind != "take" or clip.media is None:
        draw = ImageDraw.Draw(cell)
        size = max(8, round(pic_h * 0.12))
        face.draw(
            draw,
            (CELL_WIDTH / 2, pic_h / 2 + size * 0.36),
            "NOT APPROVED",
            size,
            (235, 235, 230),
            bold=True,
            anchor="ms",
            width=CELL_WIDTH - 4,
        )
        return cell
    label = clip.take_label or clip.shot
    media = clip.media
    if media.kind == TakeKind.VIDEO and media.fps:
        picture = middle_frame(media, clip.source_in + clip.source_duration // 2, label, store)
    else:
        picture = read_still(media, label, store)
    x, y, w, h = fit(picture.size, (CELL_WIDTH, pic_h))
    cell.paste(picture.resize((w, h), Image.Resampling.BICUBIC, reducing_gap=2.0), (x, y))
    return cell


def _caption(draw: ImageDraw.ImageDraw, face: Typeface, clip: CutClip, x: int, y: int) -> None:
    colour, word = _STATUS.get(clip.status, _STATUS[None])
    size = 16
    baseline = y + 20
    name = clip.take_label or clip.shot
    tag_w = face.width(word, 11, bold=True) + 10
    room = CELL_WIDTH - 4 - tag_w - 8
    used = face.draw(draw, (x + 2, baseline), name, size, INK, bold=True, width=room)
    tag_x = x + 2 + used + 8
    draw.rounded_rectangle(
        (round(tag_x), baseline - 14, round(tag_x + tag_w), baseline + 2), radius=4, fill=colour
    )
    face.draw(draw, (tag_x + 5, baseline - 2), word, 11, (255, 255, 255), bold=True)
    heading = f"SC {clip.scene}  ·  {clip.scene_heading}"
    face.draw(draw, (x + 2, baseline + 20), heading, 12, GREY, width=CELL_WIDTH - 4)


def middle_frame(
    media: MediaView, index: int, label: str, store: MediaStore | None = None
) -> Image.Image:
    """Frame ``index`` (in the media's own frames) of a video, found by seeking near it.

    Raises:
        InvalidMediaError: The video does not decode.
        StorageError: It is missing.
    """
    import av

    assert media.fps is not None
    index = min(max(0, index), max(0, media.frames - 1))
    with open_media(media, label, store) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        chosen: Any = None
        try:
            base = stream.time_base or Fraction(1, 90000)
            start = Fraction(stream.start_time or 0) * base
            wanted = start + Fraction(index) / media.fps
            # The frame whose time is the latest at or before ``wanted``: the first one
            # decoded after the seek that lies less than half a frame before it.
            earliest = wanted - Fraction(1, 2) / media.fps
            if index:
                container.seek(int(wanted / base), stream=stream, backward=True)
            for frame in container.decode(stream):
                chosen = frame
                if frame.pts is None or frame.pts * base >= earliest:
                    break
        except (av.FFmpegError, OSError) as exc:
            raise InvalidMediaError(
                f"take {label}: {media.path} cannot be decoded ({exc}); run 'setpiece fsck'"
            ) from exc
        if chosen is None:
            raise InvalidMediaError(
                f"take {label}: no frame of {media.path} decodes; run 'setpiece fsck'"
            )
        image: Image.Image = chosen.to_image()
        return image
