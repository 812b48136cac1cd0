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
with "+" extends the composed prompt, any other text replaces it. Reference images
are the bible images of the characters in frame, then of the location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from setpiece.errors import InvalidInputError, NotFoundError
from setpiece.generate.base import ShotBrief, SubjectBrief
from setpiece.generate.settings import DEFAULT_TEMPLATE, prompt_settings
from setpiece.model.enums import BibleKind
from setpiece.model.orm import BibleEntry, Shot, ShotSubject

__all__ = ["DEFAULT_TEMPLATE", "ComposedPrompt", "compose", "stable_color"]

FRAMING = {
    "ECU": "extreme close-up",
    "CU": "close-up",
    "MCU": "medium close-up",
    "MS": "medium shot",
    "MWS": "medium wide shot",
    "WS": "wide shot",
    "EWS": "extreme wide shot",
}
_FIELDS = (
    "framing",
    "subjects",
    "description",
    "setting",
    "camera",
    "style",
    "shot",
    "scene",
    "heading",
)


@dataclass(frozen=True)
class ComposedPrompt:
    """What a generator receives for a shot, and what the take's recipe records."""

    prompt: str
    negative_prompt: str | None
    brief: ShotBrief
    references: tuple[str, ...]  # media sha256 of reference images, in order
    style: str | None
    reference_names: tuple[str, ...] = ()  # whose each reference is (Runway's @tags)


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


def _place(subject: ShotSubject) -> str:
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
        InvalidInputError: The template names an unknown placeholder.
    """
    options = prompt_settings(settings)
    shot = session.scalars(
        select(Shot)
        .where(Shot.id == shot_id)
        .options(
            selectinload(Shot.subjects)
            .selectinload(ShotSubject.entry)
            .selectinload(BibleEntry.refs)
        )
    ).one()
    scene = shot.scene
    style_name = style or options.style
    style_entry = None
    if style_name:
        style_entry = session.scalars(
            select(BibleEntry).where(
                BibleEntry.kind == BibleKind.STYLE.value, BibleEntry.name == style_name
            )
        ).first()
        if style_entry is None:
            raise NotFoundError(
                f"no style {style_name!r} in the bible: add it with 'setpiece style add'"
            )
    location = None
    if scene.location:
        location = session.scalars(
            select(BibleEntry)
            .where(BibleEntry.kind == BibleKind.LOCATION.value, BibleEntry.name == scene.location)
            .options(selectinload(BibleEntry.refs))
        ).first()

    subjects = []
    for subject in shot.subjects:
        entry = subject.entry
        said = subject.prompt_override or (
            f"{entry.name} ({entry.description})" if entry.description else entry.name
        )
        place = _place(subject)
        subjects.append(f"{said} {place}".strip())
    camera = ", ".join(
        part
        for part in (
            f"{shot.angle} angle" if shot.angle else "",
            f"{shot.lens_mm:g}mm lens" if shot.lens_mm else "",
            f"{shot.camera_move} camera move"
            if shot.camera_move and shot.camera_move != "static"
            else "",
        )
        if part
    )
    setting_parts = [
        p
        for p in (scene.location and scene.location.title(), (scene.time_of_day or "").lower())
        if p
    ]
    if location is not None and location.description:
        setting_parts.append(location.description)
    values = {
        "framing": FRAMING.get(shot.size or "", "shot"),
        "subjects": ", ".join(subjects) if subjects else "the scene",
        "description": shot.description,
        "setting": ", ".join(setting_parts),
        "camera": camera,
        "style": (
            f"{style_entry.name}: {style_entry.description}"
            if style_entry and style_entry.description
            else style_entry.name
            if style_entry
            else ""
        ),
        "shot": shot.code,
        "scene": scene.number,
        "heading": scene.heading,
    }
    template = options.template or DEFAULT_TEMPLATE
    unknown = sorted(set(re.findall(r"{(\w+)}", template)) - set(_FIELDS))
    if unknown:
        raise InvalidInputError(
            f"prompt template names unknown placeholder(s) {', '.join(unknown)}: use {', '.join(_FIELDS)}"
        )
    text = _tidy(template.format(**values))
    for override in (shot.prompt_override, prompt):
        if override:
            text = (
                f"{text} {override[1:].strip()}" if override.startswith("+") else override.strip()
            )

    named: dict[str, str] = {}
    for subject in shot.subjects:
        for ref in subject.entry.refs:
            named.setdefault(ref.media_sha256, subject.entry.name)
    if location is not None:
        for ref in location.refs:
            named.setdefault(ref.media_sha256, location.name)
    brief = ShotBrief(
        code=shot.code,
        scene=scene.number,
        heading=scene.heading,
        description=shot.description,
        size=shot.size,
        angle=shot.angle,
        lens_mm=shot.lens_mm,
        camera_move=shot.camera_move,
        int_ext=scene.int_ext,
        location=scene.location,
        time_of_day=scene.time_of_day,
        style=style_entry.name if style_entry else None,
        subjects=tuple(
            SubjectBrief(
                name=s.entry.name,
                kind=s.entry.kind,
                description=s.entry.description,
                side=s.side,
                depth=s.depth,
                color=stable_color(s.entry.name),
            )
            for s in shot.subjects
        ),
    )
    return ComposedPrompt(
        text,
        options.negative or None,
        brief,
        tuple(named),
        style_entry.name if style_entry else None,
        tuple(named.values()),
    )
