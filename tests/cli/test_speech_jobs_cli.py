"""``setpiece jobs`` over speech jobs: a line spoken through the render queue is listed
beside the picture jobs, named by its line and character, and cancelled or retried like
one (``production.jobs``, the one query that lists jobs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from setpiece.errors import ExitCode

DEMO = Path(__file__).resolve().parents[2] / "src" / "setpiece" / "pipeline" / "demo.fountain"
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def film(cli, tmp_path: Path, database_url: str | None) -> Path:
    assert cli("init", "film").code == 0
    os.chdir(tmp_path / "film")
    assert cli("script", "import", DEMO).code == 0
    return tmp_path / "film"


def _jobs(cli) -> list[dict]:
    result = cli("jobs", "list", "--json")
    assert result.code == 0, result.err
    return list(json.loads(result.out)["items"])


@SQLITE
def test_a_spoken_line_is_listed_by_its_line_and_character(cli, film: Path) -> None:
    pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")
    assert _jobs(cli) == []
    spoken = cli("dialogue", "render", "--line", "1/2")
    assert spoken.code == 0, spoken.err
    (job,) = _jobs(cli)
    assert job["line"] == "1/2" and job["character"] == "MARA"
    assert job["shot"] is None and job["number"] == 1 and job["state"] == "done"
    assert job["generator"] == "voice:espeak"
    take = json.loads(cli("dialogue", "list", "--line", "1/2", "--json").out)["lines"][0]
    assert job["take"] == take["takes"][0]["id"]
    listed = cli("jobs", "list")
    assert listed.code == 0 and "1/2/1 MARA" in listed.out and "None" not in listed.out
    assert "1/2/1 MARA" in cli("jobs", "list", "--state", "done").out
    # A done job is final: cancelling it is refused in the words of the action.
    refused = cli("jobs", "cancel", str(job["id"]))
    assert refused.code == ExitCode.REFUSED
    assert "only a queued or running job can be cancelled" in refused.err


@SQLITE
def test_a_queued_speech_job_is_cancelled_and_retried(cli, film: Path) -> None:
    from setpiece.generate.queue import enqueue_speech
    from setpiece.production.context import Production

    with Production.open(film, actor="ana") as production:
        enqueue_speech(
            production,
            default_voice=lambda name: {"backend": "espeak", "voice": "en-us"},
            character="TEO",
        )
    jobs = _jobs(cli)
    assert jobs and {j["character"] for j in jobs} == {"TEO"}
    assert all(j["state"] == "queued" and j["line"] for j in jobs)
    first = jobs[-1]
    cancelled = cli("jobs", "cancel", str(first["id"]))
    assert cancelled.code == 0, cancelled.err
    assert f"cancelled job {first['id']} ({first['line']}/1 TEO)" in cancelled.out
    lines = json.loads(cli("dialogue", "list", "--json").out)["lines"]
    (take,) = next(line for line in lines if line["id"] == first["line"])["takes"]
    assert take["id"] == first["take"]
    retried = cli("jobs", "retry", str(first["id"]))
    assert retried.code == 0, retried.err
    assert "'setpiece dialogue render' or a running worker speaks them" in retried.out
    again = next(j for j in _jobs(cli) if j["id"] == first["id"])
    assert again["state"] == "queued" and again["attempts"] == 0


@SQLITE
def test_a_retried_speech_job_is_spoken_by_dialogue_render(cli, film: Path) -> None:
    pytest.importorskip("espeakng_loader", reason="the voices extra is not installed")
    from setpiece.generate.queue import enqueue_speech
    from setpiece.pipeline.dialogue import cast_default_voices
    from setpiece.production.context import Production

    with Production.open(film, actor="ana") as production:
        enqueue_speech(
            production,
            default_voice=cast_default_voices(production),  # as 'dialogue render' gives it
            line="1/2",
        )
    (job,) = _jobs(cli)
    assert cli("jobs", "cancel", str(job["id"])).code == 0
    assert cli("jobs", "retry", str(job["id"])).code == 0
    spoken = cli("dialogue", "render", "--line", "1/2")
    assert spoken.code == 0, spoken.err
    assert "spoke 1 line(s)" in spoken.out  # the retried job, not a new take
    (done,) = _jobs(cli)
    assert (done["id"], done["state"], done["number"]) == (job["id"], "done", 1)
