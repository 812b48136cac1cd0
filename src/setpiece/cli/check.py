"""`setpiece check ...`: the checks over the takes. Each check registers its command here
from its own module (continuity, integrity), so this group stays one line of wiring."""

from __future__ import annotations

import typer

check_app = typer.Typer(
    help="Checks over the takes: continuity and integrity. Findings go into 'setpiece findings'.",
    no_args_is_help=True,
)
