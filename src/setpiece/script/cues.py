"""Who speaks a character cue: one character, several at once, or a group with no name.

A screenplay writes lines said together under one cue: ``ODE & GODUHA``, ``MARA AND
TEO``, ``ANNA, BEN / CAL``, or a group word (``BOTH``, ``ALL``, ``CROWD``). None of them is
a character of the film. What this module decides (the importer's breakdown, the bible
and the lines all ask it, so they agree):

- **A joint cue** is split on ``&``, ``AND``, ``,`` and ``/`` when *every* part is a
  character who has a cue of their own somewhere in the script; the line is then spoken
  by each of them, each in their own voice, at the same time (``script.lines`` makes one
  line per speaker, marked dual, so the cut overlaps them as it does dual dialogue).
  A cue whose parts are not all known speakers stays one name: ``MR. & MRS. SMITH`` is a
  character of its own.
- **A group cue** (``GROUP_CUES``) keeps one line and is never made a bible character; it
  is spoken once, by the character of that name if someone added one to the bible, else
  by the default voice derived from the word (as a character with no voice is).
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["GROUP_CUES", "cue_speakers", "is_group_cue", "joint_parts"]

#: Cue words that name a group, not a character (upper case, spaces collapsed).
GROUP_CUES = frozenset(
    {
        "ALL",
        "BOTH",
        "EVERYONE",
        "EVERYBODY",
        "TOGETHER",
        "CROWD",
        "THE CROWD",
        "CHORUS",
        "OTHERS",
        "THE OTHERS",
        "GROUP",
    }
)
_JOINT = re.compile(r"\s*(?:&|,|/|\bAND\b)\s*", re.IGNORECASE)


def _normal(name: str) -> str:
    return " ".join(name.upper().split())


def is_group_cue(name: str) -> bool:
    """Whether a cue's name is a group word (``ALL``, ``BOTH``, ``CROWD``...)."""
    return _normal(name) in GROUP_CUES


def joint_parts(name: str) -> list[str]:
    """The names a cue joins with ``&``, ``AND``, ``,`` or ``/``; one part when none.

    Args:
        name: A cue's name, extensions already removed (``ODE & GODUHA``).

    Returns:
        The parts, spaces collapsed, empty ones dropped.
    """
    return [" ".join(part.split()) for part in _JOINT.split(name) if part.strip()]


def cue_speakers(name: str, speaker: Callable[[str], str | None]) -> tuple[str, ...]:
    """Who speaks a cue (see the module docstring).

    Args:
        name: The cue's name, extensions removed.
        speaker: A known speaker's name as the script spells it for a name, or None:
            the characters who have a cue of their own in the script.

    Returns:
        ``()`` for a group cue; each speaker's name for a joint cue whose parts are all
        known; else ``(name,)``.
    """
    if is_group_cue(name):
        return ()
    parts = joint_parts(name)
    if len(parts) > 1:
        known = [speaker(part) for part in parts]
        if all(found is not None and not is_group_cue(found) for found in known):
            return tuple(dict.fromkeys(found for found in known if found is not None))
    return (name,)
