"""The CLI reference, written from the command tree itself so it cannot drift.

``python -m setpiece.cli.docs > docs/cli.md`` regenerates it; a test fails when the
checked-in file differs from what the commands say.
"""

from __future__ import annotations

import click
import typer

__all__ = ["cli_reference"]


def cli_reference() -> str:
    """Markdown: every command with its usage, help, arguments and options."""
    from setpiece.cli.main import app

    root = typer.main.get_command(app)
    lines = [
        "# Command reference",
        "",
        "Generated from the commands themselves by `python -m setpiece.cli.docs > docs/cli.md`;",
        "a test keeps it in step. `setpiece COMMAND --help` prints the same.",
        "",
    ]
    _walk(root, ["setpiece"], lines)
    return "\n".join(lines).rstrip() + "\n"


def _walk(command: click.Command, path: list[str], lines: list[str]) -> None:
    context = click.Context(command, info_name=" ".join(path))
    name = " ".join(path)
    lines += [f"{'#' * min(len(path) + 1, 4)} `{name}`", ""]
    help_text = (command.help or "").strip()
    if help_text:
        lines += [_plain(help_text), ""]
    pieces = command.collect_usage_pieces(context)
    lines += ["```", f"{name} {' '.join(pieces)}".rstrip(), "```", ""]
    rows = []
    for param in command.get_params(context):
        record = param.get_help_record(context)
        if isinstance(param, click.Argument):
            rows.append((param.human_readable_name, _argument_help(param)))
        elif record is not None and "--help" not in record[0]:
            rows.append((record[0], record[1]))
    if rows:
        lines += ["| argument or option | meaning |", "|---|---|"]
        lines += [f"| `{_cell(first)}` | {_cell(second)} |" for first, second in rows]
        lines.append("")
    if isinstance(command, click.Group):
        for sub in command.list_commands(context):
            child = command.get_command(context, sub)
            if child is not None and not child.hidden:
                _walk(child, [*path, sub], lines)


def _argument_help(param: click.Argument) -> str:
    text = getattr(param, "help", None) or ""
    return str(text)


def _plain(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines())


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    print(cli_reference(), end="")
