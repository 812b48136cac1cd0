"""Shared fixtures: a database on each backend, a project on it, and factories.

The storage suite runs on SQLite and PostgreSQL. PostgreSQL is the machine's
server on 127.0.0.1:5432 (database ``test``); each test gets a schema of its own,
dropped afterwards. Where no server answers, the PostgreSQL half is skipped
with a message, except under ``CI=true``, where it fails instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from setpiece.production.context import Production, init_production

PG_BASE = os.environ.get("SETPIECE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_BASE.replace("+psycopg", ""), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


_PG_PROBLEM: list[str | None] = []


def pg_problem() -> str | None:
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_pg_available())
    return _PG_PROBLEM[0]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL schema."""
    problem = pg_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_BASE}: {problem}")
        pytest.skip(
            f"no PostgreSQL at {PG_BASE} ({problem}); set SETPIECE_TEST_PG to run this half"
        )
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = PG_BASE.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None means the project's default SQLite file; otherwise a PostgreSQL URL."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_url")


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    return tmp_path / "film"


@pytest.fixture
def production(project_dir: Path, database_url: str | None) -> Iterator[Production]:
    """A fresh project on each database backend, acting as 'ana'."""
    with init_production(
        project_dir, name="Test Film", database_url=database_url, actor="ana"
    ) as prod:
        yield prod


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def _fail_on_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A test that logs at ERROR has swallowed a failure somewhere (PySceneDetect does this)."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    if errors:
        pytest.fail("logged at ERROR: " + "; ".join(r.getMessage() for r in errors))


@pytest.fixture(autouse=True)
def _hooks() -> None:
    """The capabilities' hooks, installed as every entry point installs them, for the tests
    that call the services directly (tests/pipeline/test_hooks.py checks the entry points)."""
    from setpiece.pipeline.hooks import install

    install()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SETPIECE_PROJECT", "SETPIECE_DATABASE_URL", "SETPIECE_USER", "SETPIECE_DEBUG"):
        monkeypatch.delenv(name, raising=False)


# S3-compatible store: a real moto server on loopback ------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real moto S3 server on a free loopback port."""
    from moto.server import ThreadedMotoServer

    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)  # no access log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    werkzeug.setLevel(level)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials and config that keep boto away from any real account or metadata service."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def bucket(s3_endpoint: str, aws_env: None, request: pytest.FixtureRequest) -> str:
    import boto3

    name = "setpiece-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


class Factory:
    """Makes scenes, shots and takes in one call (Zou's generate_fixture_* style)."""

    def __init__(self, production: Production, folder: Path) -> None:
        self.production = production
        self.folder = folder
        self._seed = 0

    def scene(self, heading: str = "INT. KITCHEN - NIGHT", number: str | None = None) -> str:
        from setpiece.production.scenes import add_scene

        return add_scene(self.production, heading, number=number).number

    def shot(self, code: str, scene: str | None = None, **kwargs: object) -> str:
        from setpiece.production.shots import add_shot

        scene = scene or self.scene()
        return add_shot(self.production, scene, code, **kwargs).code  # type: ignore[arg-type]

    def still(self, name: str | None = None) -> Path:
        from mediafactory import write_png

        self._seed += 1
        return write_png(self.folder / (name or f"still{self._seed}.png"), seed=self._seed)

    def clip(self, name: str | None = None, frames: int = 12) -> Path:
        from mediafactory import write_mp4

        self._seed += 1
        return write_mp4(
            self.folder / (name or f"clip{self._seed}.mp4"), frames=frames, seed=self._seed
        )

    def take(self, shot: str, *, video: bool = False, **recipe: object) -> str:
        from setpiece.production.takes import import_takes
        from setpiece.production.views import Recipe

        path = self.clip() if video else self.still()
        result = import_takes(self.production, shot, [path], Recipe(**recipe))  # type: ignore[arg-type]
        return result.created[0].id


@pytest.fixture
def make(production: Production, media_dir: Path) -> Factory:
    return Factory(production, media_dir)


@pytest.fixture
def make_media(tmp_path: Path) -> Factory:
    """Media factories without a project (for tests that build their own)."""
    folder = tmp_path / "incoming-media"
    folder.mkdir(exist_ok=True)
    return Factory(None, folder)  # type: ignore[arg-type]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI=true a test skipped for a missing optional stack fails instead (.ci/run installs them)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and call.excinfo is not None:
        reason = str(call.excinfo.value)
        if "could not import" in reason or "is not installed" in reason:
            report.outcome = "failed"
            report.longrepr = f"required in CI but missing: {reason}"


class CliRun:
    """What one ``setpiece`` call gave: its exit code, stdout and stderr (unpacks as a tuple)."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.code, self.out, self.err))

    def __getitem__(self, index: int) -> Any:
        return (self.code, self.out, self.err)[index]


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., CliRun]:
    """Runs ``setpiece ARGS...`` in-process from ``tmp_path``, acting as user "ana"."""
    from setpiece.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SETPIECE_USER", "ana")

    def run(*args: object) -> CliRun:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run
