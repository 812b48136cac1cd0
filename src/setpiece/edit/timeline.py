"""Timelines for the editor: the cut as OpenTimelineIO, CMX 3600 EDL and FCP 7 XML.

The cut (``setpiece.production.cut``) becomes one OpenTimelineIO timeline here,
and every file is written from it through OTIO's own adapters (``otio_json``,
``otioz``, ``cmx_3600``, ``fcp_xml``), so the files cannot disagree.

What it decides:

- Time. The timeline runs at the project rate and starts at frame 0
  (``00:00:00:00``). The timecode ``Cut.to_json`` and the preview movie show is
  ``timebase.timecode``, which is ``opentime.to_timecode``, what the EDL and FCP
  XML adapters write: drop frame at 29.97 and 59.94 in all of them.
  OTIO keeps time as floats, so every ``RationalTime`` is an integer frame
  count with the rate written as ``float(Fraction)``; nothing is computed in
  seconds, and a two-hour cut adds up to the frame.
- Mixed rates. A take's in point is in its own frames at its own rate, and its
  length in project frames: OTIO places each item by its duration, so only a
  whole number of project frames per clip keeps the record side exact. The
  take's own frame count for the trim (``source_duration``) and its rate are
  kept in the ``setpiece`` metadata; ``available_range`` is the media's own
  rate and frame count. When a take runs at the project rate, which is the
  usual case, in point and duration are both simply its own frames.
- Slates (shots with no approved take) are clips with a ``GeneratorReference``
  (``generator_kind="slate"``), not gaps: a gap leaves no event in an EDL, so a
  slate at the end of the cut would vanish there. The EDL writes them on the
  ``BL`` (black) reel; FCP 7 XML writes them as Slug generator items.
- Metadata. Every clip and gap carries ``metadata["setpiece"]``: shot, scene,
  take id, take label, status (circled, provisional, unapproved or slate) and
  its frames; the timeline carries the project's rate, size and the cut's
  warnings (takes conformed to another rate or size). The EDL carries the same
  as one ``* SETPIECE:`` comment per event, which the adapter reads back.
- EDL. Source timecodes count at the record rate (CMX 3600 has one rate per
  list); reels are the first 8 characters of the media's sha256 file name (the
  whole sha256 on request, for tools that read long reel names), the full path
  follows in ``* FROM CLIP:``. An ``FCM:`` line says drop or
  non-drop: OTIO writes 29.97 and 59.94 as drop frame, every other rate
  (23.976 included) as non-drop.
- ``.otioz`` bundles the media with the timeline; only a local media store can
  do that.
- Dialogue. The lines placed by ``setpiece.edit.sound.place_lines`` go on audio
  tracks of their own, ``D1``, ``D2``... (one per line sounding at once: a dual
  pair needs two), after the takes' ``A1``: a clip per line named ``1/3 MARA``
  whose reference is the line's WAV, with gaps between, and the line, character,
  voice and source in its metadata. FCP 7 XML writes them as audio clip items;
  the ``.otioz`` bundles the WAVs. CMX 3600 allows two audio channels, so the EDL
  carries the dialogue as ``A`` and ``A2`` events after the video events (reel:
  the WAV's name, its first characters as for takes) and leaves out, with a
  warning naming them, lines that would need a third.

OpenTimelineIO is imported only when a timeline is made (it costs 120 ms).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from setpiece.edit.sound import LinePlacement, PlacedLine
from setpiece.errors import InvalidInputError, StorageError
from setpiece.model.dialogue import LineAudio
from setpiece.model.enums import TakeKind
from setpiece.production.cut import Cut, CutClip
from setpiece.timebase import format_rate, timecode

__all__ = [
    "DEFAULT_REEL_LENGTH",
    "EDL_COMMENT",
    "INSTALL_HINT",
    "NAMESPACE",
    "SLATE_KIND",
    "TimelineExport",
    "build_timeline",
    "edl_text",
    "export_cut",
    "require_otio",
    "write_edl",
    "write_fcp_xml",
    "write_otio",
    "write_otioz",
]

NAMESPACE = "setpiece"
"""Key of Setpiece's metadata on every OTIO item."""

SLATE_KIND = "slate"
"""``generator_kind`` of a slate's GeneratorReference."""

EDL_COMMENT = "SETPIECE:"
"""Start of the comment each EDL event carries: ``* SETPIECE: shot=3A take=... status=...``."""

INSTALL_HINT = "pip install opentimelineio otio-cmx3600-adapter otio-fcp-adapter"

DEFAULT_REEL_LENGTH = 8
"""Characters of an EDL reel name: CMX 3600's limit."""

EDL_MAX_EVENTS = 999  # three-digit event numbers in CMX 3600
EDL_AUDIO_TRACKS = 2  # CMX 3600's channels: A and A2
DIALOGUE_TRACK = "D"  # dialogue tracks are D1, D2, ...
EDL_TITLE_MAX = 70

Flavour = Literal["otio", "edl", "fcp_xml"]

_SUFFIXES = {"otio": ".otio", "otioz": ".otioz", "edl": ".edl", "fcp_xml": ".xml"}
_ADAPTERS = {"otio": "otio_json", "otioz": "otioz", "edl": "cmx_3600", "fcp_xml": "fcp_xml"}
_FLAGS = {"otio": "--otio", "otioz": "--otioz", "edl": "--edl", "fcp_xml": "--fcpxml"}


def require_otio(*adapters: str) -> ModuleType:
    """Imports OpenTimelineIO, checking that the named adapter plugins are installed.

    Raises:
        InvalidInputError: OpenTimelineIO or one of the adapters is not installed.
    """
    try:
        import opentimelineio as otio
    except ImportError:
        raise InvalidInputError(f"timelines need OpenTimelineIO: {INSTALL_HINT}") from None
    for name in adapters:
        try:
            otio.adapters.from_name(name)
        except otio.exceptions.OTIOError:  # NotSupportedError: no plugin of that name
            raise InvalidInputError(
                f"the OpenTimelineIO adapter {name!r} is not installed: {INSTALL_HINT}"
            ) from None
    return otio


@dataclass(frozen=True)
class TimelineExport:
    """What ``export_cut`` wrote."""

    files: dict[str, str]  # format ("otio", "otioz", "edl", "fcp_xml") -> path
    fps: Fraction
    clips: int
    slates: int
    duration: int  # project frames
    warnings: list[str] = field(default_factory=list)
    lines: int = 0  # lines of dialogue on the audio tracks

    # Not jsonable's shape: adds the duration's timecode.
    def to_json(self) -> dict[str, Any]:
        return {
            "files": dict(self.files),
            "fps": format_rate(self.fps),
            "clips": self.clips,
            "slates": self.slates,
            "duration": self.duration,
            "timecode": timecode(self.duration, self.fps),
            "lines": self.lines,
            "warnings": list(self.warnings),
        }


# Building -------------------------------------------------------------------------------


def build_timeline(cut: Cut, dialogue: LinePlacement | None = None) -> Any:
    """The cut as an OpenTimelineIO ``Timeline``: a video track, an audio track when a take
    has sound, and a track per dialogue layer when lines are placed.

    Raises:
        InvalidInputError: OpenTimelineIO is not installed.
    """
    return _build(cut, "otio", dialogue)


def _rt(otio: ModuleType, frames: int, rate: Fraction) -> Any:
    return otio.opentime.RationalTime(frames, float(rate))


def _range(otio: ModuleType, start: int, start_rate: Fraction, frames: int, rate: Fraction) -> Any:
    return otio.opentime.TimeRange(_rt(otio, start, start_rate), _rt(otio, frames, rate))


def _is_video(clip: CutClip) -> bool:
    return (
        clip.media is not None and clip.media.kind == TakeKind.VIDEO and clip.media.fps is not None
    )


def _has_sound(clip: CutClip) -> bool:
    return _is_video(clip) and clip.media is not None and clip.media.audio_streams > 0


def _media_url(path: str) -> str:
    """A local store gives absolute paths (made ``file://`` URLs); a remote one full URLs."""
    return path if "://" in path else Path(path).as_uri()


def _clip_metadata(clip: CutClip) -> dict[str, Any]:
    data: dict[str, Any] = {
        "shot": clip.shot,
        "scene": clip.scene,
        "take": clip.take,
        "take_label": clip.take_label,
        "status": clip.status or "slate",
        "index": clip.index,
        "record_in": clip.record_in,
        "duration": clip.duration,
    }
    if clip.media is not None:
        data["media"] = clip.media.sha256
        data["media_rate"] = (
            format_rate(clip.media.fps) if _is_video(clip) and clip.media.fps else None
        )
        data["source_in"] = clip.source_in
        data["source_duration"] = clip.source_duration
    return {NAMESPACE: data}


def _edl_comment(clip: CutClip) -> str:
    """``SETPIECE: shot=3A scene=1 take=k3m9x2pq label=3A/2 status=circled frames=72``.

    Values hold no spaces: shot codes, scene numbers and take ids cannot.
    """
    pairs = {
        "shot": clip.shot,
        "scene": clip.scene,
        "take": clip.take,
        "label": clip.take_label,
        "status": clip.status or "slate",
        "frames": clip.duration,
    }
    return EDL_COMMENT + "".join(f" {k}={v}" for k, v in pairs.items() if v)


def _take_reference(otio: ModuleType, clip: CutClip, fps: Fraction, flavour: Flavour) -> Any:
    media = clip.media
    assert media is not None
    if _is_video(clip):
        assert media.fps is not None
        available = _range(otio, 0, media.fps, media.frames, media.fps)
    elif flavour == "fcp_xml":
        available = _range(otio, 0, fps, clip.duration, fps)  # FCP 7 needs a length for a still
    else:
        available = None  # a still has no length of its own
    metadata: dict[str, Any] = {
        NAMESPACE: {
            "sha256": media.sha256,
            "kind": media.kind,
            "width": media.width,
            "height": media.height,
            "fps": format_rate(media.fps) if media.fps else None,
            "frames": media.frames,
        }
    }
    if flavour == "fcp_xml" and available is not None:
        metadata["fcp_xml"] = {"timecode": _fcp_timecode(media.fps if _is_video(clip) else fps)}
    return otio.schema.ExternalReference(
        target_url=_media_url(media.path), available_range=available, metadata=metadata
    )


def _fcp_timecode(rate: Fraction | None) -> dict[str, str]:
    """The FCP adapter writes non-drop unless told: say drop frame where ``timecode`` does."""
    drop = rate is not None and ";" in timecode(0, rate)
    return {"displayformat": "DF" if drop else "NDF"}


def _source_range(otio: ModuleType, clip: CutClip, fps: Fraction, flavour: Flavour) -> Any:
    media = clip.media
    if media is None or not _is_video(clip):
        return _range(otio, 0, fps, clip.duration, fps)  # slates and stills are held
    assert media.fps is not None
    if flavour == "edl":
        # One rate per EDL: the in point counted at the record rate.
        start = round(Fraction(clip.source_in) * fps / media.fps)
        return _range(otio, start, fps, clip.duration, fps)
    return _range(otio, clip.source_in, media.fps, clip.duration, fps)


def _slate_reference(otio: ModuleType, clip: CutClip, flavour: Flavour) -> Any:
    if flavour == "fcp_xml":
        # The adapter writes a generator item only from this FCP metadata; Slug is FCP 7's black filler.
        return otio.schema.GeneratorReference(
            name="Slug",
            generator_kind="Slug",
            metadata={
                "fcp_xml": {
                    "effecttype": "generator",
                    "mediatype": "video",
                    "effectcategory": "Matte",
                }
            },
        )
    return otio.schema.GeneratorReference(
        name=clip.label, generator_kind=SLATE_KIND, parameters={"text": clip.label}
    )


def _video_item(otio: ModuleType, clip: CutClip, fps: Fraction, flavour: Flavour) -> Any:
    metadata = _clip_metadata(clip)
    if flavour == "edl":
        cmx: dict[str, Any] = {"comments": [_edl_comment(clip)]}
        if clip.media is None:
            cmx["reel"] = "BL"
        metadata["cmx_3600"] = cmx
    reference = (
        _take_reference(otio, clip, fps, flavour)
        if clip.media is not None
        else _slate_reference(otio, clip, flavour)
    )
    item = otio.schema.Clip(
        name=clip.label,
        media_reference=reference,
        source_range=_source_range(otio, clip, fps, flavour),
        metadata=metadata,
    )
    if flavour == "otio":  # drawings' comments, at the take's own frames (production.annotations)
        rate = clip.media.fps if clip.media is not None and clip.media.fps else fps
        for mark in clip.markers:
            length = mark.frame_end - mark.frame_start + 1
            item.markers.append(
                otio.schema.Marker(
                    name=f"{mark.author}: {mark.note}"[:200],
                    marked_range=_range(otio, mark.frame_start, rate, length, rate),
                    color=otio.schema.MarkerColor.RED,
                    metadata={"setpiece": {"author": mark.author, "note": mark.note}},
                )
            )
    return item


def _audio_item(otio: ModuleType, clip: CutClip, fps: Fraction, flavour: Flavour) -> Any:
    if _has_sound(clip):
        return otio.schema.Clip(
            name=clip.label,
            media_reference=_take_reference(otio, clip, fps, flavour),
            source_range=_source_range(otio, clip, fps, flavour),
            metadata=_clip_metadata(clip),
        )
    return otio.schema.Gap(
        source_range=_range(otio, 0, fps, clip.duration, fps), metadata=_clip_metadata(clip)
    )


def _line_metadata(placed: PlacedLine) -> dict[str, Any]:
    return {NAMESPACE: {"kind": "dialogue", **placed.to_json()}}


def _line_item(otio: ModuleType, placed: PlacedLine, fps: Fraction, flavour: Flavour) -> Any:
    metadata = _line_metadata(placed)
    if flavour == "edl":
        comment = f"{EDL_COMMENT} line={placed.line.line} character={'_'.join(placed.line.character.split())}"
        metadata["cmx_3600"] = {"comments": [comment]}
    reference = otio.schema.ExternalReference(
        target_url=_media_url(str(placed.line.audio.absolute())),
        available_range=_range(otio, 0, fps, placed.frames, fps),
        metadata={NAMESPACE: {"kind": "dialogue", "seconds": str(placed.line.seconds)}},
    )
    return otio.schema.Clip(
        name=placed.name,
        media_reference=reference,
        source_range=_range(otio, 0, fps, placed.frames, fps),
        metadata=metadata,
    )


def _dialogue_tracks(
    otio: ModuleType, dialogue: LinePlacement, fps: Fraction, flavour: Flavour
) -> list[Any]:
    tracks = []
    for number in range(1, dialogue.tracks + 1):
        track = otio.schema.Track(
            name=f"{DIALOGUE_TRACK}{number}", kind=otio.schema.TrackKind.Audio
        )
        at = 0
        for placed in (p for p in dialogue.lines if p.track == number):
            if placed.record_in > at:
                track.append(
                    otio.schema.Gap(source_range=_range(otio, 0, fps, placed.record_in - at, fps))
                )
            track.append(_line_item(otio, placed, fps, flavour))
            at = placed.record_out
        tracks.append(track)
    return tracks


def _build(cut: Cut, flavour: Flavour, dialogue: LinePlacement | None = None) -> Any:
    otio = require_otio()
    fps = cut.fps
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    video.extend(_video_item(otio, clip, fps, flavour) for clip in cut.clips)
    tracks = [video]
    # The EDL adapter writes one track; CMX 3600 audio is left to the editor's tools.
    if flavour != "edl" and any(_has_sound(clip) for clip in cut.clips):
        audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
        audio.extend(_audio_item(otio, clip, fps, flavour) for clip in cut.clips)
        tracks.append(audio)
    if dialogue is not None and flavour != "edl":
        tracks.extend(_dialogue_tracks(otio, dialogue, fps, flavour))
    timeline = otio.schema.Timeline(
        name=cut.name,
        tracks=tracks,
        global_start_time=_rt(otio, 0, fps),
        metadata={
            NAMESPACE: {
                "fps": format_rate(fps),
                "width": cut.width,
                "height": cut.height,
                "duration": cut.duration,
                "clips": len(cut.clips),
                "warnings": list(cut.warnings),
                "lines": len(dialogue.lines) if dialogue is not None else 0,
            }
        },
    )
    if flavour == "fcp_xml":  # the sequence's start timecode
        timeline.metadata["fcp_xml"] = {"timecode": _fcp_timecode(fps)}
    return timeline


# Writing --------------------------------------------------------------------------------


def write_otio(
    cut: Cut, path: str | os.PathLike[str], *, dialogue: LinePlacement | None = None
) -> Path:
    """Writes the cut as an OpenTimelineIO ``.otio`` (JSON) file, replacing any file there.

    Raises:
        InvalidInputError: The cut is empty, or the path cannot be written.
    """
    target = _check_target(path, "otio")
    _check_cut(cut)
    otio = require_otio("otio_json")
    text = otio.adapters.write_to_string(build_timeline(cut, dialogue), "otio_json")
    _write_atomic(target, lambda temp: temp.write_text(text, encoding="utf-8"))
    return target


def write_otioz(
    cut: Cut,
    path: str | os.PathLike[str],
    *,
    deliver_take: Callable[[str, Path, Path], object] | None = None,
    deliver_bundle: Callable[[Path, Path], object] | None = None,
    dialogue: LinePlacement | None = None,
    deliver_line: Callable[[LineAudio, Path, Path], object] | None = None,
) -> Path:
    """Writes an ``.otioz`` bundle: the timeline with every take's media file and every
    line's audio inside it.

    With ``deliver_take`` (``setpiece.provenance.deliver.take_deliverer``) the bundle holds
    delivered copies of the takes (watermarked and signed), never the store's masters, and
    with ``deliver_line`` (``setpiece.provenance.deliver.line_deliverer``) signed copies of
    the lines' audio; ``deliver_bundle(raw, target)`` then writes the bundle itself (a
    sidecar manifest).

    Raises:
        InvalidInputError: The cut is empty, the path cannot be written, or the media
            store is remote (a bundle needs the files on this machine).
        StorageError: A take's file is missing from the local store.
    """
    target = _check_target(path, "otioz")
    _check_cut(cut)
    _check_bundle_media(cut)
    otio = require_otio("otioz")
    _check_line_audio(dialogue)
    if deliver_take is None:
        timeline = build_timeline(cut, dialogue)

        def write(temp: Path) -> None:
            otio.adapters.write_to_file(timeline, str(temp), adapter_name="otioz")

        _write_atomic(target, write)
        return target
    import dataclasses
    import tempfile

    # Absolute: the copies become the bundle's file:// references ("cut.otioz" has parent ".").
    folder = target.absolute().parent
    with tempfile.TemporaryDirectory(prefix=".setpiece-otioz-", dir=folder) as work:
        copies: dict[str, str] = {}
        clips = []
        for clip in cut.clips:
            if clip.media is not None and clip.take is not None:
                if clip.take not in copies:
                    master = Path(clip.media.path)
                    copy = Path(work) / f"{clip.take_label or clip.take}".replace("/", "_")
                    copy = copy.with_suffix(master.suffix)
                    deliver_take(clip.take, master, copy)
                    copies[clip.take] = str(copy)
                clip = dataclasses.replace(
                    clip, media=dataclasses.replace(clip.media, path=copies[clip.take])
                )
            clips.append(clip)
        placed = dialogue
        if dialogue is not None and deliver_line is not None:
            placed = _delivered_lines(dialogue, Path(work), deliver_line)
        timeline = build_timeline(dataclasses.replace(cut, clips=clips), placed)
        raw = Path(work) / f"bundle{target.suffix}"
        try:
            otio.adapters.write_to_file(timeline, str(raw), adapter_name="otioz")
        except OSError as exc:
            raise InvalidInputError(f"cannot write {target}: {exc.strerror or exc}") from exc
        if deliver_bundle is not None:
            deliver_bundle(raw, target)
        else:
            _write_atomic(target, lambda temp: os.replace(raw, temp))
    return target


def _delivered_lines(
    dialogue: LinePlacement, work: Path, deliver_line: Callable[[LineAudio, Path, Path], object]
) -> LinePlacement:
    """The placement with each line's audio replaced by its delivered copy in ``work``."""
    import dataclasses

    folder = work / "dialogue"
    folder.mkdir()
    placed = []
    for item in dialogue.lines:
        name = f"{item.line.line.replace('/', '_')}_{'_'.join(item.line.character.split())}"
        copy = folder / f"{name}{item.line.audio.suffix}"
        deliver_line(item.line, item.line.audio, copy)
        placed.append(dataclasses.replace(item, line=dataclasses.replace(item.line, audio=copy)))
    return dataclasses.replace(dialogue, lines=placed)


def write_edl(
    cut: Cut,
    path: str | os.PathLike[str],
    *,
    reel_length: int | None = DEFAULT_REEL_LENGTH,
    dialogue: LinePlacement | None = None,
) -> Path:
    """Writes the cut as a CMX 3600 EDL: one event per clip and slate on V, then the
    dialogue's events on A and A2.

    Args:
        cut: The assembled cut.
        path: Where to write.
        reel_length: Characters of a reel name (CMX 3600 allows 8); None keeps the whole
            sha256, which tools that read long reel names (File32, File129) accept.
        dialogue: The placed lines.

    Raises:
        InvalidInputError: The cut is empty, or the path cannot be written.
    """
    target = _check_target(path, "edl")
    _check_cut(cut)
    text = edl_text(cut, reel_length=reel_length, dialogue=dialogue)
    _write_atomic(target, lambda temp: temp.write_text(text, encoding="utf-8"))
    return target


def edl_text(
    cut: Cut,
    *,
    reel_length: int | None = DEFAULT_REEL_LENGTH,
    dialogue: LinePlacement | None = None,
) -> str:
    """The EDL ``write_edl`` writes, as text."""
    _check_reel_length(reel_length)
    otio = require_otio("cmx_3600")
    timeline = _build(cut, "edl")
    timeline.name = " ".join(cut.name.split())[:EDL_TITLE_MAX] or "Setpiece cut"
    for item, clip in zip(timeline.tracks[0], cut.clips, strict=True):
        if clip.media is not None:  # the reel is the file's name: its sha256, or its start
            item.metadata["cmx_3600"]["reel"] = clip.media.sha256[:reel_length]
    text: str = otio.adapters.write_to_string(
        timeline, "cmx_3600", rate=float(cut.fps), style="avid", reelname_len=None
    )
    # OTIO writes 29.97 and 59.94 as drop frame by itself; the FCM line says which it did.
    drop = any(";" in line for line in text.splitlines() if line[:1].isdigit())
    fcm = "FCM: DROP FRAME" if drop else "FCM: NON-DROP FRAME"
    head, _, body = text.partition("\n")
    if dialogue is not None and dialogue.lines:
        body += _edl_dialogue(otio, dialogue, cut.fps, reel_length, _EVENT.findall(body))
    return f"{head}\n{fcm}\n{body}"


_EVENT = re.compile(r"^\d{3,4}  ", re.MULTILINE)
_AUDIO_EVENT = re.compile(r"^\d{3,4}(  \S+ +)A    ", re.MULTILINE)


def _edl_dialogue(
    otio: ModuleType,
    dialogue: LinePlacement,
    fps: Fraction,
    reel_length: int | None,
    video_events: list[str],
) -> str:
    """The dialogue's events, numbered on from the video's: track 1 on ``A``, 2 on ``A2``.

    The adapter writes one track per call and calls every audio event ``A``; each
    dialogue track is written alone and its events renumbered and given their channel.
    """
    from otio_cmx3600_adapter.cmx_3600 import EDLWriter

    kept = LinePlacement([p for p in dialogue.lines if p.track <= EDL_AUDIO_TRACKS])
    number = len(video_events)
    out = ""
    for index, track in enumerate(_dialogue_tracks(otio, kept, fps, "edl"), start=1):
        for item in track:
            if isinstance(item, otio.schema.Clip):
                reel = Path(otio.url_utils.filepath_from_url(item.media_reference.target_url))
                item.metadata["cmx_3600"]["reel"] = reel.stem[:reel_length].replace(" ", "_")
        writer = EDLWriter(
            otio.schema.Stack(children=[track]), float(fps), "avid", reelname_len=None
        )
        text = writer.get_content_for_track_at_index(0, title=None)
        channel = "A    " if index == 1 else f"A{index}   "

        def renumber(match: re.Match[str], channel: str = channel) -> str:
            nonlocal number
            number += 1
            return f"{number:03d}{match.group(1)}{channel}"

        out += _AUDIO_EVENT.sub(renumber, text)
    return out


def write_fcp_xml(
    cut: Cut, path: str | os.PathLike[str], *, dialogue: LinePlacement | None = None
) -> Path:
    """Writes the cut as Final Cut Pro 7 XML (``xmeml``), which Premiere and Resolve import.

    Raises:
        InvalidInputError: The cut is empty, or the path cannot be written.
    """
    target = _check_target(path, "fcp_xml")
    _check_cut(cut)
    otio = require_otio("fcp_xml")
    text = otio.adapters.write_to_string(_build(cut, "fcp_xml", dialogue), "fcp_xml")
    _write_atomic(target, lambda temp: temp.write_text(text, encoding="utf-8"))
    return target


def export_cut(
    cut: Cut,
    *,
    otio: str | os.PathLike[str] | None = None,
    otioz: str | os.PathLike[str] | None = None,
    edl: str | os.PathLike[str] | None = None,
    fcp_xml: str | os.PathLike[str] | None = None,
    reel_length: int | None = DEFAULT_REEL_LENGTH,
    deliver_take: Callable[[str, Path, Path], object] | None = None,
    deliver_bundle: Callable[[Path, Path], object] | None = None,
    dialogue: LinePlacement | None = None,
    deliver_line: Callable[[LineAudio, Path, Path], object] | None = None,
) -> TimelineExport:
    """Writes the cut in each format given a path; every path is checked before any is written.

    Args:
        cut: The assembled cut.
        otio: Where to write OpenTimelineIO JSON.
        otioz: Where to write an OTIO bundle with the media (local media store only).
        edl: Where to write a CMX 3600 EDL.
        fcp_xml: Where to write Final Cut Pro 7 XML.
        reel_length: The EDL's reel name length (see ``write_edl``).
        deliver_take: Delivers each take put in an ``.otioz`` (see ``write_otioz``).
        deliver_bundle: Delivers the ``.otioz`` itself (see ``write_otioz``).
        dialogue: The placed lines (``setpiece.edit.sound.place_lines``), written on
            audio tracks of their own.
        deliver_line: Delivers each line's audio put in an ``.otioz``.

    Raises:
        InvalidInputError: No path given, the cut is empty, a path cannot be written,
            or an ``.otioz`` was asked of a remote media store.
        StorageError: A take's file or a line's audio is missing (``.otioz``).
    """
    wanted = {
        name: _check_target(value, name)
        for name, value in (("otio", otio), ("otioz", otioz), ("edl", edl), ("fcp_xml", fcp_xml))
        if value is not None
    }
    if not wanted:
        raise InvalidInputError(
            "give at least one file to write: --otio, --otioz, --edl or --fcpxml"
        )
    _check_cut(cut)
    if "otioz" in wanted:
        _check_bundle_media(cut)
        _check_line_audio(dialogue)
    require_otio(*(_ADAPTERS[name] for name in wanted))
    _check_reel_length(reel_length)
    writers: dict[str, Callable[[Cut, Path], Path]] = {
        "otio": functools.partial(write_otio, dialogue=dialogue),
        "otioz": functools.partial(
            write_otioz,
            deliver_take=deliver_take,
            deliver_bundle=deliver_bundle,
            dialogue=dialogue,
            deliver_line=deliver_line,
        ),
        "edl": functools.partial(write_edl, reel_length=reel_length, dialogue=dialogue),
        "fcp_xml": functools.partial(write_fcp_xml, dialogue=dialogue),
    }
    files = {name: str(writers[name](cut, target)) for name, target in wanted.items()}
    warnings = list(cut.warnings)
    if dialogue is not None:
        warnings.extend(dialogue.warnings)
    if "edl" in wanted:
        warnings.extend(_edl_warnings(cut, dialogue))
    return TimelineExport(
        files=files,
        fps=cut.fps,
        clips=sum(1 for c in cut.clips if c.kind == "take"),
        slates=sum(1 for c in cut.clips if c.kind != "take"),
        duration=cut.duration,
        warnings=warnings,
        lines=len(dialogue.lines) if dialogue is not None else 0,
    )


def _edl_warnings(cut: Cut, dialogue: LinePlacement | None = None) -> list[str]:
    notes = []
    dropped = [p.name for p in dialogue.lines if p.track > EDL_AUDIO_TRACKS] if dialogue else []
    if dropped:
        notes.append(
            f"the EDL leaves out {len(dropped)} line(s) that sound while two others do "
            f"(CMX 3600 has two audio channels): {', '.join(dropped[:5])}"
            f"{', ...' if len(dropped) > 5 else ''}; the .otio and FCP XML keep them"
        )
    if len(cut.clips) > EDL_MAX_EVENTS:
        notes.append(
            f"the EDL has {len(cut.clips)} events; CMX 3600 numbers up to {EDL_MAX_EVENTS} and "
            "some tools stop there: export one scene at a time for those"
        )
    other_rates = sorted(
        {
            c.take_label or c.shot
            for c in cut.clips
            if _is_video(c) and c.media and c.media.fps != cut.fps
        }
    )
    if other_rates:
        notes.append(
            f"the EDL counts source timecode at {format_rate(cut.fps)} fps for takes at "
            f"another rate ({', '.join(other_rates[:5])}{', ...' if len(other_rates) > 5 else ''})"
        )
    return notes


def _check_reel_length(reel_length: int | None) -> None:
    if reel_length is not None and not 1 <= reel_length <= 64:
        raise InvalidInputError(
            f"reel length {reel_length} is out of range: give 1 to 64 characters (8 for CMX 3600)"
        )


def _check_cut(cut: Cut) -> None:
    if not cut.clips:
        raise InvalidInputError(
            "nothing to export: the cut has no shots; add shots to the scenes first "
            "('setpiece shot add')"
        )


def _check_bundle_media(cut: Cut) -> None:
    missing: list[str] = []
    for clip in cut.clips:
        if clip.media is None:
            continue
        if "://" in clip.media.path:
            raise InvalidInputError(
                f"an .otioz bundle carries the media inside it, and this project's media store is "
                f"remote ({clip.media.path.rsplit('/', 2)[0]}/...): write --otio instead"
            )
        if not Path(clip.media.path).is_file():
            missing.append(f"{clip.take_label} ({clip.media.path})")
    if missing:
        raise StorageError(
            f"cannot bundle the media: {len(missing)} file(s) missing from the store, first "
            f"{missing[0]}: run 'setpiece fsck'"
        )


def _check_line_audio(dialogue: LinePlacement | None) -> None:
    missing = [p for p in dialogue.lines if not p.line.audio.is_file()] if dialogue else []
    if missing:
        raise StorageError(
            f"cannot bundle the dialogue: {len(missing)} line audio file(s) missing, first "
            f"{missing[0].line.line} ({missing[0].line.audio}): run 'setpiece fsck'"
        )


def _check_target(path: str | os.PathLike[str], fmt: str) -> Path:
    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    expected = _SUFFIXES[fmt]
    others = {s: name for name, s in _SUFFIXES.items() if name != fmt}
    if suffix in others and suffix != expected:
        raise InvalidInputError(
            f"{target} ends in {suffix}: give a {expected} path to {_FLAGS[fmt]}, or use "
            f"{_FLAGS[others[suffix]]} for a {suffix} file"
        )
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder: give the path of the file to write")
    if not target.parent.is_dir():
        raise InvalidInputError(f"cannot write {target}: the folder {target.parent} does not exist")
    return target


def _write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    """Writes next to ``target`` and renames onto it: a failure leaves no half-written file."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        write(temp)
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InvalidInputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
