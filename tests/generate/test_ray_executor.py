"""The same render jobs as Ray tasks on a local Ray instance (0 GPUs per task, so it schedules here).

What a task receives is tested without Ray too: the remote function run in this process.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from setpiece.generate.base import Capabilities, Generator, Mode, RenderRequest, RenderResult
from setpiece.generate.queue import enqueue, run_queue
from setpiece.generate.ray_executor import RayExecutor, render_task
from setpiece.generate.registry import _REGISTERED, register
from setpiece.production import takes
from setpiece.production.context import init_production
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot


@pytest.mark.slow
def test_render_jobs_run_as_ray_tasks(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'setpiece[ray]')")
    with init_production(tmp_path / "film", actor="ana", resolution=(160, 90)) as prod:
        add_scene(prod, "EXT. PIER - DAWN", number="1")
        add_shot(prod, "1", "1A", description="Waves", size="EWS")
        enqueue(prod, ["1A"], takes=2, generator="previs")
        executor = RayExecutor({"num_cpus": 1, "gpus_per_task": 0})
        report = run_queue(prod, executor=executor, poll_s=0.05)
        assert (report.done, report.failed) == (2, 0)
        made = takes.list_takes(prod, "1A")
        assert [t.status for t in made] == ["ready", "ready"]
        assert made[0].media and made[1].media and made[0].media.sha256 != made[1].media.sha256
        # The cost comes back from the Ray task with the file (previs: zero compute seconds).
        assert [(t.recipe.cost, t.recipe.cost_unit) for t in made] == [("0", "compute_seconds")] * 2


class _Echo(Generator):
    """Writes what its first frame and references held, so the test sees what travelled."""

    name = "echo"
    default_capabilities = Capabilities(
        modes=frozenset({Mode.IMAGE_TO_VIDEO}), reference_images=True, max_frames=4
    )

    def render(self, request: RenderRequest, workdir: Path, progress=None) -> RenderResult:
        assert request.init_image is not None
        out = workdir / f"echo-{request.seed}.txt"
        out.write_text(request.init_image.read_text())
        received = [p.read_text() for p in request.references]
        return RenderResult(out, model="echo-1", parameters={"references": received})


class _InProcess:
    """Ray's remote function, run here at once: the task gets only what ``submit`` ships."""

    def remote(self, *args: Any) -> Any:
        done: Future[tuple[str, Any]] = Future()
        done.set_result(render_task(*args))
        return SimpleNamespace(future=lambda: done)


def test_a_batchs_media_travel_with_the_task_and_back(tmp_path: Path) -> None:
    register(_Echo)
    try:
        files = {name: tmp_path / name for name in ("first.png", "anna.png", "pier.png")}
        for name, path in files.items():
            path.write_text(f"bytes of {name}")
        requests = [
            RenderRequest(
                mode=Mode.IMAGE_TO_VIDEO,
                prompt="waves",
                seed=seed,
                width=16,
                height=16,
                frames=2,
                init_image=files["first.png"],
                references=(files["anna.png"], files["pier.png"]),
            )
            for seed in (1, 2)
        ]
        workdirs = [tmp_path / "job1", tmp_path / "job2"]
        for workdir in workdirs:
            workdir.mkdir()
        executor = RayExecutor.__new__(RayExecutor)  # no Ray started: only its transport runs
        executor._task = _InProcess()
        futures = executor.submit("echo", {}, requests, workdirs)
        for seed, (future, workdir) in enumerate(zip(futures, workdirs, strict=True), 1):
            result = future.result(timeout=5)
            assert result.path == workdir / f"echo-{seed}.txt"
            assert result.path.read_text() == "bytes of first.png"
            assert result.parameters == {"references": ["bytes of anna.png", "bytes of pier.png"]}
    finally:
        _REGISTERED.pop("echo", None)
