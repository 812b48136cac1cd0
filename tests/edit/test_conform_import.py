"""Edit import: the editor's changed cut comes back as planned durations, and nothing else moves.

Each edit starts as Setpiece's own export of a small project with real takes,
changed the way an editing tool would change it (trimmed, reordered, relinked,
stripped of Setpiece's metadata), or broken on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from mediafactory import write_mp4, write_png
from setpiece.edit.conform_import import (
    DurationChange,
    EditImportReport,
    UnmatchedClip,
    import_edit,
)
from setpiece.edit.reading import read_edit
from setpiece.edit.timeline import write_edl, write_fcp_xml, write_otio, write_otioz
from setpiece.errors import InvalidInputError, PermissionDeniedError, SetpieceError
from setpiece.model.orm import Event, Shot
from setpiece.production.context import Production, init_production
from setpiece.production.cut import assemble
from setpiece.production.records import add_user
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot
from setpiece.production.takes import approve_take, import_takes
from setpiece.production.views import dumps_views, jsonable

otio = pytest.importorskip("opentimelineio")

FPS = Fraction(24000, 1001)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return tmp_path / "night train"  # media URLs with an escaped space


@pytest.fixture
def film(project_dir: Path, database_url: str | None, tmp_path: Path) -> Iterator[Production]:
    """Scene 1: 1A and 1B circled video takes, 1C a circled still, 1D a slate; scene 2: 2A.

    Planned: 1A 36 frames (its take has 48), 1B 48 (take 48), 1C 24, 1D 48, 2A 24.
    """
    with init_production(
        project_dir, name="Night Train", fps=FPS, resolution=(64, 48),
        database_url=database_url, actor="ana",
    ) as prod:  # fmt: skip
        folder = tmp_path / "incoming"
        folder.mkdir()
        one = add_scene(prod, "INT. TRAIN - NIGHT").number
        two = add_scene(prod, "EXT. PLATFORM - NIGHT").number
        for scene, code, seconds in (
            (one, "1A", 1.5),
            (one, "1B", 2),
            (one, "1C", 1),
            (one, "1D", 2),
            (two, "2A", 1),
        ):
            add_shot(prod, scene, code, duration=seconds)
        media = {
            "1A": write_mp4(folder / "a.mp4", frames=48, fps=FPS, seed=1),
            "1B": write_mp4(folder / "b.mp4", frames=48, fps=FPS, seed=2),
            "1C": write_png(folder / "c.png", seed=3),
            "2A": write_mp4(folder / "e.mp4", frames=30, fps=FPS, seed=5),
        }
        for code, path in media.items():
            approve_take(prod, code, import_takes(prod, code, [path]).created[0].id)
        yield prod


def planned(production: Production) -> dict[str, int | None]:
    with production.transaction() as session:
        return dict(session.execute(select(Shot.code, Shot.planned_frames)).all())


def snapshot(production: Production) -> tuple[object, ...]:
    with production.transaction() as session:
        shots = sorted(
            session.execute(
                select(Shot.code, Shot.planned_frames, Shot.position, Shot.version, Shot.status)
            ).all()
        )
        events = session.scalar(select(func.count()).select_from(Event))
    return shots, events


def export(production: Production, path: Path) -> Path:
    cut = assemble(production)
    writer = {
        ".otio": write_otio,
        ".otioz": write_otioz,
        ".edl": write_edl,
        ".xml": write_fcp_xml,
    }[path.suffix]
    return writer(cut, path)


def edit_otio(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """Reads an .otio, lets ``change`` edit its video track, writes it back."""
    timeline = otio.adapters.read_from_file(str(path))
    change(timeline.tracks[0])
    otio.adapters.write_to_file(timeline, str(path))
    return path


def trim(item, frames: int) -> None:  # type: ignore[no-untyped-def]
    old = item.source_range
    item.source_range = otio.opentime.TimeRange(
        old.start_time, otio.opentime.RationalTime(frames, float(FPS))
    )


def by_name(track, shot: str):  # type: ignore[no-untyped-def]
    return next(item for item in track if item.name.startswith(shot))


# Round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".otio", ".otioz", ".edl", ".xml"])
def test_an_untouched_export_changes_nothing(film: Production, tmp_path: Path, suffix: str) -> None:
    path = export(film, tmp_path / f"cut{suffix}")
    before = snapshot(film)
    report = import_edit(film, path)
    assert (report.clips, report.matched, report.changes, report.unmatched) == (5, 5, [], [])
    assert report.unchanged == ["1A", "1B", "1C", "1D", "2A"]
    assert not report.order_changed and report.moved == [] and report.not_in_edit == []
    assert report.missing_media == [] and report.warnings == []
    assert snapshot(film) == before


def test_trims_become_planned_durations(film: Production, tmp_path: Path) -> None:
    def change(track) -> None:  # type: ignore[no-untyped-def]
        trim(by_name(track, "1A"), 30)
        trim(by_name(track, "1D"), 60)  # the slate of a shot with no take yet

    path = edit_otio(export(film, tmp_path / "cut.otio"), change)
    report = import_edit(film, path)
    assert [(c.shot, c.before, c.after, c.in_cut) for c in report.changes] == [
        ("1A", 36, 30, 36),
        ("1D", 48, 60, 48),
    ]
    assert report.changes[0].take_label == "1A/1" and report.changes[1].take is None
    assert report.unchanged == ["1B", "1C", "2A"]
    assert planned(film) == {"1A": 30, "1B": 48, "1C": 24, "1D": 60, "2A": 24}
    with film.transaction() as session:
        events = session.scalars(select(Event).where(Event.action == "duration")).all()
        assert sorted((e.entity_id, e.before, e.after, e.actor) for e in events) == [
            ("1A", "36", "30", "ana"),
            ("1D", "48", "60", "ana"),
        ]
        assert events[0].data["file"] == "cut.otio" and "cut.otio" in (events[0].note or "")
    assert [c.duration for c in assemble(film).clips] == [30, 48, 24, 60, 24]
    # Importing the same edit again finds nothing left to change.
    again = import_edit(film, path)
    assert again.changes == [] and len(again.unchanged) == 5
    assert jsonable(report)["changes"][0] == {
        "shot": "1A",
        "take": report.changes[0].take,
        "take_label": "1A/1",
        "before": 36,
        "after": 30,
        "in_cut": 36,
    }


@sqlite_only
def test_an_edl_from_an_editing_tool_matches_by_file_name(film: Production, tmp_path: Path) -> None:
    """The tool kept ``* FROM CLIP`` but dropped Setpiece's comments; 1B lost 6 frames."""
    path = export(film, tmp_path / "cut.edl")
    timeline = otio.adapters.read_from_file(str(path), rate=float(FPS))
    for item in timeline.tracks[0]:
        item.metadata["cmx_3600"]["comments"] = []
    trim(by_name(timeline.tracks[0], "1B"), 42)
    text = otio.adapters.write_to_string(timeline, "cmx_3600", rate=float(FPS))
    assert "SETPIECE" not in text
    path.write_text(text)
    report = import_edit(film, path)
    assert report.matched == 5 and report.unmatched == []
    assert [(c.shot, c.after) for c in report.changes] == [("1B", 42)]


@sqlite_only
def test_an_edl_with_only_reels_and_clip_names_still_matches(
    film: Production, tmp_path: Path
) -> None:
    path = export(film, tmp_path / "cut.edl")
    kept = [
        line
        for line in path.read_text().splitlines()
        if not line.startswith(("* FROM CLIP:", "* SETPIECE"))
    ]
    path.write_text("\n".join(kept) + "\n")
    edit = read_edit(path, FPS)
    assert all(clip.url is None and not clip.setpiece for clip in edit.clips)
    report = import_edit(film, path)
    assert report.matched == 5 and report.changes == [] and report.unmatched == []


@sqlite_only
def test_fcp_xml_trim_is_imported(film: Production, tmp_path: Path) -> None:
    path = export(film, tmp_path / "cut.xml")
    text = path.read_text()
    # 2A, the last clip, ends 6 frames earlier: its <end> and <out>.
    end = assemble(film).duration
    text = text.replace(f"<end>{end}</end>", f"<end>{end - 6}</end>")
    path.write_text(text)
    report = import_edit(film, path)
    assert [(c.shot, c.before, c.after) for c in report.changes] == [("2A", 24, 18)]


# What is reported and not applied -------------------------------------------------------


@sqlite_only
def test_a_new_order_is_reported_not_applied(film: Production, tmp_path: Path) -> None:
    def change(track) -> None:  # type: ignore[no-untyped-def]
        moved = by_name(track, "2A")
        track.remove(moved)
        track.insert(0, moved)

    before = snapshot(film)
    report = import_edit(film, edit_otio(export(film, tmp_path / "cut.otio"), change))
    assert report.order_changed and report.moved == ["2A"]
    assert report.edit_order == ["2A", "1A", "1B", "1C", "1D"]
    assert report.script_order == ["1A", "1B", "1C", "1D", "2A"]
    assert report.changes == []
    assert snapshot(film) == before


@sqlite_only
def test_foreign_clips_are_listed_and_nothing_is_deleted(film: Production, tmp_path: Path) -> None:
    def change(track) -> None:  # type: ignore[no-untyped-def]
        track.remove(by_name(track, "1C"))
        interview = otio.schema.Clip(
            name="interview",
            media_reference=otio.schema.ExternalReference(target_url="file:///elsewhere/i.mov"),
            source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(24, 24)),
        )
        black = otio.schema.Clip(
            name="black",
            media_reference=otio.schema.GeneratorReference(generator_kind="SolidColor"),
            source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(12, 24)),
        )
        track.append(interview)
        track.append(black)

    before = snapshot(film)
    report = import_edit(film, edit_otio(export(film, tmp_path / "cut.otio"), change))
    assert [(u.name, u.reason) for u in report.unmatched] == [
        ("interview", "its media i.mov is no take of this project"),
        ("black", "a SolidColor filler that names no shot"),
    ]
    assert report.unmatched[0].reference == "file:///elsewhere/i.mov"
    assert report.not_in_edit == ["1C"]
    assert report.missing_media == ["file:///elsewhere/i.mov"]
    assert report.changes == [] and snapshot(film) == before


@sqlite_only
def test_media_that_points_nowhere_is_reported_and_durations_still_import(
    film: Production, tmp_path: Path
) -> None:
    def change(track) -> None:  # type: ignore[no-untyped-def]
        for item in track:
            reference = item.media_reference
            if isinstance(reference, otio.schema.ExternalReference):
                reference.target_url = "file:///nowhere/" + Path(reference.target_url).name
        trim(by_name(track, "1B"), 40)

    report = import_edit(film, edit_otio(export(film, tmp_path / "cut.otio"), change))
    assert len(report.missing_media) == 4
    assert all(url.startswith("file:///nowhere/") for url in report.missing_media)
    assert [(c.shot, c.after) for c in report.changes] == [("1B", 40)]
    assert planned(film)["1B"] == 40


@sqlite_only
def test_a_shot_used_twice_is_left_alone(film: Production, tmp_path: Path) -> None:
    def change(track) -> None:  # type: ignore[no-untyped-def]
        twice = by_name(track, "1A").clone()
        trim(twice, 10)
        track.append(twice)

    report = import_edit(film, edit_otio(export(film, tmp_path / "cut.otio"), change))
    assert report.changes == []
    assert any("1A is in the edit 2 times" in w for w in report.warnings)
    assert planned(film)["1A"] == 36


@sqlite_only
def test_a_take_shorter_than_its_plan_is_no_trim(film: Production, tmp_path: Path) -> None:
    """2A is planned at 24 frames but a 12-frame take now shows 12; a tool's XML says 12."""
    take = import_takes(film, "2A", [write_mp4(tmp_path / "short.mp4", frames=12, fps=FPS)])
    approve_take(film, "2A", take.created[0].id)
    path = export(film, tmp_path / "cut.xml")  # FCP XML keeps no Setpiece metadata
    report = import_edit(film, path)
    assert report.changes == [] and "2A" in report.unchanged
    assert planned(film)["2A"] == 24


@sqlite_only
def test_an_old_edit_names_the_take_the_cut_no_longer_uses(
    film: Production, tmp_path: Path
) -> None:
    path = export(film, tmp_path / "cut.otio")
    newer = import_takes(film, "1B", [write_mp4(tmp_path / "b2.mp4", frames=48, fps=FPS, seed=9)])
    approve_take(film, "1B", newer.created[0].id)
    report = import_edit(film, path)
    assert "1B: the edit uses take 1B/1, the cut now uses 1B/2" in report.warnings


@sqlite_only
def test_a_dry_run_changes_nothing(film: Production, tmp_path: Path) -> None:
    path = edit_otio(export(film, tmp_path / "cut.otio"), lambda t: trim(by_name(t, "1A"), 20))
    before = snapshot(film)
    report = import_edit(film, path, dry_run=True)
    assert not report.applied and [(c.shot, c.after) for c in report.changes] == [("1A", 20)]
    assert snapshot(film) == before


@sqlite_only
def test_a_viewer_may_only_dry_run(film: Production, tmp_path: Path) -> None:
    add_user(film, "ana", "admin")
    add_user(film, "vic", "viewer")
    path = edit_otio(export(film, tmp_path / "cut.otio"), lambda t: trim(by_name(t, "1A"), 20))
    film.actor = "vic"
    before = snapshot(film)
    with pytest.raises(PermissionDeniedError, match="vic is viewer"):
        import_edit(film, path)
    assert import_edit(film, path, dry_run=True).changes
    assert snapshot(film) == before


# Drop frame -----------------------------------------------------------------------------


@pytest.fixture
def ntsc(tmp_path: Path) -> Iterator[Production]:
    """A 29.97 fps project with shot 3A (a circled still, planned 2 s)."""
    with init_production(
        tmp_path / "ntsc", fps=Fraction(30000, 1001), resolution=(64, 48), actor="ana"
    ) as prod:
        scene = add_scene(prod, "INT. STUDIO - DAY").number
        add_shot(prod, scene, "3A", duration=2)
        still = write_png(tmp_path / "s.png")
        approve_take(prod, "3A", import_takes(prod, "3A", [still]).created[0].id)
        yield prod


@pytest.mark.parametrize(
    ("header", "separator"),
    [("FCM: DROP FRAME\n", ":"), ("FCM: DROP FRAME\n", ";"), ("", ";")],
    ids=["fcm-colons", "fcm-semicolons", "semicolons"],
)
def test_drop_frame_edl_at_29_97_is_read_as_drop_frame(
    ntsc: Production, tmp_path: Path, header: str, separator: str
) -> None:
    # 00:01:00;02 is frame 1800 in drop frame (00;00 and 00;01 of minute one do not exist).
    out = f"00:01:00{separator}02"
    edl = tmp_path / "ntsc.edl"
    edl.write_text(
        f"TITLE: NTSC\n{header}\n"
        f"001  AX       V     C        00:00:00{separator}00 {out} 00:00:00{separator}00 {out}\n"
        "* FROM CLIP NAME:  3A/1\n"
    )
    report = import_edit(ntsc, edl)
    assert [(c.shot, c.before, c.after) for c in report.changes] == [("3A", 60, 1800)]


def test_a_29_97_export_reads_back_through_the_importer(ntsc: Production, tmp_path: Path) -> None:
    path = export(ntsc, tmp_path / "cut.edl")
    assert "FCM: DROP FRAME" in path.read_text()
    report = import_edit(ntsc, path)
    assert report.matched == 1 and report.changes == []


# Bad input ------------------------------------------------------------------------------

NEWER = "newer OpenTimelineIO"


def _newer_schema(path: Path) -> None:
    path.write_text(path.read_text().replace('"Timeline.1"', '"Timeline.9"'))


def _drop_frame(path: Path) -> None:
    path.write_text(
        "TITLE: X\nFCM: DROP FRAME\n\n"
        "001  AX       V     C        00:00:00;00 00:00:01;00 00:00:00;00 00:00:01;00\n"
    )


def _billion_laughs(path: Path) -> None:
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<xmeml version="4">&b;</xmeml>\n'
    )


BAD = [
    ("cut.otio", _newer_schema, NEWER),
    ("cut.otio", lambda p: p.write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": '), "JSON"),
    ("cut.otio", lambda p: p.write_text(""), "is empty"),
    (
        "cut.otio",
        lambda p: p.write_text('{"OTIO_SCHEMA": "Gap.1", "name": "x"}'),
        "(its top object is Gap)",
    ),
    (
        "cut.otio",
        lambda p: p.write_text('{"OTIO_SCHEMA": "Clip.2", "name": "x"}'),
        "media_references",
    ),
    ("cut.otio", lambda p: p.write_text("[1, 2, 3]"), "no timeline"),
    ("cut.otioz", lambda p: p.write_bytes(b"PK not really"), "not a zip"),
    ("cut.aaf", lambda p: p.write_text("x"), "not an edit Setpiece reads"),
    ("gone.otio", None, "no such file"),
    ("cut.edl", _drop_frame, "drop-frame timecode"),
    ("cut.edl", lambda p: p.write_text("hello editors\n"), "not a CMX 3600 EDL"),
    (
        "cut.edl",
        lambda p: p.write_text("001  AX V C 00:00:00:00 00:00:01:30 00:00:00:00 00:00:01:30\n"),
        "not a CMX 3600 EDL",
    ),
    (
        "cut.edl",
        lambda p: p.write_text(
            "FCM: NON-DROP FRAME\n001  AX V C 00:00:00;00 00:00:01;00 00:00:00;00 00:00:01;00\n"
        ),
        "NON-DROP",
    ),
    (
        "cut.edl",
        lambda p: p.write_text("001  AX AA C 00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n"),
        "no video track",
    ),
    ("cut.xml", _billion_laughs, "XML entities"),
    ("cut.xml", lambda p: p.write_text("<xmeml><project>"), "not well-formed"),
    ("cut.xml", lambda p: p.write_text('<xmeml version="4"/>'), "No top-level sequences"),
    ("cut.xml", lambda p: p.write_text('<fcpxml version="1.9"/>'), "not Final Cut Pro 7"),
]


@sqlite_only
@pytest.mark.parametrize(("name", "make", "fragment"), BAD, ids=[f"{n}-{f}" for n, _, f in BAD])
def test_bad_edits_are_refused_in_one_line_and_change_nothing(
    film: Production,
    tmp_path: Path,
    name: str,
    make,
    fragment: str,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / name
    if make is not None:
        if path.suffix == ".otio":
            export(film, path)
        make(path)
    before = snapshot(film)
    with pytest.raises(SetpieceError) as caught:
        import_edit(film, path)
    message = str(caught.value)
    assert fragment in message, message
    assert "\n" not in message and "Traceback" not in message
    assert snapshot(film) == before


@sqlite_only
def test_the_newer_schema_message_names_the_schema(film: Production, tmp_path: Path) -> None:
    path = export(film, tmp_path / "cut.otio")
    path.write_text(re.sub(r'"Clip\.2"', '"Clip.7"', path.read_text()))
    with pytest.raises(SetpieceError, match=r"uses Clip\.7 where this one reads up to Clip\.2"):
        read_edit(path)


def test_report_json_is_plain(tmp_path: Path) -> None:
    report = EditImportReport(path="x.edl", format="edl", fps=FPS, clips=0, matched=0)
    assert jsonable(report)["fps"] == "24000/1001"
    assert jsonable(report)["applied"] is True


def test_report_json_keeps_the_shape_its_own_to_json_gave() -> None:
    """The report lost its hand-written ``to_json`` (it only repeated the fields): same bytes."""
    report = EditImportReport(
        path="cut.edl",
        format="edl",
        fps=FPS,
        clips=3,
        matched=2,
        changes=[DurationChange("1A", "abc", "1A/1", 36, 30, 36)],
        unchanged=["1B"],
        unmatched=[UnmatchedClip(2, "B-roll", 54, 12, None, "no take of that name")],
        missing_media=["1C"],
        order_changed=True,
        edit_order=["1B", "1A"],
        script_order=["1A", "1B"],
        moved=["1B"],
        not_in_edit=["1D"],
        warnings=["a note"],
        applied=False,
    )
    assert orjson.dumps(jsonable(report)) == (
        b'{"path":"cut.edl","format":"edl","fps":"24000/1001","clips":3,"matched":2,'
        b'"changes":[{"shot":"1A","take":"abc","take_label":"1A/1","before":36,"after":30,'
        b'"in_cut":36}],"unchanged":["1B"],"unmatched":[{"index":2,"name":"B-roll",'
        b'"record_in":54,"duration":12,"reference":null,"reason":"no take of that name"}],'
        b'"missing_media":["1C"],"order_changed":true,"edit_order":["1B","1A"],'
        b'"script_order":["1A","1B"],"moved":["1B"],"not_in_edit":["1D"],'
        b'"warnings":["a note"],"applied":false,"lines":[]}'
    )
    assert dumps_views(report) == orjson.dumps(jsonable(report))


@sqlite_only
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("<timebase>24</timebase>", "<timebase>nan</timebase>", r"cut\.xml: the length of "),
        ("<timebase>24</timebase>", "<timebase>inf</timebase>", r"cut\.xml: the length of "),
        ("<timebase>24</timebase>", "<timebase>1e300</timebase>", r"cut\.xml: the length of "),
        ("<end>{end}</end>", "<end>nan</end>", r"cut\.xml is not FCP 7 XML Setpiece can read"),
    ],
)
def test_fcp_xml_numbers_that_are_no_time_are_refused(
    film: Production, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    """A NaN or infinite rate used to reach ``round()`` and end the import as a bug (exit 1)."""
    path = export(film, tmp_path / "cut.xml")
    end = assemble(film).duration
    text = path.read_text()
    assert old.format(end=end) in text
    path.write_text(text.replace(old.format(end=end), new))
    before = snapshot(film)
    with pytest.raises(InvalidInputError, match=expected):
        import_edit(film, path)
    assert snapshot(film) == before


@pytest.mark.parametrize("suffix", [".otio", ".otioz", ".edl", ".xml"])
def test_an_export_with_dialogue_imports_and_keeps_its_lines(
    film: Production, tmp_path: Path, suffix: str
) -> None:
    import wave

    from setpiece.edit.sound import place_lines
    from setpiece.model.dialogue import LineAudio

    lines = []
    for order, (scene, shot, who) in enumerate((("1", "1A", "MARA"), ("2", "2A", "TEO")), 1):
        audio = tmp_path / f"line{order}.wav"
        with wave.open(str(audio), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(22050)
            out.writeframes(b"\0\0" * 11025)
        lines.append(LineAudio(f"{scene}/1", scene, 1, who, shot, audio, Fraction(1, 2)))
    cut = assemble(film)
    dialogue = place_lines(cut, lines)
    path = tmp_path / f"cut{suffix}"
    writer = {".otio": write_otio, ".otioz": write_otioz, ".edl": write_edl, ".xml": write_fcp_xml}
    writer[suffix](cut, path, dialogue=dialogue)
    before = snapshot(film)

    report = import_edit(film, path)

    assert (report.clips, report.matched, report.changes, report.unmatched) == (5, 5, [], [])
    assert report.warnings == [] and report.missing_media == []
    assert report.lines == ["1/1", "2/1"]  # kept, as the script places them
    assert snapshot(film) == before
