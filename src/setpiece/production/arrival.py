"""What happens when takes arrive (imported or rendered): the checks capabilities hook in.

Takes arrive in production (``import_takes``) and in the render queue, and the checks
that look at them belong to capabilities above production (the near-duplicate check is
``integrity``'s), which production may not import. So a check is registered here, by
name, with :func:`on_arrival`, and :func:`takes_arrived` runs what is registered. The
layer above registers them (``setpiece.pipeline.hooks.install``), and every entry point
calls that before it opens a project: the CLI, the web app and ``make``; so a take
imported from the CLI, uploaded through the web or rendered by the queue meets the same
checks. Each check reads the project's settings itself and returns at once when they
leave it off (``[integrity] check_on_arrival = true`` turns the integrity check on).

The takes are committed before the checks run: a check that fails never loses a take;
its failure is logged as a warning naming the takes and the check, and the check can be
re-run with ``setpiece check NAME``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from setpiece.production.context import Production

__all__ = ["ArrivalCheck", "ArrivalReport", "arrival_checks", "on_arrival", "takes_arrived"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArrivalReport:
    """What the arrival checks did: takes checked, findings stored, and any failure."""

    checked: list[str] = field(default_factory=list)
    findings: int = 0
    failure: str | None = None


ArrivalCheck = Callable[[Production, list[str]], ArrivalReport]
"""A check run on arriving takes: ``check(production, take_ids)``; it may raise."""

_CHECKS: dict[str, ArrivalCheck] = {}


def on_arrival(name: str, check: ArrivalCheck) -> None:
    """Registers ``check`` to run on every batch of arriving takes.

    Args:
        name: The check's name, as ``setpiece check NAME`` re-runs it; registering a
            name again replaces its check, so registering twice is harmless.
        check: Called as ``check(production, take_ids)`` after the takes are committed.
    """
    _CHECKS[name] = check


def arrival_checks() -> dict[str, ArrivalCheck]:
    """The registered checks by name, in the order they run."""
    return dict(_CHECKS)


def takes_arrived(production: Production, take_ids: Sequence[str]) -> ArrivalReport:
    """Runs the registered checks on newly arrived takes; never raises for them."""
    if not take_ids:
        return ArrivalReport()
    checked: dict[str, None] = {}
    findings = 0
    failures: list[str] = []
    for name, check in list(_CHECKS.items()):
        try:
            report = check(production, list(take_ids))
        except Exception as exc:  # the takes are committed; say why the check failed
            message = (
                f"takes {', '.join(take_ids)} arrived, but their {name} check failed: {exc}; "
                f"run 'setpiece check {name}' again"
            )
            log.warning(message)
            failures.append(message)
            continue
        checked.update(dict.fromkeys(report.checked))
        findings += report.findings
    return ArrivalReport(
        checked=list(checked), findings=findings, failure="; ".join(failures) or None
    )
