"""What a previs panel shows, as numbers: the shot brief read into a composition.

No pixels here. ``plan_shot`` turns a ``ShotBrief`` (or a bare prompt) into a ``Plan``:
the framing from the shot size, the depth scale from the lens, the horizon from the
angle, each subject placed by its blocking, the light from the time of day, and the
camera move parsed from its words. ``camera_path`` then gives one view per frame.

World units: the rest framing spans x in [0, aspect] and y in [0, 1], y downwards, one
unit being the picture's height. Every figure stands so that an eye-level camera's
horizon cuts all of them at the same height (the draughtsman's rule), which is what
makes foreground, midground and background read as depth.

Words previs does not understand are kept in ``Plan.ignored`` and recorded on the
take, never silently dropped. Everything a seed varies (a pose, the light's position)
comes from ``unit``: a hash, so it is the same on every machine and Python version.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction

from setpiece.generate.backends._previs_colour import described_colors
from setpiece.generate.backends._previs_words import (
    ANGLE_FILLER,
    ANGLE_WORDS,
    DEPTH_WORDS,
    DIRECTIONS,
    EXTERIOR_WORDS,
    FAST,
    INTERIOR_WORDS,
    MOVE_FILLER,
    NEUTRAL,
    PROP_WIDTH,
    PROPS,
    ROOMS,
    SETTINGS,
    SHAKES,
    SIDE_WORDS,
    SIZE_WORDS,
    SLOW,
    STATIC,
    TIME_WORDS,
    VERBS,
)
from setpiece.generate.base import ShotBrief, SubjectBrief

__all__ = [
    "Figure",
    "Move",
    "Plan",
    "View",
    "camera_path",
    "name_color",
    "parse_move",
    "plan_prompt",
    "plan_shot",
    "unit",
]

RGB = tuple[int, int, int]


def unit(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts`` (stable across runs and machines)."""
    key = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64


def name_color(name: str, salt: str = "subject") -> RGB:
    """A mid-toned colour that is always the same for a name."""
    hue = unit(salt, name.upper())
    sat = 0.45 + 0.25 * unit(salt, "s", name.upper())
    val = 0.62 + 0.2 * unit(salt, "v", name.upper())
    r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
    return round(r * 255), round(g * 255), round(b * 255)


# Shot size --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Framing:
    """How big a standing figure is for a shot size.

    Attributes:
        figure: Height of a standing midground figure, in picture heights.
        head_top: Where the main figure's head top sits (y).
        eye_cut: Where an eye-level camera's horizon cuts a figure, as a fraction of its
            height from the feet (lower for wide shots: the camera sits at chest height).
        defocus: Background blur at 50 mm, in picture heights (close shots only).
        lens: The focal length assumed when the shot names none.
    """

    figure: float
    head_top: float
    eye_cut: float
    defocus: float
    lens: float


SIZES: dict[str, Framing] = {
    "ECU": Framing(11.0, -0.26, 0.93, 0.018, 100.0),
    "CU": Framing(3.5, 0.09, 0.93, 0.012, 85.0),
    "MCU": Framing(2.4, 0.08, 0.92, 0.008, 65.0),
    "MS": Framing(1.7, 0.08, 0.9, 0.005, 50.0),
    "MWS": Framing(1.2, 0.08, 0.8, 0.002, 35.0),
    "WS": Framing(0.7, 0.16, 0.72, 0.0, 28.0),
    "EWS": Framing(0.17, 0.58, 0.6, 0.0, 24.0),
}
# Prompt words, longest first, for prompts without a brief.
_PROMPT_SIZES = sorted(
    ((w, s) for w, s in SIZE_WORDS.items() if len(w) > 3), key=lambda ws: -len(ws[0])
)

# Depth scale at 35 mm; a longer lens compresses it towards 1 (background looks nearer).
DEPTH_SCALE = {"background": 0.5, "midground": 1.0, "foreground": 1.3}
SIDE_X = {"left": 0.3, "centre": 0.5, "right": 0.7}  # fractions of the picture width


# Angles and time of day ---------------------------------------------------------------------------

# How far an angle moves the horizon in frame from where eye level puts it, in picture
# heights (up is negative): a low camera puts it low on the body, a high one above the head.
ANGLE_SHIFT = {"low": 0.34, "worm": 0.6, "high": -0.34, "bird": -0.8}
# Camera moves -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One camera move: ``kind`` push, pull, pan, tilt, truck or crane; ``sign`` +1 right/down."""

    kind: str
    sign: int = 1
    speed: float = 1.0
    whip: bool = False

    @property
    def label(self) -> str:
        if self.kind in ("push", "pull"):
            return "push in" if self.kind == "push" else "pull out"
        words = {"pan": ("left", "right"), "truck": ("left", "right")}.get(
            self.kind, ("up", "down")
        )
        prefix = "whip " if self.whip else ""
        return f"{prefix}{self.kind} {words[0] if self.sign < 0 else words[1]}"


@dataclass(frozen=True)
class MovePlan:
    moves: tuple[Move, ...] = ()
    shake: float = 0.0  # amplitude in picture heights: handheld 0.007, steadicam 0.0035
    ignored: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        parts = [m.label for m in self.moves]
        if self.shake:
            parts.insert(0, "handheld" if self.shake > 0.005 else "floating")
        return ", ".join(parts) or "static"


def parse_move(words: str | None) -> MovePlan:
    """Reads a ``camera_move`` phrase ("slow push-in", "pan left to right, handheld").

    The last direction word after a verb wins ("pan left to right" pans right). A verb
    with no direction takes its usual one: push, zoom and dolly go in, pan right, tilt
    and crane up, track sideways right.
    """
    if not words:
        return MovePlan()
    text = words.lower().replace("push-in", "pushin").replace("pull-back", "pullback")
    text = text.replace("pull-out", "pullout").replace("lock-off", "lockoff")
    text = text.replace("hand-held", "handheld").replace("bird's", "birds")
    tokens = [t for t in re.split(r"[^\w]+", text) if t]
    moves: list[Move] = []
    shake = 0.0
    ignored: list[str] = []
    speed = 1.0
    whip = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in SLOW:
            speed = 0.6
        elif token in FAST:
            speed = 1.6
        elif token == "whip":
            whip = True
        elif token in SHAKES:
            shake = max(shake, SHAKES[token])
        elif token in VERBS:
            verb = VERBS[token]
            direction = None
            j = i + 1
            while j < len(tokens) and tokens[j] not in VERBS and tokens[j] not in SHAKES:
                if tokens[j] in DIRECTIONS:
                    direction = DIRECTIONS[tokens[j]]
                elif tokens[j] not in MOVE_FILLER:
                    break
                j += 1
            moves.append(_move(verb, direction, speed, whip))
            speed, whip = 1.0, False
            i = j
            continue
        elif token in STATIC or token in MOVE_FILLER or token in DIRECTIONS:
            pass
        else:
            ignored.append(token)
        i += 1
    return MovePlan(tuple(moves), shake, tuple(ignored))


def _move(verb: str, direction: str | None, speed: float, whip: bool) -> Move:
    if verb in ("push", "zoom", "dolly") and direction in (None, "in"):
        return Move("push", 1, speed)
    if verb in ("push", "pull", "zoom", "dolly", "truck") and direction == "out":
        return Move("pull", -1, speed)
    if verb == "pull" and direction in (None, "in"):
        return Move("pull", -1, speed)
    if verb == "truck" and direction == "in":
        return Move("push", 1, speed)
    if verb in ("pan", "truck", "dolly", "push", "pull", "zoom") and direction in ("left", "right"):
        kind = "pan" if verb == "pan" else "truck"
        return Move(kind, -1 if direction == "left" else 1, speed, whip and kind == "pan")
    if verb in ("pan", "tilt") and direction in ("up", "down"):
        return Move("tilt", -1 if direction == "up" else 1, speed)
    if verb == "crane" and direction in (None, "up", "down"):
        return Move("crane", 1 if direction == "down" else -1, speed)
    if verb == "tilt":
        return Move("tilt", -1, speed)
    if verb == "truck":
        return Move("truck", 1, speed)
    return Move("pan", 1, speed, whip)


# The plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A character or prop placed in the composition (world units)."""

    name: str
    kind: str  # character | prop
    color: RGB
    x: float  # centre
    feet: float  # y where it meets the ground
    height: float  # a standing figure's full height, or the prop's
    depth: str
    side: str
    facing: int  # -1 looks left, +1 right
    pose: float  # 0..1 from the seed: arms, lean, head tilt
    build: float  # 0..1 from the name: shoulders, hair
    shape: str = "figure"  # figure, or a prop shape
    on_table: bool = False
    hair: RGB | None = None  # from the description ("grey hair", "blonde"), else by the name


@dataclass(frozen=True)
class Plan:
    """Everything the painter needs, all decided."""

    aspect: float
    seed: int
    size: str
    lens_mm: float
    angle: str  # eye | low | worm | high | bird | overhead
    roll: float  # dutch tilt, degrees (counter-clockwise)
    horizon: float  # y of the horizon (may be outside the frame)
    vanish_x: float
    eye_cut: float
    interior: bool
    int_ext: str
    location: str
    setting: str  # a set of the vocabulary (_previs_words.SETTINGS, ROOMS) or neutral
    time: str  # day | night | dawn | dusk
    light: tuple[float, float]  # key light (sun, moon, lamp, window) in world units
    figures: tuple[Figure, ...]
    move: MovePlan
    defocus: float  # background blur, picture heights
    mono: bool
    code: str
    scene: str
    heading: str
    description: str
    prompt_only: bool = False
    ignored: tuple[str, ...] = ()
    used: dict[str, object] = field(default_factory=dict)
    tint: tuple[float, float, float] | None = None  # a style's colour cast, RGB gains

    @property
    def figure_height(self) -> float:
        return SIZES[self.size].figure


# A style's words that cast a colour over the whole frame, as RGB gains (first match wins).
STYLE_TINTS: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("sepia", (1.12, 0.94, 0.70)),
    ("sodium", (1.55, 1.0, 0.45)),
    ("golden", (1.25, 1.05, 0.75)),
    ("teal", (0.75, 1.05, 1.2)),
    ("bleach", (1.3, 1.3, 1.3)),
)


def _words(text: str | None) -> list[str]:
    return [w for w in re.split(r"[^\w']+", (text or "").lower().replace("'", "")) if w]


def _heading_parts(heading: str) -> tuple[str | None, str | None, str | None]:
    """INT./EXT., location and time of day from a scene heading such as 'INT. KITCHEN - NIGHT'."""
    match = re.match(
        r"\s*(INT\.?\s*/\s*EXT\.?|EXT\.?\s*/\s*INT\.?|I/E\.?|INT\.?|EXT\.?|EST\.?)\s*(.*)$",
        heading or "",
        re.IGNORECASE,
    )
    if not match:
        return None, heading.strip() or None, None
    prefix = match.group(1).upper().replace(" ", "").rstrip(".")
    int_ext = {"I/E": "INT/EXT", "EXT./INT": "INT/EXT", "INT./EXT": "INT/EXT"}.get(prefix, prefix)
    rest = match.group(2)
    location, _, time = rest.rpartition(" - ") if " - " in rest else (rest, "", "")
    if not _ and "–" in rest:
        location, _, time = rest.rpartition("–")
    return int_ext, location.strip() or None, time.strip() or None


def _time_of_day(text: str | None, ignored: list[str]) -> str | None:
    for word in _words(text):
        if word in TIME_WORDS:
            return TIME_WORDS[word]
    if text and text.strip():
        ignored.append(f"time of day {text.strip()!r}")
    return None


def _setting(location: str, description: str, interior: bool) -> tuple[str, str | None]:
    """The set of the vocabulary (``_previs_words.SETTINGS``, ``ROOMS``) that the location's
    name, then its description, names; else the neutral set and a note saying so."""
    table = ROOMS if interior else SETTINGS
    for text in (location, description):
        words = set(_words(text.replace("-", " ")))
        for setting, names in table:
            if words & names:
                return setting, None
    return NEUTRAL, f"location {location[:80]!r} matches no set of the vocabulary: neutral set"


def _angle(text: str | None, ignored: list[str]) -> tuple[str, bool, int]:
    """(base angle, dutch, dutch sign) from words like 'low', 'high dutch', "bird's eye"."""
    base = "eye"
    dutch = False
    sign = 0
    words = _words((text or "").replace("-", " ").replace("eye level", "eyelevel"))
    joined = " ".join(words)
    if "top down" in joined or "birds eye" in joined:
        base = "overhead"
    for word in words:
        kind = ANGLE_WORDS.get(word)
        if kind == "dutch":
            dutch = True
        elif kind and kind != "eye" and base == "eye":
            base = kind
        elif word in ("left", "right") and dutch:
            sign = -1 if word == "right" else 1
        elif kind is None and word not in ANGLE_FILLER:
            ignored.append(f"angle word {word!r}")
    if base == "worm" or ("extreme" in words and base == "low"):
        base = "worm"
    if "extreme" in words and base == "high":
        base = "bird"
    return base, dutch, sign


def plan_shot(brief: ShotBrief, *, aspect: float, seed: int, prompt: str = "") -> Plan:
    """The composition of a shot: sizes, places, horizon, light and move, all decided."""
    ignored: list[str] = []
    size = _size(brief, ignored)
    framing = SIZES[size]
    lens = float(brief.lens_mm) if brief.lens_mm else framing.lens
    lens = min(max(lens, 8.0), 600.0)
    angle, dutch, dutch_sign = _angle(brief.angle, ignored)
    int_ext, location, time = _where_and_when(brief, prompt, ignored)
    interior = int_ext in ("INT", "INT/EXT")
    mono, tint = _look(brief.style)
    setting, note = _setting(location, brief.location_description, interior)
    if note is not None:
        ignored.append(note)

    # A midground figure stands where the size frames it; the horizon cuts it at eye_cut (a
    # fraction of its height, clamped so the camera stays above the ground), and every other
    # figure stands so that the horizon cuts it at the same fraction.
    eye_cut = framing.eye_cut - ANGLE_SHIFT.get(angle, 0.0) / framing.figure
    eye_cut = min(max(eye_cut, 0.05), 6.0)
    compress = 35.0 / lens  # depth scale exponent: 1 at 35 mm, less on a long lens
    scale = {d: s**compress for d, s in DEPTH_SCALE.items()}
    fig_h = framing.figure
    main_feet = framing.head_top + fig_h
    horizon = main_feet - eye_cut * fig_h
    if angle == "overhead":
        horizon = -10.0
    vanish_x = aspect * (0.5 + 0.16 * (unit("vanish", location.upper()) - 0.5))
    figures = _place(brief.subjects, aspect, seed, fig_h, horizon, eye_cut, scale, ignored)
    if figures and all(f.kind == "prop" for f in figures):
        figures = _insert(figures, aspect)
    light = _key_light(location, seed, aspect, horizon, time, interior, fig_h, scale["background"])
    roll = 0.0
    if dutch:
        sign = dutch_sign or (1 if unit("dutch", brief.code, location.upper()) < 0.5 else -1)
        roll = sign * (9.0 + 4.0 * unit("dutch-angle", seed))
    defocus = framing.defocus * (lens / 50.0)
    move = parse_move(brief.camera_move)
    ignored.extend(f"camera move word {w!r}" for w in move.ignored)
    used: dict[str, object] = {
        "size": size,
        "lens_mm": round(lens, 2),
        "angle": angle + (" dutch" if dutch else ""),
        "int_ext": int_ext,
        "location": location,
        "time_of_day": time,
        "camera_move": move.label,
    }
    return Plan(
        aspect=aspect,
        seed=seed,
        size=size,
        lens_mm=lens,
        angle=angle,
        roll=roll,
        horizon=horizon,
        vanish_x=vanish_x,
        eye_cut=eye_cut,
        interior=interior,
        int_ext=int_ext,
        location=location,
        setting=setting,
        time=time,
        light=light,
        figures=figures,
        move=move,
        defocus=defocus,
        mono=mono,
        tint=tint,
        code=brief.code,
        scene=brief.scene,
        heading=brief.heading,
        description=brief.description,
        ignored=tuple(ignored),
        used=used,
    )


def _size(brief: ShotBrief, ignored: list[str]) -> str:
    """The shot size: the brief's, read from its words, else MS with subjects and WS without."""
    fallback = "MS" if brief.subjects else "WS"
    if not brief.size:
        return fallback
    key = brief.size.strip()
    size = SIZE_WORDS.get(key.lower().replace("-", " "), key.upper())
    if size not in SIZES:
        ignored.append(f"shot size {brief.size!r}")
        return fallback
    return size


def _where_and_when(brief: ShotBrief, prompt: str, ignored: list[str]) -> tuple[str, str, str]:
    """(int/ext, location, time of day): the brief's, else the heading's, else guessed from
    the words of the location and description (exterior only when they say so)."""
    heading_int_ext, heading_location, heading_time = _heading_parts(brief.heading)
    int_ext = (brief.int_ext or heading_int_ext or "").upper().replace(" ", "")
    location = brief.location or heading_location or prompt or brief.heading or "nowhere"
    if int_ext not in ("INT", "EXT", "INT/EXT", "EST"):
        words = set(_words(location)) | set(_words(brief.description))
        int_ext = "EXT" if (words & EXTERIOR_WORDS) and not (words & INTERIOR_WORDS) else "INT"
        if brief.int_ext:
            ignored.append(f"int/ext {brief.int_ext!r}")
    time = _time_of_day(brief.time_of_day, ignored) if brief.time_of_day else None
    return int_ext, location, time or _time_of_day(heading_time, []) or "day"


def _look(style_name: str | None) -> tuple[bool, tuple[float, float, float] | None]:
    """(monochrome, tint gains) from the style's words: noir is black and white, sepia tinted."""
    style = (style_name or "").lower()
    mono = any(
        w in style
        for w in ("noir", "black and white", "b&w", "monochrome", "greyscale", "grayscale")
    )
    tint = next((gains for word, gains in STYLE_TINTS if word in style), None)
    return mono or "sepia" in style, tint


def _key_light(
    location: str,
    seed: int,
    aspect: float,
    horizon: float,
    time: str,
    interior: bool,
    fig_h: float,
    background_scale: float,
) -> tuple[float, float]:
    """The key light: the sun or moon outside, a window or a lamp inside; the seed nudges it."""
    side = -1 if unit("light-side", location.upper()) < 0.5 else 1
    jitter = (unit("light", seed) - 0.5) * 0.12 * aspect
    light_x = aspect * (0.5 + side * 0.3) + jitter
    if time in ("dawn", "dusk"):
        light_y = horizon - 0.03
    elif interior:
        light_y = horizon - 0.25 * fig_h * background_scale
    else:
        light_y = min(horizon - 0.25, 0.18) + (unit("light-y", seed) - 0.5) * 0.06
    return light_x, light_y


def plan_prompt(prompt: str, *, aspect: float, seed: int) -> Plan:
    """A panel from the prompt alone: the backdrop its words suggest and the prompt as caption."""
    text = " ".join(_words(prompt.replace("-", " ")))
    size = next((s for w, s in _PROMPT_SIZES if f" {w} " in f" {text} "), None)
    words = set(text.split())
    time = next((TIME_WORDS[w] for w in text.split() if w in TIME_WORDS), None)
    exterior = bool(words & EXTERIOR_WORDS) and not bool(words & INTERIOR_WORDS)
    brief = ShotBrief(
        code="",
        scene="",
        heading="",
        description=prompt.strip(),
        size=size or "WS",
        int_ext="EXT" if exterior else "INT",
        location=prompt.strip() or "prompt",
        time_of_day=time,
    )
    plan = plan_shot(brief, aspect=aspect, seed=seed)
    return replace(plan, prompt_only=True, ignored=())


def _place(
    subjects: tuple[SubjectBrief, ...],
    aspect: float,
    seed: int,
    fig_h: float,
    horizon: float,
    eye_cut: float,
    scale: dict[str, float],
    ignored: list[str],
) -> tuple[Figure, ...]:
    """Places subjects by side and depth; several on one spot stand side by side."""
    sides, depths = _blocking(subjects, ignored)
    spots: dict[tuple[str, str], list[int]] = {}
    for i, (side, depth) in enumerate(zip(sides, depths, strict=True)):
        spots.setdefault((side, depth), []).append(i)
    placed: list[Figure] = []
    for i, subject in enumerate(subjects):
        side, depth = sides[i], depths[i]
        together = spots[(side, depth)]
        height_full = fig_h * scale[depth]
        spread = (together.index(i) - (len(together) - 1) / 2) * height_full * 0.3
        x = aspect * SIDE_X[side] + spread
        others = [aspect * SIDE_X[sides[j]] for j in range(len(subjects)) if j != i]
        towards = (sum(others) / len(others)) if others else aspect / 2
        facing = 1 if towards > x else -1
        if abs(towards - x) < 1e-6:  # alone in the middle: the seed turns them
            facing = 1 if unit("facing", seed, subject.name) < 0.5 else -1
        feet = horizon + eye_cut * height_full
        placed.append(_figure(subject, seed, x, feet, height_full, depth, side, facing))
    return tuple(placed)


def _figure(
    subject: SubjectBrief,
    seed: int,
    x: float,
    feet: float,
    height_full: float,
    depth: str,
    side: str,
    facing: int,
) -> Figure:
    """A subject standing at its place: a character's figure, or a prop's shape and size."""
    is_prop = subject.kind.strip().lower() == "prop"
    color = tuple(subject.color) if subject.color else name_color(subject.name)
    coat, hair = described_colors(subject.description) if not is_prop else (None, None)
    color = coat or color  # the description's coat wins over the film's palette
    shape, height, on_table = "figure", height_full, False
    if is_prop:
        shape, ratio, grounded = _prop_shape(subject.name, subject.description)
        height = height_full * ratio
        on_table = not grounded
    return Figure(
        name=subject.name,
        kind="prop" if is_prop else "character",
        color=(int(color[0]), int(color[1]), int(color[2])),
        x=x,
        feet=feet,
        height=height,
        depth=depth,
        side=side,
        facing=facing,
        pose=unit("pose", seed, subject.name),
        build=unit("build", subject.name.upper()),
        shape=shape,
        on_table=on_table,
        hair=hair,
    )


INSERT_HEIGHT = 0.5  # an insert's prop fills half the picture's height (or 80 % of its width)


def _insert(figures: tuple[Figure, ...], aspect: float) -> tuple[Figure, ...]:
    """An insert: its props large, side by side in the middle of the frame, on the ground."""
    count = len(figures)
    slot = 0.8 * aspect / count
    placed = []
    for index, fig in enumerate(figures):
        width_ratio = PROP_WIDTH.get(fig.shape, 1.0)
        height = min(INSERT_HEIGHT, 0.8 * slot / width_ratio)
        x = aspect * 0.1 + slot * (index + 0.5)
        placed.append(replace(fig, x=x, feet=0.8, height=height, on_table=False, depth="midground"))
    return tuple(placed)


def _blocking(
    subjects: tuple[SubjectBrief, ...], ignored: list[str]
) -> tuple[list[str], list[str]]:
    """Each subject's side and depth: its own, read from its words (midground by default);
    unplaced subjects take the emptiest side of their depth: centre, then left, then right."""
    sides: list[str | None] = []
    depths: list[str] = []
    for subject in subjects:
        side = SIDE_WORDS.get((subject.side or "").strip().lower())
        if subject.side and side is None:
            ignored.append(f"side {subject.side!r} of {subject.name}")
        depth = DEPTH_WORDS.get((subject.depth or "").strip().lower(), "midground")
        if subject.depth and (subject.depth or "").strip().lower() not in DEPTH_WORDS:
            ignored.append(f"depth {subject.depth!r} of {subject.name}")
        sides.append(side)
        depths.append(depth)
    unplaced = [i for i, s in enumerate(sides) if s is None]
    if len(unplaced) == len(subjects) and len(subjects) in (2, 3):
        order = ["left", "right"] if len(subjects) == 2 else ["left", "centre", "right"]
        for i, side in zip(unplaced, order, strict=True):
            sides[i] = side
    for i in unplaced:
        if sides[i] is None:
            taken = [sides[j] for j in range(len(subjects)) if depths[j] == depths[i]]
            sides[i] = min(("centre", "left", "right"), key=lambda s: taken.count(s))
    return [side or "centre" for side in sides], depths


def _prop_shape(name: str, description: str) -> tuple[str, float, bool]:
    words = set(_words(name)) or set()
    for pool in (words, set(_words(description))):
        for keys, shape, ratio, grounded in PROPS:
            if pool & keys:
                return shape, ratio, grounded
    return "box", 0.25, True


# The camera path ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """What the camera sees: a box in world units (the rest framing is 0..aspect x 0..1)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def zoom(self) -> float:
        return 1.0 / (self.y1 - self.y0)


def _ease(t: float, whip: bool) -> float:
    if whip:
        return 0.5 + 0.5 * math.tanh(9.0 * (t - 0.5)) / math.tanh(4.5)
    return t * t * (3.0 - 2.0 * t)


def _wobble(seconds: float, phases: list[float]) -> float:
    """A camera operator's sway: three incommensurate sines (0.9, 1.7, 3.1 Hz), about -1..1."""
    return (
        sum(
            math.sin(2 * math.pi * f * seconds + p)
            for f, p in zip((0.9, 1.7, 3.1), phases, strict=True)
        )
        / 2
    )


def camera_path(plan: Plan, frames: int, fps: Fraction) -> list[View]:
    """One view per frame; a still (one frame) gets the rest framing."""
    aspect = plan.aspect
    focus_x, focus_y = aspect / 2, 0.5
    characters = [f for f in plan.figures if f.kind == "character"]
    if characters:
        main = min(characters, key=lambda f: {"midground": 0, "foreground": 1}.get(f.depth, 2))
        focus_x = main.x
        focus_y = main.feet - main.height * 0.92  # the eyes
    views = []
    phases = [unit("shake", plan.seed, k) * 2 * math.pi for k in range(6)]
    for index in range(frames):
        t = index / (frames - 1) if frames > 1 else 0.0
        seconds = float(index / fps) if fps else 0.0
        cx, cy, size = aspect / 2, 0.5, 1.0  # size: box height
        for move in plan.move.moves:
            s = _ease(t, move.whip)
            if move.kind in ("push", "pull"):
                end = 1.0 / (1.0 + 0.3 * move.speed)
                tight = s if move.kind == "push" else 1.0 - s
                size *= 1.0 + (end - 1.0) * tight
                half_w, half_h = aspect * end / 2, end / 2
                target_x = min(max(focus_x, half_w), aspect - half_w)
                target_y = min(max(focus_y, half_h), 1.0 - half_h)
                cx += (target_x - aspect / 2) * tight
                cy += (target_y - 0.5) * tight
            else:
                reach = {"pan": 0.16 * aspect, "truck": 0.1 * aspect, "tilt": 0.14, "crane": 0.12}
                span = reach[move.kind] * move.speed * (3.0 if move.whip else 1.0)
                offset = move.sign * span * (2.0 * s - 1.0)
                if move.kind in ("pan", "truck"):
                    cx += offset
                else:
                    cy += offset
        if plan.move.shake and frames > 1:
            cx += plan.move.shake * _wobble(seconds, phases[:3])
            cy += plan.move.shake * _wobble(seconds, phases[3:])
        views.append(
            View(cx - aspect * size / 2, cy - size / 2, cx + aspect * size / 2, cy + size / 2)
        )
    return views
