"""The prop detector Setpiece had before issue 23, kept as the anchor of bench/script_props.py.

Screenplays capitalise a character's first appearance, sound cues and camera
directions, and (by a common convention) the props that matter: "She opens
the SUITCASE." A run of capitalised words in action is therefore a candidate
prop unless it is a character (someone who ever speaks), a sound cue (followed
by "!", or a known onomatopoeia, or letters stretched like RIIING), or camera
and editing vocabulary (CLOSE ON, POV, INSERT, SMASH CUT...). What remains is
a candidate: a person confirms it in the bible. The rules are deterministic so
a re-import finds the same props.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["CAMERA_WORDS", "PEOPLE_WORDS", "SOUND_WORDS", "find_props"]

# Editing, camera and formatting words that appear in capitals in action.
CAMERA_WORDS = frozenset(
    """
    ANGLE ON CLOSE CLOSEUP CLOSE-UP CU ECU EXTREME WIDE SHOT SHOTS POV P.O.V. INSERT CUT CUTS TO
    FADE FADES IN OUT DISSOLVE DISSOLVES SMASH MATCH JUMP PAN PANS TILT TILTS ZOOM ZOOMS DOLLY
    TRACKING TRACK CRANE AERIAL OVERHEAD BACK REVERSE INTERCUT INTERCUTTING MONTAGE SERIES OF
    FLASHBACK FLASH FORWARD END BEGIN CONTINUOUS LATER MOMENTS SAME TIME DAY NIGHT MORNING
    EVENING SUPER SUPERIMPOSE TITLE TITLES CARD CREDITS THE A AN AND OR BUT WITH FROM AT ON OFF
    UP DOWN V.O. O.S. O.C. OS VO OC CONT'D CONTD MORE SLOW MOTION FREEZE FRAME SPLIT SCREEN
    WE SEE HEAR HEARS HE SHE IT THEY I ME MY HIS HER NO YES OK OKAY ALL NOW THEN BEAT
    INT EXT EST INT. EXT. I/E ON-SCREEN OFF-SCREEN FG BG FOREGROUND BACKGROUND WIDER TIGHT TIGHTER
    PUSH PUSHES PULL PULLS SWEEP SWEEPS MOVE MOVES MOVING TOWARDS TOWARD CAMERA OVER HOLD HOLDS
    FURTHER ALONG STAY BEHIND RUSH DRIFT DRIFTS RACK FOCUS HANDHELD STEADICAM BIRD'S-EYE VERY
    NEW YORK TV DVD CD USA UK FBI CIA NYPD LAPD DNA GPS CEO DJ MRI ER ICU
    """.split()
)
# Onomatopoeia that screenwriters capitalise as sound cues.
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
    """.split()
)
_RUN = re.compile(
    r"(?<![\w'])([A-Z][A-Z0-9'.\-]*[A-Z0-9](?:\s+[A-Z][A-Z0-9'.\-]*[A-Z0-9])*)(?![\w'])(!?)"
)
_STRETCHED = re.compile(r"([A-Z])\1\1")


def _is_sound(word: str) -> bool:
    return word in SOUND_WORDS or bool(_STRETCHED.search(word))


def find_props(action_texts: Iterable[str], characters: Iterable[str]) -> list[str]:
    """Candidate props in a scene's action, in order of first mention, without repeats.

    Args:
        action_texts: The text of each action element of the scene.
        characters: Every speaking character of the script (upper case names).

    Returns:
        Prop names in upper case, e.g. ["SUITCASE", "RED SCARF"].
    """
    names = {name.upper() for name in characters}
    name_words = {word for name in names for word in name.split()}
    found: list[str] = []
    for text in action_texts:
        for match in _RUN.finditer(text):
            if match.group(2) == "!":
                continue  # "BANG!": a sound cue
            words = [w.strip(".'-") for w in match.group(1).split()]
            # Trim camera words and character names from both ends: "CLOSE ON THE KEY" -> "KEY".
            while words and (words[0] in CAMERA_WORDS or words[0] in name_words):
                words.pop(0)
            while words and (words[-1] in CAMERA_WORDS or words[-1] in name_words):
                words.pop()
            if not words or len(" ".join(words)) < 3:
                continue
            phrase = " ".join(words)
            if phrase in names or any(_is_sound(w) for w in words):
                continue
            if words[-1] in PEOPLE_WORDS or any("." in w for w in words):
                continue  # an extra, or an abbreviation such as U.S.
            if len(words) == 1 and words[0].endswith(("ING", "ED")):
                continue  # WHIRRING, LAUGHING: a sound or an action, not a thing
            if any(w in CAMERA_WORDS or w in name_words for w in words):
                continue  # a sentence in capitals, not a noun phrase
            if len(words) > 3:
                continue
            if phrase not in found:
                found.append(phrase)
    return found
