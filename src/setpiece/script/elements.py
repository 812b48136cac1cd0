"""The screenplay model that every reader produces: elements, scenes, the script.

Fountain and Final Draft describe the same thing, a formatted screenplay, so both
readers emit these typed elements and the rest of Setpiece never asks which file
a script came from. Each element keeps its text twice: ``text`` is plain (markup
removed, escapes resolved), which is what breakdown and prompts use; ``runs``
keeps bold, italic and underline for renderers, and is empty when nothing is
styled, which is most of a script.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

__all__ = [
    "INT_EXT_VALUES",
    "Action",
    "Centered",
    "Character",
    "Dialogue",
    "Element",
    "Lyrics",
    "Note",
    "PageBreak",
    "Parenthetical",
    "Run",
    "Scene",
    "SceneHeading",
    "Script",
    "ScriptStream",
    "ScriptWarning",
    "Section",
    "Synopsis",
    "Transition",
    "character_name",
]

#: The values ``Scene.int_ext`` takes, besides None.
INT_EXT_VALUES = ("INT", "EXT", "INT/EXT", "EST")


class ScriptWarning(UserWarning):
    """A screenplay was read leniently (an unclosed boneyard or note, an unknown FDX type)."""


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of an element's text with one style."""

    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data, styles only when set."""
        data: dict[str, Any] = {"text": self.text}
        if self.bold:
            data["bold"] = True
        if self.italic:
            data["italic"] = True
        if self.underline:
            data["underline"] = True
        return data


@dataclass(frozen=True, slots=True)
class Element:
    """One paragraph-level piece of a screenplay.

    Attributes:
        text: Plain text, markup removed; lines joined with ``\\n``.
        runs: The styled pieces of ``text`` when any part is bold, italic or
            underlined; empty when the whole text is plain.
        line: 1-based line of the source file where the element starts, or None
            where the format has no lines (Final Draft).
    """

    type: ClassVar[str] = "element"

    text: str
    runs: tuple[Run, ...] = ()
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The element as JSON-ready data: type, text, then what the type adds."""
        data: dict[str, Any] = {"type": self.type, "text": self.text, "line": self.line}
        if self.runs:
            data["runs"] = [run.to_dict() for run in self.runs]
        return data


@dataclass(frozen=True, slots=True)
class SceneHeading(Element):
    """A scene heading (slugline), with the script's own scene number if it gives one."""

    type: ClassVar[str] = "scene_heading"

    number: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = Element.to_dict(self)
        data["number"] = self.number
        return data


@dataclass(frozen=True, slots=True)
class Action(Element):
    """Scene description; leading spaces and tabs are kept as written."""

    type: ClassVar[str] = "action"


@dataclass(frozen=True, slots=True)
class _Spoken(Element):
    """An element of a dialogue block, which may stand in dual dialogue."""

    dual: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = Element.to_dict(self)
        data["dual"] = self.dual
        return data


@dataclass(frozen=True, slots=True)
class Character(_Spoken):
    """A character cue, extensions included: ``MOM (O.S.)``."""

    type: ClassVar[str] = "character"

    @property
    def name(self) -> str:
        """The speaker without extensions: ``MOM (O.S.)`` is ``MOM``."""
        return character_name(self.text)

    def to_dict(self) -> dict[str, Any]:
        data = _Spoken.to_dict(self)
        data["name"] = self.name
        return data


@dataclass(frozen=True, slots=True)
class Dialogue(_Spoken):
    """What a character says; an empty line stands where the writer kept a pause line."""

    type: ClassVar[str] = "dialogue"


@dataclass(frozen=True, slots=True)
class Parenthetical(_Spoken):
    """A wryly inside dialogue, parentheses included: ``(beat)``."""

    type: ClassVar[str] = "parenthetical"


@dataclass(frozen=True, slots=True)
class Lyrics(_Spoken):
    """Sung lines (Fountain ``~``); ``dual`` when they sit in dual dialogue."""

    type: ClassVar[str] = "lyrics"


@dataclass(frozen=True, slots=True)
class Transition(Element):
    """``CUT TO:`` and other transitions."""

    type: ClassVar[str] = "transition"


@dataclass(frozen=True, slots=True)
class Centered(Element):
    """Centered text, such as ``THE END``."""

    type: ClassVar[str] = "centered"


@dataclass(frozen=True, slots=True)
class Section(Element):
    """An outline section (not printed); ``depth`` 1 is an act, 2 a sequence, ..."""

    type: ClassVar[str] = "section"

    depth: int = 1

    def to_dict(self) -> dict[str, Any]:
        data = Element.to_dict(self)
        data["depth"] = self.depth
        return data


@dataclass(frozen=True, slots=True)
class Synopsis(Element):
    """An outline synopsis (not printed)."""

    type: ClassVar[str] = "synopsis"


@dataclass(frozen=True, slots=True)
class Note(Element):
    """A writer's note (not printed); it follows the element it was written in."""

    type: ClassVar[str] = "note"


@dataclass(frozen=True, slots=True)
class PageBreak(Element):
    """A forced page break; its text is empty."""

    type: ClassVar[str] = "page_break"

    text: str = ""


_EXTENSION = re.compile(r"\s*\([^)]*\)?")


def character_name(cue: str) -> str:
    """The speaker's name in a cue, without extensions or dual-dialogue marks.

    Args:
        cue: A character cue as written, e.g. ``EDWARD (V.O.)(CONT'D)``.

    Returns:
        The name with extensions in parentheses removed and spaces collapsed,
        e.g. ``EDWARD``; the cue itself when nothing else is left.
    """
    if "(" in cue:
        name = " ".join(_EXTENSION.sub(" ", cue).split())
        return name or " ".join(cue.split())
    return " ".join(cue.split())


@dataclass(frozen=True, slots=True)
class Scene:
    """A scene's summary for breakdown and scheduling.

    Attributes:
        index: 1-based order of the scene in the script.
        number: The script's own scene number (``12A``), or None.
        heading: The heading as written, scene number left out.
        int_ext: INT, EXT, INT/EXT or EST; None when the heading has none.
        location: The place, e.g. ``WILL'S BEDROOM``; None when the heading is empty.
        time: DAY, NIGHT, CONTINUOUS, ... when the heading names one, else None.
        characters: Who is in the scene, in order of appearance: speakers, and
            names in capitals in the action that speak somewhere in the script.
        eighths: Length in eighths of a page (see ``setpiece.script.breakdown``).
        line: Line of the heading in the source, None for Final Draft.
    """

    index: int
    number: str | None
    heading: str
    int_ext: str | None
    location: str | None
    time: str | None
    characters: tuple[str, ...]
    eighths: int
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The scene as JSON-ready data."""
        return {
            "number": self.number,
            "index": self.index,
            "heading": self.heading,
            "int_ext": self.int_ext,
            "location": self.location,
            "time": self.time,
            "characters": list(self.characters),
            "eighths": self.eighths,
            "line": self.line,
        }


class ScriptStream(Protocol):
    """Elements read one at a time, so a long script never sits whole in memory.

    ``title_page`` is complete before the first element is read; ``warnings``
    grows while the stream is read and is complete once it is exhausted.
    """

    source: str
    warnings: list[str]

    @property
    def title_page(self) -> dict[str, str]: ...

    def __iter__(self) -> Iterator[Element]: ...


@dataclass(slots=True)
class Script:
    """A whole screenplay in memory.

    Attributes:
        title_page: Lower-case key to value; multi-line values joined with ``\\n``.
        elements: Every element in reading order.
        scenes: One summary per scene heading.
        warnings: One line each: what was read leniently and where.
        source: The file it came from (or ``<string>``).
    """

    title_page: dict[str, str] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source: str = "<string>"

    def to_dict(self) -> dict[str, Any]:
        """The script as one JSON-ready document (the shape ``script parse --json`` prints)."""
        return {
            "title_page": dict(self.title_page),
            "elements": [element.to_dict() for element in self.elements],
            "scenes": [scene.to_dict() for scene in self.scenes],
            "warnings": list(self.warnings),
        }
