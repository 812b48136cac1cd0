"""Commands of the web capability: ``setpiece serve``."""

from __future__ import annotations

from typing import Any

import typer

from setpiece.cli._common import console, state

EXPOSE = (
    "The board listens on {host} only. To let others in, keep it there and put a reverse "
    "proxy with TLS in front (Caddy: 'reverse_proxy {host}:{port}'; nginx: proxy_pass with "
    "proxy_buffering off for /api/v1/events/stream), and start the server with "
    "--proxy-headers so cookies are marked Secure. Never expose it over plain HTTP."
)


def register(app: typer.Typer) -> None:
    """Adds this capability's commands to the root ``app`` (and to ``check_app``)."""

    @app.command("serve")
    def serve(
        ctx: typer.Context,
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
        workers: int = typer.Option(
            1, "--workers", min=1, max=64, help="Worker processes (one per core serves most)."
        ),
        proxy_headers: bool = typer.Option(
            False,
            "--proxy-headers",
            help="Trust X-Forwarded-Proto/For from a reverse proxy on this machine.",
        ),
        render_worker: bool = typer.Option(
            False,
            "--render-worker",
            help="Also run 'setpiece worker' beside the board, so takes queued there render "
            "(it renders as --as, SETPIECE_USER or [user] name).",
        ),
    ) -> None:
        """Serve the shot board: dashboard, script, board, shots, takes, review, the queue.

        The board acts for whoever logs in to it, as that member, never for whoever started
        it: serve needs no --as (nor SETPIECE_USER or [user] name), works on a project with
        members or without, and starting it lets nobody in without a login.
        """
        from setpiece.errors import needs_extra

        with needs_extra("web", "the shot board"):
            import uvicorn  # noqa: F401  (here: a missing extra fails helpfully, at once)

            from setpiece.web.app import create_app
        options = state(ctx)
        # Built here first even with several workers: a bad project or setting fails now, once,
        # and the signing key exists before the workers read it.
        application = create_app(
            options.project, database_url=options.database_url, proxy_headers=proxy_headers or None
        )
        proxy_headers = application.state.context.settings.proxy_headers  # or [web]'s
        out = console(stderr=True)
        from setpiece.production.accounts import has_members

        if not has_members(application.state.context.production(actor="")):
            out.print(
                "warning: the project has no members, so nobody can log in: "
                "add one with 'setpiece user add NAME --role admin'"
            )
        out.print(f"Setpiece board on http://{host}:{port}/ (log in at /login; Ctrl-C stops)")
        if host not in ("127.0.0.1", "localhost", "::1"):
            out.print(f"warning: listening on {host}: anyone who can reach it can try to log in")
        out.print(EXPOSE.format(host=host, port=port))
        worker = _start_worker(options) if render_worker else None
        try:
            _run(application, options, host, port, workers, proxy_headers)
        finally:
            if worker is not None:
                _stop_worker(worker)


def _run(
    application: Any, options: Any, host: str, port: int, workers: int, proxy_headers: bool
) -> None:
    """Runs the board with uvicorn until it is stopped."""
    import uvicorn

    target: Any = application
    if workers > 1:
        import os

        os.environ["SETPIECE_PROJECT"] = str(application.state.context.config.root)
        if options.database_url:
            os.environ["SETPIECE_DATABASE_URL"] = options.database_url
        if proxy_headers:
            os.environ["SETPIECE_PROXY_HEADERS"] = "1"
        target = "setpiece.web.app:app_from_env"
    uvicorn.run(
        target,
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
        log_level="warning",
        timeout_graceful_shutdown=3,
    )


# The worker beside the board: ``setpiece worker`` in its own process, so a render never
# slows the board, and stopped with SIGTERM (the takes in flight finish) when serve ends.
_ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"
_WORKER_GRACE_S = 30.0


def _start_worker(options: Any) -> Any:
    """Starts ``setpiece worker`` for the project, acting as the resolved user.

    Raises:
        PermissionDeniedError: That user may not render (checked before anything starts).
    """
    import subprocess
    import sys

    from setpiece.pipeline.hooks import install
    from setpiece.production.context import Production

    install()
    with Production.open(
        options.project, database_url=options.database_url, actor=options.actor
    ) as production:
        with production.transaction(read_only=True) as session:
            production.authorize(session, "render")
        root, actor = production.config.root, production.actor
    command = [sys.executable, "-c", _ENTRY, "--project", str(root), "--as", actor]
    if options.database_url:
        command += ["--db", options.database_url]
    command += ["worker", "--grace", f"{_WORKER_GRACE_S:g}"]
    console(stderr=True).print(f"render worker started beside the board, rendering as {actor}")
    # Its own session: Ctrl-C at the terminal stops the board, which then stops the worker
    # with SIGTERM, so the takes in flight finish instead of being dropped.
    return subprocess.Popen(command, start_new_session=True)


def _stop_worker(worker: Any) -> None:
    """SIGTERM, then the worker's grace and a little more, then SIGKILL."""
    import subprocess

    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(_WORKER_GRACE_S + 10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
