"""Takes are checked as they arrive, when the project says so, at every door they come in by.

Production runs the checks registered with it (``setpiece.production.arrival``) and the
layer above registers integrity's (``setpiece.pipeline.hooks.install``). The tests below
start each entry point with nothing registered, so they pass only if that entry point
installs the hooks itself: the CLI's import, the web upload, the queue's render.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from integrity.pictures import copy_of, scene
from setpiece.generate.base import Capabilities, Generator, Mode, RenderRequest, RenderResult
from setpiece.generate.queue import enqueue, run_queue
from setpiece.generate.registry import _REGISTERED, register
from setpiece.integrity.corpus import add_references
from setpiece.production import arrival, generators
from setpiece.production.arrival import ArrivalReport, on_arrival, takes_arrived
from setpiece.production.context import Production
from setpiece.production.records import list_findings
from setpiece.production.takes import list_takes


class Copycat(Generator):
    """A generator that regurgitates a picture it was trained on (seed 8's scene)."""

    name = "copycat"
    default_capabilities = Capabilities(modes=frozenset({Mode.TEXT_TO_IMAGE}))

    def render(self, request: RenderRequest, workdir: Path, progress=None) -> RenderResult:
        path = workdir / "copy.png"
        copy_of(scene(8)).save(path)
        return RenderResult(path, model="copycat-1")


@pytest.fixture(autouse=True)
def _copycat():
    register(Copycat)
    yield
    _REGISTERED.pop("copycat", None)


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing registered with production, as in a fresh process before any entry point."""
    monkeypatch.setattr(arrival, "_CHECKS", {})
    monkeypatch.setattr(generators, "_DIRECTORY", [])


def _check_on_arrival(folder: Path) -> None:
    with open(folder / "setpiece.toml", "a") as toml:
        toml.write("\n[integrity]\ncheck_on_arrival = true\n")


def _library(cli, tmp_path: Path) -> None:
    folder = tmp_path / "library"
    folder.mkdir()
    scene(8).save(folder / "famous.png")
    assert cli("reference", "add", folder).code == 0


def test_a_rendered_copy_is_flagged_before_review(
    production: Production, make, tmp_path: Path
) -> None:
    scene(8).save(tmp_path / "still.png")
    add_references(production, [tmp_path / "still.png"], title="Famous Still")
    make.shot("4D")
    production.config.settings["integrity"] = {"check_on_arrival": True}
    enqueue(production, ["4D"], generator="copycat")
    report = run_queue(production, backoff=lambda attempt: 0.0, poll_s=0.01)
    assert report.done == 1
    (take,) = list_takes(production, "4D")
    assert take.status == "ready"
    (finding,) = list_findings(production, kind="near_duplicate")
    assert finding.take == take.id
    assert finding.data["reference"]["title"] == "Famous Still"
    assert finding.evidence is not None


def test_an_import_from_the_cli_is_checked(bare: None, cli, film: Path, tmp_path: Path) -> None:
    _library(cli, tmp_path)
    _check_on_arrival(film)
    copy_of(scene(8)).save(tmp_path / "copy.png")
    result = cli("take", "import", "1A", tmp_path / "copy.png", "--json")
    assert result.code == 0, result.err
    (finding,) = cli("findings", "list", "--kind", "near_duplicate", "--json").json()
    assert finding["take"] == result.json()["created"][0]["id"]
    assert finding["data"]["reference"]["title"] == "famous"


def test_a_render_from_the_cli_is_checked(bare: None, cli, film: Path, tmp_path: Path) -> None:
    _library(cli, tmp_path)
    _check_on_arrival(film)
    result = cli("render", "1A", "--generator", "copycat", "--json")
    assert result.code == 0, result.err
    (finding,) = cli("findings", "list", "--kind", "near_duplicate", "--json").json()
    (take,) = cli("take", "list", "1A", "--json").json()
    assert finding["take"] == take["id"]


def test_a_web_upload_is_checked(bare: None, production: Production, make, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from setpiece.production.accounts import add_member, issue_token
    from setpiece.web.app import create_app

    scene(8).save(tmp_path / "still.png")
    add_references(production, [tmp_path / "still.png"], title="Famous Still")
    add_member(production, "ana", "admin")
    token = issue_token(production, "ana")
    make.shot("1A")
    _check_on_arrival(production.config.root)
    app = create_app(production.config.root, database_url=production.config.database_url)
    copy_of(scene(8)).save(tmp_path / "copy.png")
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        response = client.post(
            "/api/v1/shots/1A/takes",
            files={"file": ("copy.png", (tmp_path / "copy.png").read_bytes(), "image/png")},
        )
    assert response.status_code == 201, response.text
    (finding,) = list_findings(production, kind="near_duplicate")
    assert finding.take == response.json()["created"][0]["id"]


def test_without_an_entry_point_nothing_is_registered_and_the_directory_says_so(
    bare: None,
) -> None:
    from setpiece.pipeline.hooks import install
    from setpiece.production.generators import generator_directory

    assert arrival.arrival_checks() == {}
    with pytest.raises(RuntimeError, match=r"setpiece.pipeline.hooks.install\(\)"):
        generator_directory()
    install()
    install()  # twice changes nothing
    assert list(arrival.arrival_checks()) == ["integrity"]
    assert generator_directory().origin("previs") == "algorithm"
    assert generator_directory().registered()["previs"].flicker_free


def test_every_registered_check_runs_and_a_failing_one_is_named(
    bare: None, production: Production, make, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[list[str]] = []

    def counts(production: Production, take_ids: list[str]) -> ArrivalReport:
        seen.append(take_ids)
        return ArrivalReport(checked=take_ids, findings=1)

    def breaks(production: Production, take_ids: list[str]) -> ArrivalReport:
        raise ValueError("the index is locked")

    on_arrival("counting", counts)
    on_arrival("breaking", breaks)
    report = takes_arrived(production, ["a1", "b2"])
    assert seen == [["a1", "b2"]]
    assert report.checked == ["a1", "b2"] and report.findings == 1
    assert report.failure == (
        "takes a1, b2 arrived, but their breaking check failed: the index is locked; "
        "run 'setpiece check breaking' again"
    )
    assert report.failure in caplog.text
    assert takes_arrived(production, []) == ArrivalReport()
