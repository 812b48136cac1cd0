"""Render semantics you can trust with money, through the real ``setpiece`` command.

Every test runs ``setpiece render``, ``setpiece worker`` or ``setpiece jobs`` as a user
would, in its own process, against the Runway stub (``runway_stub.py``: the real SDK, a
real HTTP server that really stops and comes back on the same port) or previs. What they
hold: an outage within ``[render] outage_minutes`` loses and fails nothing (one test with
a real 16-second restart), a longer one fails the takes with the reason and one command
retries them, a revoked key fails at once, SIGTERM and SIGKILL to a worker mid-take
never render a take twice, two workers share one queue, and the same request from two
terminals at once, or again after a crash, gives exactly the takes asked for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from runway_stub import RunwayStub
from sqlalchemy import create_engine, text

from setpiece.production.context import init_production
from setpiece.production.scenes import add_scene
from setpiece.production.shots import add_shot
from setpiece.store.db import sqlite_url

ENTRY = "import sys; from setpiece.cli.main import main; sys.exit(main())"
SECRET = "key_" + "7a" * 64
SLOW = (
    [{"status": "PENDING"}]
    + [{"status": "RUNNING", "progress": 0.5}] * 30
    + [{"status": "SUCCEEDED"}]
)  # about 1.5 s a take at poll_interval_s = 0.05


@pytest.fixture
def stub() -> Iterator[RunwayStub]:
    with RunwayStub(SECRET) as server:
        yield server


def make_film(
    root: Path,
    stub: RunwayStub | None,
    *,
    shots: int = 3,
    database_url: str | None = None,
    render: dict[str, Any] | None = None,
    runway: dict[str, Any] | None = None,
) -> Path:
    """A project of ``shots`` shots (1A, 1B, ...) whose runway generator is ``stub``."""
    with init_production(
        root, actor="ana", resolution=(320, 180), database_url=database_url
    ) as prod:
        add_scene(prod, "INT. STATION - NIGHT", number="1")
        for index in range(shots):
            add_shot(prod, "1", f"1{chr(65 + index)}", description=f"Platform {index}", size="WS")
    # Leases of 10 s: a loaded CI machine can miss a 2 s lease's heartbeats.
    # The stub's renders cost test credits, under the confirmation threshold (issue 26).
    extra: dict[str, Any] = {
        "render": {"lease_seconds": 10, "confirm_over": {"credits": 10_000}, **(render or {})}
    }
    if stub is not None:
        rates = {"gen4_image": 1, "gen4.5": 1}
        table = {"base_url": stub.url, "poll_interval_s": 0.05, "rates": rates, **(runway or {})}
        extra["generators"] = {"runway": table}
    config = root / "setpiece.toml"
    config.write_text(config.read_text() + tomli_w.dumps(extra))
    return root


def env(secret: str | None = SECRET) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SETPIECE_")}
    base["SETPIECE_USER"] = "ana"
    base.pop("RUNWAYML_API_SECRET", None)
    if secret is not None:
        base["RUNWAYML_API_SECRET"] = secret
    return base


def cli(
    root: Path, *args: str, timeout: float = 300, **kw: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, "--project", str(root), *args],
        env=env(**kw),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(root: Path, *args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, "--project", str(root), *args],
        env=env(**kw),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def query(root: Path, sql: str, database_url: str | None = None) -> list[Any]:
    engine = create_engine(database_url or sqlite_url(root / ".setpiece" / "setpiece.db"))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def takes_by_status(root: Path, database_url: str | None = None) -> dict[str, int]:
    rows = query(root, "SELECT status, count(*) FROM takes GROUP BY status", database_url)
    return {status: count for status, count in rows}


def wait_for(condition: Any, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


# -- outages --------------------------------------------------------------------------


def test_a_16_second_restart_during_a_batch_loses_and_fails_nothing(
    tmp_path: Path, stub: RunwayStub
) -> None:
    """The issue's ComfyUI restart, against the Runway stub: down 16 s mid-batch, the
    default 10-minute outage window; every take renders, none fails, none twice."""
    root = make_film(tmp_path / "film", stub, render={"outage_retry_seconds": 2})
    stub.script = list(SLOW)

    def outage() -> None:
        wait_for(lambda: len(stub.created) >= 2, what="the second take to start")
        stub.stop()  # mid-prompt: the second take's polls now find nobody
        time.sleep(16)
        stub.restart()

    restart = threading.Thread(target=outage)
    restart.start()
    done = cli(root, "render", "1A", "1B", "1C", "--generator", "runway", "--takes", "2")
    restart.join()
    assert done.returncode == 0, done.stderr
    # It said what it waited for: the takes in flight polled Runway through the outage, and
    # a take started meanwhile waited its turn (paused, "waiting for ...") when it had one.
    assert "cannot reach Runway at 127.0.0.1" in done.stderr
    assert takes_by_status(root) == {"ready": 6}
    assert query(root, "SELECT count(*) FROM render_jobs WHERE state = 'done'") == [(6,)]
    # The tasks running at Runway when it went down were polled through the outage, not
    # abandoned and asked for again: six takes, six tasks paid for.
    assert len(stub.created) == 6
    assert query(root, "SELECT max(attempts) FROM render_jobs")[0][0] <= 2


def test_an_outage_longer_than_the_window_fails_with_the_reason_and_one_command_retries(
    tmp_path: Path, stub: RunwayStub
) -> None:
    root = make_film(
        tmp_path / "film", stub, render={"outage_minutes": 0.05, "outage_retry_seconds": 0.5}
    )
    stub.stop()
    started = time.monotonic()
    failed = cli(root, "render", "1A", "1B", "--generator", "runway")
    assert failed.returncode == 4, failed.stderr
    assert time.monotonic() - started >= 3  # it waited the window out
    assert "2 take(s) failed to render" in failed.stderr
    assert "setpiece render --retry-failed" in failed.stderr
    assert takes_by_status(root) == {"failed": 2}
    # A new user sees why, in take show, take list --json and jobs list.
    shown = json.loads(cli(root, "take", "show", "1A/1", "--json").stdout)
    assert "cannot reach Runway" in shown["failure"]
    assert "unreachable for 0.05 min" in shown["failure"]
    listed = json.loads(cli(root, "take", "list", "--json").stdout)
    assert all("cannot reach Runway" in t["failure"] for t in listed)
    text_show = cli(root, "take", "show", "1A/1").stdout
    assert "retry: setpiece render --retry-failed 1A" in text_show
    jobs = json.loads(cli(root, "jobs", "list", "--state", "failed", "--json").stdout)
    assert len(jobs["items"]) == 2 and all(j["attempts"] <= 1 for j in jobs["items"])
    # The same command again queues nothing more: it says so, and still exits 4.
    again = cli(root, "render", "1A", "1B", "--generator", "runway")
    assert again.returncode == 4 and "0 take(s) pending and 2 failed" in again.stdout
    assert query(root, "SELECT count(*) FROM takes") == [(2,)]
    # The server is back: one command retries them.
    stub.restart()
    retried = cli(root, "render", "--retry-failed")
    assert retried.returncode == 0, retried.stderr
    assert "queued 2 failed take(s) again" in retried.stdout
    assert takes_by_status(root) == {"ready": 2}
    listed = json.loads(cli(root, "take", "list", "--json").stdout)
    assert [t["failure"] for t in listed] == [None, None]


def test_a_server_that_dies_mid_prompt_and_stays_down_fails_only_after_the_window(
    tmp_path: Path, stub: RunwayStub
) -> None:
    # Runway's tasks run on while it cannot be reached, so the backend polls them through an
    # outage until the task's own timeout_s (600 s by default, the outage window's 10 min).
    root = make_film(
        tmp_path / "film",
        stub,
        render={"outage_minutes": 0.05, "outage_retry_seconds": 0.5},
        runway={"timeout_s": 4},
    )
    stub.script = list(SLOW)
    killer = threading.Thread(
        target=lambda: (wait_for(lambda: len(stub.created) >= 1, what="a task"), stub.stop())
    )
    killer.start()
    done = cli(root, "render", "1A", "--generator", "runway", "--takes", "2")
    killer.join()
    assert done.returncode == 4
    assert takes_by_status(root) == {"failed": 2}
    reasons = query(root, "SELECT failure FROM takes")
    assert all("unreachable for 0.05 min" in r[0] for r in reasons)


def test_a_key_revoked_mid_batch_fails_at_once_and_is_not_retried(
    tmp_path: Path, stub: RunwayStub
) -> None:
    root = make_film(tmp_path / "film", stub)

    def revoke() -> None:
        wait_for(lambda: len(stub.created) >= 1, what="the first take")
        stub.secret = "key_" + "0" * 128  # the key in the environment is now refused

    revoker = threading.Thread(target=revoke)
    stub.script = list(SLOW)
    revoker.start()
    started = time.monotonic()
    done = cli(root, "render", "1A", "1B", "1C", "--generator", "runway")
    revoker.join()
    assert done.returncode == 4
    assert time.monotonic() - started < 60
    assert "Runway rejected the API secret" in done.stdout
    rows = query(root, "SELECT state, attempts, last_error FROM render_jobs ORDER BY id")
    failed = [r for r in rows if r[0] == "failed"]
    assert len(failed) >= 2 and all(r[1] == 1 for r in failed)
    assert all("rejected the API secret" in r[2] for r in failed)


# -- the same request: crashes and two terminals -----------------------------------------


def test_rerunning_after_a_crash_gives_exactly_the_takes_asked_for(
    tmp_path: Path, stub: RunwayStub
) -> None:
    root = make_film(tmp_path / "film", stub)
    stub.script = list(SLOW)
    command = ["render", "1A", "1B", "--generator", "runway", "--takes", "3"]
    for _ in range(2):  # two crashes, as in the issue
        crashed = start(root, *command)
        wait_for(lambda: len(stub.created) >= 1, what="a take to start")
        crashed.send_signal(signal.SIGKILL)
        crashed.communicate(timeout=30)
    done = cli(root, *command)
    assert done.returncode == 0, done.stderr
    assert "resuming it, nothing more queued" in done.stdout
    assert takes_by_status(root) == {"ready": 6}
    more = cli(root, *command, "--again")
    assert more.returncode == 0 and "queued 6 take(s)" in more.stdout
    assert takes_by_status(root) == {"ready": 12}
    # Seeds drawn at random are still one request: the same command again is a new round
    # only once the last round is finished.
    assert query(root, "SELECT count(DISTINCT request_key) FROM render_jobs") == [(1,)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_same_request_from_two_terminals_at_once_queues_it_once(
    tmp_path: Path, stub: RunwayStub, backend: str, request: pytest.FixtureRequest
) -> None:
    url = None if backend == "sqlite" else request.getfixturevalue("pg_url")
    root = make_film(tmp_path / "film", stub, database_url=url)
    command = ["render", "1A", "1B", "--generator", "runway", "--takes", "3"]
    first, second = start(root, *command), start(root, *command)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outs
    assert takes_by_status(root, url) == {"ready": 6}
    assert len(stub.created) == 6  # nothing paid for twice
    seeds = [call.body["seed"] for call in stub.created]
    assert len(set(seeds)) == 6


# -- the worker ------------------------------------------------------------------------


def queue(root: Path, *shots: str, generator: str = "runway", takes: int = 2) -> None:
    """Queues takes the way the board does: without rendering them."""
    from setpiece.generate.queue import enqueue
    from setpiece.pipeline.hooks import install
    from setpiece.production.context import Production

    install()
    with Production.open(root, actor="ana") as production:
        enqueue(production, list(shots), generator=generator, takes=takes)


def test_sigterm_mid_take_lets_it_finish_and_gives_the_rest_back(
    tmp_path: Path, stub: RunwayStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", SECRET)
    root = make_film(tmp_path / "film", stub)
    stub.script = list(SLOW)
    queue(root, "1A", "1B", "1C")
    worker = start(root, "worker")
    wait_for(lambda: len(stub.created) >= 1, what="the worker to start a take")
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert "stopping: the takes in flight finish" in err
    statuses = takes_by_status(root)
    started = len(stub.created)  # Runway's concurrency is 2: one or two were in flight
    assert 1 <= started <= 2
    assert statuses == {"ready": started, "pending": 6 - started}, statuses
    assert query(root, "SELECT count(*) FROM render_jobs WHERE state = 'running'") == [(0,)]
    rest = cli(root, "worker", "--once")
    assert rest.returncode == 0, rest.stderr
    assert takes_by_status(root) == {"ready": 6}
    assert len(stub.created) == 6  # no take rendered twice


def test_sigkill_mid_take_loses_nothing_and_makes_no_take_twice(
    tmp_path: Path, stub: RunwayStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", SECRET)
    root = make_film(tmp_path / "film", stub, render={"lease_seconds": 2})
    stub.script = list(SLOW)
    queue(root, "1A", "1B")
    worker = start(root, "worker")
    wait_for(lambda: len(stub.created) >= 1, what="the worker to start a take")
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=30)
    killed = query(root, "SELECT count(*) FROM render_jobs WHERE state = 'running'")[0][0]
    assert 1 <= killed <= 2  # Runway's concurrency is 2
    rest = cli(root, "worker", "--once")  # takes the job over once its lease (2 s) runs out
    assert rest.returncode == 0, rest.stderr
    assert takes_by_status(root) == {"ready": 4}
    assert query(root, "SELECT count(*) FROM takes") == [(4,)]
    # The killed takes were asked of Runway again (their tasks were lost with the worker),
    # never the others.
    assert len(stub.created) <= 4 + killed


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_on_one_project_render_each_take_once(
    tmp_path: Path,
    stub: RunwayStub,
    backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNWAYML_API_SECRET", SECRET)
    url = None if backend == "sqlite" else request.getfixturevalue("pg_url")
    root = make_film(tmp_path / "film", stub, shots=4, database_url=url)
    queue(root, "1A", "1B", "1C", "1D")
    workers = [start(root, "worker", "--once") for _ in range(2)]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    assert takes_by_status(root, url) == {"ready": 8}
    assert len(stub.created) == 8
    assert len({call.body["seed"] for call in stub.created}) == 8


def test_worker_waits_for_work_and_renders_what_arrives(tmp_path: Path) -> None:
    root = make_film(tmp_path / "film", None)
    worker = start(root, "worker", "--generator", "previs")
    try:
        time.sleep(1.5)
        assert worker.poll() is None  # an empty queue does not end it
        queue(root, "1A", "1B", generator="previs", takes=1)
        wait_for(lambda: takes_by_status(root) == {"ready": 2}, what="the worker to render")
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err


def test_a_worker_for_one_generator_leaves_the_others_jobs(tmp_path: Path) -> None:
    root = make_film(tmp_path / "film", None)
    queue(root, "1A", generator="previs", takes=1)
    done = cli(root, "worker", "--once", "--generator", "runway")
    assert done.returncode == 0, done.stderr
    assert takes_by_status(root) == {"pending": 1}


# -- jobs and generators, bad input ------------------------------------------------------


def test_jobs_retry_of_a_running_job_is_refused_and_cancel_stops_it(
    tmp_path: Path, stub: RunwayStub
) -> None:
    root = make_film(tmp_path / "film", stub)
    # Running until the test has cancelled, however slow the commands are on a loaded machine
    # (a fixed 100 polls ran out before the cancel under load); then its result arrives.
    stub.script = [{"status": "RUNNING", "progress": 0.5}]
    render = start(root, "render", "1A", "--generator", "runway")
    try:
        wait_for(lambda: len(stub.created) >= 1, what="the take to start")
        (job,) = query(root, "SELECT id FROM render_jobs WHERE state = 'running'")[0:1]
        refused = cli(root, "jobs", "retry", str(job[0]))
        assert refused.returncode == 2
        assert refused.stderr.strip().splitlines() == [
            f"setpiece: error: job {job[0]} is running: only a failed or cancelled job "
            "can be retried"
        ]
        cancelled = cli(root, "jobs", "cancel", str(job[0]))
        assert cancelled.returncode == 0, cancelled.stderr
    finally:
        for task in list(stub.tasks.values()):
            task.script, task.polls = [{"status": "SUCCEEDED"}], 0
        out, _ = render.communicate(timeout=120)
    assert "rendered 0" in out  # its result, arriving after the cancel, is not recorded
    assert takes_by_status(root) == {"failed": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["jobs", "retry"], "give one job id, or --failed [SHOTS] for every failed job"),
        (["jobs", "retry", "abc"], "job id 'abc' is not a job number ('setpiece jobs list')"),
        (["jobs", "retry", "99"], "no render job 99: the render queue page lists them"),
        (["jobs", "cancel", "99"], "no render job 99: the render queue page lists them"),
        (["jobs", "retry", "--failed", "9Z"], "no shot '9Z': 'setpiece shot list' lists them"),
        (["jobs", "list", "--state", "lost"], "unknown job state 'lost'"),
        (["render", "--retry-failed", "--all"], "--retry-failed takes shot codes only"),
    ],
)
def test_bad_jobs_input_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    root = make_film(tmp_path / "film", None, shots=1)
    done = cli(root, *args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_jobs_cancel_then_retry_with_the_board_s_rules(tmp_path: Path) -> None:
    root = make_film(tmp_path / "film", None, shots=1)
    queue(root, "1A", generator="previs", takes=1)
    (job,) = json.loads(cli(root, "jobs", "list", "--json").stdout)["items"]
    assert job["state"] == "queued"
    cancelled = cli(root, "jobs", "cancel", str(job["id"]))
    assert cancelled.returncode == 0 and "cancelled job" in cancelled.stdout
    assert json.loads(cli(root, "take", "show", "1A/1", "--json").stdout)["failure"] == (
        "cancelled by ana"
    )
    again = cli(root, "jobs", "cancel", str(job["id"]))
    assert again.returncode == 2 and "is cancelled" in again.stderr
    retried = cli(root, "jobs", "retry", str(job["id"]), "--json")
    assert retried.returncode == 0 and json.loads(retried.stdout)[0]["state"] == "queued"
    assert cli(root, "render").returncode == 0
    assert takes_by_status(root) == {"ready": 1}
    listing = cli(root, "jobs", "list")
    assert f"{job['id']:>6} 1A/1" in listing.stdout and "done" in listing.stdout


def test_generators_say_what_is_missing_and_check_spends_nothing(
    tmp_path: Path, stub: RunwayStub
) -> None:
    root = make_film(tmp_path / "film", stub, shots=1)
    without = {
        g["name"]: g for g in json.loads(cli(root, "generators", "--json", secret=None).stdout)
    }
    runway = without["runway"]
    assert runway["installed"] is True and runway["configured"] is False
    assert runway["missing_settings"] == ["RUNWAYML_API_SECRET"]
    assert runway["available"] is False and runway["reachable"] is None
    comfy = without["comfyui"]
    assert comfy["available"] is False
    assert comfy["missing_settings"] == ["[generators.comfyui] workflow"]
    assert without["previs"]["available"] is True and without["previs"]["reachable"] is None
    checked = {
        g["name"]: g for g in json.loads(cli(root, "generators", "--check", "--json").stdout)
    }
    assert checked["runway"]["available"] is True and checked["runway"]["reachable"] is True
    assert [c.path for c in stub.calls] == ["/v1/organization"]  # nothing created or uploaded
    wrong = {
        g["name"]: g
        for g in json.loads(
            cli(root, "generators", "--check", "--json", secret="key_" + "1" * 128).stdout
        )
    }
    assert wrong["runway"]["reachable"] is False
    assert "Runway rejected the API secret" in wrong["runway"]["problem"]
    stub.stop()
    down = {g["name"]: g for g in json.loads(cli(root, "generators", "--check", "--json").stdout)}
    assert down["runway"]["reachable"] is False
    assert "cannot reach Runway" in down["runway"]["problem"]
    shown = cli(root, "generators", secret=None).stdout
    assert "runway     not configured (set RUNWAYML_API_SECRET)" in shown


def test_generators_check_finds_a_comfyui_server_down(tmp_path: Path) -> None:
    root = make_film(tmp_path / "film", None, shots=1)
    workflow = tmp_path / "film" / "flow.json"
    workflow.write_text("{}")
    config = root / "setpiece.toml"
    config.write_text(
        config.read_text()
        + tomli_w.dumps(
            {"generators": {"comfyui": {"url": "http://127.0.0.1:9", "workflow": "flow.json"}}}
        )
    )
    listed = {g["name"]: g for g in json.loads(cli(root, "generators", "--check", "--json").stdout)}
    comfy = listed["comfyui"]
    assert comfy["configured"] is True and comfy["available"] is True
    assert comfy["reachable"] is False and "not reachable" in comfy["problem"]


def test_a_comfyui_restart_within_the_window_loses_nothing(tmp_path: Path) -> None:
    """The issue's own case: a ComfyUI server restarting mid-batch (its client wraps the
    refused connection in a transient RenderError; the queue still sees an outage)."""
    from comfyui_stub import ComfyUIStub
    from test_comfyui import TXT2IMG

    server = ComfyUIStub().start()
    try:
        root = make_film(tmp_path / "film", None, render={"outage_retry_seconds": 1})
        (root / "flow.json").write_text(json.dumps(TXT2IMG))
        config = root / "setpiece.toml"
        table = {"comfyui": {"url": server.url, "workflow": "flow.json", "poll_s": 0.2}}
        config.write_text(config.read_text() + tomli_w.dumps({"generators": table}))

        def restart() -> None:
            wait_for(lambda: len(server.history) >= 1, what="the first prompt")
            server.stop(hold_port=True)
            time.sleep(4)
            server.start()

        restarter = threading.Thread(target=restart)
        restarter.start()
        done = cli(root, "render", "1A", "1B", "1C", "--generator", "comfyui", "--takes", "2")
        restarter.join()
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    assert "render: waiting for generator comfyui: ComfyUI at" in done.stderr
    assert takes_by_status(root) == {"ready": 6}
    assert query(root, "SELECT count(*) FROM takes WHERE failure IS NOT NULL") == [(0,)]
