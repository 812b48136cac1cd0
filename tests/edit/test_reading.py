"""Reading an editor's file on its own, before any take is matched (conforming: test_conform_import)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import orjson
import pytest

from setpiece.edit.reading import EditClip, EditTimeline, read_edit
from setpiece.errors import InvalidInputError
from setpiece.production.views import dumps_views, jsonable

EDL = """TITLE: NIGHT TRAIN
FCM: NON-DROP FRAME

001  0a1b2c3d V     C        00:00:00:00 00:00:02:00 00:00:00:00 00:00:02:00
* FROM CLIP NAME: 1A/2
* SETPIECE: shot=1A take=abc label=1A/2 status=circled frames=48

002  AX       V     C        00:00:00:00 00:00:01:12 00:00:02:00 00:00:03:12
* FROM CLIP NAME: 1B/1
"""


@pytest.fixture
def edl(tmp_path: Path) -> Path:
    path = tmp_path / "cut.edl"
    path.write_text(EDL)
    return path


def test_an_edl_becomes_clips_in_whole_frames_with_the_exports_metadata(edl: Path) -> None:
    edit = read_edit(edl, Fraction(24))
    assert (edit.format, edit.name, edit.fps, edit.duration) == ("edl", "NIGHT TRAIN", 24, 84)
    assert edit.clips[0] == EditClip(
        0,
        "1A/2",
        "missing",
        0,
        48,
        reel="0a1b2c3d",
        setpiece={
            "shot": "1A",
            "take": "abc",
            "status": "circled",
            "take_label": "1A/2",
            "duration": 48,
        },
    )
    assert (edit.clips[1].name, edit.clips[1].record_in, edit.clips[1].duration) == ("1B/1", 48, 36)
    assert edit.warnings == []


def test_drop_frame_is_read_at_29_97_and_refused_where_it_does_not_exist(edl: Path) -> None:
    edl.write_text(EDL.replace("NON-DROP FRAME", "DROP FRAME"))
    second = read_edit(edl, Fraction(30000, 1001)).clips[1]
    assert (second.record_in, second.duration) == (60, 42)
    with pytest.raises(
        InvalidInputError, match=r"drop-frame timecode, which exists only at 29\.97"
    ):
        read_edit(edl, Fraction(24))


def test_timeline_json_keeps_the_shape_its_own_to_json_gave() -> None:
    """Timeline and clip lost their hand-written ``to_json`` (they only repeated the fields)."""
    clip = EditClip(0, "1A/2", "media", 0, 48, "file:///1a.mp4", "0a1b2c3d", {"shot": "1A"})
    generator = EditClip(1, "Slate", "generator", 48, 24, generator="SolidColor")
    timeline = EditTimeline(
        "cut.edl", "edl", "NIGHT TRAIN", Fraction(24000, 1001), [clip, generator], 72, ["a note"]
    )
    expected = (
        b'{"path":"cut.edl","format":"edl","name":"NIGHT TRAIN","fps":"24000/1001","clips":['
        b'{"index":0,"name":"1A/2","kind":"media","record_in":0,"duration":48,'
        b'"url":"file:///1a.mp4","reel":"0a1b2c3d","setpiece":{"shot":"1A"},"generator":null},'
        b'{"index":1,"name":"Slate","kind":"generator","record_in":48,"duration":24,"url":null,'
        b'"reel":null,"setpiece":{},"generator":"SolidColor"}],"duration":72,'
        b'"warnings":["a note"],"lines":[]}'
    )
    assert orjson.dumps(jsonable(timeline)) == expected
    assert dumps_views(timeline) == expected


@pytest.mark.parametrize("rate", [float("nan"), float("inf"), 1e9])
def test_a_file_rate_that_is_no_rate_is_refused(tmp_path: Path, rate: float) -> None:
    otio = pytest.importorskip("opentimelineio")
    time, span = otio.opentime.RationalTime, otio.opentime.TimeRange
    timeline = otio.schema.Timeline("cut", global_start_time=time(0, rate))
    track = otio.schema.Track("V1")
    timeline.tracks.append(track)
    track.append(otio.schema.Clip("1A/1", source_range=span(time(0, 24), time(48, 24))))
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    with pytest.raises(
        InvalidInputError, match=r"^cut\.otio declares a frame rate of (nan|inf|1e\+09) fps"
    ):
        read_edit(path)


def test_a_gap_whose_length_is_nan_is_named(tmp_path: Path) -> None:
    otio = pytest.importorskip("opentimelineio")
    time, span = otio.opentime.RationalTime, otio.opentime.TimeRange
    timeline = otio.schema.Timeline("cut")
    track = otio.schema.Track("V1")
    timeline.tracks.append(track)
    track.append(otio.schema.Clip("1A/1", source_range=span(time(0, 24), time(48, 24))))
    track.append(otio.schema.Gap(source_range=span(time(0, 24), time(float("nan"), 24))))
    track.append(otio.schema.Clip("1B/1", source_range=span(time(0, 24), time(24, 24))))
    path = tmp_path / "cut.otio"
    otio.adapters.write_to_file(timeline, str(path))
    with pytest.raises(
        InvalidInputError, match=r"^cut\.otio: the length of gap 2 is nan at 24 fps"
    ):
        read_edit(path, Fraction(24))


def test_an_edl_comment_frames_is_read_only_as_a_count_in_range(edl: Path) -> None:
    edl.write_text(EDL.replace("frames=48", "frames=" + "9" * 400))
    clip = read_edit(edl, Fraction(24)).clips[0]
    assert "duration" not in clip.setpiece and clip.setpiece["frames"] == "9" * 400
