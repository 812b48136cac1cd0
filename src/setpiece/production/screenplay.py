"""The screenplay as the board shows it: each scene's elements, and the shot that covers each.

Why a module of its own: shots do not record which lines of the script they cover (a
planner proposes coverage per scene, people edit it in a spreadsheet), so the link from a
line of the script to a shot is decided here, once, from what the shots say of themselves:

- a speech (the character cue, its parentheticals and dialogue) is covered by the tightest
  shot of its speaker: the shot whose characters are the speaker alone, else the one with
  the fewest characters that include the speaker (of two, the tighter framing);
- an action paragraph is covered by a montage or intercut beat of its number (``beat N``
  in the shot's description), else by the insert of a prop it names, else by the scene's
  widest shot (EWS, WS, then the first shot);
- a heading inside the scene (a POV or INSERT) by the shot whose description quotes it,
  else by the widest shot; transitions and centred text by none.

A scene of 190 is read in two queries (scenes with their stored elements, shots with their
subjects), not one a scene.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from setpiece.model.orm import Scene
from setpiece.production.context import Production
from setpiece.production.shots import list_shots
from setpiece.production.views import ShotView

__all__ = ["ScreenplayScene", "ScriptLine", "covering_shots", "screenplay"]

# The elements a reader sees, in the script's order; notes, synopses, sections, page
# breaks are the writer's, not the film's.
SHOWN = frozenset(
    {
        "scene_heading",
        "action",
        "character",
        "parenthetical",
        "dialogue",
        "lyrics",
        "transition",
        "centered",
    }
)
SPOKEN = frozenset({"character", "parenthetical", "dialogue", "lyrics"})
WIDE = ("EWS", "WS", "LS", "MWS", "FS")
# Framings from the tightest: of two shots with the same characters, the tighter covers a line.
TIGHT = ("ECU", "BCU", "CU", "MCU", "MS", "MWS", "MLS", "FS", "LS", "WS", "EWS")
BEAT = re.compile(r"\bbeat (\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ScriptLine:
    """One element of the screenplay and the shot that covers it (None: no shot does)."""

    kind: str
    text: str
    shot: str | None
    dual: bool = False


@dataclass(frozen=True)
class ScreenplayScene:
    number: str
    heading: str
    omitted: bool
    lines: list[ScriptLine]
    shots: list[ShotView]


def _characters(shot: ShotView) -> set[str]:
    return {s.name.upper() for s in shot.subjects if s.kind == "character"}


def _widest(shots: list[ShotView]) -> str | None:
    for size in WIDE:
        for shot in shots:
            if (shot.size or "").upper() == size:
                return shot.code
    return shots[0].code if shots else None


def _speaker_shot(speaker: str, shots: list[ShotView], wide: str | None) -> str | None:
    with_speaker = [s for s in shots if speaker in _characters(s)]
    if not with_speaker:
        return wide

    def tightness(shot: ShotView) -> int:
        size = (shot.size or "").upper()
        return TIGHT.index(size) if size in TIGHT else len(TIGHT)

    return min(with_speaker, key=lambda s: (len(_characters(s)), tightness(s), s.position)).code


def _action_shot(text: str, ordinal: int, shots: list[ShotView], wide: str | None) -> str | None:
    for shot in shots:
        beat = BEAT.search(shot.description)
        if beat and int(beat.group(1)) == ordinal:
            return shot.code
    upper = text.upper()
    for shot in shots:
        props = [s.name for s in shot.subjects if s.kind == "prop"]
        if any(re.search(rf"\b{re.escape(p.upper())}\b", upper) for p in props):
            return shot.code
    return wide


def covering_shots(body: list[dict[str, Any]], shots: list[ShotView]) -> list[str | None]:
    """For each element of a scene's ``body``, the code of the shot that covers it.

    Args:
        body: The scene's stored elements (``Scene.body``: dicts with ``type`` and ``text``).
        shots: The scene's shots, in coverage order.

    Returns:
        One shot code (or None) per element of ``body``, by the rules of the module docstring.
    """
    wide = _widest(shots)
    found: list[str | None] = []
    speaker: str | None = None
    actions = 0
    for element in body:
        kind = str(element.get("type", ""))
        text = str(element.get("text", ""))
        if kind == "character":
            speaker = str(element.get("name") or text).upper()
        elif kind not in SPOKEN:
            speaker = None
        if kind in SPOKEN and speaker is not None:
            found.append(_speaker_shot(speaker, shots, wide))
        elif kind == "action":
            actions += 1
            found.append(_action_shot(text, actions, shots, wide))
        elif kind == "scene_heading":
            quoted = " ".join(text.strip().lstrip(".").split()).upper()
            match = next(
                (s.code for s in shots if quoted and quoted in s.description.upper()), None
            )
            found.append(match or wide)
        else:
            found.append(None)
    return found


def screenplay(production: Production) -> list[ScreenplayScene]:
    """Every scene in script order with its shown elements, each linked to its shot."""
    by_scene: dict[str, list[ShotView]] = {}
    for shot in list_shots(production):
        by_scene.setdefault(shot.scene, []).append(shot)
    with production.transaction(read_only=True) as session:
        production.authorize(session, "read")
        rows = session.execute(
            select(Scene.number, Scene.heading, Scene.omitted, Scene.body).order_by(Scene.position)
        ).all()
    scenes = []
    for number, heading, omitted, body in rows:
        shots = by_scene.get(number, [])
        elements = list(body or [])
        covers = covering_shots(elements, shots)
        lines = [
            ScriptLine(
                str(e.get("type")),
                str(e.get("text", "")),
                None if omitted else code,
                bool(e.get("dual", False)),
            )
            for e, code in zip(elements, covers, strict=True)
            if e.get("type") in SHOWN
        ]
        scenes.append(ScreenplayScene(number, heading, omitted, lines, shots))
    return scenes
