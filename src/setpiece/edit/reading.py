"""Reading an editor's file: the mirror of ``setpiece.edit.timeline``, which writes them.

An ``.otio``, ``.otioz``, CMX 3600 ``.edl`` or FCP 7 ``.xml`` is read through
OpenTimelineIO's adapters into an ``EditTimeline``: its first video track, every
clip in whole frames with what it refers to (media file, reel, the ``setpiece``
metadata the export wrote, ``* SETPIECE:`` comments in an EDL). Nothing here
knows the project's takes: ``setpiece.edit.conform_import`` matches and conforms.

What it decides:

- An EDL is read at the given rate (the project's; 24 when none is given, since
  CMX 3600 does not say). Drop-frame timecode (``;`` or ``FCM: DROP FRAME``) is
  read as such at 29.97 and 59.94 fps, where it exists, and refused at any
  other rate.
- Other files count at the given rate, or at their own: Setpiece's exact one
  when it wrote the file, else the track's, to a denominator of 1001.
- Times that fall between frames are rounded to the nearest, with a warning;
  more video tracks than the first are ignored, with a warning.
- Audio tracks are not the edit, but the dialogue lines Setpiece exported on them
  (``setpiece`` metadata of kind ``dialogue``, an EDL's ``* SETPIECE: line=``
  comment, or a ``3/5 MARA`` clip name) are counted, so an import can say it kept
  them: the script, not the edit, places lines.
- Every time is checked before it is counted: a position or a length that is NaN
  or infinite, a negative length, or a time past 24 hours (where timecode wraps)
  is refused naming the clip; so is a time counted at a rate that is not a
  number from above 0 to 192000 (audio samples), and a file's own rate over 1000 fps. OpenTimelineIO reads ``NaN`` and ``Infinity`` in JSON as numbers.
- Refused, in one line: an unknown suffix, a missing file, malformed files, FCP
  XML that declares entities (billion laughs), Final Cut Pro X's ``.fcpxml``, an
  OTIO file from a newer OpenTimelineIO (naming its schema), more than one
  sequence, no video track.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

from setpiece.edit.timeline import EDL_COMMENT, NAMESPACE, require_otio
from setpiece.errors import InvalidInputError
from setpiece.store.video import reason
from setpiece.timebase import format_rate

__all__ = ["FORMATS", "EditClip", "EditTimeline", "read_edit"]

FORMATS = {".otio": "otio", ".otioz": "otioz", ".edl": "edl", ".xml": "fcp_xml"}
_ADAPTERS = {"otio": "otio_json", "otioz": "otioz", "edl": "cmx_3600", "fcp_xml": "fcp_xml"}
_DROP_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))
_TIMECODE = re.compile(r"\b(\d{2}:\d{2}:\d{2})[:;.](\d{2})\b")
_SCHEMA = re.compile(r'"OTIO_SCHEMA"\s*:\s*"([A-Za-z_][A-Za-z0-9_]*)\.(\d+)"')
_MAX_SECONDS = 24 * 3600  # timecode wraps at 24 hours: no edit runs longer
_MAX_RATE = 1000
_MAX_TIME_RATE = 192_000  # a time may count in audio samples; no rate is higher


@dataclass(frozen=True)
class EditClip:
    """One clip of the edit's video track, in frames at the rate it was read at."""

    index: int  # position among the track's clips
    name: str
    kind: str  # "media", "generator", "missing" (no reference) or "nested"
    record_in: int
    duration: int
    url: str | None = None  # where its media reference points
    reel: str | None = None  # EDL reel
    setpiece: dict[str, Any] = field(default_factory=dict)  # the export's metadata, if kept
    generator: str | None = None  # generator_kind of a generator clip


@dataclass(frozen=True)
class EditTimeline:
    """An edit as read from a file, before it is matched to any take."""

    path: str
    format: str  # otio, otioz, edl, fcp_xml
    name: str
    fps: Fraction
    clips: list[EditClip]
    duration: int  # frames of the video track, gaps included
    warnings: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # dialogue lines on the audio tracks


# Reading --------------------------------------------------------------------------------


def read_edit(path: str | os.PathLike[str], fps: Fraction | None = None) -> EditTimeline:
    """Reads an edit's first video track into frames, matching nothing.

    Args:
        path: An ``.otio``, ``.otioz``, CMX 3600 ``.edl`` or FCP 7 ``.xml`` file.
        fps: The rate to count frames at (the project's); an EDL is read at it. None
            counts at the file's own rate (24 for an EDL, which does not say).

    Returns:
        The clips with their record position and length in whole frames.

    Raises:
        InvalidInputError: No such file, not a format this reads, a malformed file, an
            OTIO file from a newer OpenTimelineIO, drop-frame timecode at a rate that
            has none, or no video track.
    """
    source = Path(path).expanduser()
    fmt = FORMATS.get(source.suffix.lower())
    if fmt is None:
        raise InvalidInputError(
            f"{source.name} is not an edit Setpiece reads: give a .otio, .otioz, .edl or "
            "FCP 7 .xml file"
        )
    if not source.is_file():
        raise InvalidInputError(
            f"{source} is a folder, not an edit file"
            if source.is_dir()
            else f"no such file: {source}"
        )
    otio = require_otio(_ADAPTERS[fmt])
    if fmt == "edl":
        rate = fps or Fraction(24)
        timeline = _read_edl(otio, source, rate)
    else:
        timeline = _read_other(otio, source, fmt)
        rate = fps or _file_rate(otio, timeline, source)
    return _flatten(otio, timeline, source, fmt, rate)


def _read_text(source: Path) -> str:
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {source}: {exc.strerror or exc}") from exc
    if not data.strip():
        raise InvalidInputError(f"{source.name} is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # older Avid and Nucoda EDLs


def _read_edl(otio: ModuleType, source: Path, fps: Fraction) -> Any:
    text = _drop_frame_checked(_read_text(source), source.name, fps)
    try:
        timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=float(fps))
    except (otio.exceptions.OTIOError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidInputError(
            f"{source.name} is not a CMX 3600 EDL Setpiece can read at {format_rate(fps)} fps: "
            f"{reason(exc)[:300]}"
        ) from None
    return timeline


def _drop_frame_checked(text: str, name: str, fps: Fraction) -> str:
    """Checks drop-frame timecode against the rate, and makes an ``FCM: DROP FRAME`` list
    that writes ``:`` say ``;``, which is how OpenTimelineIO tells drop frame."""
    lines = text.splitlines()
    mode: str | None = None
    drop_seen = False
    for number, line in enumerate(lines):
        stripped = line.strip()
        upper = stripped.upper()
        if upper.startswith("FCM:"):
            mode = "drop" if "NON" not in upper and "DROP" in upper else "non-drop"
            drop_seen |= mode == "drop"
            continue
        if not stripped[:1].isdigit():
            continue
        has_semicolon = bool(re.search(r"\d{2};\d{2}\b", stripped))
        if mode == "non-drop" and has_semicolon:
            raise InvalidInputError(
                f"{name} line {number + 1} has drop-frame timecode (';') under FCM: NON-DROP "
                "FRAME: fix the list's FCM lines or its timecodes"
            )
        if mode == "drop":
            lines[number] = _TIMECODE.sub(r"\1;\2", line)
        drop_seen |= has_semicolon
    if drop_seen and fps not in _DROP_RATES:
        raise InvalidInputError(
            f"{name} uses drop-frame timecode, which exists only at 29.97 and 59.94 fps, and "
            f"this project runs at {format_rate(fps)} fps: export the EDL at the project's "
            "rate with non-drop timecode"
        )
    return "\n".join(lines)


def _read_other(otio: ModuleType, source: Path, fmt: str) -> Any:
    try:
        if fmt == "otio":
            text = _read_text(source)
            result = otio.adapters.read_from_string(text, "otio_json")
        elif fmt == "otioz":
            if not zipfile.is_zipfile(source):
                raise InvalidInputError(f"{source.name} is not an .otioz bundle (not a zip file)")
            with zipfile.ZipFile(source) as bundle:
                text = bundle.read("content.otio").decode("utf-8")
            result = otio.adapters.read_from_string(text, "otio_json")
        else:
            text = _read_text(source)
            _check_xml(text, source.name)
            result = otio.adapters.read_from_string(text, "fcp_xml")
    except InvalidInputError:
        raise
    except otio.exceptions.UnsupportedSchemaError:
        raise InvalidInputError(_newer_schema_message(otio, source.name, text)) from None
    except (
        otio.exceptions.OTIOError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        SyntaxError,
        zipfile.BadZipFile,
    ) as exc:
        what = {"otio": "an OpenTimelineIO file", "otioz": "an .otioz bundle"}.get(fmt, "FCP 7 XML")
        raise InvalidInputError(
            f"{source.name} is not {what} Setpiece can read: {reason(exc)[:300]}"
        ) from None
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = [t for t in result if isinstance(t, otio.schema.Timeline)]
        if len(timelines) != 1:
            raise InvalidInputError(
                f"{source.name} holds {len(timelines)} sequences: export the one cut to import"
            )
        result = timelines[0]
    if not isinstance(result, otio.schema.Timeline):
        raise InvalidInputError(
            f"{source.name} holds no timeline (its top object is "
            f"{getattr(result, 'schema_name', lambda: type(result).__name__)()})"
        )
    return result


def _check_xml(text: str, name: str) -> None:
    """Refuses entity tricks (billion laughs, external entities) before the adapter's parser."""
    import defusedxml.ElementTree as safe
    from defusedxml import DefusedXmlException

    try:
        root = safe.fromstring(text.encode("utf-8"))
    except DefusedXmlException as exc:
        raise InvalidInputError(f"{name} is refused: it declares XML entities ({exc})") from None
    except SyntaxError as exc:
        raise InvalidInputError(f"{name} is not well-formed XML: {exc}") from None
    if root.tag != "xmeml":
        raise InvalidInputError(
            f"{name} is <{root.tag}> XML, not Final Cut Pro 7 <xmeml>: export 'Final Cut Pro "
            "XML' (Premiere, Resolve) rather than Final Cut Pro X's .fcpxml"
        )


def _newer_schema_message(otio: ModuleType, name: str, text: str) -> str:
    known = otio.core.type_version_map()
    newer = sorted(
        {
            f"{schema}.{version}"
            for schema, version in _SCHEMA.findall(text)
            if schema in known and int(version) > known[schema]
        }
    )
    readable = ", ".join(f"{s.split('.')[0]}.{known[s.split('.')[0]]}" for s in newer[:3])
    return (
        f"{name} was written by a newer OpenTimelineIO than this one ({otio.__version__}): it "
        f"uses {', '.join(newer[:3]) or 'a newer schema'}"
        + (f" where this one reads up to {readable}" if readable else "")
        + ": upgrade OpenTimelineIO, or export the edit for OpenTimelineIO "
        f"{otio.__version__} or older"
    )


def _file_rate(otio: ModuleType, timeline: Any, source: Path) -> Fraction:
    """The file's own rate: Setpiece's exact one when it wrote the file, else the track's."""
    written = timeline.metadata.get(NAMESPACE, {}).get("fps")
    if isinstance(written, str) and "/" in written:
        num, den = written.split("/", 1)
        if num.isdigit() and den.isdigit() and int(den):
            return Fraction(int(num), int(den))
    tracks = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if timeline.global_start_time is not None:
        rate = timeline.global_start_time.rate
    else:
        rate = tracks[0].duration().rate if tracks else 24.0
    if not math.isfinite(rate) or rate > _MAX_RATE:
        raise InvalidInputError(
            f"{source.name} declares a frame rate of {rate:g} fps: give a rate up to "
            f"{_MAX_RATE} fps, or import it with the project's rate"
        )
    # 23.976023976... is 24000/1001; a denominator up to 1001 covers every broadcast rate.
    return Fraction(rate).limit_denominator(1001) if rate > 0 else Fraction(24)


def _flatten(
    otio: ModuleType, timeline: Any, source: Path, fmt: str, fps: Fraction
) -> EditTimeline:
    video = [
        t
        for t in timeline.tracks
        if isinstance(t, otio.schema.Track) and t.kind == otio.schema.TrackKind.Video
    ]
    enabled = [t for t in video if t.enabled] or video
    if not enabled:
        raise InvalidInputError(
            f"{source.name} holds no video track: Setpiece reads the picture cut (V1)"
        )
    track = enabled[0]
    warnings: list[str] = []
    ignored = [t for t in video if t is not track and any(True for _ in t.find_clips())]
    if ignored:
        warnings.append(
            f"{len(ignored)} more video track(s) ignored: Setpiece reads the first "
            f"({track.name or 'V1'})"
        )
    limit = _MAX_SECONDS * fps
    inexact = 0

    def frames(time: Any, what: str, *, counted: bool = True) -> int:
        """``time`` in whole frames at ``fps``; ``counted``: a rounding is warned about."""
        nonlocal inexact
        value = time.value_rescaled_to(float(fps))
        rate_ok = 0 < time.rate <= _MAX_TIME_RATE  # False for NaN
        if not (math.isfinite(value) and rate_ok) or abs(value) > limit:
            shown = f"{time.value:g} at {time.rate:g} fps"
            raise InvalidInputError(
                f"{source.name}: {what} is {shown}, which is no time in an edit (a finite "
                "number under 24 hours): fix or re-export the edit"
            )
        whole = round(value)
        if counted and abs(value - whole) > 1e-6:
            inexact += 1
        return int(whole)

    ranges = track.range_of_all_children()
    clips: list[EditClip] = []
    for number, item in enumerate(track, start=1):
        if isinstance(item, otio.schema.Transition):
            continue
        kind = "gap" if isinstance(item, otio.schema.Gap) else "clip"
        named = f"{kind} {number} {item.name!r}" if item.name else f"{kind} {number}"
        placed = ranges[item]
        length = frames(placed.duration, f"the length of {named}", counted=False)
        if length < 0 or placed.duration.value < 0:
            raise InvalidInputError(
                f"{source.name}: {named} has a negative length ({placed.duration.value:g} at "
                f"{placed.duration.rate:g} fps): fix or re-export the edit"
            )
        if isinstance(item, otio.schema.Gap):
            continue
        record_in = frames(placed.start_time, f"the position of {named}")
        duration = frames(placed.start_time + placed.duration, f"the end of {named}") - record_in
        clips.append(_edit_clip(otio, item, len(clips), record_in, duration))
    if inexact:
        warnings.append(
            f"{inexact} time(s) in {source.name} fall between frames at {format_rate(fps)} fps: "
            "rounded to the nearest frame"
        )
    total = frames(track.duration(), "the length of the video track") if len(track) else 0
    return EditTimeline(
        path=str(source),
        format=fmt,
        name=timeline.name or "",
        fps=fps,
        clips=clips,
        duration=total,
        warnings=warnings,
        lines=_dialogue_lines(otio, timeline),
    )


_LINE_NAME = re.compile(r"^(?P<line>[A-Za-z0-9.]{1,12}/\d{1,6}) \S")


def _dialogue_lines(otio: ModuleType, timeline: Any) -> list[str]:
    """The line ids (``3/5``) of the dialogue clips on the audio tracks, in track order."""
    found: list[str] = []
    for track in timeline.tracks:
        if not isinstance(track, otio.schema.Track) or track.kind != otio.schema.TrackKind.Audio:
            continue
        for item in track.find_clips():
            meta = _plain(item.metadata.get(NAMESPACE, {}))
            if not meta:
                meta = _comment_metadata(
                    _plain(item.metadata.get("cmx_3600", {})).get("comments") or []
                )
            named = _LINE_NAME.match(item.name or "")
            line = meta.get("line") if isinstance(meta, dict) else None
            if isinstance(line, str):
                found.append(line)
            elif named:
                found.append(named.group("line"))
    return found


def _edit_clip(otio: ModuleType, item: Any, index: int, record_in: int, duration: int) -> EditClip:
    cmx = _plain(item.metadata.get("cmx_3600", {}))
    meta = _plain(item.metadata.get(NAMESPACE, {}))
    if not meta:
        meta = _comment_metadata(cmx.get("comments") or [])
    reel = cmx.get("reel") if isinstance(cmx.get("reel"), str) else None
    if not isinstance(item, otio.schema.Clip):
        return EditClip(index, item.name or "", "nested", record_in, duration, None, reel, meta)
    reference = item.media_reference
    url = getattr(reference, "target_url", None) or None
    generator = None
    if isinstance(reference, otio.schema.GeneratorReference):
        kind, generator = "generator", reference.generator_kind or "generator"
    elif isinstance(reference, otio.schema.MissingReference) or reference is None:
        kind = "missing"
    else:
        kind = "media"
    return EditClip(index, item.name or "", kind, record_in, duration, url, reel, meta, generator)


def _plain(value: Any) -> Any:
    """OTIO's AnyDictionary and AnyVector as plain dicts and lists."""
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    try:
        return [_plain(v) for v in value]
    except TypeError:
        return value


def _comment_metadata(comments: list[Any]) -> dict[str, Any]:
    """``SETPIECE: shot=3A take=... label=3A/2 status=circled frames=72`` back into metadata."""
    for comment in comments:
        if isinstance(comment, str) and comment.startswith(EDL_COMMENT):
            data: dict[str, Any] = dict(
                part.split("=", 1) for part in comment[len(EDL_COMMENT) :].split() if "=" in part
            )
            if "label" in data:
                data["take_label"] = data.pop("label")
            if re.fullmatch(r"\d{1,9}", str(data.get("frames", ""))):
                data["duration"] = int(data.pop("frames"))  # what was exported
            return data
    return {}
