"""Shot planning: proposing coverage for a scene, as a first assistant director would.

Planners are plugins. A planner subclasses ``ShotPlanner``, has a ``name``, and
turns one scene (its heading, its script elements, the characters and props in
it) into a list of ``PlannedShot``. They are found in this order: planners
registered in this process (``register``), then the ``setpiece.planners`` entry
point group (only the one asked for by name is imported; one that raises on import
or is not a ``ShotPlanner`` is refused with its name and why), then the built-in
``rules`` planner. Planners take no settings: a planner that needs some declares them
as generators do, a frozen dataclass read by ``setpiece.config.load_section``. A planner that calls a language model fits the same shape.

The built-in ``RulePlanner`` is deterministic (the same scene always gives the
same plan):

- an establishing shot (exteriors: EWS, high angle) or a master (interiors: WS)
  when the location differs from the previous scene's, and a master for a scene that
  would otherwise get no shot at all (no dialogue, no props, same place);
- a two-shot for each pair of characters who exchange lines;
- an over-the-shoulder on each speaker of an exchange, over the other's shoulder;
- a single (MCU) on each speaker, and on a speaker with no exchange;
- an insert (CU) for each prop of the scene that the bible confirms, and for each
  candidate prop that the action shows or handles with a confidence of at least
  ``INSERT_CONFIDENCE`` (see ``script.props``: 0.9 shown, 0.75 handled); names of
  characters, sounds and camera words are never candidates, so never inserts.

Headings that are screenplay conventions (``breakdown.heading_convention``): a POV
or INSERT heading inside a scene gives a POV shot or an insert of what it names, after
the scene's coverage; a scene of titles gives one title card (its action at 4 words a second, at
least ``TITLE_S``); a montage or series of shots gives one beat per action paragraph
and nothing else; an intercut gives its beats and the usual dialogue coverage. None
of them gets an establishing shot or a master, having no location.

Durations: dialogue at 2.5 words a second (150 words a minute, the usual
estimate for screen dialogue) plus a second of air, or, where a line has a dialogue take,
the take's measured length with its pause (``SceneToPlan.line_seconds``: timing from sound); action at 4 words a second;
the master runs the scene's page length at a minute a page (eighths x 7.5 s);
inserts two seconds. All are rounded to tenths of a second, at least one second.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from setpiece.errors import NotFoundError
from setpiece.plugins import Plugins
from setpiece.script.breakdown import heading_convention

__all__ = [
    "GROUP",
    "INSERT_CONFIDENCE",
    "PlannedShot",
    "PlannedSubject",
    "RulePlanner",
    "SceneToPlan",
    "ShotPlanner",
    "available_planners",
    "get_planner",
    "register",
]

DIALOGUE_WPS = 2.5
ACTION_WPS = 4.0
SECONDS_PER_EIGHTH = 7.5
INSERT_S = 2.0
INSERT_CONFIDENCE = 0.7
TITLE_S = 4.0
BEAT_S = 2.0


@dataclass(frozen=True)
class SceneToPlan:
    """What a planner sees of one scene."""

    number: str
    heading: str
    int_ext: str | None
    location: str | None
    eighths: int | None
    body: list[dict[str, Any]]
    characters: list[str]
    props: list[str]
    previous_location: str | None
    # Measured lengths of the scene's lines (seconds, pauses included), by the line's place
    # among the scene's spoken dialogue blocks (1 = the first): timing from sound.
    line_seconds: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedSubject:
    name: str
    side: str | None = None
    depth: str | None = None


@dataclass(frozen=True)
class PlannedShot:
    kind: str  # establishing, master, two-shot, over-the-shoulder, single, insert
    size: str
    angle: str
    description: str
    duration: float
    subjects: list[PlannedSubject] = field(default_factory=list)


class ShotPlanner(ABC):
    """Proposes coverage for a scene. Required: ``name`` and ``plan``."""

    name: ClassVar[str]

    @abstractmethod
    def plan(self, scene: SceneToPlan) -> list[PlannedShot]:
        """The shots to propose for ``scene``, in shooting-list order."""


def _words(text: str) -> int:
    return len(re.findall(r"[\w']+", text))


def _seconds(value: float) -> float:
    return max(1.0, round(value, 1))


def _speeches(
    body: list[dict[str, Any]], measured: dict[int, float] | None = None
) -> list[tuple[str, float, str]]:
    """(speaker, seconds, first line) for each speech, in order: the measured length of
    its line where ``measured`` has one, else its words at ``DIALOGUE_WPS``."""
    speeches: list[tuple[str, int, str]] = []
    spoken: list[bool] = []  # whether the speech says anything (is a line)
    speaker: str | None = None
    for element in body:
        kind = element.get("type")
        if kind == "character":
            speaker = element.get("name") or element.get("text", "")
            speeches.append((str(speaker), 0, ""))
            spoken.append(False)
        elif kind in ("dialogue", "lyrics", "parenthetical") and speaker is not None and speeches:
            name, words, first = speeches[-1]
            text = str(element.get("text", ""))
            if kind != "parenthetical" and text.strip():
                spoken[-1] = True
            speeches[-1] = (
                name,
                words + (_words(text) if kind != "parenthetical" else 0),
                first or (text if kind != "parenthetical" else ""),
            )
        elif kind not in ("dialogue", "lyrics", "parenthetical"):
            speaker = None
    timed: list[tuple[str, float, str]] = []
    line = 0
    for (name, words, first), says in zip(speeches, spoken, strict=True):
        line += says
        seconds = (measured or {}).get(line) if says else None
        timed.append((name, seconds if seconds is not None else words / DIALOGUE_WPS, first))
    return timed


def _without_joint_cues(
    speeches: list[tuple[str, float, str]],
) -> list[tuple[str, float, str]]:
    """Drops cues like "EDWARD AND WILL" whose speakers each also speak alone in the scene."""
    alone = {speaker for speaker, _, _ in speeches}
    kept = []
    for speech in speeches:
        parts = [p.strip() for p in re.split(r"\s+(?:AND|&)\s+", speech[0]) if p.strip()]
        if len(parts) > 1 and all(p in alone for p in parts):
            continue
        kept.append(speech)
    return kept


def _convention_shot(heading: str, convention: str | None, following: str) -> PlannedShot | None:
    """The shot a POV or INSERT heading asks for (None for other headings)."""
    text = " ".join(heading.strip().lstrip(".").split())
    if convention == "pov":
        return PlannedShot(
            kind="pov",
            size="MS",
            angle="eye",
            description=f"POV: {text}",
            duration=_seconds(max(INSERT_S, _words(following) / ACTION_WPS)),
        )
    if convention == "insert":
        what = re.sub(r"^INSERT\b[\s:.\-–—]*", "", text, flags=re.IGNORECASE) or following
        return PlannedShot(
            kind="insert",
            size="CU",
            angle="eye",
            description=f"Insert: {what[:80] or text}",
            duration=INSERT_S,
        )
    return None


def _beats(scene: SceneToPlan, convention: str) -> list[PlannedShot]:
    """Title cards, montage and intercut beats: one shot per action paragraph."""
    action = [str(e.get("text", "")) for e in scene.body if e.get("type") == "action"]
    if convention == "titles":
        words = sum(_words(text) for text in action)
        return [
            PlannedShot(
                kind="title card",
                size="WS",
                angle="eye",
                description=f"Title card: {scene.heading.strip().lstrip('.')}",
                duration=_seconds(max(TITLE_S, words / ACTION_WPS)),
            )
        ]
    label = {"montage": "Montage", "intercut": "Intercut"}[convention]
    return [
        PlannedShot(
            kind=convention,
            size="WS",
            angle="eye",
            description=f"{label} beat {index}: {text[:60]}",
            duration=_seconds(max(BEAT_S, _words(text) / ACTION_WPS)),
        )
        for index, text in enumerate(action, start=1)
    ]


_INSERT_LINE = re.compile(r"INSERT\s*[:\-–—]")


def _shots_in_body(scene: SceneToPlan) -> list[PlannedShot]:
    """The POV and INSERT headings of the scene (its own heading first when it is one)."""
    found: list[PlannedShot] = []
    # Headings, and action lines written as one ("INSERT:  The encyclopedia article").
    headings = [(scene.heading, 0)] + [
        (str(e.get("text", "")), i + 1)
        for i, e in enumerate(scene.body)
        if e.get("type") == "scene_heading"
        or (e.get("type") == "action" and _INSERT_LINE.match(str(e.get("text", ""))))
    ]
    for heading, start in headings:
        following = ""
        for element in scene.body[start:]:
            if element.get("type") == "scene_heading":
                break
            if element.get("type") == "action":
                following = str(element.get("text", ""))
                break
        shot = _convention_shot(heading, heading_convention(heading), following)
        if shot is not None:
            found.append(shot)
    return found


def _new_location(scene: SceneToPlan) -> bool:
    return scene.location is None or scene.location != scene.previous_location


def _master(scene: SceneToPlan) -> PlannedShot:
    """The establishing shot (an exterior in a new place) or the master of a scene."""
    action_words = sum(
        _words(str(e.get("text", ""))) for e in scene.body if e.get("type") == "action"
    )
    in_scene = list(dict.fromkeys(scene.characters))
    exterior = (scene.int_ext or "").startswith(("EXT", "EST"))
    length = (scene.eighths or 1) * SECONDS_PER_EIGHTH
    sides = ["left", "centre", "right"]
    establishing = exterior and _new_location(scene)
    return PlannedShot(
        kind="establishing" if establishing else "master",
        size="EWS" if establishing else "WS",
        angle="high" if establishing else "eye",
        description=f"{'Establishing' if establishing else 'Master'}: {scene.heading}",
        duration=_seconds(3 + action_words / ACTION_WPS if establishing else length),
        subjects=[
            PlannedSubject(n, sides[i % 3], "background" if establishing else "midground")
            for i, n in enumerate(in_scene)
        ],
    )


class RulePlanner(ShotPlanner):
    """Coverage from the scene's content by fixed rules (see the module docstring)."""

    name = "rules"

    def plan(self, scene: SceneToPlan) -> list[PlannedShot]:
        convention = heading_convention(scene.heading)
        if convention in ("titles", "montage"):
            return _beats(scene, convention)
        shots: list[PlannedShot] = _beats(scene, convention) if convention == "intercut" else []
        speeches = _without_joint_cues(_speeches(scene.body, scene.line_seconds))
        placed = convention is None or convention == "flashback"
        if placed and (_new_location(scene) or not (speeches or scene.props)):
            # A new place gets established; a scene with nothing else to cover gets its master.
            shots.append(_master(scene))
        seconds: dict[str, float] = {}
        first_line: dict[str, str] = {}
        pairs: dict[tuple[str, str], float] = {}
        counted: set[tuple[tuple[str, str], int]] = set()  # each speech once in an exchange
        for index, (speaker, length, line) in enumerate(speeches):
            seconds[speaker] = seconds.get(speaker, 0.0) + length
            first_line.setdefault(speaker, line)
            if index and speeches[index - 1][0] != speaker:
                a, b = speeches[index - 1][0], speaker
                key = (a, b) if (a, b) in pairs or (b, a) not in pairs else (b, a)
                for spoken in (index - 1, index):
                    if (key, spoken) not in counted:
                        counted.add((key, spoken))
                        pairs[key] = pairs.get(key, 0.0) + speeches[spoken][1]
        in_exchange: dict[str, str] = {}
        for (a, b), exchange in pairs.items():
            shots.append(
                PlannedShot(
                    kind="two-shot",
                    size="MS",
                    angle="eye",
                    description=f"Two-shot: {a} and {b}",
                    duration=_seconds(exchange + 1),
                    subjects=[
                        PlannedSubject(a, "left", "midground"),
                        PlannedSubject(b, "right", "midground"),
                    ],
                )
            )
            in_exchange.setdefault(a, b)
            in_exchange.setdefault(b, a)
        for speaker, other in in_exchange.items():
            shots.append(
                PlannedShot(
                    kind="over-the-shoulder",
                    size="MCU",
                    angle="eye",
                    description=f"Over the shoulder: {speaker} over {other}",
                    duration=_seconds(seconds.get(speaker, 0.0) + 1),
                    subjects=[
                        PlannedSubject(speaker, "right", "midground"),
                        PlannedSubject(other, "left", "foreground"),
                    ],
                )
            )
        for speaker in seconds:
            quote = first_line.get(speaker, "")
            shots.append(
                PlannedShot(
                    kind="single",
                    size="MCU",
                    angle="eye",
                    description=f"Single: {speaker}" + (f' - "{quote[:60]}"' if quote else ""),
                    duration=_seconds(seconds[speaker] + 1),
                    subjects=[PlannedSubject(speaker, "centre", "midground")],
                )
            )
        shots.extend(_shots_in_body(scene))
        for prop in scene.props:
            shots.append(
                PlannedShot(
                    kind="insert",
                    size="CU",
                    angle="eye",
                    description=f"Insert: {prop}",
                    duration=INSERT_S,
                    subjects=[PlannedSubject(prop, "centre", "foreground")],
                )
            )
        return shots


GROUP = "setpiece.planners"

# The one discovery rule for backends (setpiece.plugins). The rule-based planner is built in.
_PLUGINS: Plugins[ShotPlanner] = Plugins(
    GROUP, ShotPlanner, {"rules": "setpiece.script.planner:RulePlanner"}, "shot planner"
)
_REGISTERED = _PLUGINS.registered


def register(planner: type[ShotPlanner]) -> type[ShotPlanner]:
    """Registers a planner class by its ``name`` (usable as a decorator)."""
    return _PLUGINS.register(planner)


def available_planners() -> list[str]:
    """The names of every planner: registered, from entry points (not imported), built in."""
    return _PLUGINS.names()


def get_planner(name: str = "rules") -> ShotPlanner:
    """The planner called ``name``: registered, built in, then its entry point.

    Only the entry point of that name is imported.

    Raises:
        NotFoundError: No planner has that name.
        InvalidInputError: Its entry point raises on import or is not a ShotPlanner.
    """
    found = _PLUGINS.find(name)
    if found is not None:
        return found[1]()
    raise NotFoundError(
        f"no shot planner {name!r}: available are {', '.join(available_planners())}"
    )
