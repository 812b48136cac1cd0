"""Takes rendered by the queue are checked as they arrive, when the project says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrity.pictures import copy_of, scene
from setpiece.generate.base import Capabilities, Generator, Mode, RenderRequest, RenderResult
from setpiece.generate.queue import enqueue, run_queue
from setpiece.generate.registry import _REGISTERED, register
from setpiece.integrity.corpus import add_references
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
