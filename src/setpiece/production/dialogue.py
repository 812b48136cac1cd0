"""Dialogue: the lines of the script, their audio takes, and each character's voice.

Lines come from ``script import`` (``setpiece.script.lines``); this module reads them and
records what happens to them. What it decides:

- **The take a line is heard with** (``pick_line_take``): its circled take; else its
  newest recorded take (an actor's reading is preferred over synthesis); else its newest
  synthetic take. Only finished (ready) takes count.
- **Stale takes** are computed, never stored: a synthetic take is stale when the voice
  it recorded differs from its character's voice now (a take made with the default voice
  is stale once the character has a voice of its own), or when the line's text changed
  since. Recorded takes are stale only when the text changed. Like
  ``production.stale`` for pictures, a new take is what answers staleness; nothing is
  deleted.
- **A voice** is ``{"backend", "voice", "rate", "pitch", "sample"}`` on the character's
  bible entry. It is not part of the entry's ``version``: a voice changes what a line
  sounds like, not what a picture shows. A voice cloned from a sample makes the character
  a likeness: it is refused without a consent record (``[bible] require_consent``).
- **The shot that covers a line** (``cut_lines``): lines never go backwards in cut
  order. Each line of a scene goes to the first shot at or after the previous line's shot
  that features its speaker (a single on the speaker, a shot whose only character is the
  speaker, is preferred among those); if there is none it stays in the previous line's
  shot, after the previous line (heard off-screen over the other's single: an L-cut). A
  scene's first line looks from the scene's first shot, and falls back to it. A scene
  without shots places none of its lines. The two lines of a dual pair (consecutive lines
  marked dual: dual dialogue, or a joint cue's speakers) share one shot, so the cut hears
  them at once: the first shot from there that has both speakers in it, else the first
  line's shot. Every line is assigned, with or without a take, so a line's shot does not
  depend on which other lines have been rendered. ``pipeline.timing`` lengthens shots
  from this same assignment.

Whether a backend has a voice, and reading a WAV, belong to ``setpiece.voice``, above
this layer: callers measure a file and hand the figures here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from setpiece.config import load_section, setting
from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.model.dialogue import LineAudio
from setpiece.model.enums import BibleKind
from setpiece.model.orm import BibleEntry, Line, LineTake, Media, Scene, Shot
from setpiece.production.context import Production
from setpiece.production.entries import entry_row
from setpiece.production.history import record_event
from setpiece.production.likeness import check_consent
from setpiece.production.rows import scene_row

__all__ = [
    "MAX_TEXT",
    "DialogueSettings",
    "LineTakeView",
    "LineView",
    "VoiceView",
    "add_line_take",
    "audio_media",
    "check_line_takes_recording",
    "circle_line_take",
    "cut_lines",
    "dialogue_settings",
    "line_row",
    "line_seconds",
    "list_lines",
    "pick_line_take",
    "select_lines",
    "set_voice",
    "take_is_stale",
    "voice_label",
    "voice_of",
]

#: The longest line synthesis is asked for, in characters: the voice backends' own default
#: limit (``setpiece.voice.base.VoiceCapabilities.max_characters``, OpenAI's speech limit;
#: a page of dialogue is about 1,500), checked here before anything is queued.
MAX_TEXT = 4096

SYNTHETIC = "synthetic"
RECORDED = "recorded"
READY = "ready"


@dataclass(frozen=True)
class DialogueSettings:
    """``[dialogue]`` of setpiece.toml."""

    max_seconds: float = setting(
        120.0, positive=True, high=3600, help="The longest a dialogue take may be, in seconds."
    )
    sample_rate: int | None = setting(
        None,
        positive=True,
        help="The sample rate recorded takes must have (Hz); unset: any rate.",
    )
    # One pause for both rules that use it: the cut places a shot's first line this long
    # after its in-point and each next one this long after the last (edit.sound), and shots
    # timed from sound count each line's take plus this pause (script.planning).
    pause: float = setting(
        0.25, low=0, high=10, help="Seconds before a shot's first line and between its lines."
    )


def dialogue_settings(settings: dict[str, Any] | None) -> DialogueSettings:
    """The ``[dialogue]`` table over the defaults.

    Raises:
        InvalidInputError: An unknown key or a value of the wrong type.
    """
    return load_section(DialogueSettings, (settings or {}).get("dialogue"), section="dialogue")


@dataclass(frozen=True)
class VoiceView:
    """A character's voice as the bible keeps it (``voice`` None: the default voice)."""

    character: str
    backend: str | None
    voice: str | None
    rate: int | None = None
    pitch: int | None = None
    sample: str | None = None  # sha256 of the reference recording

    def to_json(self) -> dict[str, Any]:
        return {
            "character": self.character,
            "backend": self.backend,
            "voice": self.voice,
            "rate": self.rate,
            "pitch": self.pitch,
            "sample": self.sample,
        }


@dataclass(frozen=True)
class LineTakeView:
    """One audio take of a line."""

    id: str
    line: str
    number: int
    source: str  # synthetic | recorded
    status: str
    voice: str | None  # "espeak:en-us+m3"; None for a recording
    duration: float | None  # seconds
    lufs: float | None
    circled: bool
    stale: bool
    failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "source": self.source,
            "status": self.status,
            "voice": self.voice,
            "duration": self.duration,
            "lufs": self.lufs,
            "circled": self.circled,
            "stale": self.stale,
            "failure": self.failure,
        }


@dataclass(frozen=True)
class LineView:
    """One line of dialogue, with its takes."""

    id: str  # SCENE/NUMBER
    scene: str
    order: int
    character: str
    text: str
    parenthetical: str | None
    extension: str | None
    dual: bool
    needs_review: bool
    takes: list[LineTakeView] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scene": self.scene,
            "order": self.order,
            "character": self.character,
            "text": self.text,
            "parenthetical": self.parenthetical,
            "extension": self.extension,
            "dual": self.dual,
            "needs_review": self.needs_review,
            "takes": [take.to_json() for take in self.takes],
        }


def voice_of(entry: BibleEntry | None) -> dict[str, Any] | None:
    """The character's voice record, or None when it has none (the default voice)."""
    return dict(entry.voice) if entry is not None and entry.voice else None


def voice_label(voice: dict[str, Any] | None) -> str | None:
    """``backend:voice`` ("espeak:en-us+m3"), or None."""
    if not voice:
        return None
    return f"{voice.get('backend')}:{voice.get('voice')}"


def _same_voice(recorded: dict[str, Any] | None, now: dict[str, Any] | None) -> bool:
    keys = ("backend", "voice", "rate", "pitch", "sample")
    if now is None:  # no voice of its own: a take made with the default is fresh
        return recorded is None or bool(recorded.get("default"))
    if recorded is None or recorded.get("default"):
        return False
    return all(recorded.get(k) == now.get(k) for k in keys)


def take_is_stale(take: LineTake, line: Line) -> bool:
    """Whether the take no longer says the line as the production has it now."""
    if " ".join(take.text.split()) != " ".join(line.text.split()):
        return True
    if take.source == RECORDED:
        return False
    return not _same_voice(take.voice, voice_of(line.entry))


def _seconds(take: LineTake) -> Fraction | None:
    if take.frames is None or not take.sample_rate:
        return None
    return Fraction(take.frames, take.sample_rate)


def _line_name(line: Line) -> str:
    return f"{line.scene.number}/{line.number}"


def _take_view(take: LineTake, line: Line) -> LineTakeView:
    seconds = _seconds(take)
    return LineTakeView(
        id=take.id,
        line=_line_name(line),
        number=take.number,
        source=take.source,
        status=take.status,
        voice=voice_label(take.voice) if take.source == SYNTHETIC else None,
        duration=round(float(seconds), 3) if seconds is not None else None,
        lufs=round(take.lufs, 1) if take.lufs is not None else None,
        circled=take.circled,
        stale=take.status == READY and take_is_stale(take, line),
        failure=take.failure,
    )


def _line_view(line: Line) -> LineView:
    return LineView(
        id=_line_name(line),
        scene=line.scene.number,
        order=line.number,
        character=line.character,
        text=line.text,
        parenthetical=line.parenthetical,
        extension=line.extension,
        dual=line.dual,
        needs_review=line.needs_review,
        takes=[_take_view(take, line) for take in line.takes],
    )


_LINE_NAME = re.compile(r"\s*([^/\s]+)\s*/\s*(\d+)\s*")


def line_row(session: Session, name: str) -> Line:
    """The line named ``SCENE/NUMBER``.

    Raises:
        InvalidInputError: The name is not ``SCENE/NUMBER``.
        NotFoundError: No such line.
    """
    match = _LINE_NAME.fullmatch(name)
    if match is None:
        raise InvalidInputError(f"{name!r} is not a line: name it SCENE/NUMBER, such as 3/5")
    scene = scene_row(session, match.group(1))
    line = session.scalar(
        select(Line)
        .where(Line.scene_id == scene.id, Line.number == int(match.group(2)))
        .options(selectinload(Line.takes), selectinload(Line.entry))
    )
    if line is None:
        raise NotFoundError(
            f"no line {scene.number}/{int(match.group(2))}: 'setpiece dialogue list "
            f"--scene {scene.number}' shows the scene's lines"
        )
    return line


def select_lines(
    session: Session,
    *,
    scene: str | None = None,
    character: str | None = None,
    line: str | None = None,
) -> list[Line]:
    """The lines spoken now (not omitted, in scenes not omitted), in script order.

    Raises:
        NotFoundError: An unknown scene, character or line.
    """
    if line is not None:
        row = line_row(session, line)
        return [] if row.omitted or row.scene.omitted else [row]
    query = (
        select(Line)
        .join(Scene, Line.scene_id == Scene.id)
        .where(Line.omitted.is_(False), Scene.omitted.is_(False))
        .options(selectinload(Line.takes), selectinload(Line.entry), selectinload(Line.scene))
        .order_by(Scene.position, Line.position, Line.number)
    )
    if scene is not None:
        query = query.where(Line.scene_id == scene_row(session, scene).id)
    if character is not None:
        entry = entry_row(session, BibleKind.CHARACTER, character)
        query = query.where(Line.entry_id == entry.id)
    return list(session.scalars(query))


def list_lines(
    production: Production,
    *,
    scene: str | None = None,
    character: str | None = None,
    line: str | None = None,
) -> list[LineView]:
    """The lines of the film (or a scene, a character, one line), with their takes.

    Raises:
        NotFoundError: An unknown scene, character or line.
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        rows = select_lines(session, scene=scene, character=character, line=line)
        return [_line_view(row) for row in rows]


def pick_line_take(takes: Iterable[LineTake]) -> LineTake | None:
    """The take a line is heard with: circled, else newest recorded, else newest."""
    ready = sorted((t for t in takes if t.status == READY), key=lambda t: t.number)
    for take in ready:
        if take.circled:
            return take
    recorded = [t for t in ready if t.source == RECORDED]
    if recorded:
        return recorded[-1]
    return ready[-1] if ready else None


def audio_media(
    session: Session, sha256: str, size: int, frames: int, sample_rate: int, name: str
) -> Media:
    """The media row of a WAV in the store, added when new (recorded and spoken takes)."""
    media = session.get(Media, sha256)
    if media is None:
        media = Media(
            sha256=sha256,
            size=size,
            kind="audio",
            ext=".wav",
            container="wav",
            codec="pcm",
            width=0,
            height=0,
            frames=frames,
            duration=float(Fraction(frames, sample_rate)),
            audio_streams=1,
            original_name=name,
        )
        session.add(media)
    return media


def next_take_number(line: Line) -> int:
    """The number the line's next take gets."""
    return max((t.number for t in line.takes), default=0) + 1


def add_line_take(
    production: Production,
    line: str,
    path: str | os.PathLike[str],
    *,
    frames: int,
    sample_rate: int,
    lufs: float | None,
) -> LineTakeView:
    """Records an actor's recording of a line as a take (the file measured by the caller).

    The file is stored first (content-addressed), then the take is committed.

    Args:
        production: The project.
        line: ``SCENE/NUMBER``.
        path: The WAV file, already read and measured (``setpiece.voice.audio.read_wav``).
        frames: Its length in samples (per channel).
        sample_rate: Its rate.
        lufs: Its integrated loudness.

    Raises:
        NotFoundError: An unknown line.
        InvalidInputError: The line is omitted, or the rate is not ``[dialogue] sample_rate``.
        PermissionDeniedError: The acting user may not import takes.
    """
    settings = dialogue_settings(production.config.settings)
    source = Path(path)
    if settings.sample_rate is not None and sample_rate != settings.sample_rate:
        raise InvalidInputError(
            f"{source.name} is at {sample_rate} Hz; recorded takes are {settings.sample_rate} Hz "
            "([dialogue] sample_rate): resample it, e.g. 'ffmpeg -i IN -ar "
            f"{settings.sample_rate} OUT.wav'"
        )
    check_line_takes_recording(production, line)
    stored = production.store.put(source, ".wav")
    with production.transaction() as session:
        production.authorize(session, "import_take")
        row = line_row(session, line)
        media = audio_media(session, stored.sha256, stored.size, frames, sample_rate, source.name)
        take = LineTake(
            line=row,
            number=next_take_number(row),
            source=RECORDED,
            status=READY,
            circled=False,
            media=media,
            frames=frames,
            sample_rate=sample_rate,
            lufs=lufs,
            voice=None,
            text=row.text,
            recipe={"file": source.name},
            created_by=production.actor,
        )
        session.add(take)
        session.flush()
        record_event(
            session, production, "line", _line_name(row), "take_imported", after=str(take.number)
        )
        return _take_view(take, row)


def check_line_takes_recording(production: Production, line: str) -> str:
    """Checks that a recording may be imported for the line, before its file is read.

    The line comes first: ``dialogue import 99/99 FILE`` names the unknown line, whatever
    the file is.

    Returns:
        The line's name, ``SCENE/NUMBER``.

    Raises:
        InvalidInputError: The name is not ``SCENE/NUMBER``, or the line is omitted.
        NotFoundError: An unknown scene or line.
        PermissionDeniedError: The acting user may not import takes.
    """
    with production.transaction(read_only=True) as session:
        production.authorize(session, "import_take")
        row = line_row(session, line)
        if row.omitted or row.scene.omitted:
            raise InvalidInputError(f"line {_line_name(row)} is omitted from the script")
        return _line_name(row)


def circle_line_take(production: Production, line: str, take: str) -> LineTakeView:
    """Circles a take of a line (its number or id); the line's other takes are uncircled.

    Raises:
        NotFoundError: An unknown line or take.
        InvalidInputError: The take is not finished.
        PermissionDeniedError: The acting user may not circle takes.
    """
    with production.transaction() as session:
        production.authorize(session, "circle")
        row = line_row(session, line)
        wanted = take.strip().rsplit("/", 1)[-1]
        found = next(
            (
                t
                for t in row.takes
                if t.id == wanted or (wanted.isdigit() and t.number == int(wanted))
            ),
            None,
        )
        if found is None:
            numbers = ", ".join(str(t.number) for t in row.takes) or "none"
            raise NotFoundError(
                f"line {_line_name(row)} has no take {take!r} (its takes: {numbers})"
            )
        if found.status != READY:
            raise InvalidInputError(
                f"take {_line_name(row)}/{found.number} is {found.status}: only a finished take "
                "can be circled"
            )
        for other in row.takes:
            other.circled = other is found
        record_event(
            session, production, "line", _line_name(row), "circled", after=str(found.number)
        )
        session.flush()
        return _take_view(found, row)


def set_voice(
    production: Production,
    character: str,
    *,
    backend: str,
    voice: str,
    rate: int | None = None,
    pitch: int | None = None,
    sample: str | os.PathLike[str] | None = None,
) -> VoiceView:
    """Gives a character a voice (the backend's voice id checked by the caller).

    A reference sample (a backend that clones) is stored, and makes the character a
    likeness: refused without a consent record while ``[bible] require_consent``.
    Every synthetic take of the character's lines made with another voice is stale then.

    Raises:
        NotFoundError: An unknown character.
        InvalidInputError: A rate or pitch out of range, or a clone without consent.
        PermissionDeniedError: The acting user may not edit the bible.
    """
    if rate is not None and not 80 <= rate <= 450:
        raise InvalidInputError(f"--rate {rate} is out of range: give 80 to 450 words a minute")
    if pitch is not None and not 0 <= pitch <= 100:
        raise InvalidInputError(f"--pitch {pitch} is out of range: give 0 to 100 (50 is normal)")
    stored = production.store.put(Path(sample), ".wav") if sample else None
    sha = stored.sha256 if stored is not None else None
    with production.transaction() as session:
        production.authorize(session, "edit_breakdown")
        entry = entry_row(session, BibleKind.CHARACTER, character)
        if stored is not None and sample is not None:
            _require_likeness(session, production, entry)
            if session.get(Media, stored.sha256) is None:  # measured by the voice, not here
                session.add(
                    Media(
                        sha256=stored.sha256,
                        size=stored.size,
                        kind="audio",
                        ext=".wav",
                        container="wav",
                        codec="pcm",
                        width=0,
                        height=0,
                        frames=0,
                        audio_streams=1,
                        original_name=Path(sample).name,
                    )
                )
        before = voice_label(voice_of(entry))
        entry.voice = {
            "backend": backend,
            "voice": voice,
            "rate": rate,
            "pitch": pitch,
            "sample": sha,
        }
        record_event(
            session,
            production,
            "bible",
            entry.name,
            "voice",
            before=before,
            after=voice_label(entry.voice),
        )
        session.flush()
        return VoiceView(entry.name, backend, voice, rate, pitch, sha)


def _require_likeness(session: Session, production: Production, entry: BibleEntry) -> None:
    from setpiece.model.orm import Likeness

    if session.scalar(select(Likeness).where(Likeness.entry_id == entry.id)) is None:
        raise InvalidInputError(
            f"a voice cloned from a sample makes {entry.name} the likeness of a real person: "
            f"record it first with 'setpiece character likeness {entry.name} --person ... "
            "--consent FILE --date D --scope TEXT'"
        )
    check_consent(session, production.config.settings, [entry.id])


def _characters(shot: Shot) -> list[int]:
    return [s.entry_id for s in shot.subjects if s.entry.kind == BibleKind.CHARACTER.value]


def _covering_shot(shots: Sequence[Shot], start: int, character_id: int | None) -> int | None:
    """The index of the shot from ``start`` on that covers a line of ``character_id``:
    the first single on the speaker, else the first shot with the speaker in it."""
    if character_id is None:
        return None
    later = range(start, len(shots))
    single = next((i for i in later if _characters(shots[i]) == [character_id]), None)
    if single is not None:
        return single
    return next((i for i in later if character_id in _characters(shots[i])), None)


def _dual_partners(rows: Sequence[Line]) -> dict[int, tuple[Line, Line]]:
    """Each line of a dual pair (two consecutive dual lines of a scene) with its pair."""
    pairs: dict[int, tuple[Line, Line]] = {}
    index = 0
    while index + 1 < len(rows):
        first, second = rows[index], rows[index + 1]
        if first.dual and second.dual and first.scene_id == second.scene_id:
            pairs[first.id] = pairs[second.id] = (first, second)
            index += 2
        else:
            index += 1
    return pairs


def _pair_shot(
    shots: Sequence[Shot], start: int, first: int | None, second: int | None
) -> int | None:
    """The index of the shot a dual pair is heard in, from ``start`` on: the first that
    has both speakers, else the first line's shot."""
    for index in range(start, len(shots)):
        ids = {s.entry_id for s in shots[index].subjects}
        if first is not None and second is not None and {first, second} <= ids:
            return index
    return _covering_shot(shots, start, first)


def _line_shots(session: Session, rows: Sequence[Line]) -> dict[int, Shot]:
    """The shot each line (by id) is heard in, by the rule in the module docstring; rows
    are in script order. Lines of a scene without shots are absent."""
    shots: dict[int, list[Shot]] = {}
    previous: dict[int, int] = {}  # scene id -> index of its previous line's shot
    partners = _dual_partners(rows)
    found: dict[int, Shot] = {}
    for line in rows:
        if line.scene_id not in shots:
            shots[line.scene_id] = list(
                session.scalars(
                    select(Shot)
                    .where(Shot.scene_id == line.scene_id)
                    .options(selectinload(Shot.subjects))
                    .order_by(Shot.position)
                )
            )
        scene_shots = shots[line.scene_id]
        if not scene_shots:
            continue
        pair = partners.get(line.id)
        if pair is not None and pair[1].id == line.id and pair[0].id in found:
            found[line.id] = found[pair[0].id]  # the pair shares its first line's shot
            continue
        start = previous.get(line.scene_id, 0)
        index = (
            _pair_shot(scene_shots, start, pair[0].entry_id, pair[1].entry_id)
            if pair is not None
            else _covering_shot(scene_shots, start, line.entry_id)
        )
        if index is None:
            index = start  # stays in the previous line's shot (or the scene's first)
        previous[line.scene_id] = index
        found[line.id] = scene_shots[index]
    return found


def cut_lines(
    production: Production, session: Session, *, scene: str | None = None
) -> list[LineAudio]:
    """The lines the cut can be heard with, in script order, one ``LineAudio`` each.

    For each line spoken now (not omitted, its scene not omitted) that has a finished take:
    the take ``pick_line_take`` chooses, its WAV's path in the (local) media store, its
    exact length, and the shot that covers the line (see the module docstring). Lines of
    a scene without shots, and takes whose file the store cannot give as a local path,
    are left out.

    Args:
        production: The open project (for the media store).
        session: An open session (the caller's transaction).
        scene: Only this scene's lines.

    Raises:
        NotFoundError: An unknown scene.
    """
    rows = select_lines(session, scene=scene)
    covering = _line_shots(session, rows)
    found: list[LineAudio] = []
    for line in rows:
        take = pick_line_take(line.takes)
        if take is None or take.media_sha256 is None:
            continue
        seconds = _seconds(take)
        shot = covering.get(line.id)
        if seconds is None or shot is None:
            continue
        path = production.store.local_path(production.store.key_for(take.media_sha256, ".wav"))
        if path is None:
            continue
        found.append(
            LineAudio(
                line=_line_name(line),
                scene=line.scene.number,
                order=line.number,
                character=line.character,
                shot=shot.code,
                audio=path,
                seconds=seconds,
                dual=line.dual,
                source=take.source,
                voice=voice_label(take.voice) if take.source == SYNTHETIC else None,
            )
        )
    return found


def line_seconds(session: Session, scene_id: int) -> dict[int, Fraction]:
    """Measured lengths of a scene's lines, by position in the scene: each line's take as
    the cut plays it (``pick_line_take``: circled, else newest recorded, else newest);
    lines without a finished take are absent."""
    found: dict[int, Fraction] = {}
    query = (
        select(Line)
        .where(Line.scene_id == scene_id, Line.omitted.is_(False))
        .options(selectinload(Line.takes))
    )
    for line in session.scalars(query):
        chosen = pick_line_take(line.takes)
        seconds = _seconds(chosen) if chosen is not None else None
        if seconds is not None:  # a joint cue's lines share a position: said at once
            found[line.position] = max(seconds, found.get(line.position, seconds))
    return found
