"""Where renders run: the executor protocol and the threads of this process.

An executor only renders. It is handed a batch of requests with one work folder each and
returns one future per request; the driver (``_worker``) alone writes the database, so an
executor can live anywhere: threads here, Ray tasks in ``generate/ray_executor.py``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from setpiece.generate.base import RenderError, RenderRequest, RenderResult
from setpiece.generate.registry import get_generator

__all__ = ["Executor", "LocalExecutor"]


class Executor(Protocol):
    """Runs renders away from the driver; the driver alone writes the database.

    ``submit`` takes a batch (takes of one shot that differ only in seed; often a batch of one)
    and returns one future per request; each finished file lies in that request's own work folder.
    ``config`` is the generator's ``[generators.NAME]`` table and ``project_dir`` the project
    folder, both given to the generator as it is made.
    """

    def submit(
        self,
        generator: str,
        config: dict[str, Any],
        requests: list[RenderRequest],
        workdirs: list[Path],
        *,
        project_dir: Path | None = None,
    ) -> list[Future[RenderResult]]: ...

    def shutdown(self) -> None: ...


def _settle(
    results: list[RenderResult], workdirs: list[Path], futures: list[Future[RenderResult]]
) -> None:
    """Moves each finished file into its own job's folder and completes its future.

    The backend was given ``workdirs[0]``; a result anywhere else is refused, never moved.
    """
    given = workdirs[0].resolve()
    for result, workdir, future in zip(results, workdirs, futures, strict=True):
        if not result.path.is_file() or given not in result.path.resolve().parents:
            future.set_exception(
                RenderError("the generator returned no file inside its work folder")
            )
            continue
        target = workdir / result.path.name
        if result.path.resolve() != target.resolve() and result.path.is_file():
            os.replace(result.path, target)
        sent = None  # the graph the backend was sent, kept with the take (ComfyUI)
        if result.workflow is not None and given in result.workflow.resolve().parents:
            sent = workdir / result.workflow.name
            if result.workflow.resolve() != sent.resolve():
                os.replace(result.workflow, sent)
        future.set_result(
            RenderResult(
                target,
                result.model,
                result.model_hash,
                dict(result.parameters),
                workflow=sent,
                cost=result.cost,
            )
        )


class LocalExecutor:
    """Renders in daemon threads of this process.

    Backend instances are pooled per generator: a thread borrows one, so a loaded model is
    reused by the next take instead of loaded again, and no instance is used by two threads at
    once (a diffusers pipeline is not thread-safe).
    """

    def __init__(self) -> None:
        self._idle: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    def _borrow(self, name: str, config: dict[str, Any], project_dir: Path | None) -> Any:
        with self._lock:
            pool = self._idle.setdefault(name, [])
            if pool:
                return pool.pop()
        return get_generator(name, config, project_dir=project_dir)

    def _give_back(self, name: str, backend: Any) -> None:
        with self._lock:
            self._idle.setdefault(name, []).append(backend)

    def submit(
        self,
        generator: str,
        config: dict[str, Any],
        requests: list[RenderRequest],
        workdirs: list[Path],
        *,
        project_dir: Path | None = None,
    ) -> list[Future[RenderResult]]:
        futures: list[Future[RenderResult]] = [Future() for _ in requests]

        def work() -> None:
            backend = None
            try:
                backend = self._borrow(generator, config, project_dir)
                for request in requests:
                    backend.check(request)
                if len(requests) == 1:
                    results = [backend.render(requests[0], workdirs[0])]
                else:
                    results = backend.render_batch(requests, workdirs[0])
                _settle(results, workdirs, futures)
            except BaseException as exc:  # handed to the driver, which classifies it
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            finally:
                if backend is not None:
                    self._give_back(generator, backend)

        threading.Thread(target=work, daemon=True, name=f"render-{generator}").start()
        return futures

    def shutdown(self) -> None:
        with self._lock:
            for pool in self._idle.values():
                for backend in pool:
                    with contextlib.suppress(Exception):
                        backend.close()
            self._idle.clear()
