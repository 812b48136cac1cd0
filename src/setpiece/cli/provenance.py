"""Commands of the provenance capability: keys, sign, verify, watermark, disclose, take export."""

from __future__ import annotations

from pathlib import Path

import typer

from setpiece.cli._common import console, emit_json, open_production

JSON = typer.Option(False, "--json", help="Print one JSON document.")
DETECT_FRAMES = 48


def _project_settings(ctx: typer.Context) -> tuple[object, Path] | None:
    """The open project's provenance settings, or None outside a project."""
    from setpiece.errors import ProjectError
    from setpiece.provenance.settings import ProvenanceSettings

    try:
        with open_production(ctx) as production:
            settings = ProvenanceSettings.from_settings(
                production.config.root, production.config.settings
            )
            return settings, production.config.root
    except ProjectError:
        return None


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the root ``app`` (and to ``check_app``)."""
    from setpiece.cli.takes import take_app

    keys_app = typer.Typer(help="Signing keys for Content Credentials.", no_args_is_help=True)
    watermark_app = typer.Typer(
        help="The invisible watermark of delivered files.", no_args_is_help=True
    )
    app.add_typer(keys_app, name="keys")
    app.add_typer(watermark_app, name="watermark")

    @keys_app.command("init")
    def keys_init(
        ctx: typer.Context,
        force: bool = typer.Option(False, "--force", help="Replace existing development keys."),
        days: int = typer.Option(365, "--days", min=1, max=3650, help="Validity of the leaf."),
    ) -> None:
        """Make an UNTRUSTED development CA and ES256 signing certificate in .setpiece/keys."""
        from setpiece.provenance.keys import init_dev_keys
        from setpiece.provenance.settings import ProvenanceSettings

        with open_production(ctx) as production:
            settings = ProvenanceSettings.from_settings(
                production.config.root, production.config.settings
            )
            name = production.project_row().name
        paths = init_dev_keys(settings.dev_keys, project=name, days=days, force=force)
        out = console()
        out.print(f"development CA:      {paths.ca}")
        out.print(f"signing certificate: {paths.certificate}")
        out.print(f"signing key:         {paths.key}")
        out.print(
            "These keys are UNTRUSTED (development only): files verify as Valid, never Trusted. "
            "A studio sets [provenance] certificate and key in setpiece.toml.",
            style="yellow",
        )

    @app.command("sign")
    def sign(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="A still or movie (or any file: sidecar .c2pa)."),
        out: Path | None = typer.Option(None, "--out", help="Write here (default: in place)."),
        as_json: bool = JSON,
    ) -> None:
        """Sign a file with the project's identity (the code the exports use)."""
        from setpiece.errors import InvalidInputError
        from setpiece.provenance.credentials import Credentials, Ingredient, sign_file
        from setpiece.provenance.deliver import delivery_for

        if not file.is_file():
            raise InvalidInputError(f"{file} is not a file")
        target = (out or file).expanduser().absolute()
        with open_production(ctx) as production:
            delivery = delivery_for(production)
            delivery.check_target(target)
            identity = delivery.identity()
        credentials = Credentials(
            title=target.name,
            actions=[{"action": "c2pa.opened", "parameters": {"ingredientIds": ["source"]}}],
            ingredients=[Ingredient(file.absolute(), file.name, "parentOf", "source")],
            setpiece={"signed_by": "setpiece sign"},
        )
        result = sign_file(file.absolute(), target, credentials, identity)
        if as_json:
            emit_json(result)
            return
        if result.sidecar:
            console().print(
                f"{file.suffix or 'this format'} cannot carry an embedded manifest: "
                f"wrote the sidecar {result.sidecar}"
            )
        console().print(f"signed {result.path} as {result.signer}")

    @app.command("verify")
    def verify(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="A signed file."),
        as_json: bool = JSON,
    ) -> None:
        """Validate a file's Content Credentials: Valid, Trusted, Invalid (why) or none.

        Exits 3 when the file is Invalid or carries no manifest (as fsck does for problems).
        """
        from setpiece.errors import ExitCode
        from setpiece.provenance.credentials import verify_file
        from setpiece.provenance.settings import ProvenanceSettings

        found = _project_settings(ctx)
        settings = found[0] if found else ProvenanceSettings()
        report = verify_file(file, settings)  # type: ignore[arg-type]
        if as_json:
            emit_json(report)
            if report.state not in ("Valid", "Trusted"):
                raise typer.Exit(ExitCode.FOUND)
            return
        out = console()
        out.print(f"{file}: {report.state if report.state != 'none' else 'no manifest'}")
        for reason in report.reasons:
            out.print(f"  {reason}")
        reading = report.reading
        if reading is not None:
            out.print(f"  signed by {reading.signer} (issuer {reading.issuer})")
            for action in reading.actions:
                out.print(
                    f"  {action.action} {action.agent} {action.agent_version} {action.when}".rstrip()
                )
        if report.state not in ("Valid", "Trusted"):
            raise typer.Exit(ExitCode.FOUND)

    @watermark_app.command("detect")
    def watermark_detect(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="A picture or a movie."),
        as_json: bool = JSON,
    ) -> None:
        """Read the invisible watermark: which project and take a file came from."""
        from setpiece.provenance.detect import detect_file

        found = _project_settings(ctx)
        project = None
        if found is not None:
            from setpiece.provenance.deliver import delivery_for

            with open_production(ctx) as production:
                delivery = delivery_for(production)
                project = (delivery.project, delivery.project_name)
        report = detect_file(file, project=project, frames=DETECT_FRAMES)
        if as_json:
            emit_json(report)
            return
        if not report["found"]:
            console().print(f"{file}: no Setpiece watermark found")
            return
        console().print(
            f"{file}: project {report['project']}, take {report['take']} "
            f"(confidence {report['confidence']:.2f})"
        )

    @watermark_app.command("embed")
    def watermark_embed(
        ctx: typer.Context,
        file: Path = typer.Argument(..., help="A picture or movie."),
        out: Path = typer.Argument(..., help="Where to write the marked copy."),
        take: str = typer.Option(..., "--take", help="The take the mark names (id)."),
    ) -> None:
        """Write a marked (not signed) copy of a file, naming this project and a take."""
        from dataclasses import replace

        from setpiece.provenance.deliver import (
            IMAGE_SUFFIXES,
            VIDEO_SUFFIXES,
            deliver,
            delivery_for,
        )
        from setpiece.store.frames import check_target

        target = check_target(out, IMAGE_SUFFIXES + VIDEO_SUFFIXES, "marked copy")
        with open_production(ctx) as production:
            delivery = delivery_for(production)
        delivery.settings = replace(delivery.settings, sign=False)
        delivery.payload(take).bits()  # checks the take id before any work
        result = deliver(delivery, file.absolute(), target, None, take=take)
        if result.note:
            console().print(f"wrote {result.path}, {result.note}")
        else:
            console().print(f"marked {result.path}")

    @app.command("disclose")
    def disclose(
        ctx: typer.Context,
        as_json: bool = JSON,
        html: Path | None = typer.Option(None, "--html", help="Also write the report as HTML."),
        include_unapproved: bool = typer.Option(
            False, "--include-unapproved", help="Count the cut as 'edit assemble' would with it."
        ),
        with_cost: bool = typer.Option(
            False, "--with-cost", help="Add the spend per generator, in each one's own unit."
        ),
    ) -> None:
        """Where and how AI was used in the film, from the project's records."""
        from setpiece.provenance.disclosure import disclosure, write_html

        with open_production(ctx) as production:
            report = disclosure(
                production, include_unapproved=include_unapproved, with_cost=with_cost
            )
        if html is not None:
            write_html(report, html)
        if as_json:
            emit_json(report)
            return
        out = console()
        for line in report.summary_lines():
            out.print(line)
        if html is not None:
            out.print(f"html: {html}")

    @take_app.command("export")
    def take_export(
        ctx: typer.Context,
        take: str = typer.Argument(..., help="Take id or SHOT/NUMBER."),
        out: Path = typer.Argument(
            ..., help="The file to write (.jpg/.png for stills, .mp4/.mov)."
        ),
        as_json: bool = JSON,
    ) -> None:
        """Deliver a take: a copy with the invisible watermark and signed Content Credentials."""
        from setpiece.provenance.deliver import export_take

        with open_production(ctx) as production:
            result = export_take(production, take, out)
        if as_json:
            emit_json(result)
            return
        console().print(
            f"exported {result.path}"
            + (" (watermarked" if result.watermarked else " (not watermarked")
            + (", signed)" if result.signed else ", not signed)")
            + (f": {result.note}" if result.note else "")
        )
