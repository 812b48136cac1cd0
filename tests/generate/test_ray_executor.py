"""The same render jobs as Ray tasks on a local Ray instance (0 GPUs per task, so it schedules here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from setpiece.generate.queue import enqueue, run_queue
from setpiece.production import takes
from setpiece.production.context import init_production
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'setpiece[ray]')")


@pytest.mark.slow
def test_render_jobs_run_as_ray_tasks(tmp_path: Path) -> None:
    from setpiece.generate.ray_executor import RayExecutor

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
