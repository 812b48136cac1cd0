"""Commands of the motion capability."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the root ``app`` (and to ``check_app``)."""
