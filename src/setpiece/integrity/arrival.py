"""The near-duplicate check on arriving takes, when ``[integrity] check_on_arrival = true``.

Production runs it when takes are imported or rendered (``setpiece.production.arrival``),
once the layer above has registered it there (``setpiece.pipeline.hooks``). It is off by
default and then costs nothing: the raw setting is read before the check, its index and
its settings' validation are imported. What it finds is stored like ``setpiece check
integrity``'s findings and logged as warnings naming the takes; when it fails, production
logs why and keeps the takes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from setpiece.production.arrival import ArrivalReport
from setpiece.production.context import Production

__all__ = ["check_on_arrival"]

log = logging.getLogger(__name__)


def check_on_arrival(production: Production, take_ids: Sequence[str]) -> ArrivalReport:
    """Checks newly arrived takes against the reference corpus, if the project says so.

    Raises:
        InvalidInputError: A bad ``[integrity]`` setting.
        SetpieceError: The check could not run (production logs it and keeps the takes).
    """
    table = production.config.settings.get("integrity", {})
    if not isinstance(table, dict) or table.get("check_on_arrival", False) is False:
        return ArrivalReport()
    from setpiece.integrity.check import check_integrity
    from setpiece.integrity.settings import integrity_settings

    if not integrity_settings(production.config.settings).check_on_arrival:
        return ArrivalReport()
    report = check_integrity(production, list(take_ids))
    for finding in report.findings:
        log.warning("take %s may copy an existing work: %s", finding.take, finding.detail)
    for bad in report.unreadable:
        log.warning("take %s could not be checked for integrity: %s", bad.label, bad.reason)
    return ArrivalReport(checked=report.checked, findings=len(report.findings))
