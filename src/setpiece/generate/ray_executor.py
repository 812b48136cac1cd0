"""Rendering on Ray: the same jobs as Ray tasks, on a local instance or a studio's cluster.

Configured in ``setpiece.toml``::

    [ray]
    address = "ray://render-head.studio.lan:10001"   # left out: a local Ray instance
    gpus_per_task = 1                                # 0 on CPU machines (tests, laptops)
    cpus_per_task = 1

The driver owns the database: a task receives the request with its reference
images as bytes (workers cannot read the driver's disk), renders into its own
temporary folder, and returns the finished file's bytes, which the driver stores
and records. Workers therefore never open the database, and a cluster needs
neither PostgreSQL access nor the project's SQLite on its nodes. Errors travel
back as values, not exceptions, so a ``RenderError``'s ``transient`` flag
survives the trip (Ray rewraps exceptions in its own classes).
"""

from __future__ import annotations

import tempfile
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from setpiece.config import load_section
from setpiece.errors import needs_extra
from setpiece.generate.base import RenderError, RenderRequest, RenderResult
from setpiece.generate.queue._request import relocated
from setpiece.generate.settings import RaySettings

__all__ = ["RayExecutor", "render_task"]


def render_task(
    generator: str,
    config: dict[str, Any],
    requests: list[RenderRequest],
    files: dict[str, bytes],
    project_dir: Path | None = None,
) -> tuple[str, Any]:
    """Runs on a Ray worker. Returns ("ok", [(name, data, model, hash, parameters, sent,
    cost), ...]) or
    ("error", (message, transient)) for the whole batch."""
    from setpiece.generate.registry import get_generator

    with tempfile.TemporaryDirectory(prefix="setpiece-ray-") as folder:
        root = Path(folder)
        local: dict[str, Path] = {}
        for name, data in files.items():
            path = root / "inputs" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            local[name] = path
        work = root / "out"
        work.mkdir()
        moved = [relocated(request, lambda path: local[path.name]) for request in requests]
        try:
            backend = get_generator(generator, config, project_dir=project_dir)
            for request in moved:
                backend.check(request)
            results = (
                [backend.render(moved[0], work)]
                if len(moved) == 1
                else backend.render_batch(moved, work)
            )
        except RenderError as exc:
            return "error", (str(exc), exc.transient)
        except (
            Exception
        ) as exc:  # a backend bug fails the takes; it must not kill the task silently
            return "error", (f"{type(exc).__name__}: {exc}", False)
        return "ok", [
            (
                r.path.name,
                r.path.read_bytes(),
                r.model,
                r.model_hash,
                dict(r.parameters),
                (r.workflow.name, r.workflow.read_bytes()) if r.workflow is not None else None,
                r.cost,
            )
            for r in results
        ]


class RayExecutor:
    """Submits renders as Ray tasks; results come back as concurrent.futures Futures."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        options = load_section(RaySettings, settings, section="ray")
        with needs_extra("ray", "the ray executor"):
            import ray
        self._started_here = not ray.is_initialized()
        if self._started_here:
            address = options.address
            init: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "ignore_reinit_error": True,
            }
            if address:
                init["address"] = address
            else:
                init["num_cpus"] = options.num_cpus
            ray.init(**init)
        self._task = ray.remote(
            num_gpus=options.gpus_per_task,
            num_cpus=options.cpus_per_task,
            max_retries=0,  # the queue owns retrying
        )(render_task)

    def submit(
        self,
        generator: str,
        config: dict[str, Any],
        requests: list[RenderRequest],
        workdirs: list[Path],
        *,
        project_dir: Path | None = None,
    ) -> list[Future[RenderResult]]:
        files: dict[str, bytes] = {}

        def ship(path: Path) -> Path:
            """The file's bytes travel with the task, under a name of their own."""
            name = f"f{len(files)}{path.suffix}"
            files[name] = path.read_bytes()
            return Path(name)

        payload = [relocated(request, ship) for request in requests]
        remote: Future[tuple[str, Any]] = self._task.remote(
            generator, config, payload, files, project_dir
        ).future()
        futures: list[Future[RenderResult]] = [Future() for _ in requests]

        def done(finished: Future[tuple[str, Any]]) -> None:
            try:
                status, value = finished.result()
            except Exception as exc:  # the task itself died (worker lost, out of memory)
                error = RenderError(f"Ray task failed: {type(exc).__name__}: {exc}", transient=True)
                for future in futures:
                    future.set_exception(error)
                return
            if status == "error":
                message, transient = value
                for future in futures:
                    future.set_exception(RenderError(message, transient=transient))
                return
            for (name, data, model, model_hash, parameters, sent, cost), workdir, future in zip(
                value, workdirs, futures, strict=True
            ):
                path = workdir / Path(name).name
                path.write_bytes(data)
                graph = None  # the graph the backend was sent (ComfyUI), kept with the take
                if sent is not None:
                    graph = workdir / Path(sent[0]).name
                    graph.write_bytes(sent[1])
                future.set_result(
                    RenderResult(
                        path,
                        model=model,
                        model_hash=model_hash,
                        parameters=parameters,
                        workflow=graph,
                        cost=cost,
                    )
                )

        remote.add_done_callback(done)
        return futures

    def shutdown(self) -> None:
        if self._started_here:
            import ray

            ray.shutdown()
