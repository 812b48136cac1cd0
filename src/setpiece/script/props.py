"""Candidate props: objects a screenwriter put in capitals in action lines.

Screenplays capitalise a character's first appearance, sound cues, camera words,
emphasis ("EXTREMELY"), verbs of a beat ("Nancy SMACKS him") and, by a common
convention, the props that matter: "She opens the SUITCASE." A run of words in
capitals is a candidate prop only when it is used as an object noun phrase:

- the camera is asked to see it: the run is a whole action line (a shot line such
  as ``A SPINNING PINWHEEL`` or ``HIS CAR,``) or follows ON, AT, INSERT or CLOSE ON
  (confidence ``SHOWN`` = 0.9);
- or it follows a determiner or a possessive ("the KEY", "a dented tin FILM
  CANISTER", "Mom's PORSCHE", "his SILVER BERETTA"), so a character handles it or
  the sentence points at it (confidence ``HANDLED`` = 0.75).

It is never a character (someone who ever speaks, or a name the action calls
"This is X"), a person or group (``PEOPLE_WORDS``), a sound (``SOUND_WORDS``, a
cue followed by "!", letters stretched like RIIING, a noun of noise), a place
(``PLACE_WORDS``), camera or editing vocabulary, a word ending in -ING or -ED alone,
a sentence in capitals, or longer than ``MAX_WORDS`` words or ``MAX_CHARS``
characters. Measured on hand labels of the three official Fountain
samples and the demo (``bench/script_props.py``, ``bench/labels/``). The rules are
deterministic so a re-import finds the same props; a person confirms a candidate in
the bible, and the shot planner draws inserts only for confirmed props and for
candidates of at least ``planner.INSERT_CONFIDENCE``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CAMERA_WORDS",
    "HANDLED",
    "LIVING_WORDS",
    "PEOPLE_WORDS",
    "PLACE_WORDS",
    "SHOWN",
    "SOUND_WORDS",
    "Candidate",
    "find_candidates",
    "find_props",
]

SHOWN = 0.9
HANDLED = 0.75

# Editing, camera and formatting words that appear in capitals in action.
CAMERA_WORDS = frozenset(
    """
    ANGLE ON CLOSE CLOSEUP CLOSE-UP CU ECU EXTREME WIDE SHOT SHOTS POV P.O.V. INSERT CUT CUTS TO
    FADE FADES IN OUT DISSOLVE DISSOLVES SMASH MATCH JUMP PAN PANS TILT TILTS ZOOM ZOOMS DOLLY
    TRACKING TRACK CRANE AERIAL OVERHEAD BACK REVERSE INTERCUT INTERCUTTING MONTAGE SERIES OF
    FLASHBACK FLASH FORWARD END BEGIN CONTINUOUS LATER MOMENTS SAME TIME DAY NIGHT MORNING
    EVENING SUPER SUPERIMPOSE TITLE TITLES CREDITS THE A AN AND OR BUT WITH FROM AT ON OFF
    UP DOWN V.O. O.S. O.C. OS VO OC CONT'D CONTD MORE SLOW MOTION FREEZE FRAME SPLIT
    WE SEE HEAR HEARS HE SHE IT THEY I ME MY HIS HER NO YES OK OKAY ALL NOW THEN BEAT
    INT EXT EST INT. EXT. I/E ON-SCREEN OFF-SCREEN FG BG FOREGROUND BACKGROUND WIDER TIGHT TIGHTER
    PUSH PUSHES PULL PULLS SWEEP SWEEPS MOVE MOVES MOVING TOWARDS TOWARD CAMERA OVER HOLD HOLDS
    FURTHER ALONG STAY BEHIND RUSH DRIFT DRIFTS RACK FOCUS HANDHELD STEADICAM BIRD'S-EYE VERY
    NEW YORK DVD CD USA UK FBI CIA NYPD LAPD DNA GPS CEO DJ MRI ER ICU LOOK LOOKS SINGLE
    VARIOUS INTO THROUGH UNDER ABOVE BELOW INSIDE OUTSIDE UNDERWATER LEFT RIGHT
    """.split()
)
# Onomatopoeia and nouns of noise that screenwriters capitalise as sound cues.
SOUND_WORDS = frozenset(
    """
    BANG BANGS BOOM BOOMS CRASH CRASHES THUD THUDS SLAM SLAMS RING RINGS RINGING BEEP BEEPS
    CLICK CLICKS KNOCK KNOCKS KNOCKING WHOOSH WHOOSHES SCREAM SCREAMS SHRIEK THWACK WHACK SMACK
    CRACK CRACKS SNAP SNAPS POP POPS BUZZ BUZZES HISS HISSES RUMBLE RUMBLES ROAR ROARS HONK
    HONKS SCREECH SCREECHES SPLASH SPLASHES CLANG CLANGS CLANK THUMP THUMPS BLAM KABOOM BOOOM
    CREAK CREAKS SQUEAK SQUEAKS GUNSHOT GUNSHOTS GUNFIRE EXPLOSION EXPLOSIONS SIREN SIRENS
    THUNDER DING DONG TICK TOCK WHIR WHIRS WHIRR CLATTER SHATTERS SHATTER CRUNCH SIZZLE
    LAUGH LAUGHS LAUGHTER APPLAUSE APPLAUDS COUGH COUGHS SQUEAL SQUEALS BLEAT BLEATS CHEER CHEERS
    WHISTLE WHISTLES MUSIC GROAN GROANS SOB SOBS GASP GASPS SIGH SIGHS HOWL HOWLS BARK BARKS
    CAW CAWS CHIRP CHIRPS YELL YELLS SHOUT SHOUTS MOAN MOANS GIGGLE GIGGLES WAIL WAILS THUNK
    SOUND SOUNDS NOISE NOISES VOICE VOICES FOOTSTEPS STEPS CLINK CLINKS SCRAPE SCRAPES RATTLE
    RATTLES WHIRRS HUFF HUFFS TITTER TITTERS ROLL ENGINE ENGINES BLAST BLASTS SCUFFLE PING JING
    HOLLER HOLLERS CRY CRIES ECHO ECHOES PITCH CLACK CLACKS
    """.split()
)
# People: a capitalised extra ("two NURSES") is a background character, not a prop.
PEOPLE_WORDS = frozenset(
    """
    BOY BOYS GIRL GIRLS MAN MEN WOMAN WOMEN KID KIDS CHILD CHILDREN BABY NURSE NURSES DOCTOR
    DOCTORS STEWARDESS PASSENGER PASSENGERS JUDGE CITIZEN CITIZENS CROWD MOB CONGREGATION SCOUT
    SCOUTS WIFE HUSBAND MOTHER FATHER SON DAUGHTER GUARD GUARDS OFFICER OFFICERS SOLDIER SOLDIERS
    POLICE COP COPS WAITER WAITRESS DRIVER DRIVERS EMPLOYEE EMPLOYEES FARMER FARMERS FIDDLER
    FIDDLERS PASSERSBY GIANT PRINCIPAL CAST TEACHER TEACHERS STUDENT STUDENTS AUDIENCE FAMILY
    FRIENDS FRIEND PEOPLE GUESTS GUEST PATRONS CUSTOMERS WORKERS STRANGER STRANGERS PRIEST
    BARTENDER CLERK SECRETARY NEIGHBOR NEIGHBOUR TOWNSPEOPLE VILLAGERS TEENAGER TEENAGERS
    BAND BANDS GUIDE GUIDES DIRECTOR PROFESSOR BROTHER BROTHERS SISTER SISTERS LADY LADIES
    CARNIE CARNIES TWINS ATTENDANT ATTENDANTS FIREBREATHERS VENTRILOQUIST EMCEE WELL-WISHER
    BLONDE BRUNETTE MAILMAN POSTMAN CLOWN CLOWNS CASHIER TELLER MAYOR KING QUEEN LEADER
    SILHOUETTE
    """.split()
)
# Animals, creatures and the body: alive or part of someone, not a prop.
LIVING_WORDS = frozenset(
    """
    BEAST CREATURE MONSTER FISH CATFISH SNAKE SNAKES DOG DOGS CAT CATS HORSE HORSES BIRD BIRDS
    BUG BUGS SPIDER SPIDERS BEE BEES WOLF LION COW COWS SHEEP RAT RATS HANDS HAND FACE EYES
    SMILE GRIN FROWN TEAR TEARS ROOTS
    """.split()
)
# Places and parts of a set: where a shot is, not what it shows.
PLACE_WORDS = frozenset(
    """
    ROOM HOUSE HOUSES HOME LOT SECTION HALL HALLWAY CORRIDOR BEDROOM KITCHEN STAGE BACKSTAGE
    CATWALK CORNER STREET ROAD PATH PARADE SHACK FIELD YARD GARDEN OFFICE BUILDING
    FOREST WOODS RIVER LAKE SEA BEACH PARK SQUARE STORE SHOP CHURCH SCHOOL HOSPITAL STATION TOWN
    COMPETITIONS SUNLIGHT LIGHTNING RAIN SNOW FOG NEWS
    """.split()
)
_DETERMINERS = frozenset(
    """
    a an the his her their its my your our this that these those some another every each one two
    three four five six seven eight nine ten twelve
    """.split()
)
# "It's BAD", "he's HUGE": 's after these is "is", not a possessive.
_CONTRACTED = frozenset("it he she that what there here who where how let".split())
_LEADING = frozenset("THE A AN HIS HER THEIR ITS MY YOUR OUR THIS THAT".split())
_POINTING = frozenset("ON AT INSERT TO".split())
# Words that end a noun phrase: "the trigger and BLOOD SPLATTERS" is a new clause.
_FUNCTION = frozenset("and or but with to of in on at as from into onto by for so".split())
# Words that end a verb phrase ("the door BURSTS OPEN", "SHUT"), never a thing's name.
_PARTICLES = frozenset("OPEN SHUT CLOSED AWAY APART AROUND AGAIN LOUDER SOFTER".split())
_INSIDE = frozenset("OF TO THE A AN".split())
_RUN = re.compile(
    r"(?<![\w'])([A-Z][A-Z0-9'.\-]*[A-Z0-9](?:\s+[A-Z][A-Z0-9'.\-]*[A-Z0-9])*)(?![\w'])(!?)"
)
_STRETCHED = re.compile(r"([A-Z])\1\1")
_WORD_BEFORE = re.compile(r"([\w'’-]+)[ \t]+$")
_INTRODUCED = re.compile(r"\b(?:this is|named|called)\s+$", re.IGNORECASE)
_HEARD = re.compile(r"\bhears?\b[^.!?]*$", re.IGNORECASE)
_BROKEN = re.compile(r"\s+[A-Z]+['’]s\b")
MAX_WORDS = 4
MAX_CHARS = 60  # the longest name a bible entry and an insert's label can carry legibly


@dataclass(frozen=True)
class Candidate:
    """A candidate prop: its name (upper case) and how sure the detector is (0 to 1)."""

    name: str
    confidence: float


def _is_sound(word: str) -> bool:
    return word in SOUND_WORDS or bool(_STRETCHED.search(word))


def _context(text: str, match: re.Match[str]) -> float:
    """How the sentence uses the run: SHOWN, HANDLED, or 0 (not as an object)."""
    before = text[: match.start()]
    after = text[match.end() :]
    lead = before.strip(" \t\"'(").lower()
    if (not lead or lead in _DETERMINERS) and not after.strip(" \t.,:;…\"')"):
        return SHOWN  # the whole line: a shot of it
    if _INTRODUCED.search(before) or _HEARD.search(before) or _BROKEN.match(after):
        # "This is COLOSSUS.": a person; "we hear a PIANO": a sound; "MASSIVE LION's": a part
        return 0.0
    word = _WORD_BEFORE.search(before)
    if word is None:
        return 0.0
    previous = word.group(1).lower()
    possessive = previous.endswith(("'s", "’s")) and previous[:-2] not in _CONTRACTED
    if previous in _DETERMINERS or possessive:
        return HANDLED
    single = len(match.group(1).split()) == 1
    if not single or not match.group(1).endswith("S"):
        # "a dented tin FILM CANISTER", "the small TV": a determiner a few lower-case words
        # back (one word for a single word, which could be a verb: "the man SMACKS")
        tokens = before.split()[-4:]
        for back in range(2, 3 if single else 5):
            if len(tokens) < back or tokens[-back].lower() not in _DETERMINERS:
                continue
            gap = tokens[-back + 1 :]
            if all(t[:1].islower() and t.isalpha() and t not in _FUNCTION for t in gap):
                return HANDLED
    return 0.0


def _trim(words: list[str], names: set[str]) -> tuple[list[str], float]:
    """Drops leading determiners and pointing words ("ON HIS SHOES" -> SHOES, shown)."""
    shown = 0.0
    while words and (words[0] in _LEADING or words[0] in _POINTING or words[0] == "CLOSE"):
        if words[0] in _POINTING or words[0] == "CLOSE":
            shown = SHOWN
        words = words[1:]
    if words and words[0].rstrip("'S").rstrip("'") in names and words[0].endswith("'S"):
        shown = max(shown, HANDLED)  # "EDWARD'S PARACHUTE": a possessive inside the run
    return words, shown


def _rejected(words: list[str], names: set[str], name_words: set[str]) -> bool:
    phrase = " ".join(words)
    if not words or not 2 <= len(phrase) <= MAX_CHARS or len(words) > MAX_WORDS:
        return True
    if phrase in names:
        return True
    if any(_is_sound(w) for w in words) or any("." in w for w in words):
        return True  # a sound, or an abbreviation such as U.S.
    if words[-1] in PEOPLE_WORDS or words[-1] in PLACE_WORDS or words[-1] in LIVING_WORDS:
        return True  # an extra, a group, a place, an animal, a part of the body
    if words[-1] in _PARTICLES:
        return True  # a verb phrase: BURSTS OPEN, SHUT
    if len(words) > 2 and words[0].endswith(("ING", "ED")) and set(words) & _INSIDE:
        return True  # "GRABBING THE SNAKE": a verb phrase
    if len(words) == 1 and words[0].endswith(("ING", "ED")):
        return True  # WHIRRING, SLAMMED: a sound or an action, not a thing
    if words[0] in _INSIDE or words[-1] in _INSIDE:
        return True
    inner = [w for w in words if w not in _INSIDE]
    # A sentence in capitals, a character's name, or a verb or adverb with no noun after it.
    return any(w in CAMERA_WORDS or w in name_words for w in inner) or words[-1].endswith("LY")


def find_candidates(action_texts: Iterable[str], characters: Iterable[str]) -> list[Candidate]:
    """Candidate props in a scene's action, in order of first mention, without repeats.

    Args:
        action_texts: The text of each action element of the scene.
        characters: Every speaking character of the script (upper case names).

    Returns:
        Candidates with their confidence (the highest of their mentions).
    """
    names = {name.upper() for name in characters}
    name_words = {word for name in names for word in name.split()}
    found: dict[str, float] = {}
    for text in action_texts:
        for match in _RUN.finditer(text):
            if match.group(2) == "!":
                continue  # "BANG!": a sound cue
            words = [w.strip(".,:'-") for w in match.group(1).split()]
            words = [w[:-2] + "'S" if w.endswith("’S") else w for w in words if w]
            words, pointed = _trim(words, names)
            confidence = max(_context(text, match), pointed)
            if not confidence or _rejected(words, names, name_words):
                continue
            phrase = " ".join(words)
            found[phrase] = max(found.get(phrase, 0.0), confidence)
    return [Candidate(name, confidence) for name, confidence in found.items()]


def find_props(action_texts: Iterable[str], characters: Iterable[str]) -> list[str]:
    """The names of ``find_candidates`` (upper case, in order of first mention).

    Args:
        action_texts: The text of each action element of the scene.
        characters: Every speaking character of the script (upper case names).

    Returns:
        Prop names in upper case, e.g. ["SUITCASE", "RED SCARF"].
    """
    return [candidate.name for candidate in find_candidates(action_texts, characters)]
