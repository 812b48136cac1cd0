"""Scene summaries for breakdown and scheduling, computed while elements stream past.

A scene runs from its heading to the next one; what comes before the first
heading belongs to no scene. For each scene we keep the heading split into
INT/EXT, location and time of day, who is in it, and its length in eighths of a
page, the unit of a production schedule.

Page model (a formatted screenplay in Courier 12, 55 lines a page):

- line widths: action, scene headings and centered text 61 characters, dialogue
  and lyrics 35, parentheticals 26; cues and transitions one line each; text is
  word-wrapped greedily, each written line break starts a new line;
- one blank line before each scene heading, action, character cue, transition,
  centered text and lyrics standing alone; none before dialogue,
  parentheticals and lyrics inside a dialogue block;
- dual dialogue takes the taller of its two columns;
- sections, synopses, notes and page breaks take no lines;
- a scene's eighths are ``round(lines / 55 * 8)``, half up, and at least 1.

Characters: the speakers of the scene, plus names written in capitals in its
action that are a speaker cue somewhere in the script (capitals are how a
screenplay introduces a character, and silent extras are capitalised too, so
only names that speak somewhere count). That rule needs the whole script, so a
scene is first a ``SceneDraft`` and becomes a ``Scene`` once every speaker is known.
A joint cue (``ODE & GODUHA``) counts each of its speakers, and a group cue (``ALL``,
``BOTH``) none: neither is a character (``script.cues``).

Screenplay conventions in headings (``heading_convention``), read only in headings
without INT./EXT.: ``POV`` (``SNIPER SCOPE POV``), ``INSERT`` and ``BACK TO SCENE``
are shots of the current scene, not scenes (``opens_scene``; they stay in its body
as ``scene_heading`` elements for the planner); TITLES, MAIN/OPENING TITLES and
END CREDITS are title cards, MONTAGE and SERIES OF SHOTS montages, INTERCUT an
intercut: scenes of their own with no location. A FLASHBACK marker anywhere
(``[FLASHBACK]``, ``- FLASHBACK``) is dropped from the location. None of them is
ever a location.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from setpiece.script.cues import cue_speakers
from setpiece.script.elements import (
    Element,
    Scene,
    SceneHeading,
    Script,
    ScriptStream,
    character_name,
)

__all__ = [
    "LINES_PER_PAGE",
    "Breakdown",
    "SceneDraft",
    "collect",
    "eighths",
    "heading_convention",
    "opens_scene",
    "scenes",
    "speaker_lookup",
    "split_heading",
    "wrapped_lines",
]

LINES_PER_PAGE = 55
ACTION_WIDTH = 61
DIALOGUE_WIDTH = 35
PARENTHETICAL_WIDTH = 26
_LONGEST_NAME = 6  # words; longer runs of capitals are shouting, not names

_PREFIX = re.compile(r"\s*(INT\.?\s*/\s*EXT|I\.?\s*/\s*E|INT|EXT|EST)(?:\.|\s|$)", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s+[-–—]+\s+|\s*[–—]\s*")
_LAYOUT: dict[str, tuple[int, int, bool]] = {
    # type: (blank lines before, width or 0 for one line, inside a dialogue block after)
    "scene_heading": (1, ACTION_WIDTH, False),
    "action": (1, ACTION_WIDTH, False),
    "centered": (1, ACTION_WIDTH, False),
    "transition": (1, 0, False),
    "character": (1, 0, True),
    "dialogue": (0, DIALOGUE_WIDTH, True),
    "parenthetical": (0, PARENTHETICAL_WIDTH, True),
    "lyrics": (0, DIALOGUE_WIDTH, True),
}
_PARENS = re.compile(r"\([^)]*\)?|\[[^\]]*\]?")
_CONVENTIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("back", re.compile(r"^(?:BACK TO (?:SCENE|PRESENT)|RETURN TO SCENE)\b")),
    ("insert", re.compile(r"^INSERT\b")),
    ("pov", re.compile(r"(?:^|\b|\s|')(?:POV|P\.O\.V\.?)(?:\b|$)")),
    ("titles", re.compile(r"^(?:(?:MAIN|OPENING|CLOSING|END)\s+)?(?:TITLES?|CREDITS)\b")),
    ("titles", re.compile(r"^(?:TITLE\s+CARD|SUPER(?:IMPOSE)?|ROLL\s+CREDITS)\b")),
    ("montage", re.compile(r"^(?:(?:QUICK|BEGIN)\s+)?(?:MONTAGE|SERIES\s+OF\s+SHOTS)\b")),
    ("intercut", re.compile(r"^INTERCUT\b")),
    ("flashback", re.compile(r"^(?:FLASHBACK|END\s+(?:OF\s+)?(?:FLASHBACK|MONTAGE))\b")),
)
_SHOT_CONVENTIONS = frozenset({"back", "insert", "pov"})
_FLASHBACK = re.compile(r"\s*(?:[\[(]\s*FLASHBACK\s*[\])]|[-–—]+\s*FLASHBACK\b)", re.IGNORECASE)
# A word in capitals (Latin, Greek, Cyrillic) and the words in capitals after it on
# the same line; lower-case letters, punctuation other than ' . - and line ends
# stop a run, and so does a word that only starts in capitals ("McCLANE").
_UPPER = "A-Z0-9\u00c0-\u00d6\u00d8-\u00de\u0391-\u03a9\u0410-\u042f"
# (The look-behind comes after the first capital so that the regex engine can
# skip ahead to capitals: three times faster on Big Fish.)
_CAPITALS = re.compile(
    rf"[{_UPPER}](?<!\w.)[{_UPPER}'’.\-]*(?!\w)(?:[ \t]+[{_UPPER}][{_UPPER}'’.\-]*(?!\w))*"
)
# Words that make a heading's last part a time of day: at least one core word,
# and nothing that is not a time word ("DAY OF THE DEAD PARADE" is a place).
_TIME_CORE = frozenset(
    "DAY NIGHT MORNING AFTERNOON EVENING DAWN DUSK SUNRISE SUNSET NOON MIDNIGHT "
    "TWILIGHT DAYBREAK NIGHTFALL PRE-DAWN CONTINUOUS LATER SAME MAGIC".split()
)
_TIME_WORDS = _TIME_CORE | frozenset(
    "EARLY LATE NEXT THE THAT A FEW MOMENT MOMENTS MINUTE MINUTES SECONDS HOUR "
    "HOURS TIME DAYS WEEKS MONTHS YEARS ANOTHER".split()
)


def _wrap_pattern(width: int) -> re.Pattern[str]:
    # Greedy word wrap as one regex: the longest run that ends before a space or
    # the line's end, else a hard break inside a word longer than the line.
    return re.compile(rf".{{1,{width}}}(?:[ \t]+|$)|\S{{{width}}}")


_WRAP: dict[int, re.Pattern[str]] = {}


def wrapped_lines(text: str, width: int) -> int:
    """How many printed lines a text takes at a width, word-wrapped greedily.

    Args:
        text: Text with written line breaks (``\\n``); an empty line counts as one.
        width: Characters per printed line.

    Returns:
        The number of printed lines, at least 1.
    """
    total = 0
    pattern = None
    for line in text.split("\n"):
        if len(line) <= width:
            total += 1
            continue
        if pattern is None:
            pattern = _WRAP.get(width) or _WRAP.setdefault(width, _wrap_pattern(width))
        total += len(pattern.findall(line)) or 1
    return total


def eighths(lines: int) -> int:
    """A length in printed lines as eighths of a page, half up, at least 1.

    Args:
        lines: Printed lines.

    Returns:
        Eighths of a 55-line page.
    """
    return max(1, (lines * 16 + LINES_PER_PAGE) // (2 * LINES_PER_PAGE))


def _time_of(part: str) -> str | None:
    words = _PARENS.sub(" ", part).replace("/", " ").upper().split()
    words = [word.strip(".,;:!") for word in words]
    if words and all(word in _TIME_WORDS for word in words) and _TIME_CORE.intersection(words):
        return " ".join(words)
    return None


def heading_convention(heading: str) -> str | None:
    """The screenplay convention a heading without INT./EXT. names, else None.

    Args:
        heading: A scene heading as written (``SNIPER SCOPE POV``, ``OPENING TITLES``).

    Returns:
        ``pov``, ``insert``, ``back`` (back to scene), ``titles``, ``montage``,
        ``intercut`` or ``flashback``; None for an ordinary heading.
    """
    if _PREFIX.match(heading):
        return None
    text = " ".join(heading.upper().strip().lstrip(".").strip(" :").split())
    for name, pattern in _CONVENTIONS:
        if pattern.search(text):
            return name
    return None


def opens_scene(heading: str, *, in_scene: bool = True) -> bool:
    """Whether a heading starts a scene: POV, INSERT and BACK TO SCENE do not (once one is open).

    Args:
        heading: A scene heading as written.
        in_scene: Whether a scene is already open (a POV before any scene opens one).
    """
    return not in_scene or heading_convention(heading) not in _SHOT_CONVENTIONS


def split_heading(heading: str) -> tuple[str | None, str | None, str | None]:
    """Split a scene heading into INT/EXT, location and time of day.

    Args:
        heading: A heading such as ``INT. WILL'S BEDROOM - NIGHT (1973)``.

    Returns:
        ``(int_ext, location, time)``: int_ext is INT, EXT, INT/EXT, EST or None;
        location is upper-cased, None when empty; time is the time-of-day part
        (``NIGHT``, ``MOMENTS LATER``, ...) or None when the heading names none.
    """
    if heading_convention(heading) is not None:
        return None, None, None  # POV, titles, montage...: never a location
    heading = _FLASHBACK.sub("", heading)
    int_ext = None
    rest = heading
    match = _PREFIX.match(heading)
    if match is not None:
        prefix = match.group(1).upper()
        int_ext = "INT/EXT" if "/" in prefix else prefix
        rest = heading[match.end() :]
    rest = rest.strip().lstrip("-–—. ").strip()
    parts = [part.strip() for part in _SEPARATOR.split(rest) if part.strip()]
    time = None
    for index in range(len(parts) - 1, 0, -1):
        time = _time_of(parts[index])
        if time is not None:
            # "BIG TOP - NIGHT - CONTINUOUS": the time of day is NIGHT, and no part of the place.
            while index > 1 and (earlier := _time_of(parts[index - 1])) is not None:
                index, time = index - 1, earlier
            parts = parts[:index]
            break
    if time is None and parts and "," in parts[-1]:
        # "EXT. PARK, DAY", "INT. HOUSE - KITCHEN, DAY": a comma before the time of day.
        place, _, last = parts[-1].rpartition(",")
        if place.strip() and (time := _time_of(last.strip())) is not None:
            parts[-1] = place
    if time is None and len(parts) == 1:
        words = parts[0].split()
        if len(words) > 1 and (time := _time_of(words[-1])) is not None:
            parts = [" ".join(words[:-1])]
    # A comma or semicolon left before a dash or the time is punctuation, not the place's name.
    parts = [stripped for part in parts if (stripped := part.strip().rstrip(",;:").strip())]
    location = " - ".join(parts).upper() or None
    return int_ext, location, time


@lru_cache(maxsize=8192)
def _key(words: tuple[str, ...]) -> tuple[str, ...]:
    """A name as words for matching: upper case, no trailing dots or possessive 'S."""
    key = []
    for word in words:
        word = word.upper().rstrip(".")
        if word.endswith(("'S", "’S")):
            word = word[:-2]
        if word:
            key.append(word)
    return tuple(key)


def _capitals(text: str) -> list[list[str]]:
    """Runs of words in capitals in action text ("WILL BLOOM, AGE 3" gives two runs)."""
    runs = []
    for found in _CAPITALS.findall(text):
        words = found.split()
        if len(words) <= _LONGEST_NAME:
            runs.append(words)
        else:
            runs.extend(
                words[start : start + _LONGEST_NAME]
                for start in range(0, len(words), _LONGEST_NAME)
            )
    return runs


def speaker_lookup(names: Iterable[str]) -> Callable[[str], str | None]:
    """A name's speaker as the script first spells it, among the cues' names (else None).

    Names match as ``Breakdown`` matches them: upper case, trailing dots and a possessive
    'S aside, so ``script.cues`` splits a joint cue the same way for every caller.
    """
    known: dict[tuple[str, ...], str] = {}
    for name in names:
        known.setdefault(_key(tuple(name.split())), name)
    return lambda name: known.get(_key(tuple(name.split())))


@dataclass(slots=True)
class SceneDraft:
    """A scene whose characters still wait for the script's full list of speakers.

    Attributes:
        index, number, heading, int_ext, location, time, line: As in ``Scene``.
        lines: Printed lines so far (see the page model).
        mentions: In order of appearance: a speaker's name (str), or a run of
            words in capitals from the action (list of str).
    """

    index: int
    number: str | None
    heading: str
    int_ext: str | None
    location: str | None
    time: str | None
    line: int | None
    lines: int = 0
    mentions: list[str | list[str]] = field(default_factory=list)

    # Not a JSON view: one compact array line for the spool file, read back by ``from_json``.
    def to_json(self) -> str:
        """The draft as one line of JSON, to set aside while a long script streams."""
        return json.dumps(
            [
                self.index,
                self.number,
                self.heading,
                self.int_ext,
                self.location,
                self.time,
                self.line,
                self.lines,
                self.mentions,
            ]
        )

    @classmethod
    def from_json(cls, data: str) -> SceneDraft:
        """Read back a draft written by ``to_json``."""
        index, number, heading, int_ext, location, time, line, lines, mentions = json.loads(data)
        return cls(index, number, heading, int_ext, location, time, line, lines, mentions)


class Breakdown:
    """Turns a stream of elements into scene drafts, then scenes.

    Feed every element in order; ``feed`` and ``close`` hand back each draft as
    its scene ends; ``finish`` turns a draft into a ``Scene`` once all elements
    were fed.
    """

    def __init__(self) -> None:
        self.speakers: dict[tuple[str, ...], str] = {}
        self._draft: SceneDraft | None = None
        self._count = 0
        self._in_dialogue = False
        self._columns: list[int] | None = None  # dual dialogue: lines of each column

    def feed(self, element: Element) -> SceneDraft | None:
        """Take the next element.

        Args:
            element: The next element of the script.

        Returns:
            The draft of the scene that this element ends (a new heading), else None.
        """
        ended = None
        kind = element.type
        name = None
        if kind == "character":
            name = character_name(element.text)
            self.speakers.setdefault(_key(tuple(name.split())), name)
        elif isinstance(element, SceneHeading) and opens_scene(
            element.text, in_scene=self._draft is not None
        ):
            ended = self._end_scene()
            self._count += 1
            int_ext, location, time = split_heading(element.text)
            self._draft = SceneDraft(
                self._count, element.number, element.text, int_ext, location, time, element.line
            )
        draft = self._draft
        if draft is None:
            return ended
        dual = getattr(element, "dual", False)
        if self._columns is not None and not dual:
            draft.lines += 1 + max(self._columns)
            self._columns = None
        lines = self._lines(kind, element.text)
        if dual:
            if self._columns is None:
                self._columns = [0]
            if name is not None:
                lines -= 1  # the blank line before the block is counted once, at its end
                if self._columns[-1]:
                    self._columns.append(0)
            self._columns[-1] += lines
        else:
            draft.lines += lines
        if name is not None:
            draft.mentions.append(name)
        elif kind == "action":
            draft.mentions.extend(_capitals(element.text))
        return ended

    def _lines(self, kind: str, text: str) -> int:
        """Printed lines of an element, the blank line before it included."""
        layout = _LAYOUT.get(kind)
        if layout is None:
            return 0  # sections, synopses, notes, page breaks: not printed
        before, width, in_dialogue = layout
        if kind == "lyrics":
            before = 0 if self._in_dialogue else 1
            in_dialogue = self._in_dialogue
        self._in_dialogue = in_dialogue
        return before + (wrapped_lines(text, width) if width else 1)

    def _end_scene(self) -> SceneDraft | None:
        draft, self._draft = self._draft, None
        if draft is not None and self._columns is not None:
            draft.lines += 1 + max(self._columns)
        self._columns = None
        self._in_dialogue = False
        return draft

    def close(self) -> SceneDraft | None:
        """End the last scene.

        Returns:
            Its draft, or None when the script has no scene heading.
        """
        return self._end_scene()

    def speaker(self, name: str) -> str | None:
        """A speaker's name as the script first spells it, or None when no cue has it."""
        return self.speakers.get(_key(tuple(name.split())))

    def finish(self, draft: SceneDraft) -> Scene:
        """The scene of a draft, once every element has been fed.

        Args:
            draft: A draft from ``feed`` or ``close`` (or read back with ``from_json``).

        Returns:
            The scene, with its characters in order of appearance.
        """
        found: dict[str, None] = {}
        for mention in draft.mentions:
            if isinstance(mention, str):
                for who in cue_speakers(mention, self.speaker):
                    found.setdefault(self.speaker(who) or who, None)
                continue
            words = _key(tuple(mention))
            start = 0
            while start < len(words):
                for end in range(len(words), start, -1):
                    name = self.speakers.get(words[start:end])
                    if name is not None:
                        for who in cue_speakers(name, self.speaker):
                            found.setdefault(who, None)
                        start = end
                        break
                else:
                    start += 1
        return Scene(
            index=draft.index,
            number=draft.number,
            heading=draft.heading,
            int_ext=draft.int_ext,
            location=draft.location,
            time=draft.time,
            characters=tuple(found),
            eighths=eighths(draft.lines),
            line=draft.line,
        )


def scenes(elements: Iterable[Element]) -> list[Scene]:
    """The scene summaries of a script's elements.

    Args:
        elements: Every element of the script, in order.

    Returns:
        One scene per scene heading, in order.
    """
    breakdown = Breakdown()
    drafts = [draft for element in elements if (draft := breakdown.feed(element)) is not None]
    if (last := breakdown.close()) is not None:
        drafts.append(last)
    return [breakdown.finish(draft) for draft in drafts]


def collect(stream: ScriptStream) -> Script:
    """Read a whole stream into a ``Script`` with its scenes.

    Args:
        stream: A Fountain or Final Draft stream.

    Returns:
        The script in memory.
    """
    elements = list(stream)
    return Script(
        title_page=stream.title_page,
        elements=elements,
        scenes=scenes(elements),
        warnings=stream.warnings,
        source=stream.source,
    )
