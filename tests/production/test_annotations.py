"""Drawings on frames: checked vector data kept with its comment, the comment sheet as PNG,
and the cut's OTIO markers."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from setpiece.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from setpiece.model.orm import Annotation, Comment
from setpiece.production import annotations
from setpiece.production.accounts import add_member
from setpiece.production.context import Production
from setpiece.production.playlists import create_playlist
from setpiece.production.review import approve

BOX = {"kind": "box", "points": [[0.1, 0.2], [0.5, 0.6]], "colour": "#00FF00"}
ARROW = {"kind": "arrow", "points": [[0.9, 0.9], [0.55, 0.65]]}
TEXT = {"kind": "text", "points": [[0.1, 0.1]], "text": "her hand"}
STROKE = {"kind": "stroke", "points": [[0.2, 0.2], [0.3, 0.25], [0.4, 0.2]], "width": 6}


def _count(production: Production, table: object) -> int:
    with production.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def test_draw_list_and_sheet(production: Production, make) -> None:
    from PIL import Image

    code = make.shot("1A")
    take = make.take(code, video=True)  # 12 frames
    drawn = annotations.add_annotation(
        production, "1A/1", "the hand pops", [BOX, ARROW, TEXT, STROKE], frame=3, frame_end=5
    )
    assert (drawn.take, drawn.take_label, drawn.frame_start, drawn.frame_end) == (
        take,
        "1A/1",
        3,
        5,
    )
    assert [s.kind for s in drawn.shapes] == ["box", "arrow", "text", "stroke"]
    assert drawn.shapes[0].colour == "#00ff00" and drawn.shapes[0].points[1] == (0.5, 0.6)
    single = annotations.add_annotation(production, take, "  here  ", [TEXT], frame=0)
    assert (single.frame_start, single.frame_end, single.note) == (0, 0, "here")
    listed = annotations.list_annotations(production, take)
    assert [(d.id, d.frame_start) for d in listed] == [(single.id, 0), (drawn.id, 3)]
    with production.transaction() as session:
        comment = session.get(Comment, drawn.comment)
        assert (comment.take_id, comment.frame, comment.note) == (take, 3, "the hand pops")
    png = annotations.drawing_png(production, take, drawn.id)
    sheet = Image.open(io.BytesIO(png))
    assert sheet.format == "PNG" and sheet.width == annotations.SHEET_WIDTH
    frame_height = sheet.height - annotations.CAPTION
    # The box's outline is drawn in its colour where the drawing put it.
    x, y = round(0.1 * sheet.width), round(0.4 * frame_height)
    assert sheet.convert("RGB").getpixel((x + 1, y)) == (0, 255, 0)
    with pytest.raises(NotFoundError, match="has no drawing 999"):
        annotations.drawing_png(production, take, 999)


@pytest.mark.parametrize(
    ("shapes", "fragment"),
    [
        ([], "a drawing needs 1 to 500 shapes"),
        ("box", "a drawing needs 1 to 500 shapes"),
        ([{"kind": "stroke", "points": [[0.5, 0.5]] * 100_000}], "the limit is 10,000 a drawing"),
        ([{"kind": "stroke", "points": [[0.5, 0.5]] * 10_001}], "has 10,001 points"),
        (
            [{"kind": "box", "points": [[0.1, 0.2], [1.5, 0.2]]}],
            "shapes[0].points[1] is [1.5, 0.2]",
        ),
        ([{"kind": "box", "points": [[0.1, 0.2], ["a", 0.2]]}], "must be [x, y], two numbers"),
        ([{"kind": "box", "points": [[0.1, 0.2], [float("nan"), 0.2]]}], "coordinates run from 0"),
        ([{"kind": "box", "points": [[0.1, 0.2]]}], "a box has 2 points, not 1"),
        ([{"kind": "circle", "points": [[0.1, 0.2]]}], "use one of stroke, arrow, box, text"),
        ([{"kind": "text", "points": [[0.1, 0.2]]}], "needs text of 1-500 characters"),
        ([dict(BOX, colour="red")], "write it as #rrggbb"),
        ([dict(BOX, size=3)], "unknown fields: size"),
        ([BOX, "x"], "shapes[1] must be an object"),
    ],
)
def test_malformed_drawings_are_refused(production: Production, make, shapes, fragment) -> None:
    make.take(make.shot("2A"))
    with pytest.raises(InvalidInputError) as refused:
        annotations.add_annotation(production, "2A/1", "note", shapes, frame=0)
    assert fragment in str(refused.value)
    assert _count(production, Annotation) == 0 and _count(production, Comment) == 0


def test_frames_note_and_roles(production: Production, make) -> None:
    make.take(make.shot("3A"), video=True)
    with pytest.raises(InvalidInputError, match=r"has 12 frames \(0-11\): frame 12 is past"):
        annotations.add_annotation(production, "3A/1", "x", [BOX], frame=10, frame_end=12)
    with pytest.raises(InvalidInputError, match="not a range"):
        annotations.add_annotation(production, "3A/1", "x", [BOX], frame=5, frame_end=4)
    with pytest.raises(InvalidInputError, match="needs a note"):
        annotations.add_annotation(production, "3A/1", " ", [BOX], frame=0)
    with pytest.raises(NotFoundError):
        annotations.add_annotation(production, "3A/9", "x", [BOX], frame=0)
    add_member(production, "ana", "admin")
    add_member(production, "vic", "viewer")
    viewer = Production(production.config, production.db, production.store, "vic")
    # A viewer comments, drawings included (issue 33); a playlist is an artist's.
    annotations.add_annotation(viewer, "3A/1", "x", [BOX], frame=0)
    assert [a.note for a in annotations.list_annotations(viewer, "3A/1")] == ["x"]
    with pytest.raises(PermissionDeniedError, match="vic is viewer"):
        create_playlist(viewer, "vic-s", query="review")


def test_drawings_become_markers_of_the_cut(production: Production, make, tmp_path) -> None:
    import opentimelineio as otio

    from setpiece.edit.timeline import write_otio
    from setpiece.production.cut import assemble

    code = make.shot("4A")
    take = make.take(code, video=True)
    approve(production, code, take)
    annotations.add_annotation(production, take, "jump cut", [ARROW], frame=2, frame_end=4)
    cut = assemble(production)
    assert cut.clips[0].to_json()["markers"] == [
        {"frame_start": 2, "frame_end": 4, "author": production.actor, "note": "jump cut"}
    ]
    timeline = otio.adapters.read_from_file(str(write_otio(cut, tmp_path / "cut.otio")))
    clip = next(iter(timeline.find_clips()))
    [marker] = clip.markers
    assert marker.name.endswith(": jump cut")
    assert marker.marked_range.start_time.to_frames() == 2
    assert marker.marked_range.duration.to_frames() == 3
