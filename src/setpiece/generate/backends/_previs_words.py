"""The words previs understands in a shot: sizes, blocking, angles, light, moves, props, places.

Kept apart from the planning arithmetic so the vocabulary can grow without touching it.
Each table is written as the value followed by the words (or phrases, comma-separated)
that mean it, which is how a script supervisor's glossary reads.
"""

from __future__ import annotations

__all__ = [
    "ANGLE_FILLER",
    "ANGLE_WORDS",
    "DEPTH_WORDS",
    "DIRECTIONS",
    "EXTERIOR_WORDS",
    "FAST",
    "INTERIOR_WORDS",
    "MOVE_FILLER",
    "NEUTRAL",
    "PROPS",
    "PROP_WIDTH",
    "ROOMS",
    "SETTINGS",
    "SHAKES",
    "SIDE_WORDS",
    "SIZE_WORDS",
    "SLOW",
    "STATIC",
    "TIME_WORDS",
    "VERBS",
]


def _glossary(entries: dict[str, str]) -> dict[str, str]:
    """{'ECU': 'ecu, extreme close up'} -> {'ecu': 'ECU', 'extreme close up': 'ECU'}."""
    return {
        phrase.strip(): value
        for value, phrases in entries.items()
        for phrase in phrases.split(",")
        if phrase.strip()
    }


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SIZE_WORDS = _glossary(
    {
        "ECU": "ecu, xcu, bcu, extreme close up, extreme closeup, extreme cu",
        "CU": "cu, close up, closeup, close",
        "MCU": "mcu, medium close up, medium closeup",
        "MS": "ms, medium, medium shot, mid shot, waist shot",
        "MWS": "mws, mls, medium wide, medium wide shot, medium long shot, cowboy, cowboy shot",
        "WS": "ws, wide, wide shot, ls, long shot, full shot, fs",
        "EWS": "ews, els, xws, xls, extreme wide, extreme wide shot, extreme long shot, "
        "establishing, establishing shot",
    }
)
SIDE_WORDS = _glossary(
    {
        "left": "left, frame left, l",
        "centre": "centre, center, middle, c",
        "right": "right, frame right, r",
    }
)
DEPTH_WORDS = _glossary(
    {
        "foreground": "foreground, fg, front, near",
        "midground": "midground, middleground, middle, mid, mg",
        "background": "background, bg, back, far",
    }
)
ANGLE_WORDS = _glossary(
    {
        "eye": "eye, eyelevel, level, straight, neutral",
        "low": "low",
        "worm": "worm, worms",
        "high": "high",
        "overhead": "overhead, topdown, top, birdseye",
        "bird": "aerial, drone",
        "dutch": "dutch, canted, tilted, oblique",
    }
)
ANGLE_FILLER = _words(
    "angle shot camera level eye view down s the a slight slightly extreme very looking up on "
    "at from left right birds top"
)
TIME_WORDS = _glossary(
    {
        "day": "day, daytime, morning, afternoon, noon, midday",
        "night": "night, midnight, nighttime",
        "dawn": "dawn, sunrise, daybreak",
        "dusk": "dusk, sunset, twilight, evening, golden, magic",
    }
)
EXTERIOR_WORDS = _words(
    "street road forest woods park garden beach sea ocean shore lake river harbor harbour dock "
    "desert field farm mountain hill city alley roof rooftop bridge outside exterior sky meadow "
    "highway parking yard square plaza jungle cliff valley coast lighthouse"
)
INTERIOR_WORDS = _words(
    "room kitchen office bedroom bathroom hall hallway corridor bar apartment flat house inside "
    "interior lobby studio cafe diner restaurant shop store lab laboratory classroom church "
    "library warehouse basement attic cell newsroom"
)
# The set vocabulary (issue 23): which set a location gets, from the words of its name, then
# of its bible description; the first match wins, most specific first. A location whose words
# match nothing gets the neutral set (a plain horizon outside, a bare room inside), said once
# on the take. A road is drawn only for a road.
SETTINGS: tuple[tuple[str, frozenset[str]], ...] = (
    ("rooftop", _words("roof rooftop rooftops parapet terrace")),
    ("pier", _words("pier jetty wharf boardwalk dock docks marina")),
    (
        "water",
        _words(
            "beach sea ocean shore lake river harbor harbour coast bay waves lighthouse cliff "
            "cliffs pool"
        ),
    ),
    ("desert", _words("desert dunes dune canyon wasteland salt")),
    (
        "hills",
        _words(
            "farm farmland field fields meadow prairie hill hills mountain mountains valley "
            "countryside ridge moor vineyard"
        ),
    ),
    ("nature", _words("forest woods park garden jungle orchard grove yard patio lawn backyard")),
    (
        "street",
        _words("street road highway alley avenue freeway motorway lane bridge parking crossroads"),
    ),
    ("city", _words("city square plaza town downtown station skyline mansion building")),
)
ROOMS: tuple[tuple[str, frozenset[str]], ...] = (
    ("booth", _words("booth projection projector projectionist")),
    ("auditorium", _words("auditorium cinema theatre theater seats screen stalls")),
    ("kitchen", _words("kitchen diner cafe bar restaurant")),
    (
        "room",
        _words(
            "room office bedroom bathroom hall hallway corridor apartment flat house lobby "
            "studio shop store lab laboratory classroom church library warehouse basement attic "
            "cell newsroom garage trailer home shack hospital hotel"
        ),
    ),
)
NEUTRAL = "neutral"

# Camera moves.
VERBS = _glossary(
    {
        "push": "push, pushin",
        "pull": "pull, pullback, pullout",
        "zoom": "zoom",
        "dolly": "dolly",
        "truck": "track, tracking, truck, trucking, crab",
        "pan": "pan, panning",
        "tilt": "tilt, tilting",
        "crane": "crane, boom, jib, pedestal, rise",
    }
)
DIRECTIONS = _glossary(
    {
        "in": "in, into, forward, forwards, closer, towards, toward",
        "out": "out, back, backward, backwards, away",
        "left": "left",
        "right": "right",
        "up": "up",
        "down": "down",
    }
)
# Camera shake amplitude in picture heights.
SHAKES = {
    "handheld": 0.007,
    "hand": 0.007,
    "shoulder": 0.007,
    "documentary": 0.007,
    "shaky": 0.01,
    "steadicam": 0.0035,
    "float": 0.0035,
    "floating": 0.0035,
    "gimbal": 0.0035,
}
STATIC = _words("static locked lockoff lock off fixed tripod still none no")
SLOW = _words("slow slowly gentle gently subtle creeping creep slight slightly")
FAST = _words("fast quick quickly rapid crash snap sudden")
MOVE_FILLER = _words(
    "camera to the a an and then on with from of shot move moves moving as at across over her "
    "his their them him very held follows follow following onto reveal reveals while"
)

# Props: (words, shape, height as a fraction of a standing figure, stands on the ground).
PROPS: tuple[tuple[frozenset[str], str, float, bool], ...] = (
    (_words("car truck van taxi cab jeep sedan tractor bus limo ambulance"), "car", 0.8, True),
    (_words("bike bicycle motorbike motorcycle scooter"), "bike", 0.6, True),
    (_words("table desk counter bench"), "table", 0.45, True),
    (_words("chair stool seat throne"), "chair", 0.55, True),
    (_words("sofa couch bed"), "sofa", 0.45, True),
    (_words("door gate"), "door", 1.2, True),
    (_words("tree plant bush"), "tree", 1.8, True),
    (_words("lamp lantern torch"), "lamp", 0.22, False),
    (_words("suitcase case bag briefcase backpack luggage crate box chest"), "box", 0.35, True),
    (_words("bottle wine flask vial"), "bottle", 0.14, False),
    (_words("canister tin can reel"), "tin", 0.06, False),
    (_words("cup mug glass coffee tea jar vase bowl"), "cup", 0.08, False),
    (_words("phone radio remote tablet laptop computer camera"), "phone", 0.1, False),
    (_words("gun pistol revolver rifle weapon glock beretta"), "gun", 0.08, False),
    (_words("knife sword blade dagger key pen syringe wand"), "blade", 0.12, False),
    (
        _words(
            "book letter envelope photo photograph paper note map file folder newspaper ticket card"
        ),
        "book",
        0.1,
        False,
    ),
)
# A prop shape's width over its height (the painter draws it so; an insert sizes it by it).
PROP_WIDTH = {
    "car": 2.6,
    "bike": 1.7,
    "table": 2.2,
    "chair": 0.8,
    "sofa": 2.6,
    "door": 0.45,
    "tree": 0.8,
    "lamp": 0.6,
    "box": 1.3,
    "bottle": 0.33,
    "cup": 0.9,
    "tin": 2.0,
    "phone": 0.55,
    "gun": 1.4,
    "blade": 0.25,
    "book": 0.75,
}
