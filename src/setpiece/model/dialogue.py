"""A line of dialogue as the cut places it, shared by production (which knows the lines, their
shots and their takes) and edit (which places, mixes and exports them).

Production builds one ``LineAudio`` per line that has a take to be heard (the circled take,
else a recorded one, else the newest); the edit layer never reads the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

__all__ = ["LineAudio"]


@dataclass(frozen=True)
class LineAudio:
    """One line's chosen audio take and where in the film it belongs."""

    line: str  # SCENE/ORDER, "3/5"
    scene: str
    order: int  # the line's place in its scene, from 1
    character: str
    shot: str  # the code of the shot that covers the line
    audio: Path  # a WAV file
    seconds: Fraction  # the take's measured duration
    dual: bool = False  # dual dialogue: spoken at the same time as its partner line
    source: str = "synthetic"  # synthetic | recorded
    voice: str | None = None  # "espeak:en-us+m3" for synthetic speech; None when recorded
