"""What happens when takes arrive (imported or rendered): checks the project asks for.

``[integrity] check_on_arrival = true`` in setpiece.toml runs the near-duplicate check
on new takes, so a copy is flagged before anyone reviews it. The takes are committed
before this runs: a check that fails never loses a take; its failure is logged as a
warning naming the takes, and the check can be re-run with ``setpiece check integrity``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from setpiece.production.context import Production

__all__ = ["ArrivalReport", "takes_arrived"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArrivalReport:
    """What the arrival checks did: findings stored, and a failure if one happened."""

    checked: list[str] = field(default_factory=list)
    findings: int = 0
    failure: str | None = None


def takes_arrived(production: Production, take_ids: Sequence[str]) -> ArrivalReport:
    """Runs the checks the project enables on newly arrived takes; never raises for them."""
    if not take_ids:
        return ArrivalReport()
    table = production.config.settings.get("integrity", {})
    if not isinstance(table, dict) or table.get("check_on_arrival", False) is False:
        return ArrivalReport()
    try:
        from setpiece.integrity.check import check_integrity
        from setpiece.integrity.settings import integrity_settings

        if not integrity_settings(production.config.settings).check_on_arrival:
            return ArrivalReport()
        report = check_integrity(production, list(take_ids))
    except Exception as exc:  # the takes are committed; say why the check failed
        message = (
            f"takes {', '.join(take_ids)} arrived, but their integrity check failed: {exc}; "
            "run 'setpiece check integrity' again"
        )
        log.warning(message)
        return ArrivalReport(failure=message)
    for finding in report.findings:
        log.warning("take %s may copy an existing work: %s", finding.take, finding.detail)
    for bad in report.unreadable:
        log.warning("take %s could not be checked for integrity: %s", bad.label, bad.reason)
    return ArrivalReport(checked=report.checked, findings=len(report.findings))
