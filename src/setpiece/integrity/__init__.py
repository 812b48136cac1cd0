"""Integrity: near-duplicate checks of every take against existing works.

The reference corpus (:mod:`.corpus`) holds perceptual codes of existing films,
photographs and artworks (:mod:`.hashing`); ``check integrity`` (:mod:`.check`) looks
every take's frames up in a multi-index hashing index (:mod:`.index`), verifies
candidates on the pixels (:mod:`.verify`) and records ``near_duplicate`` findings with
the take's frame beside the reference frame as evidence (:mod:`.report`).
"""

from __future__ import annotations

from setpiece.integrity.check import KIND, IntegrityReport, Unreadable, check_integrity
from setpiece.integrity.corpus import (
    AddReport,
    ReferenceView,
    Skipped,
    add_references,
    list_references,
    remove_reference,
)
from setpiece.integrity.report import write_report
from setpiece.integrity.settings import IntegritySettings, integrity_settings

__all__ = [
    "KIND",
    "AddReport",
    "IntegrityReport",
    "IntegritySettings",
    "ReferenceView",
    "Skipped",
    "Unreadable",
    "add_references",
    "check_integrity",
    "integrity_settings",
    "list_references",
    "remove_reference",
    "write_report",
]
