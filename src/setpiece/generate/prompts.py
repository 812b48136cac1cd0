"""Prompt composition: every take of a shot is described from the same bible.

The composed prompt is built from the shot (description, size, angle, lens,
move), the characters and props in it (their bible descriptions and where they
stand), the location and time of day, and the style, through a template the
project may set in ``setpiece.toml``::

    [prompts]
    template = "{framing} of {subjects}. {description}. {setting}. {camera}. {style}"
    negative = "blurry, extra fingers, watermark"
    style = "Noir"          # a Style entry of the bible, used unless --style names another

Placeholders: framing, subjects, description, setting, camera, style, shot, scene,
heading. Empty parts and their punctuation are dropped. Overrides, the shot's
(``shot set CODE --prompt``) and then the render's (``--prompt``): text that starts
with "+" extends the composed prompt, any other text replaces it.

Each character or prop is named with its bible description and the look in force for
the shot's scene ("MARA (60s, grey braid; look: oilskin coat, wet hair) on the left");
the location with its description, the style with its. Reference images are those of
the characters in frame (their look's first, then their entry's), then of the location,
then of the style. Entries are found by their name or a former one (a renamed location
still answers to the heading's old words). What went in is returned as ``bible``: each
entry's and look's version, recorded on the take (``production.stale``).

Reading and composing are apart: ``shot_facts`` reads what a prompt is made of
from the database, and ``compose_prompt`` is a pure function of those facts and
the settings, so the same facts always give the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.generate.base import ShotBrief, SubjectBrief
from setpiece.generate.settings import (
    DEFAULT_TEMPLATE,
    fill_template,
    prompt_settings,
)
from setpiece.model.enums import BibleKind
from setpiece.model.orm import Appearance, BibleEntry, BibleLook, Shot, ShotSubject
from setpiece.production.entries import entry_label, find_entry
from setpiece.production.looks import look_in_force, look_span

__all__ = [
    "DEFAULT_TEMPLATE",
    "ComposedPrompt",
    "EntryFacts",
    "ShotFacts",
    "SubjectFacts",
    "angle_words",
    "compose",
    "compose_prompt",
    "shot_facts",
    "stable_color",
]

FRAMING = {
    "ECU": "extreme close-up",
    "CU": "close-up",
    "MCU": "medium close-up",
    "MS": "medium shot",
    "MWS": "medium wide shot",
    "WS": "wide shot",
    "EWS": "extreme wide shot",
}


@dataclass(frozen=True)
class ComposedPrompt:
    """What a generator receives for a shot, and what the take's recipe records."""

    prompt: str
    negative_prompt: str | None
    brief: ShotBrief
    references: tuple[str, ...]  # media sha256 of reference images, in order
    style: str | None
    reference_names: tuple[str, ...] = ()  # whose each reference is (Runway's @tags)
    # The bible entries and looks that went in, with their versions (``Take.bible``).
    bible: tuple[dict[str, Any], ...] = ()
    # Ids of the entries whose images are among ``references`` (consent is checked on them).
    reference_entries: tuple[int, ...] = ()


def stable_color(name: str) -> tuple[int, int, int]:
    """A colour that is always the same for a name (previs silhouettes, palettes)."""
    import hashlib

    digest = hashlib.sha256(name.upper().encode()).digest()
    hue = digest[0] / 255
    import colorsys

    red, green, blue = colorsys.hsv_to_rgb(
        hue, 0.55 + digest[1] / 255 * 0.3, 0.75 + digest[2] / 255 * 0.2
    )
    return int(red * 255), int(green * 255), int(blue * 255)


@dataclass(frozen=True)
class SubjectFacts:
    """A character or prop in the shot: its bible entry and where it stands."""

    name: str
    kind: str
    description: str = ""
    side: str | None = None
    depth: str | None = None
    prompt_override: str | None = None  # the shot's words for it, instead of the bible's
    references: tuple[str, ...] = ()  # media sha256 of its look's images, else its entry's
    look: str = ""  # the description of the look in force for the shot's scene
    record: dict[str, Any] | None = None  # its entry's (and look's) versions, for the take
    entry_id: int | None = None
    color: tuple[int, int, int] | None = None  # its previs colour among the film's characters


@dataclass(frozen=True)
class EntryFacts:
    """A location or style of the bible, as a prompt uses it."""

    name: str
    description: str = ""
    references: tuple[str, ...] = ()
    record: dict[str, Any] | None = None
    entry_id: int | None = None


@dataclass(frozen=True)
class ShotFacts:
    """Everything a shot's prompt is composed from, read from the database once."""

    code: str
    scene: str
    heading: str
    description: str = ""
    size: str | None = None
    angle: str | None = None
    lens_mm: float | None = None
    camera_move: str | None = None
    prompt_override: str | None = None
    int_ext: str | None = None
    location: str | None = None
    time_of_day: str | None = None
    subjects: tuple[SubjectFacts, ...] = ()
    location_entry: EntryFacts | None = None
    style: EntryFacts | None = None


def _place(subject: SubjectFacts) -> str:
    parts = [
        p
        for p in (
            subject.side and f"on the {subject.side}",
            subject.depth and f"in the {subject.depth}",
        )
        if p
    ]
    return " ".join(parts)


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(\s*\.\s*)+\.", ".", text)  # ". ." from empty parts
    text = re.sub(r"\s+([.,])", r"\1", text)
    text = re.sub(r"^\s*(of\s+)?[.,]\s*", "", text)
    text = re.sub(r"\bof\s*\.", ".", text)
    return text.strip(" .") + "."


def compose(
    session: Session,
    shot_id: int,
    settings: dict[str, Any],
    *,
    prompt: str | None = None,
    style: str | None = None,
) -> ComposedPrompt:
    """Composes the prompt of one shot.

    Args:
        session: An open session.
        shot_id: The shot's row id.
        settings: The project's toml (its ``[prompts]`` table is read).
        prompt: The render's override ("+" extends).
        style: A Style entry's name, overriding the project's default style.

    Raises:
        NotFoundError: The named style is not in the bible.
        InvalidInputError: The template is refused by ``read_template`` (the placeholder named).
    """
    options = prompt_settings(settings)
    facts = shot_facts(session, shot_id, style=style or options.style)
    template = options.template or DEFAULT_TEMPLATE
    return compose_prompt(
        facts, template=template, negative=options.negative or None, prompt=prompt
    )


def shot_facts(session: Session, shot_id: int, *, style: str | None = None) -> ShotFacts:
    """Reads what ``compose_prompt`` needs of one shot: the shot, its scene, the bible
    entries of its subjects and location, and the style.

    Args:
        session: An open session.
        shot_id: The shot's row id.
        style: A Style entry's name, or None for no style.

    Raises:
        NotFoundError: The named style is not in the bible.
    """
    shot = session.scalars(
        select(Shot)
        .where(Shot.id == shot_id)
        .options(
            selectinload(Shot.subjects)
            .selectinload(ShotSubject.entry)
            .selectinload(BibleEntry.refs),
            selectinload(Shot.subjects)
            .selectinload(ShotSubject.entry)
            .selectinload(BibleEntry.looks)
            .selectinload(BibleLook.from_scene),
        )
    ).one()
    scene = shot.scene
    style_entry = None
    if style:
        style_entry = find_entry(session, BibleKind.STYLE, style)
        if style_entry is None:
            raise NotFoundError(
                f"no style {style!r} in the bible: add it with 'setpiece style add'"
            )
    location = find_entry(session, BibleKind.LOCATION, scene.location) if scene.location else None
    colors = _cast_colors(session) if shot.subjects else {}
    subjects = []
    for s in shot.subjects:
        look = look_in_force(s.entry, scene)
        subjects.append(
            SubjectFacts(
                name=s.entry.name,
                kind=s.entry.kind,
                description=s.entry.description,
                side=s.side,
                depth=s.depth,
                prompt_override=s.prompt_override,
                # A look with its own pictures is how the character looks now: they stand
                # in for the entry's (a single stays a single for a workflow by refsN).
                references=tuple(look.references)
                if look and look.references
                else tuple(ref.media_sha256 for ref in s.entry.refs),
                look=look.description if look else "",
                record=bible_record(s.entry, look),
                entry_id=s.entry.id,
                color=colors.get(s.entry.name.upper()),
            )
        )
    return ShotFacts(
        code=shot.code,
        scene=scene.number,
        heading=scene.heading,
        description=shot.description,
        size=shot.size,
        angle=shot.angle,
        lens_mm=shot.lens_mm,
        camera_move=shot.camera_move,
        prompt_override=shot.prompt_override,
        int_ext=scene.int_ext,
        location=location.name if location is not None else scene.location,
        time_of_day=scene.time_of_day,
        subjects=tuple(subjects),
        location_entry=_entry_facts(location),
        style=_entry_facts(style_entry),
    )


def _cast_colors(session: Session) -> dict[str, tuple[int, int, int]]:
    """Previs colours of the film's characters: distinct, in order of entry (see _previs_colour)."""
    from setpiece.generate.backends._previs_colour import cast_colors

    cast = list(
        session.scalars(
            select(BibleEntry.name)
            .where(BibleEntry.kind == BibleKind.CHARACTER.value)
            .order_by(BibleEntry.id)
        )
    )
    scenes: dict[int, list[str]] = {}
    for scene_id, name in session.execute(
        select(Appearance.scene_id, BibleEntry.name)
        .join(BibleEntry, BibleEntry.id == Appearance.entry_id)
        .where(BibleEntry.kind == BibleKind.CHARACTER.value)
    ):
        scenes.setdefault(scene_id, []).append(name)
    return cast_colors(cast, scenes.values())


def bible_record(entry: BibleEntry, look: BibleLook | None = None) -> dict[str, Any]:
    """What a take records of an entry it was made from: the entry's and its look's version."""
    return {
        "entry_id": entry.id,
        "entry": entry_label(entry),
        "version": entry.version,
        "look_id": look.id if look else None,
        "look": look_span(look) if look else None,
        "look_version": look.version if look else None,
    }


def _entry_facts(entry: BibleEntry | None) -> EntryFacts | None:
    if entry is None:
        return None
    references = tuple(ref.media_sha256 for ref in entry.refs)
    return EntryFacts(entry.name, entry.description, references, bible_record(entry), entry.id)


def compose_prompt(
    facts: ShotFacts,
    *,
    template: str = DEFAULT_TEMPLATE,
    negative: str | None = None,
    prompt: str | None = None,
) -> ComposedPrompt:
    """Composes a shot's prompt from its facts: no database, the same facts give the same text.

    Args:
        facts: The shot, as ``shot_facts`` reads it.
        template: The ``[prompts]`` template (placeholders in ``{}``).
        negative: The negative prompt, if any.
        prompt: The render's override ("+" extends).

    Returns:
        The prompt, the brief, and the reference images with whose each is.

    Raises:
        InvalidInputError: The template is refused by ``read_template`` (the placeholder named).
    """
    try:
        text = _tidy(fill_template(template, _values(facts)))
    except ValueError as exc:
        raise InvalidInputError(f"prompt template: {exc}") from None
    for override in (facts.prompt_override, prompt):
        if override:
            text = (
                f"{text} {override[1:].strip()}" if override.startswith("+") else override.strip()
            )
    named: dict[str, str] = {}
    owners: dict[int, None] = {}
    sources: list[SubjectFacts | EntryFacts] = [*facts.subjects]
    sources += [e for e in (facts.location_entry, facts.style) if e is not None]
    for source in sources:
        for sha in source.references:
            named.setdefault(sha, source.name)
            if source.entry_id is not None:
                owners.setdefault(source.entry_id)
    records = tuple(source.record for source in sources if source.record is not None)
    style = facts.style.name if facts.style else None
    return ComposedPrompt(
        text,
        negative,
        _brief(facts),
        tuple(named),
        style,
        tuple(named.values()),
        bible=records,
        reference_entries=tuple(owners),
    )


def _values(facts: ShotFacts) -> dict[str, str]:
    """The template's placeholders filled in."""
    subjects = []
    for subject in facts.subjects:
        words = "; ".join(
            w for w in (subject.description, subject.look and f"look: {subject.look}") if w
        )
        said = subject.prompt_override or (f"{subject.name} ({words})" if words else subject.name)
        subjects.append(f"{said} {_place(subject)}".strip())
    return {
        "framing": FRAMING.get(facts.size or "", "shot"),
        "subjects": ", ".join(subjects) if subjects else "the scene",
        "description": facts.description,
        "setting": _setting(facts),
        "camera": _camera(facts),
        "style": _style(facts.style),
        "shot": facts.code,
        "scene": facts.scene,
        "heading": facts.heading,
    }


def _camera(facts: ShotFacts) -> str:
    return ", ".join(
        part
        for part in (
            angle_words(facts.angle),
            f"{facts.lens_mm:g}mm lens" if facts.lens_mm else "",
            f"{facts.camera_move} camera move"
            if facts.camera_move and facts.camera_move != "static"
            else "",
        )
        if part
    )


def angle_words(angle: str | None) -> str:
    """The angle in a cinematographer's words: "eye-level", "low angle", "bird's-eye view"."""
    if not angle:
        return ""
    words = angle.strip().lower()
    if words in ("eye", "eye level", "eye-level"):
        return "eye-level"
    if words.endswith(("angle", "view", "shot")):
        return words
    return f"{words} angle"


def _setting(facts: ShotFacts) -> str:
    parts = [
        p
        for p in (facts.location and facts.location.title(), (facts.time_of_day or "").lower())
        if p
    ]
    if facts.location_entry is not None and facts.location_entry.description:
        parts.append(facts.location_entry.description)
    return ", ".join(parts)


def _style(style: EntryFacts | None) -> str:
    if style is None:
        return ""
    return f"{style.name}: {style.description}" if style.description else style.name


def _brief(facts: ShotFacts) -> ShotBrief:
    return ShotBrief(
        code=facts.code,
        scene=facts.scene,
        heading=facts.heading,
        description=facts.description,
        size=facts.size,
        angle=facts.angle,
        lens_mm=facts.lens_mm,
        camera_move=facts.camera_move,
        int_ext=facts.int_ext,
        location=facts.location,
        time_of_day=facts.time_of_day,
        style=facts.style.name if facts.style else None,
        location_description=(facts.location_entry.description or "")
        if facts.location_entry
        else "",
        subjects=tuple(
            SubjectBrief(
                name=s.name,
                kind=s.kind,
                # the look in force comes last: previs reads the last coat and hair it names
                description=". ".join(p for p in (s.description, s.look) if p),
                side=s.side,
                depth=s.depth,
                color=s.color or stable_color(s.name),
            )
            for s in facts.subjects
        ),
    )
