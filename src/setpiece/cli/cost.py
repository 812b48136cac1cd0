"""`setpiece cost`: what the takes cost, per unit, grouped by scene, shot, generator or day."""

from __future__ import annotations

import typer

from setpiece.cli._common import console, emit_json, open_production

JSON = typer.Option(False, "--json", help="Print one JSON document.")


def register(app: typer.Typer) -> None:
    """Adds ``cost`` to the command line."""
    app.command("cost")(cost)


def cost(
    ctx: typer.Context,
    by: str = typer.Option("scene", "--by", help="scene, shot, generator or day (UTC)."),
    as_json: bool = JSON,
) -> None:
    """What the takes cost, in each backend's own unit (never converted), and the budget left.

    Runway in credits, diffusers and ComfyUI in compute or GPU seconds, previs zero. Takes
    queued and not yet rendered count against [budget] by their quote.
    """
    from setpiece.production.cost import budget_status, spend

    with open_production(ctx) as production:
        report = spend(production, by)
        budget = budget_status(production)
    if as_json:
        emit_json({"spend": report, "budget": budget})
        return
    out = console()
    if not report.rows:
        out.print("nothing spent yet")
    for row in report.rows:
        out.print(f"{by} {row.key}: {row.amount} {row.unit} ({row.takes} take(s))", markup=False)
    for unit, amount in report.totals.items():
        out.print(f"total: {amount} {unit}", markup=False)
    if report.unknown:
        said = (
            f"{report.unknown} take(s) with no recorded cost (imported, derived, made before "
            "costs were recorded, or the answer carried no cost)"
        )
        if report.no_bill:
            said += (
                f"; {report.no_bill} of them: the answer carried no cost (paid for; counted "
                "against [budget] at their quote)"
            )
        out.print(said, markup=False)
    for line in budget.lines:
        if line.limit is not None:
            out.print(
                f"budget {line.unit}: {line.spent} spent, {line.queued} queued, "
                f"{line.remaining} of {line.limit} remaining",
                markup=False,
            )
    for unit, limit in budget.render_limits.items():
        out.print(f"per render: {limit} {unit}", markup=False)
