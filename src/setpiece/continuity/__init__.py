"""Continuity: the script supervisor that catches what generators break.

Identity (is the face the character the shot lists?), look (do two shots that cut
together look lit by the same light?) and format (does the take fit the project's
resolution, aspect and frame rate?), checked on every take whatever made it, each
finding explained with evidence; and the fix for a look jump, a colour-matched
derived take. Heavy libraries (dlib, OpenCV, PyAV) load only when a check runs.
"""

from __future__ import annotations

from setpiece.continuity.check import (
    CHECKERS,
    Checker,
    CheckerOutput,
    CheckScope,
    ContinuityFinding,
    ContinuityReport,
    check_continuity,
)
from setpiece.continuity.embedders import DlibFaceEmbedder, Face, FaceEmbedder, LookModel
from setpiece.continuity.match import MatchResult, match_take
from setpiece.continuity.settings import ContinuitySettings, LookThresholds, continuity_settings

__all__ = [
    "CHECKERS",
    "CheckScope",
    "Checker",
    "CheckerOutput",
    "ContinuityFinding",
    "ContinuityReport",
    "ContinuitySettings",
    "DlibFaceEmbedder",
    "Face",
    "FaceEmbedder",
    "LookModel",
    "LookThresholds",
    "MatchResult",
    "check_continuity",
    "continuity_settings",
    "match_take",
]
