"""The CLI reference in docs/cli.md is generated from the commands, and must stay in step."""

from __future__ import annotations

from pathlib import Path

from setpiece.cli.docs import cli_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_docs_cli_md_is_current() -> None:
    assert DOCS.read_text() == cli_reference(), (
        "docs/cli.md is stale: run 'python -m setpiece.cli.docs > docs/cli.md'"
    )


def test_every_command_and_argument_is_described() -> None:
    text = cli_reference()
    for command in ("`setpiece make`", "`setpiece demo`", "`setpiece take import`"):
        assert command in text
    # Argument help survives (click 8.5 with Typer 0.25 dropped it).
    assert "| `OUT` | The PNG to write. |" in text
